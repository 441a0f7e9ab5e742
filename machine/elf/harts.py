"""How many harts a kernel was built for, read from its ELF.

xv6 and the teaching kernel declare ``struct cpu cpus[NCPU]``; the length of
that array (DWARF, or the symbol's size over ``sizeof(struct cpu)``) is NCPU.
The teaching kernel's NCPU is the number of harts it runs on (1, or 3 for
kernel-smp.elf). xv6's NCPU (8) is only the most it supports: its Makefile
boots ``CPUS := 3``, so a longer array counts as XV6_CPUS.
"""

from __future__ import annotations

from .image import ElfImage

XV6_CPUS = 3  # xv6-riscv's Makefile: `make qemu` runs -smp $(CPUS), CPUS := 3


def harts_built_for(image: ElfImage) -> int:
    """NCPU as the kernel declares it, at most XV6_CPUS; 1 without ``cpus``."""
    variable = image.variable("cpus")
    length = variable.type.length if variable is not None and variable.type.kind == "array" \
        else None
    if length is None:
        symbol, cpu = image.symbol("cpus"), image.struct_type("cpu")
        if symbol is None or cpu is None or not cpu.byte_size:
            return 1
        length = symbol.size // cpu.byte_size
    return max(1, min(length, XV6_CPUS))
