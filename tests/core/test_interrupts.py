"""Interrupts: priority, global enables per privilege, delegation, vectors,
and the Sstc supervisor timer (privileged spec 3.1.9, 4.1.3; Sstc)."""

from __future__ import annotations

import pytest

from .harness import CODE, M_VECTOR, MACHINE, S_VECTOR, SUPERVISOR, USER, Machine

INTERRUPT = 1 << 63
SIE, MIE, SPIE, MPIE, SPP = 1 << 1, 1 << 3, 1 << 5, 1 << 7, 1 << 8
SSI, MSI, STI, MTI, SEI, MEI = 1, 3, 5, 7, 9, 11
M_LEVEL = (1 << MSI) | (1 << MTI) | (1 << MEI)
S_LEVEL = (1 << SSI) | (1 << STI) | (1 << SEI)
STCE = 1 << 63
NEG1 = (1 << 64) - 1


def machine_with(pending: int, *, mideleg: int = 0, mie: int = M_LEVEL | S_LEVEL,
                 mstatus: int = 0) -> Machine:
    """M-level bits of ``pending`` are device lines; S-level bits are in mip."""
    m = Machine()
    m.csr.external_lines = lambda: pending & M_LEVEL
    m.csr.mip_software = pending & S_LEVEL
    m.csr.mideleg, m.csr.mie = mideleg, mie
    m.set_mstatus(mstatus)
    return m


ORDER = [MEI, MSI, MTI, SEI, SSI, STI]


@pytest.mark.parametrize("first", range(len(ORDER)))
def test_priority_order_in_m(first: int) -> None:
    pending = sum(1 << n for n in ORDER[first:])
    m = machine_with(pending, mstatus=MIE)
    m.run_code("addi a0, a0, 1")
    assert m.trap.cause == INTERRUPT | ORDER[first]
    assert m.trap.epc == CODE and m.trap.tval == 0 and m.trap.to_privilege == MACHINE
    assert m.csr.mcause == INTERRUPT | ORDER[first] and m.csr.mepc == CODE


@pytest.mark.parametrize("first", range(3, len(ORDER)))
def test_priority_order_in_s(first: int) -> None:
    pending = sum(1 << n for n in ORDER[first:])
    m = machine_with(pending, mideleg=S_LEVEL, mstatus=SIE)
    m.run_code("nop", SUPERVISOR)
    assert m.trap.cause == INTERRUPT | ORDER[first] and m.trap.to_privilege == SUPERVISOR
    assert m.csr.scause == INTERRUPT | ORDER[first] and m.csr.sepc == CODE


def test_m_interrupts_come_before_s_interrupts() -> None:
    # SEI (delegated) outranks STI in the list, but an interrupt for M goes first
    m = machine_with((1 << SEI) | (1 << STI), mideleg=1 << SEI, mstatus=SIE)
    m.run_code("nop", USER)
    assert m.trap.cause == INTERRUPT | STI and m.trap.to_privilege == MACHINE


@pytest.mark.parametrize("privilege", [MACHINE, SUPERVISOR, USER])
@pytest.mark.parametrize("status", [0, MIE, SIE, MIE | SIE])
@pytest.mark.parametrize("delegated", [False, True])
def test_global_enable_rules(privilege: int, status: int, delegated: bool) -> None:
    m = machine_with(1 << STI, mideleg=(1 << STI) if delegated else 0, mstatus=status)
    m.run_code("addi a0, a0, 1", privilege)
    if delegated:   # destined for S: never in M; in S only with SIE; always in U
        taken = privilege == USER or (privilege == SUPERVISOR and bool(status & SIE))
        target = SUPERVISOR
    else:           # destined for M: in M only with MIE; always below M
        taken = privilege < MACHINE or bool(status & MIE)
        target = MACHINE
    if taken:
        assert m.trap.cause == INTERRUPT | STI and m.trap.to_privilege == target
        assert m["a0"] == 0
    else:
        assert not m.traps and m["a0"] == 1


@pytest.mark.parametrize("privilege", [SUPERVISOR, USER])
def test_m_interrupts_always_taken_below_m(privilege: int) -> None:
    m = machine_with(1 << MEI, mstatus=0)
    m.run_code("nop", privilege)
    assert m.trap.cause == INTERRUPT | MEI and m.trap.from_privilege == privilege
    assert (m.csr.mstatus >> 11) & 3 == privilege


def test_individual_enables_gate_interrupts() -> None:
    m = machine_with((1 << MTI) | (1 << SSI), mie=0, mstatus=MIE)
    m.run_code("addi a0, a0, 1", USER)
    assert not m.traps and m["a0"] == 1
    m = machine_with(1 << MTI, mie=1 << MSI, mstatus=MIE)
    m.run_code("addi a0, a0, 1")
    assert not m.traps


def test_interrupt_taken_right_after_enabling() -> None:
    m = machine_with(1 << MTI)
    m.run_code("csrrsi zero, mstatus, 8; addi a0, a0, 1; addi a0, a0, 1")
    assert m.trap.cause == INTERRUPT | MTI and m.trap.epc == CODE + 4
    assert m["a0"] == 0
    status = m.csr.mstatus
    assert status & MPIE and not status & MIE and (status >> 11) & 3 == MACHINE


def test_interrupt_taken_after_sret_lowers_privilege() -> None:
    m = machine_with(1 << STI, mideleg=1 << STI, mstatus=0)   # SIE = 0, SPP = U
    m.csr.sepc = CODE + 8
    m.run_code("sret; nop; addi a0, a0, 1", SUPERVISOR)
    assert m.trap.cause == INTERRUPT | STI and m.trap.from_privilege == USER
    assert m.trap.epc == CODE + 8 and m["a0"] == 0


def test_delegated_interrupt_entry_state() -> None:
    m = machine_with(1 << SSI, mideleg=1 << SSI, mstatus=SIE | MIE)
    m.run_code("nop", SUPERVISOR)
    assert m.hart.privilege == SUPERVISOR and m.hart.pc == S_VECTOR
    assert m.csr.scause == INTERRUPT | SSI and m.csr.stval == 0
    status = m.csr.mstatus
    assert status & SPIE and status & SPP and not status & SIE
    assert status & MIE                                   # M state untouched
    assert m.csr.mcause == 0


def test_vectored_interrupts() -> None:
    m = machine_with(1 << MTI, mstatus=MIE)
    m.csr.mtvec = M_VECTOR | 1
    m.run_code("nop")
    assert m.hart.pc == M_VECTOR + 4 * MTI
    m = machine_with(1 << SEI, mideleg=1 << SEI)
    m.csr.stvec = S_VECTOR | 1
    m.run_code("nop", USER)
    assert m.hart.pc == S_VECTOR + 4 * SEI
    m = machine_with(1 << SSI, mideleg=1 << SSI, mstatus=SIE)
    m.csr.stvec = S_VECTOR | 1
    m.run_code("nop", SUPERVISOR)
    assert m.hart.pc == S_VECTOR + 4 * SSI


def test_software_interrupt_raised_by_csr_write() -> None:
    m = machine_with(0, mideleg=1 << SSI, mstatus=SIE)
    m.run_code("csrrsi zero, sip, 2; addi a0, a0, 1", SUPERVISOR)
    assert m.trap.cause == INTERRUPT | SSI and m.trap.epc == CODE + 4 and m["a0"] == 0


# --- Sstc -----------------------------------------------------------------------------------
def test_stip_follows_stimecmp() -> None:
    m = Machine()
    m.csr.menvcfg = STCE
    m.csr.stimecmp = 10
    nops = "; ".join(["nop"] * 20)
    m.run_code(f"csrr a0, mip; {nops}; csrr a1, mip; csrw stimecmp, a2; csrr a3, mip; "
               f"csrw stimecmp, zero; csrr a4, mip", a2=NEG1)
    assert not m.traps
    assert not m["a0"] & (1 << STI)
    assert m["a1"] & (1 << STI)
    assert not m["a3"] & (1 << STI)
    assert m["a4"] & (1 << STI)


def test_stimecmp_ignored_without_stce() -> None:
    m = Machine()
    m.csr.stimecmp = 0
    m.run_code("csrr a0, mip; csrr a1, time")
    assert not m["a0"] & (1 << STI)


def test_sstc_timer_interrupt_taken_when_due() -> None:
    m = machine_with(0, mideleg=1 << STI, mstatus=SIE)
    m.csr.menvcfg = STCE
    m.csr.stimecmp = 10
    m.run_code("; ".join(["addi a0, a0, 1"] * 40), SUPERVISOR)
    assert m.trap.cause == INTERRUPT | STI and m.trap.to_privilege == SUPERVISOR
    executed = m["a0"]
    assert 10 <= executed <= 11                      # not before time reaches stimecmp
    assert m.trap.epc == CODE + 4 * executed
    assert m.hart.time() >= 10


def test_wfi_waits_for_the_timer() -> None:
    m = machine_with(0, mideleg=1 << STI, mstatus=SIE)
    m.csr.menvcfg = STCE
    m.csr.stimecmp = 100_000
    m.run_code("wfi; addi a0, a0, 1", SUPERVISOR)
    assert m.trap.cause == INTERRUPT | STI
    assert m.trap.epc == CODE + 4                     # WFI completed
    assert m.hart.time() >= 100_000
    assert m["a0"] == 0
