"""Runs that cannot get anywhere stop at once with a line that says why."""

from __future__ import annotations

import io
import re
from pathlib import Path

from cowtui.headless import run_headless
from cowtui.scenario import DEFAULT_SCENARIO, load_scenario
from cowtui.session import Session
from machine.events import ConsoleOutput
from machine.guest import bundled_disk
from machine.isa.asm import assemble
from tests.support.mini_elf import make_elf

from .support import run_cowtui, write

# mtvec points at the load that faults: the same trap at the same pc forever
STORM = """
    auipc t0, 0
    addi t0, t0, 12
    csrw mtvec, t0
    ld a0, 0(zero)
"""


def test_a_fault_storm_stops_the_run(tmp_path: Path) -> None:
    (tmp_path / "storm.elf").write_bytes(make_elf(assemble(STORM, 0x80000000)))
    path = write(tmp_path, "name: storm\nkernel: storm.elf\nstop: {instructions: 10000000000}\n")
    result = run_cowtui("--headless", str(path))
    assert result.returncode == 1
    message = ("fault storm: 10,000 load access faults in a row at pc 0x8000000c (address 0x0); "
               "the kernel handles the fault without fixing it")
    assert result.stderr.splitlines()[-1] == f"cowtui: {message}"
    summary = result.stdout.splitlines()[-1]
    assert summary.startswith("summary: instructions=10003 ")
    assert summary.endswith(f" end=fault-storm expectations: FAIL ({message})")


RAM_64 = ("the kernel touched 0x84000000 at pc {pc}, past the end of RAM: {where} is 64 MiB "
          "(RAM ends at 0x84000000) but the kernel's PHYSTOP is above 0x84000000; give it the "
          "RAM its PHYSTOP says (xv6: 128 MiB)")


def test_ram_smaller_than_phystop_on_the_command_line() -> None:
    """The option reaches a scenario run, and the mismatch stops it at once."""
    result = run_cowtui("--headless", "--ram-mib", "64", "default")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    [line] = result.stderr.splitlines()
    pc = line.split(" at pc ")[1].split(", past")[0]
    assert re.fullmatch(r"0x[0-9a-f]+ \(kinit\+0x[0-9a-f]+\)", pc), pc  # freerange, inlined
    assert line == "cowtui: " + RAM_64.format(pc=pc, where="--ram-mib")
    assert result.stdout.splitlines()[-1].startswith("summary: instructions=")
    assert " end=ram-mismatch " in result.stdout


def test_ram_smaller_than_phystop_in_a_scenario(tmp_path: Path) -> None:
    path = write(tmp_path, "name: x\nkernel: teaching\nram_mib: 64\n")
    result = run_cowtui("--headless", "--json", str(path))
    assert result.returncode == 2
    [line] = result.stderr.splitlines()
    assert f"{path}:3: ram_mib is 64 MiB (RAM ends at 0x84000000)" in line, line




def test_ram_larger_than_phystop() -> None:
    """The teaching kernel's PHYSTOP is 128 MiB: with 256 the top half is never freed."""
    result = run_cowtui("--headless", "--ram-mib", "256", "default")
    assert result.returncode == 2
    assert result.stderr.splitlines() == [(
        "cowtui: --ram-mib is 256 MiB (RAM ends at 0x90000000) but the kernel frees frames only "
        "up to 0x87fb6000: its PHYSTOP is about 128 MiB; give it that RAM")]
    assert " end=ram-mismatch " in result.stdout.splitlines()[-1]


def test_a_run_that_never_reaches_its_stop_text_fails(tmp_path: Path) -> None:
    """The budget runs out before the stop text: no violation seen is no pass."""
    path = write(tmp_path, "name: short\nkernel: teaching\nconsole:\n"
                 "  - {wait: \"$ \", type: \"cowdemo\\n\"}\n"
                 "stop: {console: never printed, instructions: 5000000}\n"
                 "expect: {violations: []}\n")
    result = run_cowtui("--headless", str(path))
    assert result.returncode == 1
    assert result.stdout.splitlines()[-1].endswith(
        " end=budget expectations: FAIL (the run reaches its stop text (it ended: budget))")


def test_a_disk_image_rebuilt_during_the_run_stops_it(tmp_path: Path) -> None:
    """The disk is read on demand: when `make` rewrites fs.img in place while the
    kernel still reads it, the run stops with one line instead of the kernel
    reading a mix of two file systems."""
    disk = tmp_path / "fs.img"
    disk.write_bytes(bundled_disk().read_bytes())
    scenario = write(tmp_path, DEFAULT_SCENARIO.read_text().replace(
        "kernel: teaching", f"kernel: teaching\ndisk: {disk}"))
    session = Session(load_scenario(scenario))

    def rebuild_at_the_prompt(event: ConsoleOutput) -> None:
        if session.machine.console_text().endswith("$ "):   # booted; cowdemo is yet to be read
            disk.write_bytes(bundled_disk().read_bytes() + bytes(1024))
            session.machine.events.unsubscribe(ConsoleOutput, rebuild_at_the_prompt)

    session.machine.events.subscribe(ConsoleOutput, rebuild_at_the_prompt)
    out, err = io.StringIO(), io.StringIO()
    assert run_headless(session, False, False, out, err) == 2
    message = err.getvalue().splitlines()[-1]
    assert message.startswith(f"cowtui: {disk}: the disk image changed on the host during the run")
    summary = out.getvalue().splitlines()[-1]
    assert f" end=host-error expectations: FAIL ({message.removeprefix('cowtui: ')};" in summary
