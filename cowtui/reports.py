"""Reports CI systems and autograders read: JUnit XML and Gradescope's results.json.

A headless run becomes a list of graded cases: one per expectation of the
scenario, one for the run itself when it could not finish (interrupted, a
fault storm, RAM and PHYSTOP disagreeing), and one per rule the kernel let
nobody check. A rule that was off is never a pass: JUnit marks it skipped,
Gradescope gives it no points. When the run did not finish, no expectation
counts as held (a partial run proves nothing about the rest).
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from machine.introspect.events import Violation

from .coverage import warning_line
from .session import Session, Summary
from .trace_text import summary_line, violation_line

MAX_VIOLATION_LINES = 50     # in one failure text; the trace has them all
CONSOLE_TAIL = 2000          # characters of console shown when a console line is missing


@dataclass(frozen=True)
class Case:
    name: str
    status: str              # 'passed', 'failed', 'error' (the run), 'skipped' (not checked)
    detail: str = ""         # why it failed or was skipped


def _violation_text(violations: list[Violation]) -> str:
    lines = [violation_line(v) for v in violations[:MAX_VIOLATION_LINES]]
    if len(violations) > MAX_VIOLATION_LINES:
        lines.append(f"... and {len(violations) - MAX_VIOLATION_LINES} more")
    return "\n".join(lines)


def cases(session: Session, summary: Summary) -> list[Case]:
    found: list[Case] = []
    if summary.error is not None:
        found.append(Case("the run completes", "error", summary.error))
    violations = list(session.tracker.violations)
    console = session.machine.console_text()
    for expectation in summary.expectations:
        check = expectation.check
        if expectation.kind == "violations" and summary.rules_off:  # held over the rules checked
            check = f"{check} ({len(summary.rules_off)} rules not checked)"
        if summary.error is not None:
            found.append(Case(check, "failed", f"not evaluated: {summary.error}"))
        elif expectation.held:
            found.append(Case(check, "passed"))
        elif expectation.kind == "violations":
            found.append(Case(check, "failed", _violation_text(violations) or
                              "none of the expected violations fired"))
        elif expectation.kind == "console":
            found.append(Case(check, "failed", "console (end):\n" + console[-CONSOLE_TAIL:]))
        else:
            found.append(Case(check, "failed", check))
    reasons: dict[str, str] = {}          # a rule off for several reasons is one case
    for gap in session.gaps():
        for rule in gap.rules:
            reasons.setdefault(rule, gap.reason)
    for rule in summary.rules_off:
        found.append(Case(f"rule {rule} checked", "skipped", f"not checked: {reasons[rule]}"))
    return found


def _warnings(session: Session) -> str:
    """The run's warnings about what it could not check, as on stderr."""
    return "\n".join(warning_line(gap) for gap in session.gaps())


def junit_xml(session: Session, summary: Summary, seconds: float) -> bytes:
    """A JUnit XML report: one <testsuite> (the scenario), one <testcase> per case."""
    all_cases = cases(session, summary)
    counts = {status: sum(c.status == status for c in all_cases)
              for status in ("failed", "error", "skipped")}
    totals = {"tests": str(len(all_cases)), "failures": str(counts["failed"]),
              "errors": str(counts["error"]), "skipped": str(counts["skipped"]),
              "time": f"{seconds:.3f}"}
    name = session.scenario.name
    root = ET.Element("testsuites", {"name": "cowtui", **totals})
    suite = ET.SubElement(root, "testsuite", {"name": name, **totals})
    properties = ET.SubElement(suite, "properties")
    for key, value in (("kernel", str(session.scenario.kernel)), ("end", summary.end),
                       ("instructions", str(summary.instructions)),
                       ("rules_off", ",".join(summary.rules_off))):
        ET.SubElement(properties, "property", {"name": key, "value": value})
    for case in all_cases:
        element = ET.SubElement(suite, "testcase", {"name": case.name,
                                                    "classname": f"cowtui.{name}", "time": "0"})
        tag = {"failed": "failure", "error": "error", "skipped": "skipped"}.get(case.status)
        if tag is not None:
            first = case.detail.splitlines()[0] if case.detail else case.status
            child = ET.SubElement(element, tag, {"message": first} if tag == "skipped" else
                                  {"message": first, "type": case.status})
            if tag != "skipped":
                child.text = case.detail
    ET.SubElement(suite, "system-out").text = summary_line(summary)
    if warnings := _warnings(session):
        ET.SubElement(suite, "system-err").text = warnings
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"


def gradescope_json(session: Session, summary: Summary, seconds: float) -> str:
    """Gradescope's results.json: a point per expectation; a rule not checked is
    listed with no points to win, so it can never add to the score."""
    tests = []
    for case in cases(session, summary):
        points = 0 if case.status == "skipped" else 1
        tests.append({"name": case.name, "score": 1 if case.status == "passed" else 0,
                      "max_score": points,
                      "status": "passed" if case.status == "passed" else "failed",
                      "output": case.detail, "visibility": "visible"})
    output = "\n".join(filter(None, [summary_line(summary), _warnings(session)]))
    results = {"score": sum(t["score"] for t in tests), "execution_time": round(seconds, 3),
               "output": output, "stdout_visibility": "visible", "tests": tests}
    return json.dumps(results, indent=2) + "\n"


WRITERS = {"junit": junit_xml, "gradescope": gradescope_json}


def write_reports(paths: dict[str, Path], session: Session, summary: Summary,
                  seconds: float) -> None:
    for kind, path in paths.items():
        content = WRITERS[kind](session, summary, seconds)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
