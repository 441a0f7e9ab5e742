"""How many harts a kernel was built for, read from its ELF.

xv6 and the teaching kernel declare ``struct cpu cpus[NCPU]``; the length of
that array (DWARF, or the symbol's size over ``sizeof(struct cpu)``) is NCPU.
The teaching kernel's NCPU is the number of harts it runs on: 1, or 3 for
kernel-smp.elf. xv6's NCPU (8) is only the most it supports ("maximum number
of CPUs"); its Makefile boots ``CPUS := 3``. A kernel whose cpus[] is longer
than XV6_CPUS therefore does not say how many harts it runs on, and gets
UNSTATED_HARTS.
"""

from __future__ import annotations

from .image import ElfImage

XV6_CPUS = 3  # xv6-riscv's Makefile: `make qemu` runs -smp $(CPUS), CPUS := 3
# For now 1, not XV6_CPUS. The invariant checks run when one hart returns to user
# mode, and another hart may be half-way through kalloc or fork at that moment.
# With small quanta they then report refcount-mismatch on the correct kernel-smp.
# Make this XV6_CPUS once the checks know which harts are quiescent.
UNSTATED_HARTS = 1


def harts_built_for(image: ElfImage) -> int:
    """NCPU as the kernel declares it; UNSTATED_HARTS if it is only a
    maximum (longer than XV6_CPUS), and 1 without ``cpus``."""
    variable = image.variable("cpus")
    length = variable.type.length if variable is not None and variable.type.kind == "array" \
        else None
    if length is None:
        symbol, cpu = image.symbol("cpus"), image.struct_type("cpu")
        if symbol is None or cpu is None or not cpu.byte_size:
            return 1
        length = symbol.size // cpu.byte_size
    if length > XV6_CPUS:
        return UNSTATED_HARTS
    return max(1, length)
