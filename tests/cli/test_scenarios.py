"""Every shipped scenario runs headless, as CI and teachers run it."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from machine.guest import BUG_SITES, BUG_ZOO

SCENARIOS = sorted((Path(__file__).parents[2] / "cowtui" / "scenarios").glob("*.yaml"))


def run_cowtui(*args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "cowtui", *args], capture_output=True,
                          text=True, timeout=timeout, check=False)


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_shipped_scenario_meets_its_expectations(path: Path) -> None:
    result = run_cowtui("--headless", "--json", str(path))
    records = [json.loads(line) for line in result.stdout.splitlines()]
    summary = records[-1]
    assert summary["event"] == "summary", result.stdout[-2000:]
    assert summary["passed"], summary["expectations"]
    assert result.returncode == 0
    assert "Traceback" not in result.stderr
    spec = yaml.safe_load(path.read_text())
    expected_rules = sorted(spec["expect"].get("violations") or [])
    assert sorted(summary["violations"]) == expected_rules
    if spec["kernel"] in BUG_ZOO:
        # each bug-zoo kernel trips the rule the zoo names for it
        assert BUG_ZOO[spec["kernel"]] in summary["violations"]
        violation_records = [r for r in records if r["event"] == "violation"]
        assert any(r["rule"] == BUG_ZOO[spec["kernel"]] for r in violation_records)
        # ... at the function that holds the mistake: in the call stack of the
        # store its first finding blames, with that function's source file
        first = next(r for r in violation_records if r["rule"] == BUG_ZOO[spec["kernel"]])
        function, source = BUG_SITES[spec["kernel"]]
        site = re.compile(rf"(?:at |from |← ){function}(?:\+0x[0-9a-f]+)? \({re.escape(source)}:\d+\)")
        assert site.search(first["message"]), first["message"]
        assert first["symbol"] and first["source"], first   # the blamed pc, located
    else:
        assert summary["violations"] == []


def test_text_output_has_one_line_per_fault_and_a_summary() -> None:
    result = run_cowtui("--headless", str(SCENARIOS[0].parent / "default.yaml"))
    lines = result.stdout.splitlines()
    faults = [line for line in lines if line.startswith("fault #")]
    assert any("cowdemo store/AMO page fault" in line and ": copied -> frame 0x" in line
               for line in faults), lines
    assert lines[-1].startswith("summary: instructions=")
    assert "expectations: pass" in lines[-1]
    assert result.returncode == 0


def test_a_violation_exits_1_with_its_rule_named() -> None:
    scenario = SCENARIOS[0].parent / "bug-text-becomes-writable.yaml"
    spec = yaml.safe_load(scenario.read_text())
    spec["expect"] = {"violations": []}  # claim there is none: the run must say otherwise
    path = Path(__file__).parent / "_tmp_expect_none.yaml"
    spec["kernel"] = "text-becomes-writable"
    path.write_text(yaml.safe_dump(spec))
    try:
        result = run_cowtui("--headless", str(path))
    finally:
        path.unlink()
    assert result.returncode == 1
    assert "[cow-on-readonly]" in result.stdout
    assert "expectations: FAIL" in result.stdout.splitlines()[-1]


def test_same_scenario_twice_gives_the_same_trace() -> None:
    path = str(SCENARIOS[0].parent / "forktree.yaml")
    first = run_cowtui("--headless", "--json", path).stdout
    second = run_cowtui("--headless", "--json", path).stdout
    assert first == second
