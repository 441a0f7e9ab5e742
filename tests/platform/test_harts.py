"""Several harts on the virt board (machine/scheduler.py): mhartid, per-hart
CLINT msip as an IPI, an LR reservation lost to another hart's store, the
teaching kernel on 3 harts, snapshots of every hart; every engine alike."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from machine.events import ConsoleOutput, MemoryWrite, SatpWritten, TrapReturn, TrapTaken
from machine.machine import Machine, MachineConfig, default_kernel_path
from machine.native import NativeEngine
from machine.snapshot import SnapshotError, apply_state, capture_state, check_state

from .guest import DATA, HANDLER, MAIN, MSIP, S_CODE, finish, li64, write_kernel

ENGINES = ("interp", "fast") + (("native",) if NativeEngine is not None else ())


def machine_for(tmp_path: Path, pieces: dict[int, str], harts: int, engine: str) -> Machine:
    kernel = write_kernel(tmp_path / "harts.elf", pieces)
    return Machine(MachineConfig(kernel=kernel, ram_mib=16, harts=harts, engine=engine))


# Harts other than 0: take machine software interrupts (msip) at HANDLER, sleep in WFI.
SECONDARY = f"""\
    secondary:
        {li64('t1', HANDLER)}
        csrw mtvec, t1
        li t1, 8
        csrw mie, t1
        csrrsi zero, mstatus, 8
    sleep:
        wfi
        jal zero, sleep"""

# Hart 0 sends a software interrupt to harts 1 and 2, which sleep in WFI; each
# handler writes 100 + its mhartid into its slot; hart 0 waits for both.
IPI = {
    MAIN: f"""
        csrr t0, mhartid
        bnez t0, secondary
        {li64('t1', MSIP)}
        li t2, 1
        sw t2, 4(t1)
        sw t2, 8(t1)
        {li64('s0', DATA)}
    wait:
        ld t3, 8(s0)
        ld t4, 16(s0)
        beqz t3, wait
        beqz t4, wait
        {finish()}
{SECONDARY}
    """,
    HANDLER: f"""
        csrr t0, mhartid
        {li64('t1', DATA)}
        slli t2, t0, 3
        add t1, t1, t2
        addi t3, t0, 100
        sd t3, 0(t1)
        {li64('t1', MSIP)}
        slli t2, t0, 2
        add t1, t1, t2
        sw zero, 0(t1)
        csrw mie, zero
    parked:
        wfi
        jal zero, parked
    """,
}


@pytest.mark.parametrize("engine", ENGINES)
def test_msip_wakes_the_hart_it_names_and_each_hart_reads_its_own_mhartid(
        tmp_path: Path, engine: str) -> None:
    machine = machine_for(tmp_path, IPI, 3, engine)
    result = machine.run(max_instructions=1_000_000)
    assert (result.reason, machine.exit_status) == ("exit", 0)
    assert machine.read_u64(DATA + 8) == 101
    assert machine.read_u64(DATA + 16) == 102
    assert machine.clint.msip == [0, 0, 0]


def test_every_engine_takes_the_same_schedule(tmp_path: Path) -> None:
    ends = set()
    for engine in ENGINES:
        machine = machine_for(tmp_path, IPI, 3, engine)
        machine.run(max_instructions=1_000_000)
        ends.add((machine.icount, tuple(h.icount for h in machine.harts),
                  tuple(h.retired() for h in machine.harts), tuple(h.pc for h in machine.harts)))
    assert len(ends) == 1


# Hart 0 reserves DATA, spins for longer than a quantum, then tries SC; hart 1
# stores to DATA meanwhile. The SC's result (0: success) goes to DATA + 8.
LRSC = {
    MAIN: f"""
        csrr t0, mhartid
        {li64('s0', DATA)}
        bnez t0, other
        lr.d t1, (s0)
        li t2, 30000
    spin:
        addi t2, t2, -1
        bnez t2, spin
        li t3, 7
        sc.d t4, t3, (s0)
        sd t4, 8(s0)
        {finish()}
    other:
        li t1, 5
        sd t1, 0(s0)
    parked:
        wfi
        jal zero, parked
    """,
}


@pytest.mark.parametrize("engine", ENGINES)
def test_a_store_by_another_hart_makes_sc_fail(tmp_path: Path, engine: str) -> None:
    alone = machine_for(tmp_path, LRSC, 1, engine)
    alone.run(max_instructions=1_000_000)
    assert alone.exit_status == 0
    assert (alone.read_u64(DATA), alone.read_u64(DATA + 8)) == (7, 0)  # no rival: SC succeeds
    machine = machine_for(tmp_path, LRSC, 2, engine)
    machine.run(max_instructions=1_000_000)
    assert machine.exit_status == 0
    assert machine.read_u64(DATA) == 5       # hart 1's store stays
    assert machine.read_u64(DATA + 8) != 0   # the SC failed


# Hart 1 calls FUNC (a0 = 1) in a loop, counting calls at DATA + 8, until it
# returns 2, then writes DATA + 16. Once hart 1 has run FUNC (so has decoded
# its page), hart 0 copies NEW (a0 = 2) over it, as exec() loads a program
# into a frame another hart ran code from. No fence.i: like QEMU, every hart
# sees another's store into code at its next turn (xv6 never issues fence.i).
FUNC, NEW = S_CODE, S_CODE + 0x800
REWRITE = {
    MAIN: f"""
        csrr t0, mhartid
        {li64('s0', DATA)}
        bnez t0, caller
    wait_for_a_call:
        ld t1, 8(s0)
        beqz t1, wait_for_a_call
        {li64('t2', NEW)}
        {li64('t3', FUNC)}
        ld t4, 0(t2)
        sd t4, 0(t3)
    wait_for_the_new_code:
        ld t1, 16(s0)
        beqz t1, wait_for_the_new_code
        {finish()}
    caller:
        {li64('s1', FUNC)}
        li s2, 2
    again:
        jalr ra, 0(s1)
        ld t1, 8(s0)
        addi t1, t1, 1
        sd t1, 8(s0)
        bne a0, s2, again
        li t1, 1
        sd t1, 16(s0)
    parked:
        wfi
        jal zero, parked
    """,
    FUNC: "addi a0, zero, 1\njalr zero, 0(ra)",
    NEW: "addi a0, zero, 2\njalr zero, 0(ra)",
}


@pytest.mark.parametrize("engine", ENGINES)
def test_code_another_hart_rewrote_is_decoded_again(tmp_path: Path, engine: str) -> None:
    machine = machine_for(tmp_path, REWRITE, 2, engine)
    result = machine.run(max_instructions=2_000_000)
    assert (result.reason, machine.exit_status) == ("exit", 0)
    assert machine.read_u64(DATA + 8) > 1  # hart 1 ran the old code before the new


def test_a_wrong_number_of_harts_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="harts must be 1..8"):
        machine_for(tmp_path, IPI, 0, "fast")


# --- the teaching kernel ------------------------------------------------------------
EVENTS = (TrapTaken, TrapReturn, SatpWritten, MemoryWrite, ConsoleOutput)


def boot(harts: int, engine: str, kernel: Path | None = None) -> tuple[Machine, list]:
    kernel = kernel or default_kernel_path()
    machine = Machine(MachineConfig(kernel=kernel, disk=kernel.parent / "fs.img",
                                    harts=harts, engine=engine))
    events: list = []
    for kind in EVENTS:
        machine.events.subscribe(kind, events.append)
    machine.run(max_instructions=5_000_000,
                until=lambda: machine.console_text().endswith("$ "))
    return machine, events


@pytest.mark.skipif(NativeEngine is None, reason="the native core is not built")
def test_the_teaching_kernel_boots_to_the_shell_on_3_harts_alike_on_native_and_fast() -> None:
    native, native_events = boot(3, "native")
    fast, fast_events = boot(3, "fast")
    assert native.console_text().endswith("$ ")
    assert native_events == fast_events
    assert [h.icount for h in native.harts] == [h.icount for h in fast.harts]
    single, _ = boot(1, "native")
    assert native.console_text() == single.console_text()
    # The other harts are parked in WFI: they sleep and cost nothing.
    assert all(h.idle_forever for h in native.harts[1:])
    assert all(h.retired() < 10 for h in native.harts[1:])


@pytest.mark.skipif(NativeEngine is None, reason="the native core is not built")
def test_the_smp_kernel_runs_forktree_on_3_harts_alike_on_native_and_fast() -> None:
    """Every hart busy, storing into pages the others run code from."""
    runs = []
    for engine in ("native", "fast"):
        machine, events = boot(3, engine, default_kernel_path().parent / "kernel-smp.elf")
        start = len(machine.console_text())
        machine.feed_console(b"forktree\n")
        machine.run(max_instructions=60_000_000,
                    until=lambda m=machine, s=start: m.console_text()[s:].endswith("$ "))
        runs.append((events, machine.console_text(), [(h.icount, h.retired(), h.pc)
                                                      for h in machine.harts]))
    assert runs[0] == runs[1]
    assert runs[0][1].endswith("$ ")
    assert all(retired > 100_000 for _, retired, _ in runs[0][2])  # every hart worked


def test_a_snapshot_holds_every_hart_and_the_schedule(tmp_path: Path) -> None:
    machine = machine_for(tmp_path, LRSC, 2, "fast")
    machine.run(max_instructions=15_000)  # hart 0 inside its LR/SC spin, hart 1 parked
    state, ram = capture_state(machine), bytes(machine.bus.ram)
    machine.run(max_instructions=1_000_000)
    first = (machine.icount, [h.icount for h in machine.harts], machine.read_u64(DATA + 8))
    check_state(machine, state)
    machine.bus.ram[:] = ram
    apply_state(machine, state)
    machine.halt_reason = None
    machine.run(max_instructions=1_000_000)
    assert (machine.icount, [h.icount for h in machine.harts],
            machine.read_u64(DATA + 8)) == first
    one_hart = machine_for(tmp_path, LRSC, 1, "fast")
    with pytest.raises(SnapshotError, match="of 2 harts, the machine has 1"):
        check_state(one_hart, state)


@pytest.mark.parametrize("engine", ENGINES[1:])
def test_time_travel_returns_every_hart_to_where_it_was(tmp_path: Path, engine: str) -> None:
    """Checkpoints every 7,000 ticks (inside quanta) on the LR/SC race: going
    back to any moment gives every hart's registers, the schedule and RAM as
    a straight run had them there, and running on ends the same."""
    from machine.checkpoints import Checkpoints

    def harts_now(machine: Machine) -> tuple:
        return (machine.hart.hartid, machine.scheduler.slice_left,
                tuple((h.pc, h.icount, tuple(h.x[:32]), h.memory.reservation)
                      for h in machine.harts), bytes(machine.bus.ram[:0x20000]))

    straight = machine_for(tmp_path, LRSC, 2, engine)
    seen = {}
    for moment in (3_000, 12_345, 25_001, 40_000):
        straight.run(max_instructions=moment - straight.icount)
        seen[moment] = harts_now(straight)
    straight.run(max_instructions=1_000_000)
    machine = machine_for(tmp_path, LRSC, 2, engine)
    travel = Checkpoints(machine, every=7_000, verify=True)
    assert travel.run_to(1_000_000) == "exit"
    assert len(travel.points) > 5
    for moment in (25_001, 3_000, 40_000, 12_345):
        machine.halt_reason = None
        travel.go_to(moment)
        assert harts_now(machine) == seen[moment], moment
    machine.halt_reason = None
    machine.run(max_instructions=1_000_000)
    assert (machine.icount, machine.read_u64(DATA + 8)) == \
        (straight.icount, straight.read_u64(DATA + 8))


# Race-free on any schedule: hart 0 wakes hart 1, waits for its line, then
# hart 2; each woken hart prints "hart N up" (N read from mhartid).
UART_THR = 0x1000_0000


def _print(text: str) -> str:
    return "\n".join(f"li t5, {ord(c)}\nsb t5, 0(t6)" for c in text)


HANDSHAKE = {
    MAIN: f"""
        csrr t0, mhartid
        {li64('t6', UART_THR)}
        {li64('s0', DATA)}
        bnez t0, secondary
        {li64('t1', MSIP)}
        li t2, 1
        sw t2, 4(t1)
    wait1:
        ld t3, 8(s0)
        beqz t3, wait1
        sw t2, 8(t1)
    wait2:
        ld t3, 16(s0)
        beqz t3, wait2
        {_print("all up" + chr(10))}
        {finish()}
{SECONDARY}
    """,
    HANDLER: f"""
        csrr t0, mhartid
        {_print("hart ")}
        addi t5, t0, 48
        sb t5, 0(t6)
        {_print(" up" + chr(10))}
        {li64('t1', MSIP)}
        slli t2, t0, 2
        add t1, t1, t2
        sw zero, 0(t1)
        csrw mie, zero
        fence rw, rw
        slli t2, t0, 3
        add t1, s0, t2
        li t3, 1
        sd t3, 0(t1)
    parked:
        wfi
        jal zero, parked
    """,
}


@pytest.mark.skipif(not shutil.which("qemu-system-riscv64"),
                    reason="qemu-system-riscv64 is not installed")
def test_a_race_free_3_hart_program_prints_what_qemu_smp_3_prints(tmp_path: Path) -> None:
    kernel = write_kernel(tmp_path / "handshake.elf", HANDSHAKE)
    qemu = subprocess.run(["qemu-system-riscv64", "-machine", "virt", "-bios", "none",
                           "-m", "128M", "-smp", "3", "-nographic", "-monitor", "none",
                           "-serial", "stdio", "-kernel", str(kernel)],
                          capture_output=True, timeout=30, stdin=subprocess.DEVNULL, check=False)
    expected = "hart 1 up\nhart 2 up\nall up\n"
    assert qemu.stdout.decode().replace("\r", "") == expected
    for engine in ENGINES:
        machine = Machine(MachineConfig(kernel=kernel, ram_mib=128, harts=3, engine=engine))
        assert machine.run(max_instructions=2_000_000).reason == "exit"
        assert machine.console_text() == expected, engine


@pytest.mark.parametrize("engine", ENGINES)
def test_a_race_free_program_prints_the_same_whatever_the_quantum(tmp_path: Path,
                                                                  engine: str) -> None:
    kernel = write_kernel(tmp_path / "handshake.elf", HANDSHAKE)
    ends = []
    for quantum in (1, 7, 10_000):
        machine = Machine(MachineConfig(kernel=kernel, ram_mib=16, harts=3, engine=engine,
                                        quantum=quantum))
        assert machine.run(max_instructions=2_000_000).reason == "exit"
        assert machine.console_text() == "hart 1 up\nhart 2 up\nall up\n"
        ends.append(machine.icount)
    assert len(set(ends)) == 3  # the quanta did make different schedules
