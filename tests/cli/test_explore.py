"""``cowtui --headless --explore N`` (cowtui/explore.py) as a user runs it:
progress per schedule, the first schedule that breaks an invariant with the
command that replays it, and the exit status found (1) / not found (0)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from tests.platform.race_guest import build_refrace, scenario_text

from .support import one_line_error, run_cowtui, write


@pytest.fixture(scope="module")
def guests(tmp_path_factory) -> dict[bool, Path]:
    out = tmp_path_factory.mktemp("refrace")
    return {without: build_refrace(out, without) for without in (False, True)}


def test_explore_finds_the_lost_update_and_prints_how_to_replay_it(
        tmp_path: Path, guests: dict) -> None:
    scenario = write(tmp_path, scenario_text(guests[True]))
    result = run_cowtui("--headless", "--explore", "50", str(scenario))
    assert result.returncode == 1, result.stderr
    progress = result.stderr.splitlines()
    found = [line for line in progress if "no violation" not in line]
    assert progress[0].startswith("explore: schedule 1/50 (pct=1): ")
    assert len(found) == 1 and "double-free" in found[0]
    seed = len(progress)  # one line per schedule tried, the last the one found
    assert found[0] == progress[-1] and f"schedule {seed}/50 (pct={seed})" in found[0]
    lines = result.stdout.splitlines()
    assert f"explore: found in schedule {seed} of 50: pct={seed} breaks " in lines[-2]
    assert lines[-1] == "replay: " + shlex.join(
        ["cowtui", "--headless", str(scenario), "--schedule", f"pct={seed}"])
    assert lines[0].startswith(f"schedule: 3 harts, pct={seed}, quantum 10000")
    assert any(line.startswith("VIOLATION #") and "[double-free]" in line for line in lines)
    # The replay gives the same trace, schedule line and all, up to where the
    # hunt stopped (at the violation: the summary says end=violation).
    assert lines[-3].startswith("summary: ") and "end=violation" in lines[-3]
    replay = run_cowtui(*shlex.split(lines[-1])[2:])  # after "replay: cowtui"
    assert replay.returncode == 1
    assert replay.stdout.splitlines()[:len(lines) - 3] == lines[:-3]
    # Deterministic: the same hunt finds the same schedule.
    again = run_cowtui("--headless", "--explore", "50", str(scenario))
    assert again.stdout == result.stdout and again.stderr == result.stderr


def test_explore_on_a_correct_guest_finds_nothing(tmp_path: Path, guests: dict) -> None:
    scenario = write(tmp_path, scenario_text(guests[False]))
    result = run_cowtui("--headless", "--explore", "6", str(scenario))
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines() == [
        f"explore: schedule {k}/6 (pct={k}): no violation" for k in range(1, 7)]
    assert result.stdout == "explore: no schedule of 6 broke an invariant\n"


def test_explore_needs_several_harts(tmp_path: Path, guests: dict) -> None:
    scenario = write(tmp_path, scenario_text(guests[True], harts=1))
    assert one_line_error(run_cowtui("--headless", "--explore", "3", str(scenario))) == \
        "cowtui: --explore needs several harts (--harts N, or harts: in the scenario): " \
        "one hart has no schedule to choose"


def test_the_rule_explains_itself() -> None:
    result = run_cowtui("--explain", "refcount-race")
    assert result.returncode == 0
    assert "spinlock in common" in result.stdout and "kref" in result.stdout


# --- the teaching kernel on 3 harts and its multi-hart bug zoo -----------------------
def smp_scenario(tmp_path: Path, kernel: str, program: str) -> Path:
    return write(tmp_path, f"name: {kernel}-{program}\nkernel: {kernel}\nconsole:\n"
                 f"  - {{wait: \"$ \", type: \"{program}\\n\"}}\n"
                 "stop: {console: \"$ \", instructions: 200000000}\n"
                 "expect:\n  violations: []\n", name=f"{kernel}-{program}.yaml")


def test_the_lockset_rule_flags_the_unlocked_refcount_on_the_first_schedule(
        tmp_path: Path) -> None:
    result = run_cowtui("--headless", str(smp_scenario(tmp_path, "smp-refcount-unlocked",
                                                       "forktree")))
    assert result.returncode == 1
    races = [line for line in result.stdout.splitlines() if "[refcount-race]" in line]
    assert races, result.stdout
    # both stores: the unlocked one in kfree, and one that held kmem.lock
    assert "at kfree+0x" in races[0] and "(kernel/kalloc.c:" in races[0]
    assert "(holding no spinlock)" in races[0] and "kmem.lock" in races[0]


def test_explore_finds_the_unlocked_refcount_within_50_schedules(tmp_path: Path) -> None:
    scenario = smp_scenario(tmp_path, "smp-refcount-unlocked", "cowstress")
    result = run_cowtui("--headless", "--explore", "50", str(scenario), timeout=900)
    assert result.returncode == 1, result.stderr
    found = result.stdout.splitlines()[-2]
    seed = int(re.search(r"found in schedule (\d+) of 50", found).group(1))
    assert seed <= 50 and len(result.stderr.splitlines()) == seed
    assert any(line.startswith("VIOLATION #") and "[refcount-race]" not in line
               for line in result.stdout.splitlines())


@pytest.mark.parametrize("program", ["cowstress", "pipecopy"])
def test_the_correct_smp_kernel_breaks_nothing_on_explored_schedules(
        tmp_path: Path, program: str) -> None:
    scenario = smp_scenario(tmp_path, "teaching-smp", program)
    plain = run_cowtui("--headless", str(scenario))
    assert plain.returncode == 0, plain.stdout
    result = run_cowtui("--headless", "--explore", "5", str(scenario), timeout=900)
    assert result.returncode == 0, result.stdout
    assert result.stdout == "explore: no schedule of 5 broke an invariant\n"


def test_the_correct_smp_kernel_at_a_small_quantum_breaks_nothing(tmp_path: Path) -> None:
    """Turns of 100 instructions put one hart's return to user mode in the
    middle of another's fork: the frame rules must wait for every hart to be
    out of a kernel operation (machine/introspect/quiescence.py; without it
    this run reports refcount-mismatch)."""
    scenario = smp_scenario(tmp_path, "teaching-smp", "cowstress")
    result = run_cowtui("--headless", "--quantum", "100", str(scenario))
    assert result.returncode == 0, result.stdout[-3000:]
    assert "violations: none" in result.stdout.splitlines()[-1]


def test_not_found_is_not_safe_when_the_lockset_rule_saw_a_race(
        tmp_path: Path, guests: dict) -> None:
    scenario = write(tmp_path, scenario_text(guests[True]))
    result = run_cowtui("--headless", "--explore", "1", str(scenario))
    assert result.stderr == "explore: schedule 1/1 (pct=1): no violation (refcount-race reported)\n"
    assert result.stdout == ("explore: no schedule of 1 broke an invariant\n"
                             "explore: but refcount-race was reported in 1 of them: run one "
                             "headless to see the two stores\n")
    assert result.returncode == 1


def test_explore_finds_the_free_check_then_act_race_with_cowrace() -> None:
    """The zoo's second multi-hart bug (kfree tests for the last reference in
    a second locked section) under cowrace, the zoo's workload where harts
    drop references to one frame at once: a real violation within 50."""
    scenario = Path(__file__).parents[1] / "platform" / "data" / "smp-free-check-then-act.yaml"
    if not scenario.exists():
        pytest.skip("the multi-hart bug zoo's scenarios are not here")
    result = run_cowtui("--headless", "--explore", "50", str(scenario), timeout=1200)
    assert result.returncode == 1, result.stderr
    found = re.search(r"found in schedule (\d+) of 50: pct=\d+ breaks (.+)",
                      result.stdout.splitlines()[-2])
    assert found and int(found.group(1)) <= 50
    assert set(found.group(2).split(", ")) & {"double-free", "maps-free-frame"}, found.group(2)
