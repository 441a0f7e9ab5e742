"""Session time travel: every view at the moment gone to is the view a
straight run stopped there shows; going back changes nothing that follows."""

from __future__ import annotations

from pathlib import Path

import pytest

from cowtui.history import PteHistory
from cowtui.runner import Goal, Runner
from cowtui.scenario import load_scenario
from cowtui.session import Session
from cowtui.timetravel import TimeTravel, TimeTravelError
from cowtui.view_state import ViewStateBuilder
from machine.introspect.events import (
    PageFault,
    ProcessForked,
    PteChanged,
    RefcountChanged,
)

DEFAULT = Path(__file__).parents[2] / "cowtui" / "scenarios" / "default.yaml"
EVERY = 400_000   # several checkpoints in the 3.6 M instructions of the default scenario


def new_session(engine: str = "native") -> tuple[Session, PteHistory]:
    scenario = load_scenario(DEFAULT)
    scenario.engine = engine
    session = Session(scenario)
    return session, PteHistory(session.machine.events)


def straight_to(icount: int) -> tuple[Session, PteHistory]:
    session, history = new_session()
    while session.machine.icount < icount:
        session.run(max_instructions=icount - session.machine.icount)
    assert session.machine.icount == icount
    return session, history


def assert_same_moment(a: tuple[Session, PteHistory], b: tuple[Session, PteHistory]) -> None:
    (s1, h1), (s2, h2) = a, b
    h1.new_run()   # 'changed since the last stop' is no state of a moment: the app
    h2.new_run()   # starts it afresh after every stop and every jump
    assert s1.machine.icount == s2.machine.icount
    assert ViewStateBuilder(s1, h1).build(running=False) == \
        ViewStateBuilder(s2, h2).build(running=False)
    assert s1.trace == s2.trace
    t1, t2 = s1.tracker, s2.tracker
    assert (t1.processes, t1.open_faults, t1.index.all(), t1.fault_counts, t1.violations) == \
        (t2.processes, t2.open_faults, t2.index.all(), t2.fault_counts, t2.violations)
    # who made each PTE and frame what it is: call stacks recalled in replays, not unwound
    assert (t1.pte_changes, t1.frame_changes) == (t2.pte_changes, t2.frame_changes)
    assert dict(h1._by_pte) == dict(h2._by_pte)
    assert (s1.step_index, s1.since_input, s1.outcomes) == (s2.step_index, s2.since_input,
                                                          s2.outcomes)
    assert bytes(s1.machine.bus.ram) == bytes(s2.machine.bus.ram)
    assert s1.machine.bus.watched_pages == s2.machine.bus.watched_pages


@pytest.fixture(scope="module")
def finished() -> tuple[Session, PteHistory, TimeTravel, list]:
    session, history = new_session()
    travel = TimeTravel(session, history, every=EVERY)
    assert session.run_to_end() == "stop"
    return session, history, travel, list(session.trace)


def test_back_to_each_fault_shows_that_moment(finished) -> None:
    session, history, travel, trace = finished
    faults = [e for e in trace if isinstance(e, PageFault)]
    assert len(faults) >= 2 and len(travel.checkpoints.points) > 3
    for fault in reversed(faults):
        arrival = travel.back_to("fault")
        assert arrival.icount == fault.icount + 1
        assert session.tracker.open_faults[fault.pid].event == fault   # the trap was taken
        assert session.trace[-1] == fault
    assert_same_moment((session, history), straight_to(faults[0].icount + 1))
    with pytest.raises(TimeTravelError, match="no fault before"):
        travel.back_to("fault")


def test_step_back_and_go_to(finished) -> None:
    session, history, travel, trace = finished
    fork = next(e for e in trace if isinstance(e, ProcessForked))
    travel.go_to_event(fork)
    assert session.machine.icount == fork.icount + 1 and session.trace[-1] == fork
    for _ in range(3):
        travel.step_back()
    assert session.machine.icount == fork.icount - 2
    assert fork not in session.trace
    assert_same_moment((session, history), straight_to(fork.icount - 2))
    travel.go_to(fork.icount + 500_000)           # forward again, by replay
    assert_same_moment((session, history), straight_to(fork.icount + 500_000))


def test_forward_again_gives_the_straight_run(finished) -> None:
    session, _history, travel, trace = finished
    travel.go_to(1_000_000)
    assert session.run_to_end() == "stop"
    assert session.trace == trace
    straight, _ = new_session()
    straight.run_to_end()
    assert session.summary("stop") == straight.summary("stop")
    assert session.machine.console_text() == straight.machine.console_text()


def test_back_to_the_same_place_a_forward_goal_stops(finished) -> None:
    """Run back to the previous fork lands where running forward to it stops."""
    session, history, travel, trace = finished
    fork = [e for e in trace if isinstance(e, ProcessForked)][-1]
    travel.go_to(fork.icount - 10_000)
    runner = Runner(session, history)
    stop = runner.run(Goal("fork"), lambda idle: None, lambda: False)
    assert stop.reason == "goal"
    forward = session.machine.icount
    travel.go_to(forward + 1000)
    assert travel.back_to("fork").icount == forward
    travel.go_to(forward + 1000)
    travel.back_to("mode")
    mode = session.machine.icount
    assert mode < forward + 1000 and session.machine.privilege in (0, 1)
    travel.go_to(mode - 5)
    runner.run(Goal("mode"), lambda idle: None, lambda: False)
    assert session.machine.icount == mode


def test_last_change_of_a_pte_and_a_refcount_needs_no_replay_to_find(finished) -> None:
    session, _history, _travel, _trace = finished
    events: list = []
    fresh, fresh_history = new_session()
    for kind in (PteChanged, RefcountChanged):
        fresh.machine.events.subscribe(kind, events.append)
    log = TimeTravel(fresh, fresh_history, every=EVERY)
    fresh.run_to_end()
    now = fresh.machine.icount
    pte = [e for e in events if isinstance(e, PteChanged)][-1]
    store = log.stores.last_change(pte.pte_address, pte.pte_address + 8, now)
    assert (store.icount, store.pc, store.new, store.privilege) == (pte.icount, pte.pc,
                                                                     pte.new, 1)
    arrival = log.last_change_of_pte(pte.pid, pte.va)
    assert arrival.icount == pte.icount + 1 and arrival.store == store
    assert f"{pte.pc:#x}" in arrival.message
    # with who called the function that stored (a kernel PTE store has callers)
    assert ", called from " in arrival.message and ".c:" in arrival.message, arrival.message
    count = [e for e in events if isinstance(e, RefcountChanged)][-1]
    log.go_to(now)
    arrival = log.last_change_of_refcount(count.frame)
    assert arrival.icount == count.icount + 1
    assert session.view.refcounts is not None
    # the log was cut back with time and grew again the same
    assert [e.icount for e in log.stores.changes(pte.pte_address, pte.pte_address + 8)] == \
        [e.icount for e in events if isinstance(e, PteChanged) and
         e.pte_address == pte.pte_address and e.icount < arrival.icount]


def test_back_to_a_breakpoint(finished) -> None:
    session, _history, travel, _trace = finished
    address = session.resolve_location("kfree")
    session.machine.add_breakpoint(address)
    try:
        travel.go_to(3_000_000)
        arrival = travel.back_to("breakpoint")
        assert session.machine.pc == address and arrival.icount < 3_000_000
        assert "kfree" in arrival.message
        again = travel.back_to("breakpoint")
        assert again.icount < arrival.icount and session.machine.pc == address
    finally:
        session.machine.remove_breakpoint(address)


def test_before_the_first_checkpoint_is_refused(finished) -> None:
    _session, _history, travel, _trace = finished
    with pytest.raises(TimeTravelError, match="before the first checkpoint"):
        travel.go_to(-1)


def test_back_at_the_first_checkpoint_time_travel_goes_on(finished) -> None:
    session, _history, travel, _trace = finished
    travel.go_to(0)
    assert session.timetravel is travel   # the first checkpoint was taken with it in place
    travel.go_to(1_000)
    assert travel.step_back().icount == 999


def test_checkpoints_without_the_observers_state_replay_from_one_that_has_it() -> None:
    """A budget so small that only the first checkpoint keeps the observers'
    state (as a big kernel's tracker thins them): every move replays from
    there, and the moments are the same."""
    session, history = new_session()
    travel = TimeTravel(session, history, every=EVERY, observer_budget=1)
    assert session.run_to_end() == "stop"
    points = travel.checkpoints.points
    assert len(points) > 3 and points[0].extra is not None
    assert all(p.extra is None for p in points[1:])
    fault = [e for e in session.trace if isinstance(e, PageFault)][-1]
    assert travel.back_to("fault").icount == fault.icount + 1
    assert_same_moment((session, history), straight_to(fault.icount + 1))
    travel.step_back()
    assert_same_moment((session, history), straight_to(fault.icount))
