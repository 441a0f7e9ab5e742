"""The multi-hart bug zoo (machine/guest SMP_BUG_ZOO): refcount races in kfree
between harts, with cowrace (fs-smp.img) as the workload.

A race shows only in some schedules. Here the schedule is directed: every
EVERY-th time a hart reaches the bug's race window (a line of
kernel/kalloc.c), its turn ends there, and the other harts run before it goes
on. The kernel's own words are the verdict (cowrace's frame count, a
panic), not cowtui's invariant checks. The correct kernel-smp, preempted the
same way inside its locked kfree, passes; on one hart every zoo kernel
passes."""

from __future__ import annotations

from pathlib import Path

import pytest

from cowtui.scenario import load_scenario
from machine.guest import PREBUILT, SMP_BUG_ZOO, SMP_KERNEL, bundled_kernel
from machine.machine import Machine, MachineConfig
from machine.native import NativeEngine

KALLOC = Path(__file__).resolve().parents[2] / "machine" / "guest" / "kernel" / "kalloc.c"
DATA = Path(__file__).parent / "data"
ENGINE = "native" if NativeEngine is not None else "fast"
PASSED = "cowrace: 3 workers x 40 forks: all frames returned"

# The first line of each kernel's race window, found by its text in kalloc.c.
WINDOWS = {
    # between the unlocked load of the count and its store
    "smp-refcount-unlocked": ("#ifdef BUG_REFCOUNT_UNLOCKED", "  refcnt[FRAME(pa)] = left;"),
    # between the locked decrement and the locked test for zero
    "smp-free-check-then-act": ("#ifdef BUG_FREE_CHECK_THEN_ACT",
                                ("  acquire(&kmem.lock);\n  if (refcnt[FRAME(pa)] == 0)")),
    # the control: the correct kfree's decrement, with kmem.lock held
    SMP_KERNEL: ("void KFREE(void *pa)", "  if (--refcnt[FRAME(pa)] == 0) {"),
}


def window_line(kernel: str) -> int:
    """kalloc.c's line number of the window's text (after its block's start)."""
    source = KALLOC.read_text()
    block, text = WINDOWS[kernel]
    return source[:source.index(text, source.index(block))].count("\n") + 1


def cowrace(kernel: str, harts: int, every: int | None = None) -> str:
    """Boot, run cowrace to the next prompt; with ``every``, preempt a hart at
    every every-th arrival at the race window. Returns cowrace's output."""
    machine = Machine(MachineConfig(kernel=bundled_kernel(kernel), disk=PREBUILT / "fs-smp.img",
                                    harts=harts, engine=ENGINE))
    machine.run(max_instructions=50_000_000, until=lambda: machine.console_text().endswith("$ "))
    start = len(machine.console_text())
    if every is not None:
        window = machine.kernel.address_of_line("kernel/kalloc.c", window_line(kernel))
        assert window is not None
        for hart in machine.harts:
            hart.set_breakpoint(window)
    machine.feed_console(b"cowrace\n")

    def output() -> str:
        return machine.console_text()[start:]

    def done() -> bool:
        return output().endswith("$ ") or "panic: " in output()
    arrivals = 0
    while not done() and machine.icount < 200_000_000:
        result = machine.run(max_instructions=200_000_000 - machine.icount, until=done)
        if result.reason != "breakpoint":
            break
        arrivals += 1
        if arrivals % every == 0:
            machine.scheduler.slice_left = 0  # its turn ends inside the window
    assert every is None or arrivals > 100, arrivals  # the window is on cowrace's path
    return output()


@pytest.mark.parametrize("kernel", [SMP_KERNEL, *SMP_BUG_ZOO])
def test_on_one_hart_cowrace_passes_on_every_zoo_kernel(kernel: str) -> None:
    assert PASSED in cowrace(kernel, harts=1)


@pytest.mark.parametrize("every", [7, 40])
@pytest.mark.parametrize("kernel", list(SMP_BUG_ZOO))
def test_a_schedule_preempting_inside_the_window_breaks_the_kernel(kernel: str,
                                                                   every: int) -> None:
    output = cowrace(kernel, harts=3, every=every)
    assert PASSED not in output
    assert "panic: " in output or "cowrace: FAIL" in output, output


@pytest.mark.parametrize("every", [7, 40])
def test_the_same_schedule_leaves_the_correct_kernel_alone(every: int) -> None:
    assert PASSED in cowrace(SMP_KERNEL, harts=3, every=every)


@pytest.mark.parametrize("name", ["smp-cowrace", *SMP_BUG_ZOO])
def test_the_zoo_scenarios_load_and_run_on_3_harts(name: str) -> None:
    scenario = load_scenario(DATA / f"{name}.yaml")
    assert scenario.disk == PREBUILT / "fs-smp.img"
    assert scenario.harts is None  # the kernel's 3
    assert scenario.expect_console == [PASSED]
