"""The teaching kernel built for 3 harts (kernel-smp.elf, -DNCPU=3): every
race-free scenario gives the same results on 1 and 3 harts, the processes
really run on every hart, the default number of harts is the kernel's, and a
3-hart run prints what QEMU's `-smp 3` prints."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from cowtui.scenario import ConsoleStep, Scenario, load_scenario
from cowtui.session import Session
from machine.events import TrapReturn
from machine.guest import SMP_KERNEL, bundled_disk, bundled_kernel
from machine.machine import Machine, MachineConfig
from machine.native import NativeEngine
from tests.guest.qemu_console import qemu_available, run_shell

REPO = Path(__file__).resolve().parents[2]
SCENARIOS = REPO / "scenarios"
# The shipped scenarios on the teaching kernel (the bug-zoo ones name their own kernel).
RACE_FREE = sorted(p.stem for p in SCENARIOS.glob("*.yaml")
                   if re.search(r"^kernel: teaching$", p.read_text(), re.MULTILINE))
ENGINE = "native" if NativeEngine is not None else "fast"
USER = 0


def on_the_smp_kernel(scenario: str, tmp_path: Path) -> Path:
    """The shipped scenario, with the teaching kernel built for 3 harts."""
    text = (SCENARIOS / f"{scenario}.yaml").read_text()
    copy = tmp_path / f"{scenario}.yaml"
    copy.write_text(re.sub(r"^kernel: teaching$", f"kernel: {SMP_KERNEL}", text, flags=re.MULTILINE))
    return copy


def headless(scenario: Path, *options: str) -> str:
    run = subprocess.run([sys.executable, "-m", "cowtui", "--headless", "--console",
                          "--engine", ENGINE, *options, str(scenario)],
                         capture_output=True, text=True, timeout=600, cwd=REPO, check=False)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    return run.stdout


def results(output: str) -> tuple[list[str], list[str], list[str], str]:
    """What must not depend on the harts: the console text, the faults (pid,
    address, pc, outcome; not their instruction numbers, order or the frame
    a copy got, which follow the schedule), the violations (not their
    numbers, harts or order) and the summary without its instruction count."""
    lines = output.splitlines()
    console = [line for line in lines
               if not line.startswith(("fault #", "summary:", "VIOLATION", "schedule:"))]
    faults = sorted(re.sub(r"frame 0x[0-9a-f]+", "frame",
                           re.sub(r"#\d+ (hart \d+ )?", "", line))   # a line's hart follows
                    for line in lines if line.startswith("fault #"))
    violations = sorted(re.sub(r"#\d+ (hart \d+ )?", "", line)
                        for line in lines if line.startswith("VIOLATION"))
    summary = re.sub(r"instructions=\d+ ", "", lines[-1])
    return console, faults, violations, summary


def test_on_3_harts_the_trace_names_its_schedule_and_each_line_its_hart(tmp_path: Path) -> None:
    three = headless(on_the_smp_kernel("forktree", tmp_path), "--harts", "3")
    lines = three.splitlines()
    assert lines[0] == "schedule: 3 harts, round-robin, quantum 10000 " \
        "(replay: --harts 3 --quantum 10000)"
    harts = {int(m[1]) for m in re.finditer(r"^fault #\d+ hart (\d) ", three, re.MULTILINE)}
    assert harts and harts <= {0, 1, 2}


def test_the_race_free_scenarios_are_those_on_the_teaching_kernel() -> None:
    assert {"default", "cowstress", "forktree", "pipecopy"} <= set(RACE_FREE)


@pytest.mark.parametrize("scenario", RACE_FREE)
def test_a_race_free_scenario_gives_the_same_results_on_1_and_3_harts(
        scenario: str, tmp_path: Path) -> None:
    path = on_the_smp_kernel(scenario, tmp_path)
    one, three = headless(path, "--harts", "1"), headless(path, "--harts", "3")
    assert "violations: none" in one.splitlines()[-1]
    assert "expectations: pass" in one.splitlines()[-1]
    assert results(three) == results(one)
    # Not the same run twice: on 3 harts time is shared out differently.
    assert re.search(r"instructions=\d+", three)[0] != re.search(r"instructions=\d+", one)[0]


@pytest.mark.skipif(shutil.which("riscv64-unknown-elf-gcc") is None,
                    reason="riscv64-unknown-elf-gcc not installed")
def test_a_bug_zoo_scenario_finds_the_same_on_the_smp_build_of_its_kernel(tmp_path: Path) -> None:
    # The double-free kernel built for 3 harts (-DNCPU=3 -DBUG_DOUBLE_FREE): the bug
    # is no race, so 1 and 3 harts see the same violations.
    subprocess.run(["make", "-s", "-C", str(REPO / "machine" / "guest"), "variant",
                    f"O={tmp_path}", "NAME=smp-double-free",
                    "CFLAGS_EXTRA=-DNCPU=3 -DBUG_DOUBLE_FREE"], check=True, capture_output=True)
    text = (SCENARIOS / "bug-double-free.yaml").read_text()
    path = tmp_path / "bug-double-free.yaml"
    path.write_text(re.sub(r"^kernel: double-free$", f"kernel: {tmp_path}/kernel-smp-double-free.elf"
                           f"\ndisk: {bundled_disk()}", text, flags=re.MULTILINE))
    one, three = headless(path, "--harts", "1"), headless(path, "--harts", "3")
    assert results(three) == results(one)
    assert "maps-free-frame" in one.splitlines()[-1]


def test_without_harts_the_smp_kernel_runs_on_the_3_it_was_built_for(tmp_path: Path) -> None:
    path = on_the_smp_kernel("forktree", tmp_path)
    assert headless(path) == headless(path, "--harts", "3") != headless(path, "--harts", "1")
    assert load_scenario(path).harts is None  # the scenario does not say: the kernel does


def harts_entering_user_mode(session: Session) -> set[int]:
    seen: set[int] = set()

    def note(event: TrapReturn) -> None:
        if event.to_privilege == USER:
            seen.add(session.machine.hart.hartid)
    session.machine.events.subscribe(TrapReturn, note)
    return seen


def test_the_smp_kernel_runs_processes_on_every_hart() -> None:
    scenario = load_scenario(SCENARIOS / "cowstress.yaml")
    scenario.kernel, scenario.engine = bundled_kernel(SMP_KERNEL), ENGINE
    session = Session(scenario)
    assert len(session.machine.harts) == 3
    seen = harts_entering_user_mode(session)
    assert session.run_to_end() == "stop"
    assert seen == {0, 1, 2}
    assert "cowstress: all frames returned" in session.machine.console_text()


def test_a_breakpoint_stops_whichever_hart_reaches_it() -> None:
    machine = Machine(MachineConfig(kernel=bundled_kernel(SMP_KERNEL), disk=bundled_disk(),
                                    harts=None, engine=ENGINE))
    machine.run(max_instructions=50_000_000, until=lambda: machine.console_text().endswith("$ "))
    machine.add_breakpoint(machine.symbol("cowfault"))
    start = len(machine.console_text())
    machine.feed_console(b"cowstress\n")
    stopped_on = []
    while not machine.console_text()[start:].endswith("$ ") and machine.icount < 100_000_000:
        if machine.run(max_instructions=100_000_000 - machine.icount).reason == "breakpoint":
            stopped_on.append(machine.hart.hartid)
            assert machine.hart.pc == machine.symbol("cowfault")
    assert "cowstress: all frames returned" in machine.console_text()
    assert len(stopped_on) >= 48 and set(stopped_on) - {0}  # not only hart 0's faults


def test_the_one_hart_kernel_still_runs_on_one_hart() -> None:
    session = Session(load_scenario(SCENARIOS / "forktree.yaml"))
    assert len(session.machine.harts) == 1


@pytest.mark.skipif(shutil.which("riscv64-unknown-elf-gcc") is None,
                    reason="riscv64-unknown-elf-gcc not installed")
def test_a_kernel_whose_ncpu_is_a_maximum_runs_on_one_hart_unless_told(tmp_path: Path) -> None:
    # xv6 declares cpus[NCPU] with NCPU = 8, the most it supports (machine/elf/harts.py)
    subprocess.run(["make", "-s", "-C", str(REPO / "machine" / "guest"), "variant",
                    f"O={tmp_path}", "NAME=ncpu8", "CFLAGS_EXTRA=-DNCPU=8"],
                   check=True, capture_output=True)
    kernel = tmp_path / "kernel-ncpu8.elf"
    assert len(Machine(MachineConfig(kernel=kernel, harts=None)).harts) == 1
    machine = Machine(MachineConfig(kernel=kernel, disk=bundled_disk(), harts=3, engine=ENGINE))
    machine.run(max_instructions=50_000_000, until=lambda: machine.console_text().endswith("$ "))
    assert machine.console_text().endswith("$ ")
    assert all(hart.retired() > 10_000 for hart in machine.harts)  # all three started


# Race-free programs whose output does not depend on the schedule (cowcheck
# is left out for its length: 12 M instructions on one hart).
QEMU_COMMANDS = ("cowdemo", "forkexec", "forktree", "pipecopy", "badaccess", "cowstress")
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\r")


@pytest.mark.qemu
@pytest.mark.skipif(not qemu_available(), reason="qemu-system-riscv64 not installed")
def test_a_3_hart_run_prints_what_qemu_smp_3_prints() -> None:
    kernel = bundled_kernel(SMP_KERNEL)
    reference = run_shell(kernel, *QEMU_COMMANDS, timeout=120, smp=3)
    assert reference.returncode is not None, reference.transcript[-2000:]
    steps = [ConsoleStep("$ ", c + "\n") for c in (*QEMU_COMMANDS, "halt")]
    session = Session(Scenario(name="smp", path=None, kernel=kernel, disk=bundled_disk(),
                               console=steps, harts=3, engine=ENGINE,
                               stop_instructions=400_000_000))
    seen = harts_entering_user_mode(session)
    assert session.run_to_end() == "exit"
    assert seen == {0, 1, 2}
    ours = _ANSI.sub("", session.machine.console_text())
    assert ours == _ANSI.sub("", reference.transcript)
    assert "cowstress: all frames returned" in ours
