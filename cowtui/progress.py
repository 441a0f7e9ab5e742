"""The headless progress bar: on stderr, and only where it cannot garble the trace.

A bar redraws its line in place; a trace line printed on the same terminal in
between is glued to it or overwritten. So the bar is drawn only when stderr
is a terminal and stdout (the trace) is not that same terminal: ``cowtui
--headless s.yaml > trace.txt`` shows it, a plain run on a terminal does
not. It shows how far the console script got (the run usually ends at its
stop text, long before the instruction budget) and the instructions run.
"""

from __future__ import annotations

import os
from typing import TextIO

from .session import Session


class ProgressBar:
    def __init__(self, err: TextIO, session: Session) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
        self.session = session
        self.progress = Progress(
            TextColumn("{task.description}"), BarColumn(),
            TextColumn("{task.completed:,} of at most {task.total:,} instructions"),
            TimeElapsedColumn(), console=Console(file=err), transient=True)
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

    def close(self) -> None:
        self.progress.stop()


def terminal_of(stream: TextIO) -> int | None:
    """The terminal device a stream writes to, or None."""
    try:
        return os.fstat(stream.fileno()).st_rdev if stream.isatty() else None
    except (AttributeError, OSError, ValueError):
        return None


def progress_bar(out: TextIO, err: TextIO, session: Session) -> ProgressBar | None:
    bar_on = terminal_of(err)
    if bar_on is None or bar_on == terminal_of(out):
        return None
    return ProgressBar(err, session)
