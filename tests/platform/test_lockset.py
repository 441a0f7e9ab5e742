"""The lockset rule refcount-race (machine/introspect/lockset.py) on a small
multi-hart guest: two harts storing to one frame's refcount with no spinlock
in common is reported with both stores, on the first schedule and on every
engine alike; the locked guest is never reported, whatever the schedule."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from cowtui.scenario import load_scenario
from cowtui.session import Session
from machine.native import NativeEngine

from .race_guest import build_refrace, scenario_text

ENGINES = ("interp", "fast") + (("native",) if NativeEngine is not None else ())


@pytest.fixture(scope="module")
def guests(tmp_path_factory) -> dict[bool, Path]:
    out = tmp_path_factory.mktemp("refrace")
    return {without: build_refrace(out, without) for without in (False, True)}


def session_for(tmp_path: Path, kernel: Path, engine: str, **changes) -> Session:
    path = tmp_path / "refrace.yaml"
    path.write_text(scenario_text(kernel))
    scenario = dataclasses.replace(load_scenario(path), engine=engine, **changes)
    return Session(scenario)


def races(session: Session) -> list:
    session.run_to_end()
    return [v for v in session.tracker.violations if v.rule == "refcount-race"]


def test_a_refcount_stored_without_the_lock_is_reported_with_both_stores(
        tmp_path: Path, guests: dict) -> None:
    found = {}
    for engine in ENGINES:
        reported = races(session_for(tmp_path, guests[True], engine))
        assert reported, engine
        found[engine] = [(v.icount, v.hart, v.pc, v.message) for v in reported]
    assert len({tuple(v) for v in found.values()}) == 1  # the same on every engine
    first = found[ENGINES[0]][0][3]
    # both stores: hart, function, file:line and the locks each held
    assert len(set(re.findall(r"by hart (\d) at", first))) == 2
    assert "kref+0x" in first and "refrace.c:" in first
    assert "(holding no spinlock)" in first and "{kmem.lock}" in first
    assert first.endswith("no spinlock in common")


@pytest.mark.parametrize("schedule", [("round-robin", None), ("seed", 4), ("pct", 1),
                                      ("pct", 5), ("pct", 17)])
def test_the_locked_guest_is_never_reported(tmp_path: Path, guests: dict,
                                            schedule: tuple) -> None:
    kind, seed = schedule
    session = session_for(tmp_path, guests[False], "native" if NativeEngine else "fast",
                          schedule_kind=kind, schedule_seed=seed)
    assert races(session) == []
    assert session.machine.exit_status == 0  # the guest's own check: every count is back to 1


def test_one_hart_has_no_lockset_rule(tmp_path: Path, guests: dict) -> None:
    session = session_for(tmp_path, guests[True], "fast", harts=1)
    assert session.race_tools is None
    assert races(session) == []
