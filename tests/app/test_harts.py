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


def counting_harts_app(tmp_path: Path, harts: int) -> CowtuiApp:
    """The app on ``harts`` harts, each counting in a0 in a loop."""
    (tmp_path / "loop.elf").write_bytes(
        make_elf(assemble("loop: addi a0, a0, 1\nj loop", 0x80000000)))
    path = tmp_path / "harts.yaml"
    path.write_text(f"name: {harts}-harts\nkernel: loop.elf\nharts: {harts}\n"
                    "stop: {instructions: 1000000000000}\n")
    scenario = load_scenario(path)
    scenario.engine = APP_TEST_ENGINE
    return CowtuiApp(Session(scenario), stable=True)


async def test_the_cpu_pane_follows_the_hart_that_runs(tmp_path: Path) -> None:
    app = counting_harts_app(tmp_path, 2)
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


async def test_h_picks_the_hart_that_s_steps_and_the_status_bar_names_the_running_one(
        tmp_path: Path) -> None:
    """Three harts counting in a0 with the default quantum: h shows hart 1,
    then hart 2 (waiting for their turn); s steps hart 2 only; h again comes
    back round to hart 0."""
    from cowtui.widgets.status_bar import StatusBar

    app = counting_harts_app(tmp_path, 3)
    harts = app.session.machine.harts
    async with app.run_test(size=SIZE) as pilot:
        cpu, status = app.query_one(CpuView), app.query_one(StatusBar)
        assert " hart 0 " in status.plain()
        await pilot.press("h")
        assert cpu.plain().startswith(" hart 1  waits  M-mode")
        await pilot.press("h")
        assert cpu.plain().startswith(" hart 2  waits  M-mode")
        await pilot.press("s")
        assert cpu.plain().startswith(" hart 2  M-mode")   # it ran: it is the running one
        assert " hart 2 " in status.plain()
        assert [h.x[10] for h in harts] == [0, 1, 3]        # only hart 2's addi ran
        await pilot.press("h")
        assert cpu.plain().startswith(" hart 0  waits  M-mode")
        await pilot.press("h", "h")
        assert cpu.plain().startswith(" hart 2  M-mode")    # round to the running hart
        await pilot.press("s")
        assert [h.x[10] for h in harts] == [0, 1, 3]        # j loop: a0 unchanged
        assert cpu.plain().startswith(" hart 2  M-mode")    # hart 2 keeps its turn
