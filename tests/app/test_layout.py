"""Pilot tests of the layout at 80x24, 120x40 and 200x55, the console, the
help screen and the keys a new user tries first."""

from __future__ import annotations

import pytest

from cowtui.layout import PANES
from cowtui.widgets.breakpoint_list import BreakpointList
from cowtui.widgets.console import PENDING_NOTE, ConsoleView
from cowtui.widgets.help import HelpScreen, key_name
from cowtui.widgets.status_bar import StatusBar

from .conftest import finish_run, make_app, run_until
from .test_keys import text_of


def shown(app, pane_id: str) -> bool:
    widget = app.query_one(f"#{pane_id}")
    region = widget.region
    return widget.display and region.width > 0 and region.height > 0 and \
        app.screen.region.contains_region(region)


def footer_fits(app) -> None:
    keys = list(app.screen.query("FooterKey"))
    assert keys
    width = app.screen.region.width
    for key in keys:
        assert key.region.right <= width, (key.key, key.region, width)


@pytest.mark.parametrize("size", [(120, 40), (200, 55)])
async def test_every_pane_is_on_screen_and_wide_enough(size):
    app = make_app()
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        for pane in PANES:
            assert shown(app, pane.id), pane.id
        # the widths each needs: the page table's columns, the registers
        assert app.query_one("#page-table").region.width >= 56
        assert app.query_one("#cpu").region.width >= 46
        assert app.query_one("#console").region.width >= 46
        assert app.query_one("#processes").region.width >= 50
        footer_fits(app)


async def test_at_80x24_one_pane_at_a_time_each_one_key_away():
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        strip = app.query_one("#pane-strip").plain()
        for pane in PANES:
            assert f"{pane.key} {pane.title}" in strip
        footer_fits(app)
        for pane in PANES:
            await pilot.press(pane.key)
            await pilot.pause()
            assert [p.id for p in PANES if shown(app, p.id)] == [pane.id]
            assert app.focused is not None and \
                (app.focused.id == pane.id or pane.id in [a.id for a in app.focused.ancestors])
            if pane.id == "console":
                await pilot.press("escape")      # the console keeps keys: Esc leaves it
        # Tab never moves the focus somewhere hidden
        await pilot.press("3")
        for _ in range(3):
            await pilot.press("tab")
            await pilot.pause()
            assert app.focused is not None and app.focused.region.width > 0
            assert shown(app, app.shown_pane)


async def test_below_80x24_a_message_says_how_big():
    app = make_app()
    async with app.run_test(size=(70, 20)) as pilot:
        await pilot.pause()
        message = app.query_one("#too-small")
        assert message.display
        assert "terminal too small (need 80x24, have 70x20)" in text_of(message.content)
        assert not app.query_one("#main").display


async def test_console_wraps_echoes_while_paused_and_says_how_to_leave():
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("c")                  # to the scenario's end (the shell prompt)
        await finish_run(pilot)
        console = app.query_one(ConsoleView)
        width = console.scrollable_content_region.width
        verdict = next(line for line in console.lines if "wrote" in line)
        assert len(verdict) > width               # longer than the pane: it wraps
        rows = console.screen_rows()
        assert all(len(row) < width for row in rows)
        assert verdict in "".join(rows)

        await pilot.press("6")                  # one key to the console
        assert app.focused is console
        await pilot.pause()
        footer = {k.key: k.description for k in app.screen.query("FooterKey")}
        assert footer.get("escape") == "Leave console" and "s" not in footer
        assert "Esc leaves" in console.border_title
        await pilot.press(*"echo hi", "enter")  # paused: queued, and shown marked
        assert console.pending == "echo hi⏎" and console.border_subtitle == PENDING_NOTE
        assert console.screen_rows()[-1].endswith("$ echo hi⏎")
        assert app.session.machine.icount == app.view_state.icount   # nothing ran
        await pilot.press("escape")
        assert app.focused is not console
        await pilot.press("c")                  # the guest reads it and echoes it itself
        assert console.pending == "" and console.border_subtitle == ""
        await run_until(pilot, lambda: "hi" in console.lines)
        await pilot.press("ctrl+c")
        await finish_run(pilot)
        assert "$ echo hi" in console.lines


async def test_help_lists_every_key_and_resolve_without_a_fault_says_so():
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        lines = text_of(app.screen.query_one("#help-table").content, 200).splitlines()
        for binding in app.BINDINGS:               # one line each: key, name, what it does
            assert any(line.split()[:1] == [key_name(binding.key)] and binding.description
                       in line and binding.tooltip in line for line in lines), binding.key
        text = "\n".join(lines)
        assert "Leave" in text and "Enable/disable" in text
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)

        await pilot.press("r")                  # no fault open: told, nothing runs
        await pilot.pause()
        assert not app.running and app.session.machine.icount == 0
        assert any("no page fault is being handled" in n.message for n in app._notifications)


async def test_to_fork_on_a_guest_without_forks_says_none_came(loop_scenario):
    from cowtui.app import CowtuiApp
    from cowtui.scenario import load_scenario
    from cowtui.session import Session

    app = CowtuiApp(Session(load_scenario(loop_scenario)), stable=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("k")
        await run_until(pilot, lambda: app.session.machine.icount > 100_000)
        await pilot.press("ctrl+c")
        await finish_run(pilot)
        assert app.last_stop.message.startswith("no fork yet: paused at #")
        assert "no fork yet" in app.query_one(StatusBar).plain()


async def test_step_over_finish_and_the_breakpoint_list():
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        m = app.session.machine
        await pilot.press("b", *"cowfault", "enter")
        await pilot.press("c")
        await finish_run(pilot)
        assert app.last_stop.reason == "breakpoint" and m.symbol_at(m.pc) == "cowfault"
        stack = app.query_one("#stack").plain().splitlines()   # the call-stack pane
        file, line = m.source_line(m.pc)        # the function's first line, as DWARF says
        assert stack[0] == f"#0  cowfault  {file}:{line}" and file == "kernel/cow.c"
        assert stack[1].startswith("#1  usertrap+") and "kernel/trap.c:" in stack[1]
        sp = m.registers()[2]
        await pilot.press(*"s" * 10)            # past the prologue: ra is on the stack now
        assert m.registers()[2] < sp and m.symbol_at(m.pc).startswith("cowfault+")

        await pilot.press("o")                  # finish: back in the caller, after the call
        await finish_run(pilot)
        assert app.last_stop.reason == "goal", app.last_stop
        assert app.last_stop.message.startswith("finish: at usertrap")
        assert m.registers()[2] >= sp and m.symbol_at(m.pc).startswith("usertrap+")
        stack = app.query_one("#stack").plain().splitlines()
        assert stack[0].startswith("#0  usertrap+") and "kernel/trap.c:" in stack[0]

        from cowtui.stepping import fetch, is_call
        for _ in range(200):                    # step to the next call
            if is_call(fetch(m, m.pc)):
                break
            await pilot.press("s")
        call_pc, before = m.pc, m.icount
        length = fetch(m, m.pc).length
        await pilot.press("n")                  # over it: the whole call runs
        await finish_run(pilot)
        assert m.pc == call_pc + length and m.icount > before + 1, app.last_stop

        address = m.symbol("cowfault")
        await pilot.press("B")                  # the list: cowfault, enabled
        assert isinstance(app.screen, BreakpointList)
        options = app.screen.query_one("OptionList")
        line = options.get_option_at_index(0).prompt.plain
        assert line.startswith("[x]") and "cowfault" in line and f"{address:#018x}" in line
        await pilot.press("space")              # disable: kept in the list, not in the machine
        assert options.get_option_at_index(0).prompt.plain.startswith("[ ]")
        assert address not in m.hart.breakpoints and address in app.breakpoints
        await pilot.press("space")
        assert address in m.hart.breakpoints
        await pilot.press("d")                  # remove
        assert options.option_count == 0 and address not in app.breakpoints
        assert "no breakpoints" in text_of(app.screen.query_one("#breakpoint-empty").content)
        await pilot.press("a")                  # add: the breakpoint prompt
        await pilot.press(*"kalloc", "enter")
        assert m.symbol("kalloc") in app.breakpoints.enabled


async def test_cpu_pane_shows_whole_addresses_and_names_the_trampoline():
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("f")                  # the fault traps to uservec, in the trampoline
        await finish_run(pilot)
        cpu = app.query_one("#cpu")
        lines = cpu.plain().splitlines()
        assert "pc 0x3ffffff000" in lines[0]
        assert lines[1] == "trampoline (uservec)"     # on a line of its own: never cut
        assert len(lines[1]) < cpu.scrollable_content_region.width
        assert any(line.startswith(" >3ffffff000  csrrw") for line in lines)
        assert any(line.startswith("  3ffffff004") for line in lines)
