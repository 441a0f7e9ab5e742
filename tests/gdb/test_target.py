"""The stub's view of the machine: registers and CSRs written and read back,
and addresses outside the current address space found where the kernel has
them (its own table from U-mode; the running process's from the kernel)."""

from __future__ import annotations

import pytest

from cowtui.gdbstub import registers as R
from cowtui.gdbstub.target import Target
from cowtui.scenario import BUNDLED_DIR, load_scenario
from cowtui.session import Session
from machine.trap import USER


@pytest.fixture(scope="module")
def in_user_mode():
    """The teaching kernel run to cowfault, then stepped until it is back in U-mode."""
    session = Session(load_scenario(BUNDLED_DIR / "default.yaml"))
    target = Target(session)
    assert target.insert_breakpoint(session.machine.symbol("cowfault"))
    assert target.resume(lambda: False).kind == "breakpoint"
    stval = session.machine.read_csr("stval")
    running = next(p for p in session.view.processes() if p.state == "RUNNING")
    assert target.translate(stval) != stval                # not the kernel's 1:1 map
    from_kernel = (target.read_memory(stval, 16),          # through the stub ...
                   session.machine.read_virtual(stval, 16, 8 << 60 | running.pagetable >> 12))
    target.remove_breakpoint(session.machine.symbol("cowfault"))
    for _ in range(20_000):
        if session.machine.privilege == USER:
            break
        target.step()
    assert session.machine.privilege == USER
    return session, target, stval, from_kernel


def test_user_address_from_the_kernel_reads_the_running_process(in_user_mode) -> None:
    session, target, stval, (through_stub, in_its_table) = in_user_mode
    assert through_stub is not None and through_stub == in_its_table   # ... as the process sees it
    satp = session.machine.read_csr("satp")                 # and from U-mode, directly
    pa = session.machine.translate(stval, satp)
    assert target.read_memory(stval, 16) == session.machine.read_physical(pa, 16)


def test_kernel_addresses_from_user_mode_use_the_kernel_table(in_user_mode) -> None:
    session, target, *_ = in_user_mode
    ticks = session.machine.symbol("ticks")
    assert target.translate(ticks) == ticks             # the kernel maps RAM 1:1
    assert target.read_memory(ticks, 8) == session.machine.read_physical(ticks, 8)
    table = session.machine.read_u64(session.machine.symbol("kernel_pagetable"))
    assert target.insert_watchpoint(2, table, 8)        # a PTE of the kernel's own table
    assert target.remove_watchpoint(2, table, 8)
    assert target.read_memory(0x3F_FFFF_F000 + 0x10_0000, 8) is None  # mapped nowhere


def test_registers_csrs_and_priv_round_trip(in_user_mode) -> None:
    session, target, *_ = in_user_mode
    assert target.read_register(R.PRIV) == USER
    assert target.write_register(10, 0x1234) and target.read_register(10) == 0x1234
    assert target.write_register(0, 5) and target.read_register(0) == 0    # x0 stays 0
    sscratch = R.csr_regnum("sscratch")
    old = target.read_register(sscratch)
    assert target.write_register(sscratch, 0xABCD)
    assert session.machine.read_csr("sscratch") == 0xABCD
    assert target.write_register(sscratch, old)
    assert target.read_register(R.csr_regnum("misa")) >> 62 == 2           # RV64
    assert target.read_register(R.FIRST_CSR + 0x7FF) is None               # no such CSR
    assert target.core_registers()[:32] == session.machine.registers()

