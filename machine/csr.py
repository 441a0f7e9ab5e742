"""Control and status registers: storage, views, permissions, side effects.

One ``CsrFile`` per hart. ``access`` implements the Zicsr rules every CSR
instruction shares: the CSR number's bits 9..8 give the lowest privilege that
may access it and bits 11..10 = 3 mean read-only; a missing CSR, a write to a
read-only one or too low a privilege is an illegal instruction (tval = the
instruction bits). sstatus, sie and sip are views of mstatus, mie and mip.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

from .isa.csr_names import CSR_NUMBERS as N
from .trap import ILLEGAL_INSTRUCTION, MACHINE, SUPERVISOR, USER, Trap

if TYPE_CHECKING:
    from .hart import Hart

M64 = 0xFFFFFFFFFFFFFFFF

# mstatus fields
SIE, MIE, SPIE, UBE, MPIE, SPP = 1 << 1, 1 << 3, 1 << 5, 1 << 6, 1 << 7, 1 << 8
MPP_SHIFT, MPP = 11, 3 << 11
FS, XS, VS = 3 << 13, 3 << 15, 3 << 9
MPRV, SUM, MXR, TVM, TW, TSR = (1 << i for i in (17, 18, 19, 20, 21, 22))
UXL_SXL_64 = (2 << 32) | (2 << 34)  # both XLENs fixed at 64: read-only
SD = 1 << 63
MSTATUS_WRITABLE = SIE | MIE | SPIE | MPIE | SPP | MPP | MPRV | SUM | MXR | TVM | TW | TSR
SSTATUS_VIEW = SIE | SPIE | UBE | SPP | VS | FS | XS | SUM | MXR | (3 << 32) | SD
SSTATUS_WRITABLE = SIE | SPIE | SPP | SUM | MXR

# interrupt bits in mip/mie
SSIP, MSIP, STIP, MTIP, SEIP, MEIP = (1 << i for i in (1, 3, 5, 7, 9, 11))
S_INTERRUPTS = SSIP | STIP | SEIP
ALL_INTERRUPTS = S_INTERRUPTS | MSIP | MTIP | MEIP

MISA = (2 << 62) | sum(1 << (ord(c) - ord("A")) for c in "IMACSU")
# Exceptions that medeleg can delegate (ecall from M, bit 11, cannot).
MEDELEG_WRITABLE = 0xB3FF
MENVCFG_STCE = 1 << 63
MENVCFG_WRITABLE = MENVCFG_STCE | 1  # STCE and FIOM
SATP_MODE_SHIFT = 60
PMPADDR_MASK = (1 << 54) - 1
PMPCFG_BYTE_MASK = 0x9F  # L, A, X, W, R: bits 6..5 are reserved zero

COUNTER_CYCLE, COUNTER_TIME, COUNTER_INSTRET = 0, 1, 2

# Writes after which the hart must look again at pending interrupts, timer
# deadlines or its translation maps before the next instruction. mstatus and
# sstatus only when they set an interrupt-enable bit (a change of MPRV, SUM,
# MXR or MPP already picks new maps in write_mstatus).
_RECHECK_AFTER_WRITE = frozenset(N[name] for name in (
    "mie", "sie", "mip", "sip", "mideleg", "medeleg", "stimecmp", "menvcfg", "satp",
    "mcounteren"))
_STATUS = frozenset((N["mstatus"], N["sstatus"]))


class CsrFile:
    def __init__(self, hart: "Hart", hartid: int) -> None:
        self.hart = hart
        self.hartid = hartid
        self.mstatus = UXL_SXL_64
        self.medeleg = self.mideleg = 0
        self.mie = 0
        self.mip_software = 0  # the bits software writes (SSIP, STIP without Sstc, SEIP)
        self.mtvec = self.stvec = 0
        self.mepc = self.sepc = 0
        self.mcause = self.scause = 0
        self.mtval = self.stval = 0
        self.mscratch = self.sscratch = 0
        self.satp = 0
        self.mcounteren = self.scounteren = 0
        self.menvcfg = self.senvcfg = 0
        self.stimecmp = M64
        self.cycle_offset = self.instret_offset = 0
        self.pmpcfg = [0] * 16
        self.pmpaddr = [0] * 64
        # Interrupt lines driven by devices (MEIP, SEIP, MTIP, MSIP): set by the board.
        self.external_lines: Callable[[], int] = lambda: 0

    # --- interrupt state --------------------------------------------------
    def stimecmp_pending(self) -> bool:
        return bool(self.menvcfg & MENVCFG_STCE) and self.hart.time() >= self.stimecmp

    @property
    def mip(self) -> int:
        value = self.mip_software | self.external_lines()
        if self.menvcfg & MENVCFG_STCE:
            value = (value & ~STIP) | (STIP if self.stimecmp_pending() else 0)
        return value

    # --- the CSR instructions' common rules ------------------------------
    def access(self, number: int, op: str, operand: int, reads: bool, writes: bool,
               instruction: int) -> int:
        privilege = self.hart.privilege
        if privilege < (number >> 8) & 3 or (writes and number >> 10 == 3):
            raise Trap(ILLEGAL_INSTRUCTION, instruction)
        reader = _READERS.get(number)
        if reader is None or not self._permitted(number, privilege):
            raise Trap(ILLEGAL_INSTRUCTION, instruction)
        old = reader(self)
        if writes:
            if op == "write":
                new = operand
            elif op == "set":
                new = old | operand
            else:
                new = old & ~operand
            status_before = self.mstatus
            _WRITERS[number](self, new & M64)
            if number in _RECHECK_AFTER_WRITE or (
                    number in _STATUS and (self.mstatus & ~status_before) & (SIE | MIE)):
                self.hart.recheck_needed = True
        return old

    def _permitted(self, number: int, privilege: int) -> bool:
        """Extra rules: counter enables, Sstc's STCE, TVM for satp."""
        if 0xC00 <= number <= 0xC02 and privilege < MACHINE:
            bit = 1 << (number - 0xC00)
            if not self.mcounteren & bit:
                return False
            if privilege == USER and not self.scounteren & bit:
                return False
        if number == N["stimecmp"] and privilege < MACHINE:
            return bool(self.menvcfg & MENVCFG_STCE) and bool(self.mcounteren & 2)
        if number == N["satp"] and privilege == SUPERVISOR and self.mstatus & TVM:
            return False
        return True

    # --- writes with side effects ----------------------------------------
    def write_mstatus(self, value: int) -> None:
        if (value & MPP) >> MPP_SHIFT == 2:  # MPP is WARL: 2 (H) is not a mode here
            value = (value & ~MPP) | (self.mstatus & MPP)
        changed = (self.mstatus ^ value) & (MPRV | SUM | MXR | MPP)
        self.mstatus = (self.mstatus & ~MSTATUS_WRITABLE) | (value & MSTATUS_WRITABLE)
        if changed:
            self.hart.translation_changed()

    def write_satp(self, value: int) -> None:
        mode = value >> SATP_MODE_SHIFT
        if mode not in (0, 8):  # unsupported mode: the write has no effect
            return
        self.satp = value & ((0xF << 60) | (0xFFFF << 44) | ((1 << 44) - 1))
        self.hart.address_space_changed()

    def write_tvec(self, which: str, value: int) -> None:
        if value & 3 < 2:  # modes 2 and 3 are reserved: ignore, as QEMU does
            setattr(self, which, value)

    def trap_vector(self, base: int, cause: int, interrupt: bool) -> int:
        if base & 3 == 1 and interrupt:
            return (base & ~3) + 4 * cause
        return base & ~3

    def counter(self, which: int) -> int:
        hart = self.hart
        if which == COUNTER_TIME:
            return hart.time() & M64
        if which == COUNTER_CYCLE:
            return (hart.icount + self.cycle_offset) & M64
        return (hart.retired() + self.instret_offset) & M64


def _field(name: str, mask: int = M64) -> tuple[Callable, Callable]:
    return (lambda c: getattr(c, name),
            lambda c, v: setattr(c, name, v & mask))


def _build_tables() -> tuple[dict[int, Callable], dict[int, Callable]]:
    r: dict[int, Callable] = {}
    w: dict[int, Callable] = {}

    def plain(name: str, mask: int = M64, attr: str | None = None) -> None:
        r[N[name]], w[N[name]] = _field(attr or name, mask)

    def read_only(name: str, read: Callable) -> None:
        r[N[name]] = read
        w[N[name]] = lambda c, v: None

    def with_sd(status: int) -> int:  # SD summarises FS/XS/VS dirty: all off here
        return status | (SD if status & (FS | XS | VS) == FS | XS | VS else 0)

    r[N["mstatus"]] = lambda c: with_sd(c.mstatus)
    w[N["mstatus"]] = CsrFile.write_mstatus
    r[N["sstatus"]] = lambda c: with_sd(c.mstatus) & SSTATUS_VIEW
    w[N["sstatus"]] = lambda c, v: c.write_mstatus(
        (c.mstatus & ~SSTATUS_WRITABLE) | (v & SSTATUS_WRITABLE))
    r[N["misa"]] = lambda c: MISA
    w[N["misa"]] = lambda c, v: None  # WARL: the extensions are fixed
    read_only("mhartid", lambda c: c.hartid)
    for name in ("mvendorid", "marchid", "mimpid", "mconfigptr"):
        read_only(name, lambda c: 0)
    plain("medeleg", MEDELEG_WRITABLE)
    plain("mideleg", S_INTERRUPTS)
    plain("mie", ALL_INTERRUPTS)
    r[N["mip"]] = lambda c: c.mip
    w[N["mip"]] = lambda c, v: setattr(
        c, "mip_software", (c.mip_software & ~_mip_writable(c)) | (v & _mip_writable(c)))
    r[N["sie"]] = lambda c: c.mie & c.mideleg
    w[N["sie"]] = lambda c, v: setattr(c, "mie", (c.mie & ~c.mideleg) | (v & c.mideleg))
    r[N["sip"]] = lambda c: c.mip & c.mideleg
    w[N["sip"]] = lambda c, v: setattr(  # only SSIP is writable through sip
        c, "mip_software", (c.mip_software & ~(c.mideleg & SSIP)) | (v & c.mideleg & SSIP))
    for name in ("mtvec", "stvec"):
        r[N[name]] = (lambda n: lambda c: getattr(c, n))(name)
        w[N[name]] = (lambda n: lambda c, v: c.write_tvec(n, v))(name)
    plain("mepc", M64 & ~1)
    plain("sepc", M64 & ~1)
    for name in ("mcause", "scause", "mtval", "stval", "mscratch", "sscratch"):
        plain(name)
    r[N["satp"]] = lambda c: c.satp
    w[N["satp"]] = CsrFile.write_satp
    plain("mcounteren", 0xFFFFFFFF)
    plain("scounteren", 0xFFFFFFFF)
    plain("menvcfg", MENVCFG_WRITABLE)
    plain("senvcfg", 1)
    plain("stimecmp")
    read_only("cycle", lambda c: c.counter(COUNTER_CYCLE))
    read_only("time", lambda c: c.counter(COUNTER_TIME))
    read_only("instret", lambda c: c.counter(COUNTER_INSTRET))
    r[N["mcycle"]] = lambda c: c.counter(COUNTER_CYCLE)
    w[N["mcycle"]] = lambda c, v: setattr(c, "cycle_offset", v - c.hart.icount - 1)
    r[N["minstret"]] = lambda c: c.counter(COUNTER_INSTRET)
    w[N["minstret"]] = lambda c, v: setattr(c, "instret_offset", v - c.hart.retired() - 1)
    for i in range(0, 16, 2):  # RV64: only the even pmpcfg registers exist
        byte_mask = int.from_bytes(bytes([PMPCFG_BYTE_MASK] * 8), "little")
        r[0x3A0 + i] = (lambda k: lambda c: c.pmpcfg[k])(i)
        w[0x3A0 + i] = (lambda k: lambda c, v: c.pmpcfg.__setitem__(k, v & byte_mask))(i)
    for i in range(64):
        r[0x3B0 + i] = (lambda k: lambda c: c.pmpaddr[k])(i)
        w[0x3B0 + i] = (lambda k: lambda c, v: c.pmpaddr.__setitem__(k, v & PMPADDR_MASK))(i)
    return r, w


def _mip_writable(c: CsrFile) -> int:
    """M-mode may write SSIP, SEIP, and STIP unless Sstc drives it."""
    return SSIP | SEIP | (0 if c.menvcfg & MENVCFG_STCE else STIP)


_READERS, _WRITERS = _build_tables()
