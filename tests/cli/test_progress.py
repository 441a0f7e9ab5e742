"""The progress bar never mixes with the trace: on stderr's terminal when the
trace goes elsewhere, else on stdout's terminal below the trace, every
trace line printed whole above it."""

from __future__ import annotations

import os
import pty
import re
import subprocess

from .support import COWTUI, REPO, run_cowtui

BAR = "of at most 40,000,000 instructions"   # the bar's text on the default scenario


def read_all(fd: int) -> str:
    chunks = []
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:            # EIO: every writer to the terminal has gone
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks).decode(errors="replace")


def run_on_terminal(trace_to_terminal: bool) -> tuple[int, str, str]:
    """cowtui --headless default with stderr on a new terminal, and stdout on it
    too or on a pipe; (status, what the terminal shows, what the pipe got)."""
    master, slave = pty.openpty()
    stdout = slave if trace_to_terminal else subprocess.PIPE
    process = subprocess.Popen([*COWTUI, "--headless", "default"], cwd=REPO, stdin=slave,
                               stdout=stdout, stderr=slave)
    os.close(slave)
    try:
        terminal = read_all(master)   # until the process closes its end
        piped = process.stdout.read().decode() if process.stdout else ""
        status = process.wait(timeout=120)
    finally:
        process.kill()
        os.close(master)
    return status, terminal, piped


def test_trace_on_another_stream_shows_the_bar_on_the_terminal() -> None:
    status, terminal, piped = run_on_terminal(trace_to_terminal=False)
    assert status == 0
    assert BAR in terminal and "fault #" not in terminal
    assert BAR not in piped and piped.splitlines()[-1].startswith("summary: ")


def test_trace_on_the_same_terminal_goes_above_the_bar() -> None:
    status, terminal, _ = run_on_terminal(trace_to_terminal=True)
    assert status == 0
    assert BAR in terminal
    piped = run_cowtui("--headless", "default").stdout.splitlines()
    # each trace line whole: after a line end or the bar's erase-line, and up to a line end
    printed = re.findall(r"(?:^|\n|\x1b\[2K)((?:fault|summary)[^\x1b\r\n]*)\r\n", terminal)
    assert printed == piped
