"""``cowtui --headless``: run a scenario to its end and print the trace.

One line per page fault (with how it was resolved) and per invariant
violation, then a summary line; ``--json`` prints the trace format's JSON
lines instead (cowtui/trace_format.py), the last one the summary. Exit
status: 0 when the expectations hold, 1 on a violation, a failed expectation
or a fault storm, 2 on bad input (most found by the CLI before the run; a
RAM size that is not the kernel's PHYSTOP found during it, see guards.py),
128 + the signal's number when SIGINT or SIGTERM ended the run.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import TextIO

from machine.events import ConsoleOutput
from machine.introspect.events import FaultResolved, PageFault, Violation

from . import trace_format
from .coverage import Gap, warning_line
from .guards import RunGuard
from .interrupts import exit_status, signals_call
from .locations import Locator
from .progress import progress_bar
from .reports import write_reports
from .schedules import schedule_line, schedule_record
from .session import TRACE_EVENTS, Session, Summary
from .source_text import blamed_line
from .trace_text import fault_line, summary_line, violation_line


def run_headless(session: Session, echo_console: bool, as_json: bool,
                 out: TextIO = sys.stdout, err: TextIO = sys.stderr,
                 reports: dict[str, Path] | None = None, drive=None) -> int:
    """Run to the end and print the trace and summary, and write the reports
    (kind -> path, see reports.py); returns the exit status. A SIGINT or
    SIGTERM ends the run early, still with its summary and reports.
    ``drive(progress, ended)`` replaces ``session.run_to_end`` (gdb drives)."""
    signals: list[int] = []

    def on_signal(signum: int) -> None:
        signals.append(signum)
        session.machine.request_stop()

    with signals_call(on_signal):
        return _run(session, echo_console, as_json, out, err, signals, reports or {},
                    drive or session.run_to_end)


def _run(session: Session, echo_console: bool, as_json: bool, out: TextIO, err: TextIO,
         signals: list[int], reports: dict[str, Path], drive) -> int:
    machine = session.machine
    if session.checkpoint_every is not None:  # nothing goes back headless: only when asked
        from .timetravel import TimeTravel
        TimeTravel(session, every=session.checkpoint_every)
    started = time.perf_counter()
    warned = _warn(session.gaps(), [], err)
    guard = RunGuard(machine, session.scenario, session.view)
    progress, trace_out = progress_bar(out, err, session)
    trace = (JsonTrace if as_json else TextTrace)(session, trace_out, echo_console)

    def ended() -> str | None:
        if signals:
            return "interrupted"
        return guard.stop.end if guard.stop else None

    try:
        end = drive(progress.update if progress else None, ended)
    finally:
        if progress:
            progress.close()
    error = None
    if signals:
        error = f"interrupted at #{machine.icount}"
    elif guard.stop:
        error = guard.stop.message
    _warn(session.gaps(), warned, err)   # what only the run showed
    summary = session.summary(end, error)
    trace.finish(summary)
    if error is not None:
        err.write(f"cowtui: {error}\n")
        err.flush()
    try:
        write_reports(reports, session, summary, time.perf_counter() - started)
    except OSError as failure:
        err.write(f"cowtui: cannot write a report: {failure}\n")
        return 2
    if signals:
        return exit_status(signals[0])
    if guard.stop and guard.stop.bad_input:
        return 2
    return 0 if summary.passed else 1


def _warn(gaps: list[Gap], already: list[Gap], err: TextIO) -> list[Gap]:
    """Warn on stderr about the gaps not warned about yet; returns all warned about."""
    for gap in gaps:
        if gap not in already:
            err.write(warning_line(gap) + "\n")
    err.flush()
    return already + [gap for gap in gaps if gap not in already]


class TextTrace:
    """One line per fault (when resolved) and per violation, the console as it
    comes (``--console``), then the summary line."""

    def __init__(self, session: Session, out: TextIO, echo_console: bool) -> None:
        self.session, self.out = session, out
        self.several_harts = len(session.machine.harts) > 1
        self.open_faults: dict[int, PageFault] = {}
        events = session.machine.events
        events.subscribe(PageFault, self._fault)
        events.subscribe(FaultResolved, self._resolved)
        events.subscribe(Violation, self._violation)
        self.echo_console = echo_console
        self.mid_line = False  # the echoed console has started a line it has not ended
        line = schedule_line(session.scenario, session.machine)  # several harts: replayable
        if line is not None:
            self._write(line + "\n")
        if echo_console:
            events.subscribe(ConsoleOutput, self._console)

    def _write(self, text: str) -> None:
        if self.mid_line:  # a trace line never glued to console text
            text = "\n" + text
            self.mid_line = False
        self.out.write(text)
        self.out.flush()

    def _fault(self, event: PageFault) -> None:
        self.open_faults[event.icount] = event

    def _resolved(self, event: FaultResolved) -> None:
        fault = self.open_faults.pop(event.fault_icount, None)
        if fault is not None:
            self._write(fault_line(fault, event, self.several_harts) + "\n")

    def _violation(self, event: Violation) -> None:
        line = violation_line(event, self.several_harts)
        blamed = blamed_line(self.session.scenario.kernel, event)
        if blamed is not None and blamed[1]:
            line += f" | {blamed[0]}: {blamed[1]}"   # the blamed source line's text
        self._write(line + "\n")

    def _console(self, event: ConsoleOutput) -> None:
        self.out.write(event.text)
        self.out.flush()
        self.mid_line = not event.text.endswith("\n")

    def finish(self, summary: Summary) -> None:
        for fault in self.open_faults.values():  # faults the run ended in the middle of
            self._write(fault_line(fault, None, self.several_harts) + "\n")
        self._write(summary_line(summary) + "\n")


class JsonTrace:
    """Every trace event as a JSON line as it happens (trace_format), the console
    as ``console`` records of whole lines (``--console``), then the summary record."""

    def __init__(self, session: Session, out: TextIO, echo_console: bool) -> None:
        self.machine, self.out = session.machine, out
        self.where = Locator(session.machine, session.scenario.kernel)
        self.console_line = ""
        self.console_icount = 0
        for kind in TRACE_EVENTS:
            self.machine.events.subscribe(kind, self._event)
        if echo_console:
            self.machine.events.subscribe(ConsoleOutput, self._console)
        if (record := schedule_record(session.scenario, session.machine)) is not None:
            self._write(record)

    def _write(self, obj: dict) -> None:
        self.out.write(trace_format.line(obj) + "\n")
        self.out.flush()

    def _event(self, event) -> None:
        self._write(trace_format.record(self.where, event))

    def _console(self, event: ConsoleOutput) -> None:
        self.console_line += event.text
        self.console_icount = event.icount
        while "\n" in self.console_line:
            text, self.console_line = self.console_line.split("\n", 1)
            self._write({"event": "console", "icount": event.icount, "text": text})

    def finish(self, summary: Summary) -> None:
        if self.console_line:
            self._write({"event": "console", "icount": self.console_icount,
                         "text": self.console_line})
        self._write(trace_format.summary_record(summary))
