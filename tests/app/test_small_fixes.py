"""The issue's "Smaller" list, driven by keys: 'g' on a missing pid or a
non-Sv39 address, 'e' into a missing directory, exports without wall-clock
figures, aligned PTE-history columns, one instruction-count format."""

from __future__ import annotations

from dataclasses import dataclass

from cowtui.app import CowtuiApp
from cowtui.scenario import BUNDLED_DIR, load_scenario
from cowtui.session import Session
from cowtui.widgets.faults import FaultTable
from cowtui.widgets.pte_inspector import change_text
from cowtui.widgets.pte_list import PteList
from cowtui.widgets.status_bar import StatusBar
from machine.introspect.events import PageFault

from .conftest import APP_TEST_ENGINE, finish_run, make_app


def messages(app) -> list[str]:
    return [n.message for n in app._notifications]


async def test_goto_says_which_pid_is_missing_and_what_is_not_sv39():
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("f")
        await finish_run(pilot)
        await pilot.press("g", *"0x1000 99", "enter")
        await pilot.pause()
        assert "no process with pid 99" in messages(app)
        await pilot.press("g", *"0xffff000000000000ffff", "enter")     # 80 bits
        await pilot.pause()
        assert any("is not a valid Sv39 address" in m for m in messages(app))
        await pilot.press("g", *"0x4000000000", "enter")              # bit 38 not copied
        await pilot.pause()
        assert any(m.startswith("0x4000000000 is not a valid Sv39") for m in messages(app))
        await pilot.press("g", *"0x3000 3", "enter")                  # still works
        await pilot.pause()
        assert app.selected_pid == 3


async def test_export_refuses_a_missing_directory_and_repeats_itself_exactly(tmp_path):
    scenario = load_scenario(BUNDLED_DIR / "default.yaml")
    scenario.engine = APP_TEST_ENGINE
    app = CowtuiApp(Session(scenario))      # not stable: MIPS is on screen while running
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("f")
        await finish_run(pilot)
        assert app.runner.mips is not None
        missing = tmp_path / "no" / "such"
        await pilot.press("e", "backspace", *str(missing), "enter")
        await pilot.pause()
        assert f"export failed: no such directory: {missing}" in messages(app)
        assert not (tmp_path / "no").exists()
        svgs = []
        for name in ("one", "two"):
            (tmp_path / name).mkdir()
            await pilot.press("e", "backspace", *str(tmp_path / name), "enter")
            await pilot.pause()
            svgs.append(next((tmp_path / name).glob("*.svg")).read_text())
        assert svgs[0] == svgs[1]
        assert "--&#160;MIPS" in svgs[0] or "-- MIPS" in svgs[0]
        assert f"#{app.session.machine.icount:,}" in app.query_one(StatusBar).plain()   # commas
        fault = app.session.trace[-1] if isinstance(app.session.trace[-1], PageFault) else \
            next(e for e in reversed(app.session.trace) if isinstance(e, PageFault))
        faults = app.query_one(FaultTable)
        assert str(faults.get_row(str(fault.icount))[0]) == f"{fault.icount:,}"   # and here


@dataclass
class Change:
    icount: int
    pc: int
    where: str
    old: int
    new: int
    source: str


def test_pte_history_columns_line_up_at_ten_and_more_digits():
    lines = [change_text(Change(n, pc, where, 0x1f, 0x11f, "kernel/vm.c:1"), 8).plain
             for n, pc, where in ((7, 0x1a, "?"), (8_270_726_867, 0x80001234, "uvmcopy+0x2c"),
                                  (99_270_726_867, 0x3ffffff000,
                                   "trampoline+0x1c (uservec) and on"))]
    for column in ("pc ", "->", "kernel/vm.c"):
        assert len({line.index(column) for line in lines}) == 1, (column, lines)


def contrast(a, b) -> float:
    def luminance(c) -> float:
        linear = [v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4
                  for v in (x / 255 for x in c)]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


async def test_clear_flag_dashes_stay_visible_on_the_highlighted_row():
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("f")
        await finish_run(pilot)
        pte_list = app.query_one(PteList)
        pte_list.focus()
        await pilot.press("down")               # the cursor on the first PTE
        y = pte_list.highlighted - pte_list.scroll_offset.y
        dashes = [s for s in pte_list.render_line(y) if s.text == "-"]
        assert dashes                           # VR-XU-A-: clear bits on this row
        for segment in dashes:                  # the row's own colour, dimmed
            style = segment.style
            assert style.dim and contrast(style.color.get_truecolor(),
                                          style.bgcolor.get_truecolor()) >= 3


async def test_first_start_hint_is_whole_at_80_columns():
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        status = app.query_one(StatusBar)
        line = status.plain()
        assert app.stop_message.startswith("paused at reset: c runs")
        assert app.stop_message in line and len(line) <= 80, line   # the speed gave way
        assert "MIPS" not in line and line.startswith(" PAUSED  #0")
    app = make_app()
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.pause()
        assert "-- MIPS  no process  cowdemo  paused at reset" in app.query_one(StatusBar).plain()
