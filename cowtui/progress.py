"""The headless progress bar, drawn where it cannot garble the trace.

A bar redraws its line in place, so a trace line written to the same
terminal behind its back gets glued to it or overwritten. Two ways round:

- stderr is a terminal the trace (stdout) does not go to (``cowtui
  --headless s.yaml > trace.txt``): the bar goes there, the trace as it is;
- stdout is a terminal: the bar is drawn on it and the trace goes through
  the bar's console, which prints each whole line above the bar (a partial
  console line waits for its end, or for the bar to go).

The bar shows how far the console script got (the run usually ends at its
stop text, long before the instruction budget) and the instructions run.
"""

from __future__ import annotations

import os
from typing import TextIO

from .session import Session


class ProgressBar:
    def __init__(self, stream: TextIO, session: Session) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
        self.session = session
        self.closed = False
        self.progress = Progress(
            TextColumn("{task.description}"), BarColumn(),
            TextColumn("{task.completed:,} of at most {task.total:,} instructions"),
            TimeElapsedColumn(), console=Console(file=stream), transient=True)
        self.task = self.progress.add_task(self._stage(),
                                           total=session.scenario.stop_instructions)
        self.progress.start()

    def _stage(self) -> str:
        steps = len(self.session.scenario.console)
        if self.session.step_index < steps:
            return f"script step {self.session.step_index + 1}/{steps}"
        return "waiting for the stop text" if self.session.scenario.stop_console else "running"

    def update(self, done: int, total: int) -> None:
        self.progress.update(self.task, completed=min(done, total), description=self._stage())

    def print_line(self, line: str) -> None:
        """One line of the trace, printed above the bar exactly as it is."""
        self.progress.console.print(line, markup=False, highlight=False, emoji=False,
                                    soft_wrap=True)

    def close(self) -> None:
        self.progress.stop()
        self.closed = True


class AboveBar:
    """The trace's stream while the bar shares its terminal: whole lines go
    above the bar; once the bar is gone, everything goes straight out."""

    def __init__(self, bar: ProgressBar, out: TextIO) -> None:
        self.bar, self.out = bar, out
        self.partial = ""

    def write(self, text: str) -> int:
        if self.bar.closed:
            if self.partial:
                text, self.partial = self.partial + text, ""
            return self.out.write(text)
        *lines, self.partial = (self.partial + text).split("\n")
        for line in lines:
            self.bar.print_line(line)
        return len(text)

    def flush(self) -> None:
        if self.bar.closed:
            self.out.flush()


def terminal_of(stream: TextIO) -> int | None:
    """The terminal device a stream writes to, or None."""
    try:
        return os.fstat(stream.fileno()).st_rdev if stream.isatty() else None
    except (AttributeError, OSError, ValueError):
        return None


def progress_bar(out: TextIO, err: TextIO,
                 session: Session) -> tuple[ProgressBar | None, TextIO]:
    """The bar (or None) and the stream the trace is to be written to."""
    trace_terminal, err_terminal = terminal_of(out), terminal_of(err)
    if err_terminal is not None and err_terminal != trace_terminal:
        return ProgressBar(err, session), out
    if trace_terminal is not None:
        bar = ProgressBar(out, session)
        return bar, AboveBar(bar, out)
    return None, out
