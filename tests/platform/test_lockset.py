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


def test_the_spinlocks_a_hart_holds_are_read_from_struct_spinlock() -> None:
    """Every struct spinlock in the SMP kernel's globals, by name; a lock is
    held by hart h when locked is set and cpu is &cpus[h]."""
    from machine.guest import SMP_KERNEL, bundled_disk, bundled_kernel
    from machine.introspect.spinlocks import Spinlocks
    from machine.machine import Machine, MachineConfig

    machine = Machine(MachineConfig(kernel=bundled_kernel(SMP_KERNEL), disk=bundled_disk(),
                                    harts=3, engine="fast"))
    locks = Spinlocks(machine)
    names = {name: address for address, name in locks.locks}
    assert {"kmem.lock", "proc[0].lock", "proc[1].lock"} <= set(names)
    kernel = machine.kernel
    lock = kernel.struct_type("spinlock")
    cpu = kernel.variable("cpus")
    kmem = names["kmem.lock"]
    assert all(not locks.held_by(h) for h in range(3))   # at reset nobody holds anything
    second_cpu = cpu.address + cpu.type.element.byte_size
    machine.write_physical(kmem + lock.member("locked").offset, (1).to_bytes(4, "little"))
    machine.write_physical(kmem + lock.member("cpu").offset, second_cpu.to_bytes(8, "little"))
    assert locks.held_by(1) == {kmem} and not locks.held_by(0) and not locks.held_by(2)
    assert locks.describe(locks.held_by(1)) == "{kmem.lock}"
    assert locks.describe(frozenset()) == "no spinlock"
