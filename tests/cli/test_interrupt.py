"""Ctrl-C and SIGTERM end a real ``cowtui --headless`` process cleanly."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from pathlib import Path

import pytest

from .support import COWTUI, REPO, write

# cowdemo, then an idle shell until a text that never comes: runs until stopped
FOREVER = """\
name: forever
kernel: teaching
console:
  - {wait: "$ ", type: "cowdemo\\n"}
stop: {console: "never printed", instructions: 100000000000}
"""
LAST_FAULT = "made-writable"   # the shell's fault after cowdemo: the run is well under way


def interrupt(tmp_path: Path, signum: int, *options: str) -> tuple[int, list[str], str]:
    """Start the run, wait for its last fault line, send the signal; (status, stdout, stderr)."""
    path = write(tmp_path, FOREVER)
    process = subprocess.Popen([*COWTUI, "--headless", *options, str(path)], cwd=REPO,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines = []
    try:
        for line in process.stdout:
            lines.append(line.rstrip("\n"))
            if LAST_FAULT in line:
                break
        process.send_signal(signum)
        rest, err = process.communicate(timeout=60)
    finally:
        process.kill()
    return process.returncode, lines + rest.splitlines(), err


@pytest.mark.parametrize("signum, status", [(signal.SIGINT, 130), (signal.SIGTERM, 143)],
                         ids=["SIGINT", "SIGTERM"])
def test_a_signal_ends_the_run_with_its_summary(tmp_path: Path, signum: int,
                                                status: int) -> None:
    code, lines, err = interrupt(tmp_path, signum)
    assert code == status
    assert "Traceback" not in err
    summary = lines[-1]
    assert summary.startswith("summary: instructions=")
    icount = int(summary.split()[1].split("=")[1])
    assert err == f"cowtui: interrupted at #{icount}\n"
    assert " end=interrupted expectations: FAIL (interrupted at #" in summary
    faults = [line for line in lines if line.startswith("fault #")]
    assert len(faults) == 3 and faults[-1].endswith(": made-writable")   # the partial trace


@pytest.mark.parametrize("engine", ["native", "fast"])
def test_an_interrupted_json_run_ends_with_its_summary_record(tmp_path: Path,
                                                              engine: str) -> None:
    """On the C core and on the Python engine (where a KeyboardInterrupt used
    to surface inside a trap)."""
    code, lines, err = interrupt(tmp_path, signal.SIGINT, "--json", "--engine", engine)
    assert code == 130
    summary = json.loads(lines[-1])
    assert summary["event"] == "summary"
    assert summary["end"] == "interrupted" and summary["passed"] is False
    assert err == f"cowtui: interrupted at #{summary['instructions']}\n"


def test_a_reader_that_goes_away_ends_the_run_quietly(tmp_path: Path) -> None:
    """`cowtui --headless --json ... | head -1`: far more trace than a pipe holds,
    and the reader gone after one line: exit 141 (as SIGPIPE), no traceback."""
    steps = "".join('  - {wait: "$ ", type: "cowstress\\n"}\n' for _ in range(12))
    path = write(tmp_path, f"name: much\nkernel: teaching\nconsole:\n{steps}"
                 "stop: {console: never printed, instructions: 100000000000}\n")
    process = subprocess.Popen([*COWTUI, "--headless", "--json", str(path)], cwd=REPO,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        first = process.stdout.readline()
        process.stdout.close()
        err = process.stderr.read()
        status = process.wait(timeout=120)
    finally:
        process.kill()
    assert json.loads(first)["event"] == "process_forked"
    assert (status, err) == (141, "")


@pytest.mark.parametrize("signum, status", [(signal.SIGINT, 130), (signal.SIGTERM, 143)],
                         ids=["SIGINT", "SIGTERM"])
def test_a_signal_before_the_run_is_one_line(tmp_path: Path, signum: int, status: int) -> None:
    """The scenario is a FIFO: cowtui waits in reading it until the signal comes."""
    fifo = tmp_path / "scenario.yaml"
    os.mkfifo(fifo)
    process = subprocess.Popen([*COWTUI, "--headless", str(fifo)], cwd=REPO,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    writer = None
    try:
        writer = os.open(fifo, os.O_WRONLY)   # returns once cowtui has opened it to read
        process.send_signal(signum)
        out, err = process.communicate(timeout=60)
    finally:
        if writer is not None:
            os.close(writer)
        process.kill()
    assert (process.returncode, out, err) == (status, "", "cowtui: interrupted\n")
