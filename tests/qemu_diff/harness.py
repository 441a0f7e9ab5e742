"""The M-mode harness of the QEMU differential test, and how a batch of
programs becomes one ELF image that runs on QEMU and on our Machine alike.

One image holds the harness, one descriptor per program, the programs' code
and (for paged programs) their own Sv39 page tables. For every program the
harness resets the scratch window, the trap records and the CSRs the program
may observe, loads all 31 registers from the descriptor and ``mret``s into the
program in its privilege (M, S, U, or M with MPRV=1 and MPP=U).

Every trap goes to the harness: ``mtrap`` (M-mode) or ``strap`` (S-mode, for
exceptions the program's medeleg delegates; it returns with SRET, so programs
run with TSR delegate nothing). Both record (handler, cause, tval, epc,
status), skip the trapping instruction (2 or 4 bytes: from the instruction
bits in tval for an illegal instruction, else read at epc, code being
identity-mapped) and return; a fetch fault, or a ninth trap, sends the
program to its end instead. Before returning, a handler drops any LR reservation with a dummy
SC, as the privileged specification advises trap handlers to do ("Trap
handlers should explicitly clear the reservation if required (e.g., by using
a dummy SC) before executing the xRET", 3.3.2): whether a trap or an xRET
clears it is the implementation's choice, so the harness makes it moot.

A program ends with an ``ecall`` at its end pc (never delegated: medeleg bits
8 and 9 stay clear). ``mtrap`` recognises it, saves the registers, the CSRs,
the scratch window's PTEs and the scratch bytes into a result block and
prints the block as hex words on the UART (one line per program), then starts
the next program. After the last one it writes 0x5555 to the test finisher.

The harness owns ``sscratch`` (it holds the save-area pointer while a program
runs); programs never touch it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from machine.isa.asm import assemble
from machine.isa.decoder import decode
from machine.native import NativeEngine
from machine.machine import Machine, MachineConfig
from machine.mmu import PTE_A, PTE_D, PTE_R, PTE_U, PTE_V, PTE_W, PTE_X
from tests.support.mini_elf import make_elf

QEMU = "qemu-system-riscv64"
RAM_BASE = 0x8000_0000

# --- physical layout of the image -------------------------------------------
HARNESS = 0x8000_0000          # harness code (entry)
AREA = 0x8001_0000             # harness data: see the AREA_* offsets
DESCRIPTORS = 0x8002_0000      # one descriptor per program
CODE = 0x8020_0000             # the programs' code (one 2 MiB megapage)
CODE_END = 0x8040_0000
TABLES = 0x8040_0000           # per-program page tables, 4 pages each:
L0_OFFSET = 0x3000             # root, L1 of the identity map, L1 and L0 of 0x4000_0000
TABLES_END = 0x8060_0000
SCRATCH_PAGES = 0x8060_0000    # 8 pages, mapped by L0[0..7] (L0[7]: see below)
SCRATCH_PA = 0x8060_0F80       # the 256-byte window (straddles a page boundary)
SCRATCH_SIZE = 256
MEGA_TARGET = 0x8080_0000      # what the 2 MiB superpage maps
GIGA_WINDOW = 0x00A0_0000      # offset used inside the 1 GiB superpage
IMAGE_END = 0x80C0_0000

# Virtual layout of paged programs (S, U and MPRV). Code and the harness are
# identity-mapped (VA = PA) through megapages of root[2].
VA_SCRATCH_PAGES = 0x4000_0000   # L0[0..7] of root[1] -> L1[0]
VA_SCRATCH = 0x4000_0F80         # the scratch window, virtually
VA_MEGA = 0x4020_0000            # root[1] -> L1[1]: a 2 MiB leaf
VA_INVALID_L1 = 0x4040_0000      # root[1] -> L1[2]: invalid
VA_GIGA = 0xC000_0000            # root[3]: a 1 GiB leaf onto RAM_BASE
UNMAPPED_PA = 0x8800_0000        # just above 128 MiB of RAM: nothing answers there

AREA_CUR, AREA_LEFT, AREA_DUMMY, AREA_SAVE = 0, 8, 24, 32  # save[i] at AREA_SAVE + 8 i
RESULT = AREA + 0x400

MAX_TRAPS = 8
RECORD_WORDS = 5  # handler (3 = M, 1 = S), cause, tval, epc, mstatus/sstatus
CSR_NAMES = ("mstatus", "mcause", "mepc", "mtval", "mscratch", "sstatus", "sepc",
             "scause", "stval", "medeleg", "satp")
PTE_NAMES = tuple(f"L0[{i}]" for i in range(8)) + ("L1[0]", "L1[1]", "L1[2]", "root[3]")
R_REGS, R_COUNT = 0, 31
R_TRAPS = 32
R_CSRS = R_TRAPS + MAX_TRAPS * RECORD_WORDS
R_PTES = R_CSRS + len(CSR_NAMES)
R_SCRATCH = R_PTES + len(PTE_NAMES)
RESULT_WORDS = R_SCRATCH + SCRATCH_SIZE // 8

# descriptor words
D_ENTRY, D_END, D_MSTATUS, D_SATP, D_MEDELEG, D_MSCRATCH, D_L0, D_L1S, D_ROOT = range(9)
D_REGS = 10            # x1..x31
D_SCRATCH = D_REGS + 31
DESC_SIZE = 8 * 80

# mstatus fields the harness sets
MPP_SHIFT = 11
MPRV, SUM, MXR = 1 << 17, 1 << 18, 1 << 19
# Bits of mstatus/sstatus that legitimately differ: QEMU's CPU has F/D/V, so
# FS/VS (and SD, their summary) reflect an FPU we do not have.
STATUS_IGNORED = (3 << 13) | (3 << 9) | (3 << 15) | (1 << 63)

PRIVILEGE = {"M": 3, "MPRV": 3, "S": 1, "U": 0}


def load_const(reg: str, value: int) -> list[str]:
    """Instructions that put any 64-bit ``value`` in ``reg`` (the test
    assembler's ``li`` takes 32-bit values only, and ``lui`` sign-extends)."""
    value &= (1 << 64) - 1
    signed = value - (1 << 64) if value >> 63 else value
    if -(1 << 31) <= signed < (1 << 31):
        return [f"li {reg}, {signed}"]
    low = ((signed & 0xFFF) ^ 0x800) - 0x800
    high = (signed - low) >> 12
    out = load_const(reg, high) + [f"slli {reg}, {reg}, 12"]
    if low:
        out.append(f"addi {reg}, {reg}, {low}")
    return out


def _lines(*parts: str | list[str]) -> str:
    out: list[str] = []
    for part in parts:
        out.extend(part if isinstance(part, list) else [part])
    return "\n".join(out)


def _save_all(base: str) -> list[str]:
    return [f"sd x{i}, {AREA_SAVE + 8 * i}({base})" for i in range(1, 31)]


def _restore_all(base: str) -> list[str]:
    return [f"ld x{i}, {AREA_SAVE + 8 * i}({base})" for i in range(1, 31)]


def _record(handler: int, tval_csr: str, status_csr: str, stop: str) -> list[str]:
    """Append a trap record; t0 = cause, t1 = epc. Jumps to ``stop`` when full,
    or after recording a fetch fault. (x31 = t6 holds the area pointer.)"""
    return [
        *load_const("t4", RESULT),
        f"ld t5, {R_COUNT * 8}(t4)",
        "addi a3, t5, 1",
        f"sd a3, {R_COUNT * 8}(t4)",  # counts the one that does not fit too
        f"li a3, {MAX_TRAPS}",
        f"bgeu t5, a3, {stop}",
        f"li a3, {RECORD_WORDS * 8}",
        "mul a3, t5, a3",
        "add a3, a3, t4",
        f"addi a3, a3, {R_TRAPS * 8}",
        f"li a0, {handler}",
        "sd a0, 0(a3)",
        "sd t0, 8(a3)",
        f"csrr a0, {tval_csr}",
        "sd a0, 16(a3)",
        "sd t1, 24(a3)",
        f"csrr a0, {status_csr}",
        "sd a0, 32(a3)",
        # an instruction that could not be fetched cannot be skipped
        "li a0, 1",
        f"beq t0, a0, {stop}",
        "li a0, 12",
        f"beq t0, a0, {stop}",
    ]


# The harness is assembled in pieces at fixed addresses, so that pieces can
# refer to each other by constant addresses (the test assembler resolves
# labels within one piece only).
BOOT, NEXT, MTRAP, MEND, STRAP, PRINT = (HARNESS + i * 0x800 for i in range(6))


def _copy(src: str, dst: str, n: int, tag: str) -> list[str]:
    """Copy n words from [src] to [dst] (clobbers a4-a7)."""
    return [f"addi a4, {src}, 0", f"addi a5, {dst}, 0", f"li a6, {n}",
            f"{tag}: ld a7, 0(a4)", "sd a7, 0(a5)", "addi a4, a4, 8", "addi a5, a5, 8",
            "addi a6, a6, -1", f"bnez a6, {tag}"]


def _jump(address: int) -> list[str]:
    return [*load_const("t0", address), "jalr zero, 0(t0)"]


def harness_pieces() -> dict[int, str]:
    boot = _lines(
        # PMP entry 0 covers everything, so S and U may reach all of memory.
        "li t0, -1", "srli t0, t0, 10", "csrw pmpaddr0, t0", "li t0, 0x1f",
        "csrw pmpcfg0, t0",
        load_const("t0", MTRAP), "csrw mtvec, t0",
        load_const("t0", STRAP), "csrw stvec, t0",
        "csrw mideleg, zero", "csrw mie, zero",
        _jump(NEXT))
    next_program = _lines(
        load_const("s0", AREA),
        f"ld a0, {AREA_LEFT}(s0)",
        "beqz a0, done",
        "addi a0, a0, -1",
        f"sd a0, {AREA_LEFT}(s0)",
        f"ld s1, {AREA_CUR}(s0)",
        load_const("s2", RESULT),
        f"addi t0, s2, {R_COUNT * 8}",
        f"li t1, {1 + MAX_TRAPS * RECORD_WORDS}",
        "clear: sd zero, 0(t0)", "addi t0, t0, 8", "addi t1, t1, -1", "bnez t1, clear",
        f"addi t0, s1, {D_SCRATCH * 8}",
        load_const("t1", SCRATCH_PA),
        _copy("t0", "t1", SCRATCH_SIZE // 8, "init_scratch"),
        "csrw satp, zero", "sfence.vma zero, zero",
        f"ld t0, {D_MSCRATCH * 8}(s1)", "csrw mscratch, t0",
        "csrw sscratch, s0",
        f"ld t0, {D_MEDELEG * 8}(s1)", "csrw medeleg, t0",
        "csrw mcause, zero", "csrw mtval, zero", "csrw sepc, zero",
        "csrw scause, zero", "csrw stval, zero",
        f"ld t0, {D_MSTATUS * 8}(s1)", "csrw mstatus, t0",
        f"ld t0, {D_SATP * 8}(s1)", "csrw satp, t0", "sfence.vma zero, zero",
        f"ld t0, {D_ENTRY * 8}(s1)", "csrw mepc, t0",
        f"addi x31, s1, {D_REGS * 8 - 8}",
        [f"ld x{i}, {8 * i}(x31)" for i in range(1, 32)],
        "mret",
        "done:",
        load_const("t0", 0x100000), "li t1, 0x5555", "sw t1, 0(t0)",
        "hang: j hang")
    mtrap = _lines(
        "csrrw x31, sscratch, x31",
        _save_all("x31"),
        "csrr x1, sscratch", f"sd x1, {AREA_SAVE + 8 * 31}(x31)", "csrw sscratch, x31",
        "csrr t0, mcause", "csrr t1, mepc",
        f"ld t2, {AREA_CUR}(x31)", f"ld t3, {D_END * 8}(t2)",
        "bne t1, t3, m_record",
        _jump(MEND),
        "m_record:",
        _record(3, "mtval", "mstatus", "m_stop"),
        # The instruction's length: from mtval for an illegal instruction (its
        # bits; the code may sit on a page that is not identity-mapped), else
        # from the code itself (identity-mapped: VA = PA).
        "li a1, 2", "bne t0, a1, m_read", "csrr a0, mtval", "j m_length",
        "m_read: lhu a0, 0(t1)",
        "m_length: andi a0, a0, 3", "li a1, 3", "addi t1, t1, 2",
        "bne a0, a1, m_skip", "addi t1, t1, 2",
        "m_skip: csrw mepc, t1",
        "j m_return",
        "m_stop: csrw mepc, t3",
        "m_return:",
        f"addi a0, x31, {AREA_DUMMY}", "sc.d zero, zero, (a0)",
        _restore_all("x31"), f"ld x31, {AREA_SAVE + 8 * 31}(x31)",
        "mret")
    # The end of a program (x31 = AREA, t2 = its descriptor): collect, print.
    mend = _lines(
        load_const("s2", RESULT),
        f"addi s3, x31, {AREA_SAVE + 8}",
        _copy("s3", "s2", 31, "copy_regs"),
        [line for i, name in enumerate(CSR_NAMES)
         for line in (f"csrr a0, {name}", f"sd a0, {(R_CSRS + i) * 8}(s2)")],
        f"ld s3, {D_L0 * 8}(t2)", f"addi s4, s2, {R_PTES * 8}",
        _copy("s3", "s4", 8, "copy_l0"),
        f"ld s3, {D_L1S * 8}(t2)", f"addi s4, s2, {(R_PTES + 8) * 8}",
        _copy("s3", "s4", 3, "copy_l1"),
        f"ld s3, {D_ROOT * 8}(t2)", "ld a0, 24(s3)", f"sd a0, {(R_PTES + 11) * 8}(s2)",
        load_const("s3", SCRATCH_PA), f"addi s4, s2, {R_SCRATCH * 8}",
        _copy("s3", "s4", SCRATCH_SIZE // 8, "copy_scratch"),
        "mv a0, s2", f"li a1, {RESULT_WORDS}",
        load_const("t0", PRINT), "jalr ra, 0(t0)",
        f"ld t2, {AREA_CUR}(x31)", f"addi t2, t2, {DESC_SIZE}", f"sd t2, {AREA_CUR}(x31)",
        "csrw satp, zero", "sfence.vma zero, zero", "csrw mstatus, zero",
        _jump(NEXT))
    strap = _lines(
        "csrrw x31, sscratch, x31",
        _save_all("x31"),
        "csrr x1, sscratch", f"sd x1, {AREA_SAVE + 8 * 31}(x31)", "csrw sscratch, x31",
        "csrr t0, scause", "csrr t1, sepc",
        f"ld t2, {AREA_CUR}(x31)", f"ld t3, {D_END * 8}(t2)",
        _record(1, "stval", "sstatus", "s_stop"),
        # the length as in mtrap; the code is read with SUM set (a U
        # program's code is a U page)
        "li a1, 2", "bne t0, a1, s_read", "csrr a0, stval", "j s_length",
        "s_read: csrr a2, sstatus", f"li a3, {SUM}", "csrs sstatus, a3",
        "lhu a0, 0(t1)", "csrw sstatus, a2",
        "s_length: andi a0, a0, 3", "li a1, 3", "addi t1, t1, 2",
        "bne a0, a1, s_skip", "addi t1, t1, 2",
        "s_skip: csrw sepc, t1",
        "j s_return",
        "s_stop: csrw sepc, t3",
        "s_return:",
        f"addi a0, x31, {AREA_DUMMY}", "sc.d zero, zero, (a0)",
        _restore_all("x31"), f"ld x31, {AREA_SAVE + 8 * 31}(x31)",
        "sret")
    # print a1 words from a0 as hex, then a newline (polls LSR.THRE before each byte)
    printer = _lines(
        load_const("t5", 0x10000000),
        "print_word: ld t0, 0(a0)", "li t2, 60",
        "print_nibble: srl t1, t0, t2", "andi t1, t1, 15", "li t3, 10",
        "blt t1, t3, print_digit", "addi t1, t1, 39",
        "print_digit: addi t1, t1, 48",
        "print_wait: lbu t3, 5(t5)", "andi t3, t3, 0x20", "beqz t3, print_wait",
        "sb t1, 0(t5)",
        "addi t2, t2, -4", "bge t2, zero, print_nibble",
        "addi a0, a0, 8", "addi a1, a1, -1", "bnez a1, print_word",
        "print_nl: lbu t3, 5(t5)", "andi t3, t3, 0x20", "beqz t3, print_nl",
        "li t1, 10", "sb t1, 0(t5)",
        "ret")
    return {BOOT: boot, NEXT: next_program, MTRAP: mtrap, MEND: mend, STRAP: strap,
            PRINT: printer}


def build_harness() -> bytes:
    """The harness code, to load at HARNESS."""
    code = bytearray(PRINT + 0x800 - HARNESS)
    for origin, text in harness_pieces().items():
        piece = assemble(text, origin)
        assert len(piece) <= 0x800, f"harness piece at {origin:#x} too long"
        code[origin - HARNESS:origin - HARNESS + len(piece)] = piece
    return bytes(code)


@dataclass
class Program:
    """One generated program and the state it starts from."""

    mode: str                      # 'M', 'S', 'U' or 'MPRV'
    body: list[str]                # assembly lines (labels allowed)
    regs: list[int]                # initial x1..x31
    scratch: bytes                 # initial SCRATCH_SIZE bytes of the window
    mscratch: int = 0
    medeleg: int = 0
    status: int = 0                # SUM, MXR, TVM, TW, TSR on top of what the mode implies
    l0_flags: list[int] = field(default_factory=lambda: [0] * 8)
    mega: int = 0                  # PTE flags of the 2 MiB leaf, | 1 << 20 = misaligned
    giga: int = 0                  # PTE flags of the 1 GiB leaf (onto RAM_BASE), likewise

    def listing(self) -> str:
        head = (f"mode={self.mode} medeleg={self.medeleg:#x} status={self.status:#x} "
                f"mscratch={self.mscratch:#x}")
        if self.mode != "M":
            head += (" l0=[" + ", ".join(f"{f:#x}" for f in self.l0_flags) + "]"
                     f" mega={self.mega:#x} giga={self.giga:#x}")
        regs = " ".join(f"x{i + 1}={v:#x}" for i, v in enumerate(self.regs))
        return f"{head}\n  {regs}\n" + "\n".join("    " + line for line in self.body)


# Program PTE flags: bits 0-9 (V R W X U G A D, RSW) and 54-63 (reserved, PBMT, N);
# 1 << 20 asks for a misaligned superpage.
PTE_BITS = 0x3FF | (0x3FF << 54)


def _pte(pa: int, flags: int) -> int:
    return ((pa >> 12) << 10) | flags


class Image:
    """A batch of programs laid out in one bytearray from RAM_BASE."""

    def __init__(self, programs: list[Program]) -> None:
        self.programs = programs
        self.mem = bytearray(SCRATCH_PAGES + 8 * 4096 - RAM_BASE)
        self.used = 0
        harness = build_harness()
        assert len(harness) < AREA - HARNESS
        self._put(HARNESS, harness)
        self._put64(AREA + AREA_CUR, DESCRIPTORS)
        self._put64(AREA + AREA_LEFT, len(programs))
        code_at = CODE
        tables_at = TABLES
        self.end_pcs: list[int] = []
        assert DESCRIPTORS + DESC_SIZE * len(programs) <= CODE
        for index, program in enumerate(programs):
            code = assemble("\n".join(program.body + ["ecall"]), code_at)
            end_pc = code_at + len(code) - 4
            assert code_at + len(code) <= CODE_END, "too much code for one batch"
            self._put(code_at, code)
            desc = DESCRIPTORS + DESC_SIZE * index
            status = program.status
            satp = 0
            l0 = l1 = root = AREA + 0x300  # a zeroed spot: dumps 0 PTEs
            if program.mode == "M":
                status |= 3 << MPP_SHIFT
            else:
                assert tables_at + 4 * 4096 <= TABLES_END, "too many paged programs"
                root, l1_id, l1, l0 = (tables_at + i * 4096 for i in range(4))
                assert l0 == root + L0_OFFSET
                tables_at += 4 * 4096
                self._build_tables(program, root, l1_id, l1, l0)
                satp = (8 << 60) | (root >> 12)
                if program.mode == "MPRV":
                    status |= (3 << MPP_SHIFT) | MPRV
                else:
                    status |= PRIVILEGE[program.mode] << MPP_SHIFT
            words = [code_at, end_pc, status, satp, program.medeleg, program.mscratch,
                     l0, l1, root, 0]
            for i, value in enumerate(words):
                self._put64(desc + 8 * i, value)
            for i, value in enumerate(program.regs):
                self._put64(desc + 8 * (D_REGS + i), value)
            assert len(program.scratch) == SCRATCH_SIZE
            self._put(desc + 8 * D_SCRATCH, program.scratch)
            self.end_pcs.append(end_pc)
            code_at = (code_at + len(code) + 15) & ~15
        self.tables_end = tables_at

    def _build_tables(self, program: Program, root: int, l1_id: int, l1: int,
                      l0: int) -> None:
        ad = PTE_A | PTE_D
        rwx = PTE_V | PTE_R | PTE_W | PTE_X | ad
        self._put64(root + 8 * 2, _pte(l1_id, PTE_V))
        self._put64(root + 8 * 1, _pte(l1, PTE_V))
        giga_pa = RAM_BASE + (0x20_0000 if program.giga >> 20 else 0)
        self._put64(root + 8 * 3, _pte(giga_pa, program.giga & PTE_BITS))
        # identity: harness and data (never U), the programs' code (U for U programs)
        self._put64(l1_id + 8 * 0, _pte(RAM_BASE, rwx))
        code_flags = rwx | (PTE_U if program.mode == "U" else 0)
        self._put64(l1_id + 8 * 1, _pte(CODE, code_flags))
        self._put64(l1 + 8 * 0, _pte(l0, PTE_V))
        mega_pa = MEGA_TARGET + (0x1000 if program.mega >> 20 else 0)
        self._put64(l1 + 8 * 1, _pte(mega_pa, program.mega & PTE_BITS))
        for i, flags in enumerate(program.l0_flags):
            pa = UNMAPPED_PA if i == 7 else SCRATCH_PAGES + 4096 * i
            self._put64(l0 + 8 * i, _pte(pa, flags & PTE_BITS))
        # The low half of a 32-bit instruction (addi a0, x0, 0) on the last
        # halfword of L0[6]'s page: fetched there, its high half lies on L0[7]'s.
        self._put(SCRATCH_PAGES + 0x6FFE, (0x0513).to_bytes(2, "little"))

    def _put(self, address: int, data: bytes) -> None:
        offset = address - RAM_BASE
        assert 0 <= offset and offset + len(data) <= len(self.mem)
        self.mem[offset:offset + len(data)] = data
        self.used = max(self.used, offset + len(data))

    def _put64(self, address: int, value: int) -> None:
        self._put(address, (value & ((1 << 64) - 1)).to_bytes(8, "little"))

    def elf(self) -> bytes:
        return make_elf(bytes(self.mem[:self.used]), RAM_BASE,
                        memsz=IMAGE_END - RAM_BASE)


# --- running --------------------------------------------------------------
def qemu_available() -> bool:
    return shutil.which(QEMU) is not None


def run_qemu(elf_path: Path, timeout: float = 20.0) -> str:
    """QEMU's console output; on a timeout, what it printed until then (the
    programs after the last complete line then count as missing)."""
    command = [QEMU, "-machine", "virt", "-bios", "none", "-m", "128M", "-smp", "1",
               "-nographic", "-monitor", "none", "-serial", "stdio",
               "-kernel", str(elf_path)]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          stdin=subprocess.DEVNULL) as process:
        try:
            out, err = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            out, err = process.communicate()
            return out.decode("ascii", errors="replace") + "\n(QEMU timed out)\n"
    if process.returncode != 0:
        raise RuntimeError(f"QEMU exited with {process.returncode}: {err.decode()}")
    return out.decode("ascii", errors="replace")


# Our engines the batches run on: the reference interpreter, the Python
# fallback (block compiler with loop idioms) and the native core where built;
# each must match QEMU on its own.
ENGINES = ("interp", "fast") + (("native",) if NativeEngine is not None else ())


def run_ours(elf_path: Path, programs: int, engine: str = "interp") -> tuple[str, int | None]:
    machine = Machine(MachineConfig(kernel=elf_path, ram_mib=128, engine=engine))
    machine.run(max_instructions=200_000 * (programs + 1))
    return machine.console_text(), machine.exit_status


@dataclass
class Result:
    words: list[int]

    @property
    def regs(self) -> list[int]:
        return self.words[R_REGS:R_REGS + 31]

    @property
    def traps(self) -> list[tuple[int, ...]]:
        count = min(self.words[R_COUNT], MAX_TRAPS)
        return [tuple(self.words[R_TRAPS + RECORD_WORDS * i:R_TRAPS + RECORD_WORDS * (i + 1)])
                for i in range(count)]


def parse(output: str) -> list[list[int]]:
    results = []
    for line in output.replace("\r", "").split("\n"):
        line = line.strip()
        if len(line) != 16 * RESULT_WORDS:
            continue
        results.append([int(line[i:i + 16], 16) for i in range(0, len(line), 16)])
    return results


def field_names() -> list[str]:
    names = [f"x{i}" for i in range(1, 32)] + ["trap count"]
    for t in range(MAX_TRAPS):
        names += [f"trap{t}.{n}" for n in ("handler", "cause", "tval", "epc", "status")]
    names += list(CSR_NAMES) + list(PTE_NAMES)
    names += [f"scratch[{8 * i:#x}]" for i in range(SCRATCH_SIZE // 8)]
    return names


FIELD_NAMES = field_names()
_STATUS_FIELDS = {R_CSRS + CSR_NAMES.index("mstatus"), R_CSRS + CSR_NAMES.index("sstatus")} | {
    R_TRAPS + RECORD_WORDS * t + 4 for t in range(MAX_TRAPS)}


def normalise(words: list[int]) -> list[int]:
    """Mask what legitimately differs (QEMU's FPU state bits in the status CSRs)."""
    out = list(words)
    for i in _STATUS_FIELDS:
        out[i] &= ~STATUS_IGNORED & ((1 << 64) - 1)
    return out


def _pte_field(va: int) -> int | None:
    """The result field holding the leaf PTE that maps ``va`` (paged programs)."""
    if VA_SCRATCH_PAGES <= va < VA_SCRATCH_PAGES + 8 * 4096:
        return R_PTES + ((va - VA_SCRATCH_PAGES) >> 12)
    if VA_MEGA <= va < VA_MEGA + (2 << 20):
        return R_PTES + 9
    if VA_GIGA <= va < VA_GIGA + (1 << 30):
        return R_PTES + 11
    return None


def qemu_corrections(image: Image, qemu: list[int]) -> tuple[list[int], set[int]]:
    """QEMU's result with its known AMO deviations undone, and the PTE fields
    whose A bit is not compared.

    QEMU 7.2 runs an AMO as a load then a store (TCG's non-atomic path on one
    vCPU), so an AMO that faults on its load part reports the load cause: a
    misaligned AMO gives 4 instead of 6 and an AMO with no memory behind it 5
    instead of 7 (QEMU issues #3503, #594), and an unmapped page 13 instead of
    15. The privileged specification's table of causes has only
    "store/AMO address misaligned" (6), "store/AMO access fault" (7) and
    "store/AMO page fault" (15) for AMOs: QEMU is wrong there, and this maps
    its causes back (programs delegate each load cause together with its
    store/AMO twin, so the handler is the same).
    The load part of an AMO whose store part then faults has set the PTE's
    A bit in QEMU; that is allowed ("Updates of the A bit may be performed as
    a result of speculation", privileged spec, Svadu/A-D update rules), so
    for such a fault the A bit of its PTE is not compared.
    """
    fixed = list(qemu)
    unchecked_a: set[int] = set()
    for t in range(min(fixed[R_COUNT], MAX_TRAPS)):
        at = R_TRAPS + RECORD_WORDS * t
        handler, cause, tval, epc = fixed[at:at + 4]
        if not handler or not CODE <= epc < CODE_END - 4:
            continue
        word = int.from_bytes(image.mem[epc - RAM_BASE:epc - RAM_BASE + 4], "little")
        decoded = decode(word)
        if decoded is None or not decoded.base.name.startswith("amo"):
            continue
        if cause in (4, 5, 13):
            fixed[at + 1] = cause + 2
            last_s = handler == 1 and all(
                fixed[R_TRAPS + RECORD_WORDS * later] != 1
                for later in range(t + 1, min(fixed[R_COUNT], MAX_TRAPS)))
            if last_s and fixed[R_COUNT] <= MAX_TRAPS:
                fixed[R_CSRS + CSR_NAMES.index("scause")] = cause + 2
        if fixed[at + 1] == 15 and _pte_field(tval) is not None:
            unchecked_a.add(_pte_field(tval))  # type: ignore[arg-type]
    return fixed, unchecked_a


@dataclass
class Ours:
    engine: str
    results: list[list[int]]
    raw: str
    exit_status: int | None


@dataclass
class BatchOutcome:
    image: Image
    qemu: list[list[int]]
    qemu_raw: str
    ours: list[Ours]

    def differences(self, index: int, ours: Ours) -> list[str]:
        """What differs for program ``index`` between QEMU and one of our
        engines (empty: they agree)."""
        if index >= len(self.qemu) or index >= len(ours.results):
            return [f"no result: qemu printed {len(self.qemu)}, {ours.engine} "
                    + str(len(ours.results))]
        qemu, unchecked_a = qemu_corrections(self.image, self.qemu[index])
        q, o = normalise(qemu), normalise(ours.results[index])
        scause = R_CSRS + CSR_NAMES.index("scause")
        if q[R_COUNT] > MAX_TRAPS and q[scause] in (4, 5, 13) and o[scause] == q[scause] + 2:
            # the trap that did not fit in the records may have been an AMO
            # (see qemu_corrections): nothing tells, so its twin cause is accepted
            q[scause] = o[scause]
        for i in unchecked_a:
            q[i] &= ~PTE_A
            o[i] &= ~PTE_A
        return [f"{FIELD_NAMES[i]}: qemu={q[i]:#x} {ours.engine}={o[i]:#x}"
                for i in range(len(q)) if q[i] != o[i]]


def run_batch(programs: list[Program], engines: tuple[str, ...] = ENGINES) -> BatchOutcome:
    image = Image(programs)
    with tempfile.TemporaryDirectory(prefix="cowtui-qemu-diff-") as tmp:
        path = Path(tmp) / "batch.elf"
        path.write_bytes(image.elf())
        if os.environ.get("QEMU_DIFF_KEEP"):  # keep the image to debug by hand
            shutil.copy(path, os.environ["QEMU_DIFF_KEEP"])
        qemu_raw = run_qemu(path)
        ours = []
        for engine in engines:
            raw, exit_status = run_ours(path, len(programs), engine)
            ours.append(Ours(engine, parse(raw), raw, exit_status))
    return BatchOutcome(image, parse(qemu_raw), qemu_raw, ours)
