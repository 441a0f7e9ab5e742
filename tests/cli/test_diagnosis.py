"""Diagnosis to the line, as a student meets it on the command line: findings
blamed at the store with its call stack, one finding per frame and kernel
operation, a panic never hidden by the stop that it causes, and every rule
explained (``cowtui --explain``)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from machine.introspect.rules import MISTAKES, RULES

from .support import REPO, one_line_error, run_cowtui, write

# the line that counts the findings of a rule at a place past the first few
COUNTED = re.compile(r"×[\d,]+ more [a-z-]+ findings? at the same place")

PANIC_STOP = """\
name: panic-stop
kernel: no-maxva-check
console:
  - {wait: "$ ", type: "badaccess\\n"}
stop: {console: ["panic"], instructions: 300000000}
expect:
  violations: [kernel-panic]
"""


def test_a_stop_on_the_text_panic_still_reports_the_panic_at_its_caller(tmp_path: Path) -> None:
    """As examples/cowtest.yaml stops at "panic": the run ends in the middle of
    panic's line, and the rule sees it anyway, naming panic's caller."""
    result = run_cowtui("--headless", "--console", str(write(tmp_path, PANIC_STOP)))
    lines = result.stdout.splitlines()
    panic = [line for line in lines if "[kernel-panic]" in line]
    assert len(panic) == 1, result.stdout[-3000:]
    assert panic[0].startswith("VIOLATION #")      # a line of its own, not glued to "panic"
    assert re.search(r"called from walk\+0x[0-9a-f]+ \(kernel/vm\.c:\d+\) ← cowfault "
                     r"\(kernel/cow\.c:\d+\) ← usertrap \(kernel/trap\.c:\d+\)", panic[0])
    assert panic[0].endswith('panic("walk");')    # the calling line's source text
    assert lines[lines.index(panic[0]) - 1] == "panic"
    assert " violations: kernel-panic " in lines[-1] and result.returncode == 0


PANIC_MID_LINE = """\
name: panic-mid-line
kernel: no-maxva-check
console:
  - {wait: "$ ", type: "badaccess\\n"}
  - {wait: "(0x4000000000)\\n", type: "typed ahead"}
stop: {console: ["panic"], instructions: 300000000}
expect:
  violations: [kernel-panic]
"""


def test_a_panic_that_begins_mid_line_is_still_a_panic(tmp_path: Path) -> None:
    """usertests prints "test MAXVAplus: " and the panic follows on that line;
    here the console's echo of typed-ahead input comes first the same way."""
    result = run_cowtui("--headless", "--console", str(write(tmp_path, PANIC_MID_LINE)))
    lines = result.stdout.splitlines()
    assert "typed aheadpanic" in result.stdout, result.stdout[-2000:]   # mid-line indeed
    panic = [line for line in lines if "[kernel-panic]" in line]
    assert len(panic) == 1, result.stdout[-3000:]
    assert "the kernel panicked: panic" in panic[0] and "typed ahead" not in panic[0]
    assert re.search(r"called from walk\+0x[0-9a-f]+ \(kernel/vm\.c:\d+\) ← cowfault", panic[0])
    assert " violations: kernel-panic " in lines[-1] and result.returncode == 0


def test_each_finding_names_who_stored_and_counts_its_repeats() -> None:
    result = run_cowtui("--headless", "--json", "bug-copyout-ignores-cow")
    records = [json.loads(line) for line in result.stdout.splitlines()]
    written = [r for r in records if r.get("rule") == "shared-frame-written"
               and not COUNTED.match(r["message"])]
    assert written
    for r in written:
        assert r["message"].startswith("the kernel stored into frame ")
        assert " at memmove+0x" in r["message"] and "← copyout (kernel/vm.c:" in r["message"]
        assert r["symbol"].startswith("memmove") and r["source"].startswith("kernel/string.c:")
    counts = [int(m.group(1).replace(",", "")) for r in written
              if (m := re.search(r"\(×([\d,]+) stores\)$", r["message"]))]
    assert counts and max(counts) > 1     # one finding for the many stores of one memmove
    keys = [(r["frames"][0], r["icount"]) for r in written]
    assert len(keys) == len(set(keys))


def test_user_stores_are_not_told_as_the_kernels() -> None:
    """parent-left-writable: the parent's own store into the frame its child shares."""
    result = run_cowtui("--headless", "bug-parent-left-writable")
    written = [line for line in result.stdout.splitlines() if "[shared-frame-written] " in line
               and not COUNTED.match(line.split("] ", 1)[1])]
    assert any("] user code stored into frame" in line for line in written), written
    for line in written:   # who stored goes with where: user pcs are below the kernel
        pc = int(re.search(r" pc (0x[0-9a-f]+) ", line).group(1), 16)
        who = "user code" if pc < 0x8000_0000 else "the kernel"
        assert f"] {who} stored into frame" in line, line


def test_the_engines_blame_the_same_store_with_the_same_stack() -> None:
    traces = [run_cowtui("--headless", "--engine", engine, "bug-copyout-stale-pa").stdout
              for engine in ("native", "fast")]
    violations = [[line for line in t.splitlines() if line.startswith("VIOLATION")]
                  for t in traces]
    assert violations[0] and violations[0] == violations[1]


def test_explain_gives_each_rule_its_two_lines() -> None:
    listed = run_cowtui("--explain")
    assert listed.returncode == 0
    assert [line.split()[0] for line in listed.stdout.splitlines()] == list(RULES)
    one = run_cowtui("--explain", "foreign-frame-written")
    assert one.returncode == 0
    assert one.stdout.splitlines() == ["foreign-frame-written",
                                       "  " + RULES["foreign-frame-written"],
                                       "  " + MISTAKES["foreign-frame-written"]]


def test_explaining_an_unknown_rule_is_bad_input() -> None:
    line = one_line_error(run_cowtui("--explain", "refcount-mismatched"))
    assert line.startswith("cowtui: --explain refcount-mismatched: no such rule (one of: ")


def test_the_readme_rule_table_is_the_rules_explanations() -> None:
    readme = (REPO / "README.md").read_text()
    for rule in RULES:
        row = f"| `{rule}` | {RULES[rule]} | {MISTAKES[rule].removeprefix('usual mistake: ')} |"
        assert row in readme, rule


def test_a_kfree_that_never_touches_the_count_is_blamed_at_kfree(tmp_path: Path,
                                                                  kernel_variant) -> None:
    """As on a real xv6 lab kernel: the frame goes on the free list with its
    count still 1. Not a frame-leak at uvmunmap: maps-free-frame at the push."""
    scenario = write(tmp_path, f"""\
name: kfree-keeps-count
kernel: {kernel_variant("kfree-keeps-count")}
disk: {REPO / "machine/guest/prebuilt/fs.img"}
console:
  - {{wait: "$ ", type: "cowcheck\\n"}}
stop: {{console: "$ ", instructions: 300000000}}
""")
    result = run_cowtui("--headless", str(scenario))
    lines = result.stdout.splitlines()
    freed = [line for line in lines if "[maps-free-frame]" in line]
    assert freed, result.stdout[-3000:]
    assert re.search(r"was put on the free list at kfree\+0x[0-9a-f]+ \(kernel/kalloc\.c:\d+\)",
                     freed[0]), freed[0]
    assert not [line for line in lines if "[frame-leak]" in line]


FLOOD = """\
name: flood
kernel: parent-left-writable
console:
  - {wait: "$ ", type: "cowstress\\n"}
  - {wait: "$ ", type: "cowstress\\n"}
  - {wait: "$ ", type: "cowstress\\n"}
  - {wait: "$ ", type: "echo done\\n"}
stop: {console: "done\\n$ ", instructions: 600000000}
"""


def test_one_mistake_repeated_all_run_long_prints_a_few_lines_and_counts_the_rest(
        tmp_path: Path, monkeypatch) -> None:
    """Every fork repeats parent-left-writable at the same instructions: past
    the first findings at one place, the rest are one line with their count."""
    from cowtui.scenario import load_scenario
    from cowtui.session import Session
    from machine.introspect import tracker

    path = write(tmp_path, FLOOD)
    result = run_cowtui("--headless", "--json", str(path))
    records = [json.loads(line) for line in result.stdout.splitlines()]
    findings = [r for r in records if r["event"] == "violation"]
    counted = [r for r in findings if COUNTED.match(r["message"])]
    shown = [r for r in findings if r not in counted]
    assert counted, "nothing repeated: the flood this test is about did not happen"
    per_place: dict[tuple[str, int], int] = {}
    for r in shown:
        place = (r["rule"], r["pc"])
        per_place[place] = per_place.get(place, 0) + 1
    assert max(per_place.values()) <= tracker.SHOWN_PER_PLACE
    assert len(findings) <= 24
    more = sum(int(re.search(r"×([\d,]+) more", r["message"]).group(1).replace(",", ""))
               for r in counted)
    # the same run with every finding shown: as many as shown plus counted
    monkeypatch.setattr(tracker, "SHOWN_PER_PLACE", 10**9)
    session = Session(load_scenario(path))
    session.run_to_end()
    assert len(session.tracker.violations) == len(shown) + more > 3 * len(findings)
