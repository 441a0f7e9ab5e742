"""The app on several harts: the CPU pane names the hart whose turn it is."""

from __future__ import annotations

from pathlib import Path

from cowtui.app import CowtuiApp
from cowtui.scenario import load_scenario
from cowtui.session import Session
from cowtui.widgets.cpu import CpuView
from machine.isa.asm import assemble
from tests.support.mini_elf import make_elf

from .conftest import APP_TEST_ENGINE, SIZE


async def test_the_cpu_pane_follows_the_hart_that_runs(tmp_path: Path) -> None:
    (tmp_path / "loop.elf").write_bytes(
        make_elf(assemble("loop: addi a0, a0, 1\nj loop", 0x80000000)))
    path = tmp_path / "two.yaml"
    path.write_text("name: two-harts\nkernel: loop.elf\nharts: 2\n"
                    "stop: {instructions: 1000000000000}\n")
    scenario = load_scenario(path)
    scenario.engine = APP_TEST_ENGINE
    app = CowtuiApp(Session(scenario), stable=True)
    scheduler = app.session.machine.scheduler
    scheduler.quantum = scheduler.slice_left = 2   # a switch every other instruction
    async with app.run_test(size=SIZE) as pilot:
        cpu = app.query_one(CpuView)
        assert cpu.plain().startswith(" hart 0  M-mode")
        await pilot.press("s", "s")
        assert cpu.plain().startswith(" hart 1  M-mode")
        harts = app.session.machine.harts
        assert (harts[0].x[10], harts[1].x[10]) == (1, 1)   # a0: its hartid, plus its addis
        await pilot.press("s", "s")
        assert cpu.plain().startswith(" hart 0  M-mode")
        assert (harts[0].x[10], harts[1].x[10]) == (1, 2)
