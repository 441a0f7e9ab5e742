"""Counts the programs the differential tests compared and reports the total."""

from __future__ import annotations

import pytest

from . import tally


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if tally.COMPARED:
        per_mode = ", ".join(f"{mode} {count}" for mode, count in sorted(tally.COMPARED.items()))
        terminalreporter.write_line(
            f"qemu_diff: {sum(tally.COMPARED.values())} programs compared with QEMU "
            f"in {tally.LAUNCHES} QEMU launches ({per_mode})")
