"""Machine checkpoints: forward, back, forward again is a straight run, on every engine."""

from __future__ import annotations

import pytest

from machine.checkpoints import Checkpoints
from machine.events import ConsoleOutput, SatpWritten, TrapReturn, TrapTaken
from machine.guest import bundled_disk, bundled_kernel
from machine.machine import Machine, MachineConfig
from machine.snapshot import capture

ENGINES = ("interp", "blocks", "fast", "native")
TRACED = (TrapTaken, TrapReturn, SatpWritten, ConsoleOutput)
# cowdemo's first fork and its COW faults come within this many instructions of typing it
SPAN = 1_500_000


@pytest.fixture(scope="module")
def at_prompt() -> dict:
    """A machine at the shell prompt, booted once by the native core (snapshots
    are engine-independent)."""
    m = Machine(MachineConfig(kernel=bundled_kernel(), disk=bundled_disk(), engine="native"))
    m.run(max_instructions=30_000_000, until=lambda: m.console_text().endswith("$ "))
    assert m.console_text().endswith("$ ")
    return capture(m)


def machine_at(state: dict, engine: str) -> tuple[Machine, list]:
    from machine.snapshot import apply
    m = Machine(MachineConfig(kernel=bundled_kernel(), disk=bundled_disk(), engine=engine))
    apply(m, state)
    trace: list = []
    for kind in TRACED:
        m.events.subscribe(kind, trace.append)
    return m, trace


def final_state(m: Machine) -> tuple:
    return (m.icount, m.pc, m.privilege, m.registers(), bytes(m.bus.ram), bytes(m.console),
            m.hart.csr.satp, m.hart.csr.sstatus if hasattr(m.hart.csr, "sstatus") else None,
            m.devices()["uart"].snapshot(), m.devices()["virtio_blk"].snapshot(),
            m.devices()["plic"].snapshot(), m.devices()["clint"].snapshot())


@pytest.mark.parametrize("engine", ENGINES)
def test_forward_back_forward_is_a_straight_run(at_prompt: dict, engine: str) -> None:
    straight, straight_trace = machine_at(at_prompt, engine)
    start = straight.icount
    straight.feed_console("cowdemo\n")  # typed while paused: delivered at the next instruction
    Checkpoints(straight, every=SPAN // 7, verify=True).run_to(start + SPAN)

    m, trace = machine_at(at_prompt, engine)
    history = Checkpoints(m, every=SPAN // 7, verify=True)
    m.feed_console("cowdemo\n")
    history.run_to(start + SPAN * 2 // 3)
    assert len(history.points) > 3
    for back in (start + SPAN // 2, start + SPAN // 10, start + SPAN // 3):
        history.go_to(back)
        assert m.icount == back
        del trace[:]  # what the replay publishes is compared below, from the start
    history.go_to(start)   # back before the input was delivered: it is delivered again
    assert m.icount == start and m.console_text().endswith("$ ")
    trace.clear()
    history.run_to(start + SPAN)
    assert trace == straight_trace
    assert final_state(m) == final_state(straight)
    assert "fork" in m.console_text()[len(at_prompt["console"]):]  # cowdemo really ran


def test_replayed_trace_joins_the_recorded_one(at_prompt: dict) -> None:
    """Going back to a checkpoint in the middle: the events before it plus the
    replay's are the straight run's events."""
    straight, straight_trace = machine_at(at_prompt, "native")
    start = straight.icount
    straight.feed_console("cowdemo\n")
    straight.run(max_instructions=4 * SPAN)
    m, trace = machine_at(at_prompt, "native")
    history = Checkpoints(m, every=SPAN // 5, verify=True)
    m.feed_console("cowdemo\n")
    history.run_to(start + 3 * SPAN)
    history.restore(history.index_at_or_before(start + SPAN + 12_345))
    assert m.icount == history.points[-1].icount < start + SPAN + 12_345
    trace[:] = [e for e in trace if e.icount < m.icount]
    history.run_to(start + 4 * SPAN)
    assert trace == straight_trace
    assert final_state(m) == final_state(straight)


def test_pages_kept_are_only_those_that_changed(at_prompt: dict) -> None:
    m, _ = machine_at(at_prompt, "native")
    history = Checkpoints(m, every=1_000_000, verify=True)
    m.run(max_instructions=10)
    history.capture()
    changed = history.points[-1].pages
    assert 0 < len(changed) < 16   # ten instructions touch a stack page or two, not RAM
    before = bytes(m.bus.ram)
    m.feed_console("cowdemo\n")
    history.run_to(m.icount + SPAN)
    history.go_to(history.points[1].icount)
    assert bytes(m.bus.ram) == before


def test_a_bad_interval_is_refused(at_prompt: dict) -> None:
    m, _ = machine_at(at_prompt, "native")
    with pytest.raises(ValueError, match="positive"):
        Checkpoints(m, every=0)


def test_verify_catches_a_page_changed_without_a_mark(at_prompt: dict) -> None:
    """The check above can fail: with the marks thrown away, it does."""
    m, _ = machine_at(at_prompt, "interp")
    history = Checkpoints(m, every=1_000_000, verify=True)
    m.feed_console("cowdemo\n")
    m.run(max_instructions=20_000)
    m.hart.take_dirty_pages()   # marks lost, as a store path that forgot to mark would
    with pytest.raises(AssertionError, match="changed without a mark"):
        history.capture()
