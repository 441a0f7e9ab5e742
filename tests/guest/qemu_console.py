"""Run a scripted console session on a guest kernel under QEMU.

A session boots a kernel with the command line xv6 students use (`make qemu`,
one hart), then follows a script: wait until some text appears on the
console, type something, wait for the next text, and so on. It returns the
whole console transcript. The guest tests use it to check the teaching
kernel's behaviour; the emulator-vs-QEMU differential tests use it as the
reference transcript for the same script run on cowtui's Machine.

The disk image is copied first, so the caller's image is never modified.
Nothing here sleeps for a fixed time: every wait is for console text, the
process's exit, or the timeout.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
GUEST = REPO / "machine" / "guest"
PREBUILT = GUEST / "prebuilt"
QEMU = "qemu-system-riscv64"
PROMPT = "$ "
PANIC = "panic: "


def qemu_available() -> bool:
    return shutil.which(QEMU) is not None


def qemu_command(kernel: Path, disk: Path, ram_mib: int = 128, smp: int = 1) -> list[str]:
    """QEMU's command line for `kernel` with `disk` as the virtio block device
    (on `smp` harts)."""
    return [
        QEMU,
        "-machine",
        "virt",
        "-bios",
        "none",
        "-kernel",
        str(kernel),
        "-m",
        f"{ram_mib}M",
        "-smp",
        str(smp),
        "-nographic",
        "-global",
        "virtio-mmio.force-legacy=false",
        "-drive",
        f"file={disk},if=none,format=raw,id=x0",
        "-device",
        "virtio-blk-device,drive=x0,bus=virtio-mmio-bus.0",
    ]


@dataclass(frozen=True)
class Step:
    """Wait until `wait` appears (after the previous step's match), then type `send`."""

    wait: str
    send: str | None = None


@dataclass
class Session:
    transcript: str
    returncode: (
        int | None
    )  # QEMU's exit status (the guest's finisher code); None if stopped
    stopped_on: str | None = None  # the stop text that ended the run, if any
    timed_out: bool = False
    stderr: str = field(default="", repr=False)

    @property
    def panicked(self) -> bool:
        return PANIC in self.transcript


class ConsoleTimeout(AssertionError):
    """A step's text did not appear in time; the message holds the transcript."""


class _Console:
    """QEMU's stdout collected by a thread; waits are on a condition variable."""

    def __init__(self, proc: subprocess.Popen[bytes]) -> None:
        self.proc = proc
        self.data = bytearray()
        self.eof = False
        self.cond = threading.Condition()
        self.thread = threading.Thread(target=self._pump, daemon=True)
        self.thread.start()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        while chunk := self.proc.stdout.read1(4096):
            with self.cond:
                self.data += chunk
                self.cond.notify_all()
        with self.cond:
            self.eof = True
            self.cond.notify_all()

    def text(self) -> str:
        with self.cond:
            return self.data.decode("utf-8", "replace")

    def wait_for(
        self, want: list[str], start: int, deadline: float
    ) -> tuple[str, int] | None:
        """First of `want` found at or after `start`: (text, end offset), or None."""
        with self.cond:
            while True:
                text = self.data.decode("utf-8", "replace")
                hits = [(i, w) for w in want if (i := text.find(w, start)) >= 0]
                if hits:
                    i, w = min(hits)
                    return w, i + len(w)
                remaining = deadline - time.monotonic()
                if self.eof or remaining <= 0:
                    return None
                self.cond.wait(remaining)

    def wait_line_end(self, start: int, deadline: float) -> None:
        self.wait_for(["\n"], start, deadline)


def run_console(
    kernel: Path | str,
    disk: Path | str | None = None,
    steps: Sequence[Step] = (),
    *,
    stop_on: tuple[str, ...] = (PANIC,),
    timeout: float = 60.0,
    ram_mib: int = 128,
    smp: int = 1,
) -> Session:
    """Boot `kernel` under QEMU, follow `steps`, and return the transcript.

    The run ends when QEMU exits (the guest powered off), or when a `stop_on`
    text appears (its line is completed, then QEMU is killed: a kernel panic
    by default), or after `timeout` seconds in all. A step whose text does not
    appear raises ConsoleTimeout unless a stop text appeared first.
    """
    deadline = time.monotonic() + timeout
    with tempfile.TemporaryDirectory(prefix="cowtui-qemu-") as tmp:
        disk_copy = Path(tmp) / "fs.img"
        shutil.copyfile(disk if disk is not None else PREBUILT / "fs.img", disk_copy)
        proc = subprocess.Popen(
            qemu_command(Path(kernel), disk_copy, ram_mib, smp),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        console = _Console(proc)
        stopped_on = None
        timed_out = False
        try:
            pos = 0
            for step in steps:
                hit = console.wait_for([step.wait, *stop_on], pos, deadline)
                if hit is None:
                    raise ConsoleTimeout(
                        f"waiting for {step.wait!r}: no such console output within "
                        f"{timeout:.0f} s; transcript:\n{console.text()}"
                    )
                text, pos = hit
                if text != step.wait:
                    stopped_on = text
                    console.wait_line_end(pos, deadline)
                    break
                if step.send is not None:
                    assert proc.stdin is not None
                    proc.stdin.write(step.send.encode())
                    proc.stdin.flush()
            if stopped_on is None:
                # until QEMU exits, a stop text appears, or time runs out
                hit = console.wait_for(list(stop_on), pos, deadline)
                if hit is not None:
                    stopped_on = hit[0]
                    console.wait_line_end(hit[1], deadline)
                elif not console.eof:
                    timed_out = True
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
            console.thread.join(timeout=5)
            stderr = (
                proc.stderr.read().decode("utf-8", "replace") if proc.stderr else ""
            )
            for f in (proc.stdin, proc.stdout, proc.stderr):
                if f:
                    f.close()
    returncode = proc.returncode if stopped_on is None and not timed_out else None
    return Session(console.text(), returncode, stopped_on, timed_out, stderr)


def shell_script(*commands: str, halt: bool = True) -> list[Step]:
    """Steps that type each command at the `$ ` prompt, then `halt` to power off."""
    steps = [Step(PROMPT, command + "\n") for command in commands]
    if halt:
        steps.append(Step(PROMPT, "halt\n"))
    return steps


def run_shell(
    kernel: Path | str,
    *commands: str,
    disk: Path | str | None = None,
    timeout: float = 60.0,
    smp: int = 1,
) -> Session:
    """Boot, run `commands` at the shell one after another, then halt."""
    return run_console(kernel, disk, shell_script(*commands), timeout=timeout, smp=smp)
