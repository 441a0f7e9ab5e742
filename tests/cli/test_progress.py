"""The progress bar never mixes with the trace: drawn on stderr's terminal only
when the trace goes elsewhere."""

from __future__ import annotations

import os
import pty
import subprocess

from .support import COWTUI, REPO

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


def test_trace_on_the_same_terminal_has_no_bar() -> None:
    status, terminal, _ = run_on_terminal(trace_to_terminal=True)
    assert status == 0
    assert BAR not in terminal
    lines = terminal.replace("\r\n", "\n").splitlines()
    assert [line for line in lines if not line.startswith("fault #")][-1].startswith("summary: ")
    assert "\x1b[" not in terminal   # nothing redrawn in place
