"""Headless time travel options: checkpoints change no trace; a scenario can
stop at an instruction; bad values get one line."""

from __future__ import annotations

from pathlib import Path

import pytest

from .support import one_line_error, run_cowtui, write

SCENARIOS = ("default", "cowstress")


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_checkpoints_change_nothing_in_the_trace(scenario: str) -> None:
    without = run_cowtui("--headless", "--json", "--console", scenario)
    with_ = run_cowtui("--headless", "--json", "--console", "--checkpoint-every", "300000",
                       scenario)
    assert without.returncode == with_.returncode == 0, with_.stderr
    assert with_.stdout == without.stdout
    assert without.stdout.count('"event"') > 10


def test_stop_at_an_instruction(tmp_path: Path) -> None:
    scenario = write(tmp_path, """\
name: at-the-first-fault
kernel: teaching
console:
  - {wait: "$ ", type: "cowdemo\\n"}
stop: {console: "$ ", at: 1716485}
""")
    result = run_cowtui("--headless", "--json", str(scenario))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert '"instructions": 1716485' in lines[-1] and '"end": "at"' in lines[-1]
    # the fault at #1,716,484 was taken, nothing after it
    assert '"icount": 1716484' in lines[-2] and '"page_fault"' in lines[-2]
    text = run_cowtui("--headless", str(scenario))
    assert "end=at" in text.stdout.splitlines()[-1]


@pytest.mark.parametrize(("stop", "message"), [
    ("{at: 0}", "stop: at: expected an instruction number (a positive whole number), got 0"),
    ("{at: soon}", "stop: at: expected an instruction number"),
    ("{at: 5000, instructions: 100}", "stop: at: 5,000 is beyond the instruction budget (100)"),
    ("{when: 5}", "stop: unknown key 'when' (known: console, instructions, at)"),
])
def test_bad_stop_at(tmp_path: Path, stop: str, message: str) -> None:
    scenario = write(tmp_path, f"name: x\nkernel: teaching\nstop: {stop}\n")
    line = one_line_error(run_cowtui("--headless", str(scenario)))
    assert message in line and "s.yaml" in line


@pytest.mark.parametrize("value", ["0", "-5", "many"])
def test_bad_checkpoint_interval(value: str) -> None:
    line = one_line_error(run_cowtui("--headless", "--checkpoint-every", value, "default"))
    assert "--checkpoint-every" in line and "number of instructions" in line
