"""Synchronous exceptions: causes, tval, epc, delegation, vectors, and the
state changes of trap entry, MRET and SRET (privileged spec 3.1.6-3.3.2, 4.1)."""

from __future__ import annotations

import pytest

from machine.isa.asm import asm

from .harness import (
    CODE,
    M_VECTOR,
    MACHINE,
    RAM,
    RAM_SIZE,
    S_VECTOR,
    SUPERVISOR,
    USER,
    Machine,
)

SIE, MIE, SPIE, MPIE, SPP = 1 << 1, 1 << 3, 1 << 5, 1 << 7, 1 << 8
MPP_SHIFT = 11
MPRV = 1 << 17
NEG1 = (1 << 64) - 1


def mpp(m: Machine) -> int:
    return (m.csr.mstatus >> MPP_SHIFT) & 3


# --- illegal instructions: tval holds the instruction's own bits ----------------------
ILLEGAL_16 = [
    0x0000,  # all zeros (c.addi4spn with nzuimm = 0)
    0x0004,  # c.addi4spn x9, sp, 0: reserved
    0x6181,  # c.lui x3, 0: reserved
    0x6101,  # c.addi16sp sp, 0: reserved
    0x2001,  # c.addiw x0, 0: reserved
    0x4002,  # c.lwsp x0: reserved
    0x6002,  # c.ldsp x0: reserved
    0x8002,  # c.jr x0: reserved
    0x2008,  # c.fld: no D extension
    0x2002,  # c.fldsp
    0xA002,  # c.fsdsp
    0x8000,  # quadrant 0, funct3 = 4: reserved
    0x9C41,  # quadrant 1, funct3 = 4, bit 12 = 1, funct2 = 2: reserved
]
ILLEGAL_32 = [
    0xFFFFFFFF,
    0x0000000B,                               # custom-0
    asm("slliw a0, a0, 1")[0] | (1 << 25),    # shamt[5] set in a W shift
    asm("srai a0, a0, 1")[0] | (1 << 26),     # bad funct6
    asm("add a0, a0, a1")[0] | (1 << 26),     # bad funct7
    0x00004073,                               # SYSTEM funct3 = 4
    asm("mret")[0] | (1 << 15),               # mret with rs1 != 0
    asm("ecall")[0] | (1 << 7),               # ecall with rd != 0
    asm("lr.w a0, (a1)")[0] | (1 << 20),      # lr with rs2 != 0
    asm("ld a0, 0(a1)")[0] | (7 << 12),       # load funct3 = 7
    asm("sd a0, 0(a1)")[0] | (4 << 12),       # store funct3 = 4
    asm("beq a0, a1, 8")[0] | (2 << 12),      # branch funct3 = 2
    asm("jalr ra, 0(a0)")[0] | (1 << 12),     # jalr funct3 != 0
    asm("amoadd.w a0, a1, (a2)")[0] | (0x1F << 27),
    0x0000707F,                               # opcode 0x7f: longer instruction
]


@pytest.mark.parametrize("word", ILLEGAL_16)
def test_illegal_16_bit_words(word: int) -> None:
    m = Machine()
    m.run_code(f".half {word}")
    assert (m.trap.cause, m.trap.tval, m.trap.epc) == (2, word, CODE)
    assert m.csr.mtval == word and m.csr.mepc == CODE and m.csr.mcause == 2
    assert m.hart.pc == M_VECTOR


@pytest.mark.parametrize("word", ILLEGAL_32)
def test_illegal_32_bit_words(word: int) -> None:
    m = Machine()
    m.run_code(f".word {word}")
    assert (m.trap.cause, m.trap.tval, m.trap.epc) == (2, word, CODE)


def test_illegal_16_bit_word_followed_by_code_reports_16_bits() -> None:
    m = Machine()
    m.run_code(".half 0x0000; .half 0xffff")
    assert m.trap.tval == 0
    m = Machine()
    m.run_code(".half 0x8002; addi a0, a0, 1")
    assert m.trap.tval == 0x8002


# --- breakpoints and environment calls ----------------------------------------------------
@pytest.mark.parametrize("text", ["ebreak", "c.ebreak"])
def test_breakpoint(text: str) -> None:
    m = Machine()
    m.run_code(f"nop; {text}")
    assert m.trap.cause == 3 and m.trap.epc == CODE + 4
    assert m.trap.tval in (0, CODE + 4)        # the spec allows 0 or the pc


@pytest.mark.parametrize("privilege, cause", [(USER, 8), (SUPERVISOR, 9), (MACHINE, 11)])
def test_ecall_causes(privilege: int, cause: int) -> None:
    m = Machine()
    m.run_code("nop; ecall", privilege)
    assert (m.trap.cause, m.trap.tval, m.trap.epc) == (cause, 0, CODE + 4)
    assert m.trap.from_privilege == privilege and m.trap.to_privilege == MACHINE
    assert m.hart.privilege == MACHINE
    assert mpp(m) == privilege
    assert m.hart.pc == M_VECTOR


# --- access faults (nothing at the physical address) ----------------------------------------
@pytest.mark.parametrize("text, address, cause", [
    ("ld a0, 0(a1)", 0, 5), ("lb a0, 0(a1)", 0x1000_0000, 5),
    ("lw a0, 0(a1)", RAM + RAM_SIZE, 5), ("sd a2, 0(a1)", 0, 7),
    ("sb a2, 0(a1)", 0x0C00_0000, 7), ("sw a2, 0(a1)", RAM + RAM_SIZE, 7),
    ("lw a0, 0(a1)", RAM - 4, 5), ("lhu a0, 0(a1)", (1 << 64) - 2, 5),
])
def test_access_faults(text: str, address: int, cause: int) -> None:
    m = Machine()
    m.run_code(text, a1=address, a0=0x99)
    assert (m.trap.cause, m.trap.tval, m.trap.epc) == (cause, address, CODE)
    assert m["a0"] == 0x99


def test_load_straddling_ram_end_faults_on_the_missing_part() -> None:
    m = Machine()
    end = RAM + RAM_SIZE
    m.run_code("ld a0, 0(a1)", a1=end - 4, a0=0x99)
    assert (m.trap.cause, m.trap.tval) == (5, end)
    assert m["a0"] == 0x99


@pytest.mark.parametrize("target", [0, 0x1000_0000, RAM + RAM_SIZE, (1 << 64) - 4])
def test_instruction_access_fault(target: int) -> None:
    m = Machine()
    m.run_code("jalr ra, 0(a1)", a1=target)   # the fetch at the target faults
    assert (m.trap.cause, m.trap.tval, m.trap.epc) == (1, target, target)
    assert m["ra"] == CODE + 4


def test_32_bit_instruction_straddling_ram_end() -> None:
    m = Machine()
    end = RAM + RAM_SIZE
    m.write(end - 2, bytes([0x13, 0x05]))     # low half of a 32-bit instruction
    m.hart.pc = end - 2
    m.end = -1
    m.run_to_end()
    assert (m.trap.cause, m.trap.tval, m.trap.epc) == (1, end, end - 2)


# --- delegation ---------------------------------------------------------------------------
def test_u_exception_delegated_goes_to_s() -> None:
    m = Machine()
    m.csr.medeleg = 1 << 8
    m.set_mstatus(SIE)
    m.run_code("nop; ecall", USER)
    assert m.trap.to_privilege == SUPERVISOR and m.hart.privilege == SUPERVISOR
    assert (m.csr.scause, m.csr.sepc, m.csr.stval) == (8, CODE + 4, 0)
    assert m.csr.mcause == 0 and m.csr.mepc == 0
    status = m.csr.mstatus
    assert status & SPP == 0 and status & SPIE and not status & SIE
    assert m.hart.pc == S_VECTOR


def test_s_exception_delegated_sets_spp() -> None:
    m = Machine()
    m.csr.medeleg = 1 << 2
    m.run_code(".word 0xffffffff", SUPERVISOR)
    assert m.trap.to_privilege == SUPERVISOR
    assert (m.csr.scause, m.csr.stval, m.csr.sepc) == (2, 0xFFFFFFFF, CODE)
    assert m.csr.mstatus & SPP and not m.csr.mstatus & SPIE


def test_exception_in_m_is_never_delegated() -> None:
    m = Machine()
    m.csr.medeleg = 0xB3FF
    m.run_code(".word 0xffffffff")
    assert m.trap.to_privilege == MACHINE
    assert (m.csr.mcause, m.csr.mtval) == (2, 0xFFFFFFFF)
    assert m.csr.scause == 0
    m.run_code("ld a0, 0(zero)")
    assert m.trap.to_privilege == MACHINE and m.csr.mcause == 5


def test_undelegated_u_exception_goes_to_m() -> None:
    m = Machine()
    m.csr.medeleg = 1 << 9                     # only S ecalls are delegated
    m.set_mstatus(MIE | SIE)
    m.run_code("ecall", USER)
    assert m.trap.to_privilege == MACHINE and m.csr.mcause == 8
    status = m.csr.mstatus
    assert mpp(m) == USER and status & MPIE and not status & MIE
    assert status & SIE                        # S state untouched


def test_delegated_access_fault_from_u_reaches_s_with_tval() -> None:
    m = Machine()
    m.csr.medeleg = 1 << 5
    m.run_code("lw a0, 0(a1)", USER, a1=0x4000)
    assert m.trap.to_privilege == SUPERVISOR
    assert (m.csr.scause, m.csr.stval) == (5, 0x4000)


# --- vectored mode --------------------------------------------------------------------------
def test_vectored_mtvec_sends_exceptions_to_base() -> None:
    m = Machine()
    m.csr.mtvec = M_VECTOR | 1
    m.run_code("ecall")
    assert m.hart.pc == M_VECTOR


def test_vectored_stvec_sends_exceptions_to_base() -> None:
    m = Machine()
    m.csr.stvec = S_VECTOR | 1
    m.csr.medeleg = 1 << 8
    m.run_code("ecall", USER)
    assert m.hart.pc == S_VECTOR


# --- trap entry and return -----------------------------------------------------------------
def test_trap_entry_to_m_saves_and_clears_mie() -> None:
    m = Machine()
    m.set_mstatus(MIE | (1 << MPP_SHIFT))
    m.run_code("ecall")
    status = m.csr.mstatus
    assert status & MPIE and not status & MIE and mpp(m) == MACHINE


@pytest.mark.parametrize("target", [USER, SUPERVISOR, MACHINE])
def test_mret(target: int) -> None:
    m = Machine()
    m.set_mstatus(MPIE | (target << MPP_SHIFT) | MPRV)
    m.csr.mepc = CODE + 8
    m.run_code("mret; addi a0, a0, 1; nop")
    assert m.hart.privilege == target and m.hart.pc == m.end and not m.traps
    assert m["a0"] == 0                          # the instruction after mret was skipped
    status = m.csr.mstatus
    assert status & MIE and status & MPIE
    assert mpp(m) == USER                        # the least-privileged mode
    assert bool(status & MPRV) == (target == MACHINE)


def test_mret_restores_mie_from_clear_mpie() -> None:
    m = Machine()
    m.set_mstatus(MIE | (3 << MPP_SHIFT))
    m.csr.mepc = CODE + 4
    m.run_code("mret")
    assert not m.csr.mstatus & MIE and m.csr.mstatus & MPIE


@pytest.mark.parametrize("spp, target", [(SPP, SUPERVISOR), (0, USER)])
def test_sret(spp: int, target: int) -> None:
    for privilege in (SUPERVISOR, MACHINE):
        m = Machine()
        m.set_mstatus(SPIE | spp | MPRV | (3 << MPP_SHIFT))
        m.csr.sepc = CODE + 8
        m.run_code("sret; addi a0, a0, 1; nop", privilege)
        assert m.hart.privilege == target and m.hart.pc == m.end and not m.traps
        assert m["a0"] == 0
        status = m.csr.mstatus
        assert status & SIE and status & SPIE and not status & SPP
        assert not status & MPRV                 # returning below M clears MPRV
        assert mpp(m) == MACHINE                 # M state untouched


def test_sret_restores_sie_from_clear_spie() -> None:
    m = Machine()
    m.set_mstatus(SIE | SPP)
    m.csr.sepc = CODE + 4
    m.run_code("sret", SUPERVISOR)
    assert not m.csr.mstatus & SIE and m.csr.mstatus & SPIE


def test_round_trip_u_to_s_and_back() -> None:
    m = Machine()
    m.csr.medeleg = 1 << 8
    handler = S_VECTOR + 0x100
    m.csr.stvec = handler
    m.load_code("csrr t0, sepc; addi t0, t0, 4; csrw sepc, t0; addi a1, a1, 1; sret",
                at=handler)
    m.load_code("ecall; addi a0, a0, 1; ecall; addi a0, a0, 1")
    m.set_privilege(USER)
    m.hart.pc = CODE
    m.hart.run(14)
    assert m.hart.privilege == USER and m.hart.pc == CODE + 16
    assert m["a0"] == 2 and m["a1"] == 2
    assert [t.cause for t in m.traps] == [8, 8]
