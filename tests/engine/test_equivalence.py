"""Every engine gives the same run: every event at the same instruction,
the same console, the same final state."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from cowtui.scenario import load_scenario
from cowtui.session import Session
from machine.events import ConsoleOutput, MemoryWrite, SatpWritten, TrapReturn, TrapTaken
from machine.introspect.events import (FaultResolved, PageFault, ProcessExited, ProcessForked,
                                       PteChanged, RefcountChanged, Violation)

SCENARIOS = Path(__file__).parents[2] / "cowtui" / "scenarios"
EVENTS = (TrapTaken, TrapReturn, SatpWritten, MemoryWrite, ConsoleOutput, PteChanged,
          RefcountChanged, PageFault, FaultResolved, ProcessForked, ProcessExited, Violation)


def record(name: str, engine: str) -> tuple[list, tuple]:
    scenario = load_scenario(SCENARIOS / f"{name}.yaml")
    scenario.engine = engine
    session = Session(scenario)
    events: list = []
    for kind in EVENTS:
        session.machine.events.subscribe(kind, events.append)
    end = session.run_to_end()
    m = session.machine
    state = (end, m.icount, m.pc, m.privilege, tuple(m.registers()), m.hart.retired(),
             hashlib.sha256(m.bus.ram).hexdigest(), m.console_text())
    return events, state


@pytest.mark.parametrize("name", ["default", "forktree", "pipecopy", "cowstress",
                                  "bug-double-free", "bug-copyout-ignores-cow"])
def test_engines_agree_on_every_event_and_the_final_state(name: str) -> None:
    reference_events, reference_state = record(name, "interp")
    assert any(isinstance(e, PteChanged) for e in reference_events)
    assert any(isinstance(e, RefcountChanged) for e in reference_events)
    for engine in ("blocks", "fast", "native"):
        events, state = record(name, engine)
        assert state == reference_state, engine
        assert len(events) == len(reference_events), engine
        for ours, theirs in zip(events, reference_events):
            assert ours == theirs, engine
