"""``cowtui --headless``: run a scenario to its end and print the trace.

One line per page fault (with how it was resolved) and per invariant
violation, then a summary line; ``--json`` prints JSON lines instead, the last
one the summary. Exit status: 0 when the expectations hold, 1 on a violation
or failed expectation, 2 on bad input (handled by the CLI).
"""

from __future__ import annotations

import dataclasses
import json
import sys
from typing import TextIO

from machine.events import ConsoleOutput
from machine.introspect.events import FaultResolved, PageFault, Violation
from machine.trap import cause_name

from .coverage import warning_lines
from .guards import RunGuard
from .interrupts import exit_status, signals_call
from .progress import progress_bar
from .session import Session, Summary


def fault_line(fault: PageFault, resolved: FaultResolved | None) -> str:
    outcome = "unresolved" if resolved is None else resolved.outcome
    if resolved is not None and resolved.new_frame is not None:
        outcome += f" -> frame {resolved.new_frame:#x}"
    return (f"fault #{fault.icount} pid {fault.pid} {fault.name} {cause_name(fault.scause)} "
            f"va {fault.stval:#x} pc {fault.sepc:#x}: {outcome}")


def violation_line(v: Violation) -> str:
    return f"VIOLATION #{v.icount} pc {v.pc:#x} [{v.rule}] {v.message}"


def summary_line(s: Summary) -> str:
    faults = " ".join(f"{k}={v}" for k, v in sorted(s.faults.items())) or "none"
    failed = ([s.error] if s.error else []) + [d for d, held in s.expectations if not held]
    verdict = "pass" if s.passed else "FAIL (" + "; ".join(failed) + ")"
    return (f"summary: instructions={s.instructions} faults: {faults} "
            f"frames-copied={s.frames_copied} violations: {', '.join(s.violations) or 'none'} "
            f"rules-off: {', '.join(s.rules_off) or 'none'} end={s.end} expectations: {verdict}")


def _json_default(value):
    return value if not isinstance(value, bytes) else value.hex()


def run_headless(session: Session, echo_console: bool, as_json: bool,
                 out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    """Run to the end and print the trace and summary; returns the exit status.
    A SIGINT or SIGTERM ends the run early, still with its summary."""
    signals: list[int] = []

    def on_signal(signum: int) -> None:
        signals.append(signum)
        session.machine.request_stop()

    with signals_call(on_signal):
        return _run(session, echo_console, as_json, out, err, signals)


def _run(session: Session, echo_console: bool, as_json: bool, out: TextIO, err: TextIO,
         signals: list[int]) -> int:
    machine = session.machine
    open_faults: dict[int, PageFault] = {}
    for line in warning_lines(session.view):
        err.write(line + "\n")
    err.flush()
    guard = RunGuard(machine, session.scenario)

    def emit_json(kind: str, event) -> None:
        record = {"event": kind, **dataclasses.asdict(event)}
        out.write(json.dumps(record, default=_json_default) + "\n")

    def on_fault(event: PageFault) -> None:
        open_faults[event.icount] = event
        if as_json:
            emit_json("page_fault", event)

    def on_resolved(event: FaultResolved) -> None:
        fault = open_faults.pop(event.fault_icount, None)
        if as_json:
            emit_json("fault_resolved", event)
        elif fault is not None:
            out.write(fault_line(fault, event) + "\n")
        out.flush()

    def on_violation(event: Violation) -> None:
        if as_json:
            emit_json("violation", event)
        else:
            out.write(violation_line(event) + "\n")
        out.flush()

    machine.events.subscribe(PageFault, on_fault)
    machine.events.subscribe(FaultResolved, on_resolved)
    machine.events.subscribe(Violation, on_violation)
    if echo_console:
        machine.events.subscribe(ConsoleOutput, lambda e: (out.write(e.text), out.flush()))

    def ended() -> str | None:
        if signals:
            return "interrupted"
        return guard.stop.end if guard.stop else None

    progress = progress_bar(out, err, session)
    try:
        end = session.run_to_end(progress.update if progress else None, ended)
    finally:
        if progress:
            progress.close()
    error = None
    if signals:
        error = f"interrupted at #{machine.icount}"
    elif guard.stop:
        error = guard.stop.message
    for fault in open_faults.values():  # faults the run ended in the middle of
        if not as_json:
            out.write(fault_line(fault, None) + "\n")
    if echo_console and not machine.console_text().endswith("\n"):
        out.write("\n")  # the summary starts a line of its own
    summary = session.summary(end, error)
    if as_json:
        out.write(json.dumps({"event": "summary", "instructions": summary.instructions,
                              "faults": dict(summary.faults), "frames_copied": summary.frames_copied,
                              "violations": summary.violations, "rules_off": summary.rules_off,
                              "end": summary.end, "error": summary.error,
                              "expectations": [{"check": d, "held": h}
                                               for d, h in summary.expectations],
                              "passed": summary.passed}) + "\n")
    else:
        out.write(summary_line(summary) + "\n")
    out.flush()
    if error is not None:
        err.write(f"cowtui: {error}\n")
        err.flush()
    if signals:
        return exit_status(signals[0])
    if guard.stop and guard.stop.bad_input:
        return 2
    return 0 if summary.passed else 1
