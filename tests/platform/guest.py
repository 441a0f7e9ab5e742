"""Small guest programs for the platform tests: assembled with the test
assembler, wrapped in an ELF and run on the real ``Machine`` (the virt board
as the app sees it).

A program is a set of pieces placed at offsets from RAM's base (main code at
0, trap handlers further on), so one piece can name another's address as a
Python constant: the assembler has no ``la`` and ``lui`` sign-extends on
RV64, so ``li64`` builds any 64-bit constant from 11-bit chunks.
"""

from __future__ import annotations

from pathlib import Path

from machine.isa.asm import assemble
from machine.machine import Machine, MachineConfig
from tests.support.mini_elf import make_elf

RAM = 0x8000_0000
M64 = (1 << 64) - 1
INTERRUPT = 1 << 63

# The virt board's devices
FINISHER = 0x0010_0000
CLINT = 0x0200_0000
MSIP = CLINT
MTIMECMP = CLINT + 0x4000
MTIME = CLINT + 0xBFF8
PLIC = 0x0C00_0000
PLIC_ENABLE_M = PLIC + 0x2000       # context 0: hart 0, M-mode
PLIC_THRESHOLD_M = PLIC + 0x20_0000
PLIC_CLAIM_M = PLIC + 0x20_0004
UART = 0x1000_0000
UART_IRQ = 10
VIRTIO = 0x1000_1000
VIRTIO_IRQ = 1

# Where programs keep their pieces (offsets from RAM)
MAIN = RAM
HANDLER = RAM + 0x800
S_CODE = RAM + 0x1000
DATA = RAM + 0x10000


def li64(reg: str, value: int) -> str:
    """Assembly that loads any 64-bit ``value`` into ``reg``."""
    value &= M64
    if value < 1 << 31:
        return f"li {reg}, {value}"
    chunks = []
    while value >= 1 << 31:
        chunks.append(value & 0x7FF)
        value >>= 11
    lines = [f"li {reg}, {value}"]
    for chunk in reversed(chunks):
        lines += [f"slli {reg}, {reg}, 11", f"ori {reg}, {reg}, {chunk}"]
    return "\n".join(lines)


def finish(code: int | None = None) -> str:
    """Write the test finisher: pass (``None``) or fail with ``code``."""
    value = 0x5555 if code is None else (code << 16) | 0x3333
    return f"{li64('t6', FINISHER)}\n{li64('t5', value)}\nsw t5, 0(t6)\njal zero, 0"


def label_address(text: str, label: str, origin: int) -> int:
    """The address of ``label`` in ``text`` assembled at ``origin``."""
    code = assemble(f"{text}\n.dword {label}", origin)
    return int.from_bytes(code[-8:], "little")


def build(pieces: dict[int, str]) -> bytes:
    """Assemble each piece at its address; the image starts at RAM."""
    image = bytearray()
    for address in sorted(pieces):
        code = assemble(pieces[address], address)
        offset = address - RAM
        if offset < len(image):
            raise ValueError(f"piece at {address:#x} overlaps the one before")
        image += bytes(offset - len(image)) + code
    return bytes(image)


def write_kernel(path: Path, pieces: dict[int, str]) -> Path:
    path.write_bytes(make_elf(build(pieces), RAM))
    return path


def make_machine(tmp_path: Path, pieces: dict[int, str], disk: Path | None = None,
                 ram_mib: int = 16, engine: str | None = None,
                 name: str = "guest.elf") -> Machine:
    """A Machine running the program; ``engine`` picks the execution engine
    (None: the default)."""
    kernel = tmp_path / name
    if not kernel.exists():
        write_kernel(kernel, pieces)
    machine = Machine(MachineConfig(kernel=kernel, disk=disk, ram_mib=ram_mib))
    if engine is not None:
        machine.hart.engine = engine
    return machine


def read_u64(machine: Machine, address: int) -> int:
    value = machine.read_u64(address)
    assert value is not None, f"{address:#x} is not RAM"
    return value


def icount_of(address: int, origin: int = MAIN) -> int:
    """The instruction number of ``address`` in straight-line code that starts
    at ``origin`` (every instruction 4 bytes, no trap before it)."""
    return (address - origin) // 4
