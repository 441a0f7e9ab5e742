"""Where a run is cut into slices changes nothing: the app runs the machine
in slices sized by the wall clock (runner.py), so their boundaries differ
from run to run; every event and the final state must not."""

from __future__ import annotations

import random

import pytest

from machine.introspect.events import PageFault, ProcessForked, PteChanged, Violation

from .test_equivalence import record


def sliced(draw: random.Random):
    """A Session.run_to_end that cuts the run at random instruction counts,
    from single instructions to the app's largest slices."""
    def run_to_end(session, progress=None, ended=None) -> str:
        # and stops where the app's goals stop it: from the hooks of the events
        # (a violation, a page fault, a PTE written), mid-slice
        for kind in (Violation, PageFault, PteChanged, ProcessForked):
            session.machine.events.subscribe(kind, lambda _: session.machine.request_stop())
        try:
            while True:
                budget = session.budget_left()
                if budget == 0:
                    return "budget"
                size = min(budget, int(10 ** draw.uniform(0, 6.7)))
                result = session.run(max_instructions=size)
                if session.finished:
                    return "stop"
                if result.reason in ("exit", "reset", "idle"):
                    return result.reason
        finally:
            session.tracker.finish()   # as Session.run_to_end: the run's end reports what is left
    return run_to_end


@pytest.mark.parametrize("name, engine", [
    *((name, "native") for name in ("default", "cowstress", "bug-text-becomes-writable",
                                    "bug-double-free", "bug-refcount-leak",
                                    "bug-copyout-ignores-cow")),
    ("default", "fast"), ("bug-text-becomes-writable", "fast")])
def test_slice_boundaries_change_no_event(name: str, engine: str,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    straight_events, straight_state = record(name, engine)
    from cowtui.session import Session
    for seed in range(3):
        monkeypatch.setattr(Session, "run_to_end", sliced(random.Random(seed)))
        events, state = record(name, engine)
        assert state == straight_state, seed
        assert len(events) == len(straight_events), seed
        for ours, theirs in zip(events, straight_events):
            assert ours == theirs, seed
