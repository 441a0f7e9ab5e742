"""--harts and the scenario's harts: checked like the other options, and a
race-free scenario gives the same result on 3 harts as on 1."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from .support import one_line_error, run_cowtui, write


@pytest.mark.parametrize("value", ["0", "9", "-1"])
def test_harts_out_of_bounds(value: str) -> None:
    assert one_line_error(run_cowtui("--headless", "--harts", value)) == \
        f"cowtui: --harts: must be between 1 and 8, got {value}"


@pytest.mark.parametrize(("value", "message"), [
    ("0", "harts: must be between 1 and 8, got 0"),
    ("many", "harts: expected a whole number"),
])
def test_scenario_harts_is_checked(tmp_path: Path, value: str, message: str) -> None:
    path = write(tmp_path, f"name: x\nkernel: teaching\nharts: {value}\n")
    assert one_line_error(run_cowtui("--headless", str(path))).startswith(
        f"cowtui: {path}:3: {message}")


def without_times(output: str) -> list[str]:
    """The trace with instruction numbers and harts left out: parked harts
    take a few instructions of time at boot, so every later number moves by
    as many, and on several harts each line names its hart."""
    return [re.sub(r"#\d+( hart \d+)?|instructions=\d+", "#", line)
            for line in output.splitlines()]


def test_a_race_free_scenario_on_3_harts_as_on_1(tmp_path: Path) -> None:
    one = run_cowtui("--headless", "forktree")
    three = run_cowtui("--headless", "--harts", "3", "forktree")
    assert (one.returncode, three.returncode) == (0, 0), three.stderr
    header, *lines = three.stdout.splitlines()
    assert header == "schedule: 3 harts, round-robin, quantum 10000 " \
        "(replay: --harts 3 --quantum 10000)"
    assert without_times("\n".join(lines)) == without_times(one.stdout)
    assert "copied=3" in three.stdout
    faults = [line for line in three.stdout.splitlines() if line.startswith("fault #")]
    assert faults and all(re.match(r"fault #\d+ hart 0 pid", line) for line in faults)
    assert " hart " not in one.stdout
    scenario = write(tmp_path, (Path(__file__).parents[2] / "cowtui" / "scenarios" /
                                "forktree.yaml").read_text() + "harts: 3\n")
    from_yaml = run_cowtui("--headless", str(scenario))
    assert from_yaml.stdout == three.stdout


def test_the_boot_snapshot_of_3_harts_restores_to_the_same_run(tmp_path: Path,
                                                               monkeypatch) -> None:
    """The app's warm start on 3 harts: the second session restores the boot
    snapshot (every hart, the schedule) and ends as a cold run does."""
    from cowtui.scenario import DEFAULT_SCENARIO, load_scenario
    from cowtui.session import Session
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))

    def run(warm: bool) -> tuple:
        scenario = load_scenario(DEFAULT_SCENARIO)
        scenario.harts = 3
        session = Session(scenario, warm=warm)
        session.run_to_end()
        m = session.machine
        return session.restored_boot, m.icount, [h.icount for h in m.harts], m.console_text()

    cold = run(False)
    first, second = run(True), run(True)
    assert (first[0], second[0]) == (False, True)
    assert first[1:] == second[1:] == cold[1:]
