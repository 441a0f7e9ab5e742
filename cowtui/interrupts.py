"""Ctrl-C and SIGTERM end a headless run cleanly, never with a traceback.

Before the run starts (loading the kernel, building the machine) a signal
raises ``Interrupted``, which the command turns into one line and exit
status 128 + the signal's number. During the run a signal only asks the
machine to stop at the next instruction, so the run ends with its partial
trace and summary.
"""

from __future__ import annotations

import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager

HANDLED = (signal.SIGINT, signal.SIGTERM)


class Interrupted(BaseException):
    """A signal arrived outside a run (BaseException, like KeyboardInterrupt)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum

    @property
    def exit_status(self) -> int:
        return exit_status(self.signum)


def exit_status(signum: int) -> int:
    """What a shell reports for a process ended by that signal: 130, 143."""
    return 128 + signum


def _raise(signum: int, frame) -> None:
    raise Interrupted(signum)


def raise_on_signals() -> None:
    """From now on, SIGINT and SIGTERM raise ``Interrupted``."""
    for number in HANDLED:
        signal.signal(number, _raise)


@contextmanager
def signals_call(handler: Callable[[int], None]) -> Iterator[None]:
    """Inside: a SIGINT or SIGTERM calls ``handler(signum)`` and raises nothing."""
    previous = {number: signal.signal(number, lambda signum, frame: handler(signum))
                for number in HANDLED}
    try:
        yield
    finally:
        for number, old in previous.items():
            signal.signal(number, old)
