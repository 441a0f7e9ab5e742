"""Hypothesis strategies for short random programs the harness can run.

A program is a list of items rendered to assembly: straight-line code
(ALU I/M/W forms, random compressed words, loads/stores of every width,
misaligned ones included, AMOs, LR/SC pairs, CSR accesses, instructions that
trap, memset/memcpy-shaped loops), forward branches and jumps over the next
few items, bounded loops, jumps to addresses that cannot be fetched (which end
the program through the harness), and in paged programs PTE rewrites followed
by SFENCE.VMA. Paged programs get random PTE flags for their eight scratch
pages, a 2 MiB and a 1 GiB superpage (aligned or not), random SUM/MXR/TVM/
TW/TSR and a random medeleg.

Everything generated stays within what QEMU 7.2's default CPU and ours both
define (RV64IMAC, Zicsr, Zifencei, the privileged architecture); where the
two may legitimately differ, the generator stays out (see the comments at
each exclusion, with the specification's words).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from hypothesis import strategies as st

from machine.isa.asm import assemble
from machine.isa.decoder import decode
from machine.mmu import PTE_A, PTE_D, PTE_R, PTE_U, PTE_V, PTE_W, PTE_X

from .harness import (
    GIGA_WINDOW,
    L0_OFFSET,
    MPRV,
    MXR,
    RAM_BASE,
    SCRATCH_PA,
    SCRATCH_PAGES,
    SCRATCH_SIZE,
    SUM,
    UNMAPPED_PA,
    VA_GIGA,
    VA_INVALID_L1,
    VA_MEGA,
    VA_SCRATCH,
    VA_SCRATCH_PAGES,
    Program,
    load_const,
)

M64 = (1 << 64) - 1
TVM, TW, TSR = 1 << 20, 1 << 21, 1 << 22
SIE, MIE, SPIE, MPIE, SPP = 1 << 1, 1 << 3, 1 << 5, 1 << 7, 1 << 8
MPP_SHIFT = 11

INTERESTING = [0, 1, 2, 3, 0x7F, 0x80, 0xFF, 0x7FFF, 0x8000, 0xFFFF, 0x7FFFFFFF, 0x80000000,
               0xFFFFFFFF, 0x100000000, 0x7FFFFFFFFFFFFFFF, 0x8000000000000000, M64,
               M64 - 1, 0xFFFFFFFF80000000, 0xFFFFFFFF7FFFFFFF, 31, 32, 33, 63, 64,
               0x5555555555555555, 0xAAAAAAAAAAAAAAAA]

R_OPS = ["add", "sub", "sll", "slt", "sltu", "xor", "srl", "sra", "or", "and",
         "addw", "subw", "sllw", "srlw", "sraw",
         "mul", "mulh", "mulhsu", "mulhu", "div", "divu", "rem", "remu",
         "mulw", "divw", "divuw", "remw", "remuw"]
I_OPS = ["addi", "slti", "sltiu", "xori", "ori", "andi", "addiw"]
SHIFT_OPS = [("slli", 63), ("srli", 63), ("srai", 63), ("slliw", 31), ("srliw", 31),
             ("sraiw", 31)]
LOADS = {"lb": 1, "lh": 2, "lw": 4, "ld": 8, "lbu": 1, "lhu": 2, "lwu": 4}
STORES = {"sb": 1, "sh": 2, "sw": 4, "sd": 8}
# compressed loads/stores: (name, size, immediate step, immediate max, base kind)
C_MEMORY = [("c.lw", 4, 4, 124, "p", "load"), ("c.ld", 8, 8, 248, "p", "load"),
            ("c.sw", 4, 4, 124, "p", "store"), ("c.sd", 8, 8, 248, "p", "store"),
            ("c.lwsp", 4, 4, 252, "sp", "load"), ("c.ldsp", 8, 8, 504, "sp", "load"),
            ("c.swsp", 4, 4, 252, "sp", "store"), ("c.sdsp", 8, 8, 504, "sp", "store")]
AMO_OPS = ["amoswap", "amoadd", "amoxor", "amoand", "amoor", "amomin", "amomax", "amominu",
           "amomaxu"]

# Words that are illegal on both: no F/D here, and QEMU's FPU is off (mstatus.FS
# = 0 from reset), so its F/D/C.F* encodings raise illegal instruction too.
ILLEGAL_WORDS = [
    0x00000000,  # two c.unimp halves (the all-zero 16-bit word is reserved)
    0xFFFFFFFF,  # a 32-bit major opcode no extension here defines
    0x02B57553,  # fadd.d fa0, fa0, fa1
    0x0005A507,  # flw fa0, 0(a1)
    0x00B53027,  # fsd fa1, 0(a0)
    0x0000007F,  # reserved >= 192-bit length prefix: taken as a 32-bit word, illegal
    0x0000300B,  # custom-0 (QEMU 7.2's default CPU enables no vendor extension)
    0x8000700B,  # custom-0, another funct3
    0x0200101B,  # slliw with shamt[5] set: reserved
    0x40001013,  # slli with funct6 = 010000: no such shift
]
ILLEGAL_HALVES = [
    0x0000,  # c.unimp
    0x2000, 0xA000, 0x2002, 0xA002,  # c.fld, c.fsd, c.fldsp, c.fsdsp: no FPU
    0x8000,  # quadrant 0, funct3 100: reserved
    0x9C41, 0x9C61,  # the reserved entries of the c.subw/c.addw row
    0x2001,  # c.addiw with rd = x0: reserved
    0x4002, 0x6002,  # c.lwsp / c.ldsp with rd = x0: reserved
]


@dataclass
class Text:
    lines: list[str]

    def size(self) -> int:
        return len(assemble("\n".join(self.lines), 0)) if self.lines else 0

    def render(self, skipped: int) -> list[str]:
        return self.lines


@dataclass
class Branch:
    """A forward control transfer over the next ``skip`` items."""
    kind: str          # b*, c.beqz, c.bnez, jal, c.j, jalr, c.jr, c.jalr
    skip: int
    rs1: int = 0
    rs2: int = 0
    rd: int = 0
    tmp: int = 5

    def size(self) -> int:
        return {"c.beqz": 2, "c.bnez": 2, "c.j": 2, "jalr": 8, "c.jr": 10,
                "c.jalr": 10}.get(self.kind, 4)

    def render(self, skipped: int) -> list[str]:
        offset = self.size() + skipped
        kind = self.kind
        if kind in ("c.beqz", "c.bnez") and offset > 254:
            kind = kind[2:]  # out of c.b* range: the 32-bit form (size differs: see fits)
        if kind in ("c.beqz", "c.bnez"):
            return [f"{kind} x{self.rs1}, {offset}"]
        if kind.startswith("b"):
            return [f"{kind} x{self.rs1}, x{self.rs2}, {offset}"]
        if kind == "jal":
            return [f"jal x{self.rd}, {offset}"]
        if kind == "c.j":
            return [f"c.j {offset}"]
        if kind == "jalr":
            return [f"auipc x{self.tmp}, 0", f"jalr x{self.rd}, {offset}(x{self.tmp})"]
        return [f"auipc x{self.tmp}, 0", f"addi x{self.tmp}, x{self.tmp}, {offset}",
                f"{kind} x{self.tmp}"]


@dataclass
class Loop:
    counter: int
    count: int
    body: list[Text] = field(default_factory=list)

    def size(self) -> int:
        return 12 + sum(item.size() for item in self.body)

    def render(self, skipped: int) -> list[str]:
        body_size = sum(item.size() for item in self.body)
        lines = [f"addi x{self.counter}, x0, {self.count}"]
        for item in self.body:
            lines += item.lines
        lines += [f"addi x{self.counter}, x{self.counter}, -1",
                  f"bne x{self.counter}, x0, {-(body_size + 4)}"]
        return lines


Item = Text | Branch | Loop


def render(items: list[Item]) -> list[str]:
    """Assembly for the items; branch offsets from the sizes of what they skip."""
    sizes = [0] * len(items)
    lines_of: list[list[str]] = [[] for _ in items]
    for i in range(len(items) - 1, -1, -1):
        item = items[i]
        skipped = 0
        if isinstance(item, Branch):
            skipped = sum(sizes[i + 1:i + 1 + item.skip])
            if item.kind in ("c.beqz", "c.bnez") and item.size() + skipped > 254:
                item.kind = item.kind[2:]
        lines_of[i] = item.render(skipped)
        sizes[i] = item.size()
    return [line for lines in lines_of for line in lines]


# --- the address spaces the generated code sees ------------------------------
@dataclass(frozen=True)
class Space:
    mode: str
    l0_flags: tuple[int, ...] = (0,) * 8
    status: int = 0

    @property
    def paged_data(self) -> bool:
        return self.mode != "M"

    @property
    def scratch(self) -> int:
        return VA_SCRATCH if self.paged_data else SCRATCH_PA

    def store_permitted(self, address: int, size: int) -> bool:
        """Whether a store to ``address`` (inside the scratch window) passes
        translation and permission checks; status bits that matter here (SUM)
        are never changed by generated code, so this is known in advance."""
        if not self.scratch <= address <= self.scratch + SCRATCH_SIZE - size:
            return False
        if not self.paged_data:
            return True
        flags = self.l0_flags[(address - VA_SCRATCH_PAGES) >> 12]
        if flags & (PTE_V | PTE_R | PTE_W) != PTE_V | PTE_R | PTE_W or flags >> 54:
            return False
        if self.mode == "S":
            return not flags & PTE_U or bool(self.status & SUM)
        return bool(flags & PTE_U)  # U-mode, or M-mode data under MPRV with MPP = U

    def fault_addresses(self, store: bool) -> list[int]:
        """Data addresses that may fault (or not, depending on the PTEs)."""
        if not self.paged_data:
            # Nothing answers above 128 MiB of RAM, nor at 0x80000 on the virt board.
            return [UNMAPPED_PA, UNMAPPED_PA + 0x40, UNMAPPED_PA - 4, UNMAPPED_PA - 2,
                    0x0008_0000, 0x0008_0ff8]
        pages = range(5) if store else range(8)  # L0[5], L0[6] are kept for fetches
        out = [VA_SCRATCH_PAGES + 0x1000 * i + off for i in pages for off in (0, 0x7F8, 0xFFC)
               if not (i == 7 and off == 0xFFC)]
        # Not generated: a misaligned access whose first part reaches no memory
        # (L0[7] maps the unmapped UNMAPPED_PA). QEMU 7.2 splits it into
        # naturally aligned parts and reports the first part's aligned-down
        # address (0x...ff8 for an 8-byte load at 0x...ffc), an address the
        # access does not touch; the privileged spec (mtval, 3.1.16) wants
        # "the virtual address of the portion of the access that caused the
        # fault". Our core reports the access's own first byte.
        out += [VA_MEGA + 0x10, VA_MEGA + 0x1FFFFC, VA_INVALID_L1, VA_GIGA + GIGA_WINDOW + 8,
                0x1000, 0x40_0000_0000, 0xFFFF_FFC0_0000_0000, 0xFFFF_FFFF_FFFF_F000,
                0x0000_0040_0000_0F80]
        return out

    def fetch_targets(self) -> list[int]:
        if self.mode in ("M", "MPRV"):  # fetches are not translated in M-mode
            return [UNMAPPED_PA, 0x0008_0000]
        targets = [VA_SCRATCH_PAGES + 0x5000, VA_SCRATCH_PAGES + 0x6000,
                   VA_SCRATCH_PAGES + 0x7000, VA_INVALID_L1, 0x1000, 0x40_0000_0000,
                   0xFFFF_FFC0_0000_0000]
        # A 32-bit instruction straddling L0[6] and L0[7] (see Image): only
        # when L0[7] cannot be fetched from. If it can, the fetch reaches the
        # unmapped UNMAPPED_PA, and QEMU 7.2 aborts ("translator_access:
        # Assertion `phys_page != -1' failed") instead of raising an
        # instruction access fault.
        if not self.fetchable(7):
            targets.append(VA_SCRATCH_PAGES + 0x6FFE)
        return targets

    def fetchable(self, page: int) -> bool:
        flags = self.l0_flags[page]
        if flags & (PTE_V | PTE_X) != PTE_V | PTE_X or flags >> 54:
            return False
        if flags & (PTE_R | PTE_W) == PTE_W:
            return False  # reserved encoding
        return bool(flags & PTE_U) == (self.mode == "U")


# --- strategies ---------------------------------------------------------------
REG = st.integers(0, 31)
DEST = st.integers(0, 31)
CREG = st.integers(8, 15)


def _free(avoid: frozenset[int], pool: range = range(32)) -> st.SearchStrategy[int]:
    return st.sampled_from([r for r in pool if r not in avoid])


def _dest(avoid: frozenset[int]) -> st.SearchStrategy[int]:
    return _free(avoid)


def _imm12() -> st.SearchStrategy[int]:
    return st.one_of(st.integers(-2048, 2047), st.sampled_from([-2048, -1, 0, 1, 2047]))


@st.composite
def alu(draw, space: Space, avoid: frozenset[int]) -> Text:
    kind = draw(st.sampled_from(["r", "i", "shift", "lui", "const"]))
    rd = draw(_dest(avoid))
    if kind == "r":
        op = draw(st.sampled_from(R_OPS))
        return Text([f"{op} x{rd}, x{draw(REG)}, x{draw(REG)}"])
    if kind == "i":
        return Text([f"{draw(st.sampled_from(I_OPS))} x{rd}, x{draw(REG)}, {draw(_imm12())}"])
    if kind == "shift":
        op, top = draw(st.sampled_from(SHIFT_OPS))
        return Text([f"{op} x{rd}, x{draw(REG)}, {draw(st.integers(0, top))}"])
    if kind == "lui":
        op = draw(st.sampled_from(["lui", "auipc"]))
        return Text([f"{op} x{rd}, {draw(st.integers(0, 0xFFFFF)):#x}"])
    return Text(load_const(f"x{rd}", draw(st.sampled_from(INTERESTING))))


def _compressed_word_ok(word: int) -> bool:
    """Not c.jr / c.jalr: control flow is generated as Branch items."""
    quadrant, funct3 = word & 3, word >> 13
    return not (quadrant == 2 and funct3 == 4 and (word >> 2) & 0x1F == 0
                and (word >> 7) & 0x1F)


@st.composite
def compressed(draw, space: Space, avoid: frozenset[int]) -> Text:
    """A random 16-bit word from the compressed integer computational space:
    every form (c.addi, c.li, c.lui, c.addi16sp, c.addi4spn, c.srli/srai/andi,
    c.sub..c.addw, c.slli, c.mv, c.add, c.ebreak, c.nop) with random fields,
    so HINTs and reserved encodings (nzimm = 0, rd = x0 of c.addiw, the
    reserved c.subw-row entries) are exercised, plus the F/D forms that must
    be illegal without an FPU."""
    quadrant, funct3 = draw(st.sampled_from(
        [(0, 0), (0, 1), (0, 4), (0, 5), (1, 0), (1, 1), (1, 2), (1, 3), (1, 4), (2, 0),
         (2, 1), (2, 4), (2, 5)]))
    word = (funct3 << 13) | (draw(st.integers(0, (1 << 11) - 1)) << 2) | quadrant
    if not _compressed_word_ok(word):
        word |= 1 << 2
    decoded = decode(word)
    if avoid and decoded is not None and decoded.base_operands.get("rd") in avoid:
        word = 0x0001  # c.nop
    return Text([f".half {word:#x}"])


def _address(space: Space, size: int, draw, store: bool, aligned: bool = False) -> int:
    if draw(st.integers(0, 5)) == 0:
        return draw(st.sampled_from(space.fault_addresses(store)))
    if aligned:
        if draw(st.integers(0, 7)) == 0:  # a misaligned atomic: address-misaligned trap
            return space.scratch + draw(st.integers(0, SCRATCH_SIZE - size - 1)) + 1
        return space.scratch + size * draw(st.integers(0, SCRATCH_SIZE // size - 1))
    return space.scratch + draw(st.integers(0, SCRATCH_SIZE - size))


@st.composite
def memory(draw, space: Space, avoid: frozenset[int]) -> Text:
    compressed_form = draw(st.integers(0, 3)) == 0
    if compressed_form:
        name, size, step, top, base_kind, what = draw(st.sampled_from(C_MEMORY))
        store = what == "store"
        target = _address(space, size, draw, store)
        imm = step * draw(st.integers(0, top // step))
        base = 2 if base_kind == "sp" else draw(_free(avoid, range(8, 16)))
        if base in avoid:  # sp is the loop counter: use the 32-bit form instead
            compressed_form = False
        else:
            if base_kind == "sp":
                other = draw(_dest(avoid) if not store else REG)
                if name in ("c.lwsp", "c.ldsp") and other == 0:
                    other = 1
                operand = f"x{other}, {imm}(sp)"
            else:
                other = draw(_free(avoid, range(8, 16)) if not store else CREG)
                operand = f"x{other}, {imm}(x{base})"
            return Text(load_const(f"x{base}", target - imm) + [f"{name} {operand}"])
    store = draw(st.booleans())
    table = STORES if store else LOADS
    name = draw(st.sampled_from(sorted(table)))
    size = table[name]
    target = _address(space, size, draw, store)
    imm = draw(st.integers(-64, 64))
    base = draw(_free(avoid | {0}))
    other = draw(REG if store else _dest(avoid))
    return Text(load_const(f"x{base}", target - imm) + [f"{name} x{other}, {imm}(x{base})"])


@st.composite
def atomic(draw, space: Space, avoid: frozenset[int]) -> Text:
    width = draw(st.sampled_from(["w", "d"]))
    size = 4 if width == "w" else 8
    target = _address(space, size, draw, True, aligned=True)
    base = draw(_free(avoid | {0}))
    op = draw(st.sampled_from(AMO_OPS))
    return Text(load_const(f"x{base}", target)
                + [f"{op}.{width} x{draw(_dest(avoid))}, x{draw(REG)}, (x{base})"])


@st.composite
def lr_sc(draw, space: Space, avoid: frozenset[int]) -> Text:
    """LR then SC of the same width, with only register operations between.

    Not generated, because QEMU 7.2 and the specification part ways or the
    specification leaves a choice:
      - an SC whose address is misaligned or fails the store permission
        checks: QEMU 7.2 compares the address with the reservation first and
        fails silently (rd = 1) without any check, but the Zalrsc text says
        "If the address is not naturally aligned, an address-misaligned
        exception or an access-fault exception will be generated" and "No
        SC instruction shall retire unless it passes memory permission
        checks" (QEMU issue #3323). So an SC here targets a naturally aligned
        scratch address its page lets the program store to.
      - a store between LR and SC to the reserved bytes (the spec lets an SC
        succeed or fail after a store by the same hart; QEMU's
        compare-and-swap SC succeeds when the value is unchanged),
      - LR/SC of different widths (only "the same effective address and of
        the same data size as the latest LR" has a guaranteed outcome).
    """
    width = draw(st.sampled_from(["w", "d"]))
    size = 4 if width == "w" else 8
    target = _address(space, size, draw, False, aligned=True)
    base = draw(_free(avoid | {0}))
    lines = load_const(f"x{base}", target)
    shape = draw(st.sampled_from(["pair", "pair", "sc only", "lr only", "other address"]))
    if shape != "sc only":
        lines.append(f"lr.{width} x{draw(_dest(avoid | {base}))}, (x{base})")
    for _ in range(draw(st.integers(0, 2))):
        lines += draw(alu(space, avoid | {base})).lines
    sc_target = target & ~(size - 1)
    if shape == "other address":
        sc_target = space.scratch + size * draw(st.integers(0, SCRATCH_SIZE // size - 1))
    if shape != "lr only" and space.store_permitted(sc_target, size):
        if sc_target != target:
            lines += load_const(f"x{base}", sc_target)
        lines.append(f"sc.{width} x{draw(_dest(avoid))}, x{draw(REG)}, (x{base})")
    return Text(lines)


def _csr_plan(space: Space) -> tuple[list[str], list[str], list[str]]:
    """(CSRs to read and write with any value, CSRs only to read, CSRs whose
    access must trap) for code running in ``space.mode``.

    Left out on purpose: counters and time (values differ), misa, marchid,
    mimpid (QEMU's CPU differs), mie/mideleg/medeleg writes (QEMU's CPU has
    the H extension: more writable bits, WARL), mstatus reads into registers
    (FS), sscratch (the harness's), mcounteren/scounteren (QEMU 7.2 keeps all
    64 bits of these 32-bit registers: privileged spec 3.1.11/4.1.5 "32-bit
    register"), and mepc/sepc writes of odd values (QEMU 7.2 reads bit 0
    back; the spec: "mepc[0] is always zero"); the latter are written with
    even values only, see csr()."""
    if space.mode in ("M", "MPRV"):
        return (["mscratch", "mtval", "stval"], ["mhartid", "mvendorid", "satp", "medeleg",
                                                  "mconfigptr", "menvcfg"],
                ["0x0ff", "0x003", "0x7ff"])
    if space.mode == "S":
        return (["stval"], ["satp"],
                ["mscratch", "mstatus", "mhartid", "0x0ff", "0x003", "cycle", "time",
                 "instret"])
    return ([], [], ["sscratch", "stval", "mscratch", "cycle", "time", "0x003", "0x0ff"])


@st.composite
def csr(draw, space: Space, avoid: frozenset[int]) -> Text:
    free_csrs, read_only, trapping = _csr_plan(space)
    rd = draw(_dest(avoid))
    choice = draw(st.integers(0, 5))
    if choice <= 1 and free_csrs:
        name = draw(st.sampled_from(free_csrs))
        op = draw(st.sampled_from(["csrrw", "csrrs", "csrrc", "csrrwi", "csrrsi", "csrrci"]))
        operand = draw(st.integers(0, 31))
        return Text([f"{op} x{rd}, {name}, {operand if op.endswith('i') else f'x{operand}'}"])
    if choice == 2 and read_only:
        return Text([f"csrrs x{rd}, {draw(st.sampled_from(read_only))}, x0"])
    if choice == 3 and space.mode != "U":
        # status bits that change translation and trapping, set or cleared
        # Not SUM in S-mode, nor MPRV under MPRV: Space.store_permitted
        # relies on them (in M-mode programs MPRV with MPP = U and satp = 0
        # still reaches the same physical scratch).
        if space.mode == "S":
            name, bits = "sstatus", [MXR, SPIE]
        elif space.mode == "MPRV":
            name, bits = "mstatus", [SUM, MXR, TVM, TW, TSR, SPP, SPIE]
        else:
            name, bits = "mstatus", [SUM, MXR, MPRV, TVM, TW, TSR, SPP, SPIE]
        mask = 0
        for bit in draw(st.lists(st.sampled_from(bits), min_size=1, max_size=3)):
            mask |= bit
        tmp = draw(_free(avoid | {0}))
        op = draw(st.sampled_from(["csrrs", "csrrc", "csrrw"]))
        if op == "csrrw":
            # A whole new value (rd = x0: a read would show QEMU's FS bits).
            # MPP only 0, 1 or 3: QEMU 7.2 keeps MPP = 2, which the spec's
            # "MPP [...] WARL field that can hold only privilege mode x and
            # any implemented privilege mode" rules out (our core keeps the
            # old MPP); no FS/VS/XS (they would turn QEMU's FPU on), UXL/SXL
            # or the H extension's MPV/GVA (QEMU 7.2 lets those be written).
            mask |= draw(st.integers(0, (1 << 9) - 1)) & (SIE | MIE | SPIE | MPIE | SPP)
            if space.mode == "M":
                mask |= draw(st.sampled_from([0, 1, 3])) << MPP_SHIFT
                mask |= draw(st.sampled_from([0, MPRV]))
            elif space.mode == "MPRV":
                mask = (mask & ~SUM) | MPRV  # keeps data translation as U (MPP = 0)
            else:  # sstatus: SUM stays as Space.store_permitted assumes
                mask = (mask & ~(MIE | MPIE | SUM)) | (space.status & SUM)
        return Text(load_const(f"x{tmp}", mask) + [f"{op} x0, {name}, x{tmp}"])
    if choice == 4 and space.mode != "U":
        name = "sepc" if space.mode == "S" or draw(st.booleans()) else "mepc"
        tmp = draw(_free(avoid | {0}))
        value = draw(st.integers(0, M64)) & ~1
        return Text(load_const(f"x{tmp}", value) + [f"csrrw x{rd}, {name}, x{tmp}"])
    name = draw(st.sampled_from(trapping + (read_only and ["mhartid"] or [])))
    if name == "mhartid":  # a write to a read-only CSR
        return Text([f"csrrw x{rd}, mhartid, x{draw(REG)}"])
    op = draw(st.sampled_from(["csrrw", "csrrs", "csrrsi"]))
    src = draw(REG) if op != "csrrsi" else draw(st.integers(0, 31))
    return Text([f"{op} x{rd}, {name}, {src if op.endswith('i') else f'x{src}'}"])


@st.composite
def trap(draw, space: Space, avoid: frozenset[int], status: int) -> Text:
    options = ["ecall", "ebreak", "c.ebreak", "illegal", "illegal16", "fence", "fence.i",
               "fence.tso"]
    if space.mode in ("M", "MPRV"):
        options += ["sfence.vma"]
    elif space.mode == "S":
        options += ["sfence.vma", "mret"]
        if status & TW:  # WFI in S-mode traps only with TW (else QEMU sleeps forever)
            options.append("wfi")
        if status & TSR:  # SRET traps with TSR; a working SRET would rerun code
            options.append("sret")
    else:
        options += ["sfence.vma", "mret", "sret", "wfi"]
    what = draw(st.sampled_from(options))
    if what == "illegal":
        return Text([f".word {draw(st.sampled_from(ILLEGAL_WORDS)):#x}"])
    if what == "illegal16":
        return Text([f".half {draw(st.sampled_from(ILLEGAL_HALVES)):#x}"])
    if what == "fence":
        return Text(["fence iorw, iorw"])
    if what == "sfence.vma":
        return Text([f"sfence.vma x{draw(REG)}, x{draw(REG)}"])
    return Text([what])


@st.composite
def bulk_loop(draw, space: Space, avoid: frozenset[int]) -> Text:
    """A memset- or memcpy-shaped self-loop (the shapes our fast engine runs
    as one bytearray operation), over the scratch window: in paged programs it
    crosses from L0[0]'s page into L0[1]'s, whose flags may stop it with a
    fault mid-way; in M-mode it sometimes runs into the unmapped UNMAPPED_PA
    (aligned, see fault_addresses on misaligned ones). The trap handler skips
    a faulting store, so the loop carries on and faults again."""
    width = draw(st.sampled_from([1, 2, 4, 8]))
    step = width * draw(st.sampled_from([1, 1, 1, 2])) * draw(st.sampled_from([1, 1, 1, -1]))
    limit = (SCRATCH_SIZE - width) // abs(step) + 1
    count = draw(st.integers(1, min(limit, 64)))
    span = abs(step) * (count - 1)
    if not space.paged_data and draw(st.integers(0, 4)) == 0:
        step = abs(step)
        dst = UNMAPPED_PA - width * draw(st.integers(0, 8))
    else:
        low = draw(st.integers(0, SCRATCH_SIZE - width - span))
        dst = space.scratch + (low if step > 0 else low + span)
    regs = [r for r in range(1, 32) if r not in avoid]
    p, q, c, v = draw(st.permutations(regs))[:4]
    copy = draw(st.booleans())
    store = {1: "sb", 2: "sh", 4: "sw", 8: "sd"}[width]
    load = draw(st.sampled_from({1: ["lb", "lbu"], 2: ["lh", "lhu"], 4: ["lw", "lwu"],
                                 8: ["ld"]}[width]))
    lines = load_const(f"x{p}", dst)
    if copy:
        src = space.scratch + draw(st.integers(0, SCRATCH_SIZE - width - span))
        if step < 0:
            src += span
        lines += load_const(f"x{q}", src)
    body = ([f"{load} x{v}, 0(x{q})"] if copy else []) + [f"{store} x{v}, 0(x{p})",
                                                        f"addi x{p}, x{p}, {step}"]
    if copy:
        body.append(f"addi x{q}, x{q}, {step}")
    if draw(st.booleans()):  # count down to zero
        lines.append(f"addi x{c}, x0, {count}")
        body += [f"addi x{c}, x{c}, -1", f"bne x{c}, x0, {-4 * len(body) - 4}"]
    else:  # run the pointer to its end
        lines += load_const(f"x{c}", dst + step * count)
        branch = draw(st.sampled_from(["bne"] + (["bltu"] if step > 0 else [])))
        body.append(f"{branch} x{p}, x{c}, {-4 * len(body)}")
    return Text(lines + body)


@st.composite
def straight(draw, space: Space, avoid: frozenset[int], status: int) -> Text:
    kind = draw(st.sampled_from(["alu", "alu", "alu", "compressed", "memory", "memory",
                                 "memory", "atomic", "lr_sc", "csr", "trap", "bulk"]))
    if kind == "bulk":
        return draw(bulk_loop(space, avoid))
    if kind == "alu":
        return draw(alu(space, avoid))
    if kind == "compressed":
        return draw(compressed(space, avoid))
    if kind == "memory":
        return draw(memory(space, avoid))
    if kind == "atomic":
        return draw(atomic(space, avoid))
    if kind == "lr_sc":
        return draw(lr_sc(space, avoid))
    if kind == "csr":
        return draw(csr(space, avoid))
    return draw(trap(space, avoid, status))


@st.composite
def branch(draw, remaining: int) -> Branch:
    kind = draw(st.sampled_from(["beq", "bne", "blt", "bge", "bltu", "bgeu", "c.beqz",
                                 "c.bnez", "jal", "c.j", "jalr", "c.jr", "c.jalr"]))
    skip = draw(st.integers(0, min(remaining, 4)))
    rs1 = draw(CREG if kind.startswith("c.b") else REG)
    return Branch(kind, skip, rs1=rs1, rs2=draw(REG), rd=draw(DEST),
                  tmp=draw(st.integers(1, 31)))


@st.composite
def fetch_fault(draw, space: Space) -> Text:
    tmp = draw(st.integers(1, 31))
    target = draw(st.sampled_from(space.fetch_targets()))
    return Text(load_const(f"x{tmp}", target) + [f"jalr x{draw(DEST)}, 0(x{tmp})"])


@st.composite
def remap(draw, space: Space, avoid: frozenset[int]) -> Text:
    """Rewrite one of L0[2..4] through the 1 GiB superpage (it maps RAM_BASE,
    page tables included, when its flags let the program store there), then
    SFENCE.VMA: every later access must use the new PTE. (Without the fence
    the old or the new translation may be used: the implementation's choice.)
    The new PTE maps one of the RAM pages 2..4, so SC targets (pages 0, 1),
    fetch targets (5, 6) and the unmapped page (7) keep what the generator
    assumed of them."""
    entry, page = draw(st.integers(2, 4)), draw(st.integers(2, 4))
    pte = (((SCRATCH_PAGES + 0x1000 * page) >> 12) << 10) | _pte_flags(draw, space.mode != "S")
    a = draw(_free(avoid | {0}))
    b = draw(_free(avoid | {0, a}))
    lines = [f"csrrs x{a}, satp, x0", f"slli x{a}, x{a}, 20", f"srli x{a}, x{a}, 8"]
    lines += load_const(f"x{b}", VA_GIGA - RAM_BASE + L0_OFFSET + 8 * entry)
    lines += [f"add x{a}, x{a}, x{b}", *load_const(f"x{b}", pte), f"sd x{b}, 0(x{a})",
              "sfence.vma x0, x0"]
    return Text(lines)


@st.composite
def items(draw, space: Space, status: int) -> list[Item]:
    out: list[Item] = []
    count = draw(st.integers(1, 24))
    # PTE rewrites need to read satp and to fence: S-mode without TVM, or M-mode (MPRV)
    can_remap = space.mode == "MPRV" or (space.mode == "S" and not status & TVM)
    for index in range(count):
        kind = draw(st.integers(0, 20 if can_remap else 19))
        if kind == 20:
            out.append(draw(remap(space, frozenset())))
        elif kind < 14:
            out.append(draw(straight(space, frozenset(), status)))
        elif kind < 17:
            out.append(draw(branch(count - index - 1)))
        elif kind < 19:
            counter = draw(st.integers(1, 31))
            body = draw(st.lists(straight(space, frozenset({counter}), status),
                                 min_size=1, max_size=4))
            out.append(Loop(counter, draw(st.integers(1, 3)), body))
        else:
            out.append(draw(fetch_fault(space)))
    return out


def _pte_flags(draw, user: bool) -> int:
    """Mostly a good data page (R W A D, U for user code); else random low
    bits, sometimes with a reserved high bit (54..63: must fault without
    Svpbmt/Svnapot, which neither CPU has)."""
    if draw(st.integers(0, 2)):
        return PTE_V | PTE_R | PTE_W | PTE_A | PTE_D | (PTE_U if user else 0) | \
            (draw(st.sampled_from([0, PTE_X, 1 << 8, 1 << 9])))
    flags = draw(st.integers(0, 0x3FF))
    if draw(st.integers(0, 5)) == 0:
        flags |= 1 << draw(st.sampled_from([54, 60, 61, 62, 63]))
    return flags


# Exceptions both CPUs can delegate, in groups delegated together: QEMU 7.2
# reports some AMO faults with the load causes (see harness.qemu_corrections),
# so a load cause and its store/AMO twin must go to the same handler.
DELEGABLE_GROUPS = [(0,), (1,), (2,), (3,), (4, 6), (5, 7), (12,), (13, 15)]


@st.composite
def programs(draw, mode: str) -> Program:
    status = 0
    if mode == "S":
        status = draw(st.sampled_from([0, SUM, MXR, SUM | MXR, TVM, TW, TSR,
                                       SUM | TVM | TW | TSR]))
    elif mode in ("U", "MPRV"):
        status = draw(st.sampled_from([0, MXR]))
    user = mode in ("U", "MPRV")
    l0 = [_pte_flags(draw, user) for _ in range(8)]
    for fetched in (5, 6):  # the pages jumped to: often executable
        if draw(st.booleans()):
            l0[fetched] = PTE_V | PTE_R | PTE_X | PTE_A | (PTE_U if mode == "U" else 0)
    mega = _pte_flags(draw, user) | (draw(st.sampled_from([0, 1 << 20])))
    giga = _pte_flags(draw, user) | (draw(st.sampled_from([0, 1 << 20])))
    space = Space(mode, tuple(l0), status)
    # medeleg: never the ecalls (8, 9), which end a program through the
    # M-mode handler.
    # With TSR the S-mode handler's own SRET would trap: nothing is delegated.
    medeleg = 0
    if mode in ("S", "U") and not status & TSR:
        for group in draw(st.lists(st.sampled_from(DELEGABLE_GROUPS), max_size=5)):
            for bit in group:
                medeleg |= 1 << bit
    body = render(draw(items(space, status)))
    seed = draw(st.integers(0, (1 << 32) - 1))
    rng = random.Random(seed)
    regs = [rng.choice(INTERESTING) if rng.random() < 0.4 else rng.getrandbits(64)
            for _ in range(31)]
    scratch = rng.randbytes(SCRATCH_SIZE)
    return Program(mode=mode, body=body, regs=regs, scratch=scratch,
                   mscratch=rng.getrandbits(64), medeleg=medeleg, status=status,
                   l0_flags=l0, mega=mega, giga=giga)
