"""A real ``cowtui --headless --gdb`` process, and what it says on stderr."""

from __future__ import annotations

import queue
import re
import subprocess
import threading
from pathlib import Path

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
