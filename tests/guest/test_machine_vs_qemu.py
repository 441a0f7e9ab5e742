"""The same kernel, disk and console script give the same transcript on QEMU
(the oracle) and on cowtui's Machine."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from cowtui.scenario import ConsoleStep, Scenario
from cowtui.session import Session
from machine.guest import bundled_disk, bundled_kernel

from .qemu_console import qemu_available, run_shell

COMMANDS = ("cowdemo", "forkexec", "pipecopy", "badaccess", "cowcheck")
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\r")


def normalise(text: str) -> str:
    return _ANSI.sub("", text)


def machine_transcript(kernel: Path, commands: tuple[str, ...]) -> str:
    steps = [ConsoleStep("$ ", c + "\n") for c in commands] + [ConsoleStep("$ ", "halt\n")]
    scenario = Scenario(name="diff", path=None, kernel=kernel, disk=bundled_disk(),
                        console=steps, stop_instructions=400_000_000)
    session = Session(scenario)
    end = session.run_to_end()
    assert end == "exit", end
    return session.machine.console_text()


@pytest.mark.qemu
@pytest.mark.skipif(not qemu_available(), reason="qemu-system-riscv64 not installed")
@pytest.mark.parametrize("variant", [None, "copyout-ignores-cow", "text-becomes-writable"])
def test_console_transcript_matches_qemu(variant: str | None) -> None:
    kernel = bundled_kernel(variant)
    reference = run_shell(kernel, *COMMANDS, timeout=120)
    assert reference.returncode is not None, reference.transcript[-2000:]
    ours = machine_transcript(kernel, COMMANDS)
    assert normalise(ours) == normalise(reference.transcript)
    if variant is None:
        assert "cowcheck: ALL PASSED" in ours
