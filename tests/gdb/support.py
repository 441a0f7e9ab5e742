"""A real ``cowtui --headless --gdb`` process, and what it says on stderr;
a real gdb-multiarch in batch mode against it."""

from __future__ import annotations

import queue
import re
import shutil
import signal
import subprocess
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.cli.support import COWTUI, REPO

KERNEL = REPO / "machine" / "guest" / "prebuilt" / "kernel.elf"
LISTENING = re.compile(r"waiting for a client on ([\d.]+):(\d+)")


class CowtuiGdb:
    """``cowtui --headless --gdb 127.0.0.1:0 SCENARIO``: the OS picks a free
    port and cowtui names it on stderr."""

    def __init__(self, *args: str, scenario: str = "default") -> None:
        self.process = subprocess.Popen(
            [*COWTUI, "--headless", "--gdb", "127.0.0.1:0", *args, scenario], cwd=REPO,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.lines: queue.Queue[str] = queue.Queue()
        self.stderr: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()
        match = LISTENING.search(self.wait_for("waiting for a client"))
        assert match, self.stderr
        self.port = int(match.group(2))

    def _read(self) -> None:
        for line in self.process.stderr:
            self.lines.put(line.rstrip("\n"))
        self.lines.put("")  # end of stream

    def wait_for(self, text: str, timeout: float = 120) -> str:
        """The next stderr line containing ``text`` (AssertionError at the end of stderr)."""
        while True:
            line = self.lines.get(timeout=timeout)
            self.stderr.append(line)
            if text in line:
                return line
            assert line or self.process.poll() is None, \
                f"cowtui ended before saying {text!r}:\n" + "\n".join(self.stderr)

    def finish(self, timeout: float = 120) -> tuple[int, str]:
        """Wait for the exit: (status, stdout)."""
        out = self.process.stdout.read()
        self.process.wait(timeout=timeout)
        return self.process.returncode, out

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def write_commands(tmp_path: Path, commands: str) -> Path:
    path = tmp_path / "commands.gdb"
    path.write_text(commands)
    return path


GDB = shutil.which("gdb-multiarch")
needs_gdb = pytest.mark.skipif(GDB is None, reason="gdb-multiarch is not installed "
                               "(apt-get install gdb-multiarch)")


class GdbBatch:
    """``gdb-multiarch -batch -nx -x SCRIPT KERNEL``: its output (stdout and
    stderr together) read line by line, so a test can wait for a moment and
    press Ctrl-C there as a user would."""

    def __init__(self, tmp_path: Path, script: str) -> None:
        commands = write_commands(tmp_path, script)
        self.process = subprocess.Popen([GDB, "-batch", "-nx", "-x", str(commands), str(KERNEL)],
                                        cwd=tmp_path, stdin=subprocess.DEVNULL,
                                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                        text=True)
        self.lines: list[str] = []

    def read_until(self, done: Callable[[list[str]], bool]) -> list[str]:
        """Lines up to the one after which ``done(lines so far)`` holds (or the end)."""
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))
            if done(self.lines):
                break
        return self.lines

    def interrupt(self) -> None:
        self.process.send_signal(signal.SIGINT)

    def finish(self, timeout: float = 300) -> str:
        """Wait for gdb to end: everything it printed."""
        try:
            rest, _ = self.process.communicate(timeout=timeout)
        finally:
            self.kill()
        self.lines += rest.splitlines()
        return "\n".join(self.lines)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def run_gdb(tmp_path: Path, script: str, timeout: float = 300) -> str:
    """The whole gdb script run to its end: everything gdb printed."""
    return GdbBatch(tmp_path, script).finish(timeout)
