"""The real command in a real (pseudo) terminal: a guest that never stops,
pause, quit, and the terminal is as it was."""

from __future__ import annotations

import fcntl
import os
import pty
import select
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


class Terminal:
    def __init__(self, args: list[str]) -> None:
        self.master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 160, 0, 0))
        self.before = termios.tcgetattr(slave)
        env = dict(os.environ, TERM="xterm-256color", COLUMNS="160", LINES="50")
        self.process = subprocess.Popen(args, stdin=slave, stdout=slave, stderr=slave,
                                        cwd=ROOT, env=env, start_new_session=True)
        self.slave = slave
        self.output = b""

    def read_until(self, text: bytes, timeout: float = 30) -> bool:
        """Read the screen stream until ``text`` shows up (False: timed out)."""
        end = time.monotonic() + timeout
        start = len(self.output)
        while time.monotonic() < end:
            ready, _, _ = select.select([self.master], [], [], 0.1)
            if ready:
                try:
                    self.output += os.read(self.master, 65536)
                except OSError:
                    return False
                if text in self.output[start:]:
                    return True
        return False

    def send(self, keys: bytes) -> None:
        os.write(self.master, keys)

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        os.close(self.master)
        os.close(self.slave)


def test_spinning_guest_pauses_and_quit_restores_the_terminal(loop_scenario):
    term = Terminal([sys.executable, "-m", "cowtui", str(loop_scenario)])
    try:
        assert term.read_until(b"PAUSED"), term.output[-2000:]
        term.send(b"c")
        assert term.read_until(b"RUNNING")
        term.send(b" ")
        assert term.read_until(b"PAUSED")
        term.send(b"c")
        assert term.read_until(b"RUNNING")
        term.send(b"q")                              # quit while the guest spins
        term.read_until(b"\x1b[?1049l", timeout=15)
        assert term.process.wait(timeout=15) == 0
        term.read_until(b"never", timeout=0.5)       # whatever is left to read
        tail = term.output[term.output.rfind(b"\x1b[?1049h"):]
        assert b"\x1b[?1049l" in tail                # the alternate screen is left
        assert b"\x1b[?25h" in tail                  # the cursor is shown again
        after = termios.tcgetattr(term.slave)
        assert after[3] & (termios.ICANON | termios.ECHO) == \
            term.before[3] & (termios.ICANON | termios.ECHO)   # cooked mode, echo back
    finally:
        term.close()
