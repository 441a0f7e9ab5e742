"""Snapshots: a round trip changes nothing; bad files are refused, never half-used."""

from __future__ import annotations

from pathlib import Path

import pytest

from cowtui.scenario import load_scenario
from cowtui.session import Session
from machine.guest import bundled_disk, bundled_kernel
from machine.introspect.events import FaultResolved, PageFault, PteChanged, RefcountChanged
from machine.machine import Machine, MachineConfig
from machine.snapshot import MAGIC, BootCache, SnapshotError

DEFAULT = Path(__file__).parents[2] / "cowtui" / "scenarios" / "default.yaml"


def booted() -> Machine:
    m = Machine(MachineConfig(kernel=bundled_kernel(), disk=bundled_disk()))
    m.run(max_instructions=20_000_000, until=lambda: m.console_text().endswith("$ "))
    assert m.console_text().endswith("$ ")
    return m


def run_command(m: Machine, command: str) -> str:
    start = len(m.console)
    m.feed_console(command + "\n", at_icount=m.icount)
    m.run(max_instructions=60_000_000,
          until=lambda: m.console[start:].decode().count("$ ") >= 1)
    return m.console_text()


def test_round_trip_runs_on_exactly_as_without(tmp_path: Path) -> None:
    original = booted()
    path = tmp_path / "boot.snap"
    original.save_snapshot(path)
    restored = Machine(MachineConfig(kernel=bundled_kernel(), disk=bundled_disk()))
    restored.load_snapshot(path)
    assert (restored.icount, restored.pc, restored.registers()) == \
        (original.icount, original.pc, original.registers())
    assert run_command(original, "cowdemo") == run_command(restored, "cowdemo")
    assert original.icount == restored.icount
    assert original.bus.ram == restored.bus.ram


def test_warm_session_gives_the_cold_trace_from_the_prompt_on(tmp_path: Path,
                                                              monkeypatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))

    def trace(warm: bool) -> tuple[Session, list]:
        session = Session(load_scenario(DEFAULT), warm=warm)
        events: list = []
        for kind in (PteChanged, RefcountChanged, PageFault, FaultResolved):
            session.machine.events.subscribe(kind, events.append)
        session.run_to_end()
        return session, events

    cold, cold_events = trace(True)           # no snapshot yet: boots, records one
    assert not cold.restored_boot
    assert list(tmp_path.glob("cowtui/boot/*.snap"))
    warm, warm_events = trace(True)
    assert warm.restored_boot
    start = warm_events[0].icount
    assert warm_events == [e for e in cold_events if e.icount >= start]
    assert warm.machine.console_text() == cold.machine.console_text()
    assert warm.machine.icount == cold.machine.icount


@pytest.mark.parametrize("damage", ["garbage", "truncated", "version", "pickled object",
                                    "other kernel"])
def test_bad_snapshots_are_refused_with_one_line(tmp_path: Path, damage: str) -> None:
    good = tmp_path / "good.snap"
    booted().save_snapshot(good)
    data = good.read_bytes()
    bad = tmp_path / "bad.snap"
    if damage == "garbage":
        bad.write_bytes(b"not a snapshot at all")
    elif damage == "truncated":
        bad.write_bytes(data[: len(data) // 2])
    elif damage == "version":
        bad.write_bytes(MAGIC + (99).to_bytes(4, "little") + data[len(MAGIC) + 4:])
    elif damage == "pickled object":
        import pickle
        import zlib
        bad.write_bytes(MAGIC + (1).to_bytes(4, "little") +
                        zlib.compress(pickle.dumps(Path("/etc/passwd"))))
    else:
        other = Machine(MachineConfig(kernel=bundled_kernel("refcount-leak"),
                                      disk=bundled_disk()))
        other.save_snapshot(bad)
    fresh = Machine(MachineConfig(kernel=bundled_kernel(), disk=bundled_disk()))
    with pytest.raises(SnapshotError) as error:
        fresh.load_snapshot(bad)
    assert "\n" not in str(error.value) and str(bad) in str(error.value)


def test_boot_cache_ignores_a_corrupted_snapshot_and_says_so(tmp_path: Path) -> None:
    cache = BootCache(tmp_path)
    m = Machine(MachineConfig(kernel=bundled_kernel(), disk=bundled_disk()))
    path = cache.path_for(m, "$ ")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(MAGIC + b"\x01\x00\x00\x00" + b"\x00" * 100)
    restored, notice = cache.restore(m, "$ ")
    assert not restored and "ignored a boot snapshot" in notice and "booting cold" in notice
