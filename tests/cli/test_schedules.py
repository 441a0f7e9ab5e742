"""--quantum and --schedule seed=K (cowtui/schedules.py): checked like the
other options, recorded in the trace so that a run replays exactly."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .support import one_line_error, run_cowtui, write


@pytest.mark.parametrize(("args", "message"), [
    (["--quantum", "0"], "cowtui: --quantum: must be at least 1 tick, got 0"),
    (["--schedule", "seed=x"], "cowtui: --schedule: schedule seed must be an integer, not 'x'"),
    (["--schedule", "random"],
     "cowtui: --schedule: schedule must be 'round-robin', 'seed=K' or 'pct=K', not 'random'"),
    (["--explore", "0"], "cowtui: --explore: needs at least 1 schedule, got 0"),
    (["--explore", "5", "--schedule", "seed=1"],
     "cowtui: --explore chooses its own schedules: drop --schedule"),
])
def test_bad_schedule_options(args: list[str], message: str) -> None:
    assert one_line_error(run_cowtui("--headless", *args, "forktree")) == message


def test_explore_needs_headless() -> None:
    assert one_line_error(run_cowtui("--explore", "3", "forktree")) == \
        "cowtui: --explore needs --headless (it runs many schedules to the end)"


@pytest.mark.parametrize(("field", "message"), [
    ("quantum: 0", "quantum: must be at least 1 tick, got 0"),
    ("schedule: seed=", "schedule: schedule must be 'round-robin', 'seed=K' or 'pct=K'"),
])
def test_scenario_schedule_fields_are_checked(tmp_path: Path, field: str, message: str) -> None:
    path = write(tmp_path, f"name: x\nkernel: teaching\n{field}\n")
    assert one_line_error(run_cowtui("--headless", str(path))).startswith(
        f"cowtui: {path}:3: {message}")


def test_a_seeded_run_names_its_schedule_and_replays_the_same(tmp_path: Path) -> None:
    first = run_cowtui("--headless", "--harts", "2", "--quantum", "700", "--schedule", "seed=9",
                       "forktree")
    assert first.returncode == 0, first.stderr
    header = first.stdout.splitlines()[0]
    assert header == "schedule: 2 harts, seed=9, quantum 700 " \
        "(replay: --harts 2 --quantum 700 --schedule seed=9)"
    again = run_cowtui("--headless", *header.split("(replay: ")[1].rstrip(")").split(),
                       "forktree")
    assert again.stdout == first.stdout
    scenario = write(tmp_path, (Path(__file__).parents[2] / "cowtui" / "scenarios" /
                                "forktree.yaml").read_text() +
                     "harts: 2\nquantum: 700\nschedule: seed=9\n")
    assert run_cowtui("--headless", str(scenario)).stdout == first.stdout
    as_json = run_cowtui("--headless", "--json", "--harts", "2", "--quantum", "700",
                         "--schedule", "seed=9", "forktree")
    records = [json.loads(line) for line in as_json.stdout.splitlines()]
    assert records[0] == {"event": "schedule", "harts": 2, "quantum": 700, "kind": "seed",
                          "seed": 9,
                          "replay": "--harts 2 --quantum 700 --schedule seed=9"}
    assert all(record["hart"] == 0 for record in records[1:-1])


def test_one_hart_has_no_schedule_line() -> None:
    result = run_cowtui("--headless", "--quantum", "700", "--schedule", "seed=9", "forktree")
    assert result.returncode == 0
    assert result.stdout == run_cowtui("--headless", "forktree").stdout
