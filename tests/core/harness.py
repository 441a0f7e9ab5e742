"""A small machine for the core's tests: RAM, one hart, trap vectors that
stop execution, and helpers to run assembled code in any privilege mode.

Physical layout (RAM at 0x8000_0000, 4 MiB):
  RAM + 0x0000  M_VECTOR: mtvec, a page of ``jal x0, 0`` self-loops
  RAM + 0x1000  S_VECTOR: stvec, likewise
  RAM + 0x2000  CODE: where test code is loaded
  RAM + 0x10000 DATA: scratch data
  RAM + 0x200000 the page-table pool (Sv39 tests)
A trap is seen through ``hart.on_trap``; code is run until its end or the
first trap. Under Sv39 the code is mapped at low virtual addresses (VCODE,
VDATA), which ``lui`` builds without sign extension.
"""

from __future__ import annotations

from dataclasses import dataclass

from machine.bus import Bus
from machine.hart import Hart
from machine.isa.asm import assemble
from machine.isa.disasm import ABI_NAMES
from machine.mmu import PTE_A, PTE_D, PTE_R, PTE_U, PTE_W, PTE_X
from machine.trap import MACHINE, SUPERVISOR, USER
from tests.support.sv39 import PageTableBuilder

RAM = 0x8000_0000
RAM_SIZE = 4 << 20
M_VECTOR = RAM
S_VECTOR = RAM + 0x1000
CODE = RAM + 0x2000
DATA = RAM + 0x10000
TABLE_POOL = RAM + 0x200000
SELF_LOOP = 0x0000006F  # jal x0, 0
M64 = (1 << 64) - 1

# Sv39 test layout: virtual pages mapped onto physical ones
VCODE = 0x1000_0000
VDATA = 0x1010_0000
PCODE = RAM + 0x40000
PDATA = RAM + 0x80000

REG = {name: i for i, name in enumerate(ABI_NAMES)}
REG.update({f"x{i}": i for i in range(32)})
REG["fp"] = 8

__all__ = [
    "CODE",
    "DATA",
    "M64",
    "MACHINE",
    "M_VECTOR",
    "PCODE",
    "PDATA",
    "PTE_A",
    "PTE_D",
    "PTE_R",
    "PTE_U",
    "PTE_W",
    "PTE_X",
    "RAM",
    "REG",
    "SUPERVISOR",
    "S_VECTOR",
    "USER",
    "VCODE",
    "VDATA",
    "Machine",
    "TrapRecord",
    "s64",
    "u64",
]


def u64(value: int) -> int:
    return value & M64


def s64(value: int) -> int:
    value &= M64
    return value - (1 << 64) if value >> 63 else value


@dataclass(frozen=True)
class TrapRecord:
    cause: int  # with the interrupt bit
    tval: int
    epc: int
    from_privilege: int
    to_privilege: int


class Machine:
    def __init__(self, ram_size: int = RAM_SIZE) -> None:
        self.bus = Bus(RAM, ram_size)
        self.hart = Hart(self.bus)
        self.csr = self.hart.csr
        self.traps: list[TrapRecord] = []
        self.hart.on_trap = lambda *args: self.traps.append(TrapRecord(*args))
        loops = SELF_LOOP.to_bytes(4, "little") * 1024
        self.write(M_VECTOR, loops)
        self.write(S_VECTOR, loops)
        self.csr.mtvec = M_VECTOR
        self.csr.stvec = S_VECTOR
        self.hart.pc = CODE
        self.end = CODE
        self.tables: PageTableBuilder | None = None

    # --- registers ------------------------------------------------------------
    def __getitem__(self, name: str) -> int:
        return self.hart.x[REG[name]]

    def __setitem__(self, name: str, value: int) -> None:
        if REG[name] != 0:
            self.hart.x[REG[name]] = value & M64

    # --- physical memory --------------------------------------------------------
    def write(self, address: int, data: bytes) -> None:
        self.bus.write_physical(address, data)  # as a loader: engines drop stale code

    def read(self, address: int, size: int) -> int:
        offset = address - RAM
        return int.from_bytes(self.bus.ram[offset:offset + size], "little")

    def poke(self, address: int, size: int, value: int) -> None:
        self.write(address, (value & ((1 << (8 * size)) - 1)).to_bytes(size, "little"))

    # --- privilege and translation --------------------------------------------
    def set_privilege(self, privilege: int) -> None:
        self.hart.set_privilege(privilege)

    def set_mstatus(self, value: int) -> None:
        self.csr.mstatus = value
        self.hart.translation_changed()

    def enable_sv39(self, *, user_code: bool = False, data_flags: int | None = None
                    ) -> PageTableBuilder:
        """Turn on Sv39 with VCODE -> PCODE (64 KiB, R+X, U if ``user_code``)
        and VDATA -> PDATA (64 KiB, ``data_flags``: R+W by default, U like the code),
        A and D preset."""
        tables = PageTableBuilder(self.bus, TABLE_POOL)
        self.tables = tables
        user = PTE_U if user_code else 0
        code_flags = PTE_R | PTE_X | PTE_A | user
        if data_flags is None:
            data_flags = PTE_R | PTE_W | PTE_A | PTE_D | user
        tables.map_range(VCODE, PCODE, 0x10000, code_flags)
        tables.map_range(VDATA, PDATA, 0x10000, data_flags)
        self.csr.satp = tables.satp
        self.hart.translation_changed()
        return tables

    # --- running code ------------------------------------------------------------
    def load_code(self, text: str, at: int = CODE, phys: int | None = None) -> int:
        """Assemble ``text`` at virtual ``at`` into physical ``phys`` (default
        ``at``); returns the end address (virtual)."""
        code = assemble(text, at)
        self.write(at if phys is None else phys, code)
        self.hart.memory.ram_changed(at if phys is None else phys, max(len(code), 1))
        self.end = at + len(code)
        return self.end

    def run_code(self, text: str, privilege: int = MACHINE, at: int | None = None,
                 phys: int | None = None, max_steps: int = 10_000, **regs: int) -> Machine:
        """Load ``text``, set registers, and step until the pc reaches the end of
        the code or a trap is taken. Under Sv39 (``enable_sv39``) code for S and
        U runs at VCODE (physically PCODE), else at CODE."""
        if at is None:
            if self.tables is not None and privilege != MACHINE:
                at, phys = VCODE, PCODE
            else:
                at = CODE
        self.load_code(text, at, phys)
        for name, value in regs.items():
            self[name] = value
        self.set_privilege(privilege)
        self.hart.pc = at
        return self.run_to_end(max_steps)

    def run_to_end(self, max_steps: int = 10_000) -> Machine:
        start = len(self.traps)
        for _ in range(max_steps):
            if self.hart.pc == self.end or len(self.traps) > start:
                return self
            self.hart.step()
        raise AssertionError(f"code did not finish in {max_steps} steps (pc={self.hart.pc:#x})")

    @property
    def trap(self) -> TrapRecord:
        assert self.traps, "no trap was taken"
        return self.traps[-1]


def run(text: str, privilege: int = MACHINE, **regs: int) -> Machine:
    """A fresh machine that has run ``text`` (M-mode, no translation by default)."""
    machine = Machine()
    return machine.run_code(text, privilege, **regs)
