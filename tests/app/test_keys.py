"""Pilot tests: every key of the app, clicking a PTE, what the panes show."""

from __future__ import annotations

import asyncio
import io
import json

from rich.console import Console

from cowtui.widgets.console import ConsoleView
from cowtui.widgets.cpu import CpuView
from cowtui.widgets.faults import FaultTable
from cowtui.widgets.frame_grid import LABEL, FrameGrid
from cowtui.widgets.processes import ProcessTable
from cowtui.widgets.pte_inspector import PteInspector
from cowtui.widgets.pte_list import PteList, option_id
from cowtui.widgets.status_bar import StatusBar
from machine.introspect.events import PageFault
from machine.introspect.pte import PTE_W, has_cow
from machine.introspect.rules import MISTAKES, RULES

from .conftest import SIZE, finish_run, make_app, run_until


def text_of(renderable, width: int = 120) -> str:
    console = Console(width=width, record=True, file=io.StringIO())
    console.print(renderable)
    return console.export_text()


def history_of(inspector) -> str:
    """The inspector's history list, one line per change."""
    changes = inspector.query_one("#inspector-history")
    return "\n".join(changes.get_option_at_index(i).prompt.plain
                     for i in range(changes.option_count))


def pte_line(app, pid: int, va: int) -> str:
    return app.query_one(PteList).get_option(option_id(pid, va)).prompt.plain


def cells(table, key: str) -> list[str]:
    return [str(getattr(c, "plain", c)) for c in table.get_row(key)]


async def test_fault_resolve_inspect_and_run_until_the_pte_changes():
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        status = app.query_one(StatusBar)
        assert "PAUSED" in status.plain() and "#0" in status.plain()

        await pilot.press("f")                      # run to the first page fault
        await finish_run(pilot)
        assert app.last_stop.reason == "goal"
        assert "page fault: pid 4 va 0x3f78" in status.plain()
        processes = app.query_one(ProcessTable)
        assert [cells(processes, str(pid))[1] for pid in (1, 2, 3, 4)] == \
            ["init", "sh", "cowdemo", "cowdemo"]
        assert cells(processes, "4")[0] == ">4"     # on the CPU
        assert cells(processes, "4")[4] == "1"      # one fault
        assert app.selected_pid == 4
        faults = app.query_one(FaultTable)
        assert faults.row_count == 1
        fault = next(e for e in app.session.trace if isinstance(e, PageFault))
        row = cells(faults, str(fault.icount))
        assert row[1:4] == ["4", "store", "0x3f78"] and row[4] == "handling..."
        # the child's data page: shared with the parent, W clear, COW set, refcount 2
        line = pte_line(app, 4, 0x3000)
        assert "VR--U-AD COW" in line and line.rstrip().endswith("2")
        # text stays read-only and not COW
        assert "VR-XU-A-" in pte_line(app, 4, 0x0) and "COW" not in pte_line(app, 4, 0x0)

        await pilot.press("r")                      # until that fault is resolved
        await finish_run(pilot)
        assert "resolved: copied" in status.plain()
        assert cells(faults, str(fault.icount))[4].startswith("copied 87f")
        line = pte_line(app, 4, 0x3000)
        assert line.startswith("* ") and "VRW-U-AD" in line and "COW" not in line
        assert line.rstrip().endswith("1")

        # click a PTE: the inspector opens on it
        pte_list = app.query_one(PteList)
        index = pte_list.get_option_index(option_id(4, 0x3000))
        pte_list.scroll_to(y=0, animate=False)
        await pilot.pause()
        await pilot.click(PteList, offset=(4, index))
        await pilot.pause()
        inspector = app.screen
        assert isinstance(inspector, PteInspector)
        d = inspector.details
        assert (d.pid, d.va, d.refcount) == (4, 0x3000, 1)
        assert not has_cow(d.pte) and d.pte & PTE_W
        assert [pid for pid, _, _ in d.sharers] == [4]
        summary = text_of(inspector.query_one("#inspector-summary").content)
        assert f"PTE {d.pte:#018x}" in summary and "refcount 1" in summary
        bits = text_of(inspector.query_one("#inspector-bits").content)
        assert "PPN" in bits and "dirty" in bits and "COW: clear" in bits
        sharers = text_of(inspector.query_one("#inspector-sharers").content)
        assert "pid 4" in sharers and "<- this PTE" in sharers
        # the copy replaced the PTE: the change, its pc, function and source line
        change = d.history[-1]
        assert change.new == d.pte and has_cow(change.old) and not change.old & PTE_W
        history = history_of(inspector)
        assert f"#{change.icount:<14,}" in history and f"pc {change.pc:#012x}" in history
        assert change.where.split("+")[0] in history and change.source in history
        assert "VR--U-AD COW" in history and "VRW-U-AD" in history
        await pilot.press("escape")
        # the parent's PTE for the same page: its history shows fork setting COW
        app.inspect(3, 0x3000)
        await pilot.pause()
        parent = app.screen.details
        assert any(has_cow(c.new) and c.old & PTE_W and not has_cow(c.old)
                   for c in parent.history)
        assert "uvmcopy" in history_of(app.screen)

        await pilot.press("u")                      # run until this PTE changes
        await finish_run(pilot)
        assert not isinstance(app.screen, PteInspector)
        assert app.last_stop.reason == "goal"
        assert "pid 3 va 0x3000: PTE" in app.last_stop.message


async def test_step_mode_fork_breakpoint_goto_and_export(tmp_path):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        cpu = app.query_one(CpuView)
        assert cpu.plain().startswith(" M-mode")
        await pilot.press("s")                      # one instruction
        assert app.session.machine.icount == 1
        assert "stepped to #1" in app.query_one(StatusBar).plain()
        assert ">" in cpu.plain()

        await pilot.press("S")                      # to the other privilege mode
        await finish_run(pilot)
        assert "M-mode -> S-mode" in app.last_stop.message
        assert cpu.plain().startswith(" S-mode")

        await pilot.press("k")                      # to the next fork: the first process
        await finish_run(pilot)
        assert app.last_stop.message == "fork: pid 0 -> pid 1 (init)"
        await pilot.press("k")                      # init forks the shell
        await finish_run(pilot)
        assert app.last_stop.message.startswith("fork: pid 1 -> pid 2")
        assert "2" in app.query_one(ProcessTable).rows

        await pilot.press("b")                      # a breakpoint at a symbol
        await pilot.press(*"cowfault", "enter")
        address = app.session.machine.symbol("cowfault")
        assert address in app.breakpoints
        await pilot.press("c")
        await finish_run(pilot)
        assert app.last_stop.reason == "breakpoint"
        assert app.session.machine.pc == address
        assert "<cowfault>" in cpu.plain() and "b>" in cpu.plain()
        await pilot.press("b", *"cowfault", "enter")   # the same again clears it
        assert address not in app.breakpoints

        await pilot.press("g", *"0x1f80", "enter")     # go to a VA (inside page 0x1000)
        pte_list = app.query_one(PteList)
        assert pte_list.highlighted_option.id == option_id(app.selected_pid, 0x1000)
        assert app.focused is pte_list

        await pilot.press("i")                          # inspect the highlighted PTE
        assert isinstance(app.screen, PteInspector) and app.screen.details.va == 0x1000
        await pilot.press("escape")
        assert not isinstance(app.screen, PteInspector)

        await pilot.press("e", "backspace", *str(tmp_path), "enter")   # export to tmp_path
        await pilot.pause()
        files = sorted(p.name for p in tmp_path.iterdir())
        stem = f"cowtui-cowdemo-{app.session.machine.icount}"
        assert files == [f"{stem}-pid{app.selected_pid}.vmprint.txt", f"{stem}-trace.jsonl",
                         f"{stem}.svg"]
        vm = (tmp_path / files[0]).read_text()
        assert vm.startswith("page table 0x") and " ..0x0000000000001000: pte " in vm
        events = [json.loads(line)["event"] for line in (tmp_path / files[1]).open()]
        assert "process_forked" in events and "page_fault" in events
        assert (tmp_path / files[2]).read_text().startswith("<svg")


async def test_frames_heat_map_shows_refcounts_on_hover():
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f")
        await finish_run(pilot)
        grid = app.query_one(FrameGrid)
        shared = app.view_state.spaces[4].leaf(0x3000).frame
        assert app.view_state.frames.refcount(shared) == 2
        row = grid.row_of(shared)
        index = grid.frames.index(shared)
        grid.scroll_to(y=row, animate=False)
        await pilot.pause()
        column, y = index - grid.rows[row][1], row - grid.scroll_offset.y
        assert grid.frame_at(LABEL + column, y) == shared
        await pilot.hover(FrameGrid, offset=(LABEL + column, y))
        await pilot.pause()
        detail = app.query_one("#frames-detail").content.plain
        assert f"frame {shared:#x}" in detail and "user" in detail and "refcount 2" in detail
        assert "pid 3 va 0x3000" in detail and "pid 4 va 0x3000" in detail
        await pilot.click(FrameGrid, offset=(LABEL + column, y))   # click: its PTE
        await pilot.pause()
        assert app.query_one(PteList).highlighted_option.id == option_id(app.selected_pid,
                                                                         0x3000)
        await pilot.press("z")                      # unfold the free frames
        assert not grid.compact and len(grid.rows) == len(grid.frames.kinds) // grid.per_row


async def test_console_typing_goes_to_the_guest():
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("c")                      # to the scenario's end (the prompt)
        await finish_run(pilot)
        assert app.last_stop.reason == "scenario-end"
        assert "expectations hold" in app.last_stop.message
        console = app.query_one(ConsoleView)
        assert any("cowdemo: ok" in line for line in console.lines)
        await pilot.click(ConsoleView)
        assert app.focused is console
        await pilot.press(*"echo moo", "enter")     # typed keys go to the guest, q and c too
        await pilot.press("escape")                 # leaves the console
        assert app.focused is not console
        await pilot.press("c")                      # no budget in the app: it runs on
        await run_until(pilot, lambda: "moo" in console.lines)
        await pilot.press("ctrl+c")                 # ctrl+c pauses, it does not quit
        await finish_run(pilot)
        assert app.last_stop.reason == "paused" and app.is_running
        assert "$ echo moo" in console.lines and "moo" in console.lines


async def test_violation_banner_jumps_to_the_pte_and_frame():
    app = make_app("bug-text-becomes-writable")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("c")
        await finish_run(pilot)
        assert app.last_stop.reason == "violation"
        banner = app.query_one("#banner")
        assert banner.display
        text = banner.content.plain
        assert "[cow-on-readonly] pid 1 va 0x0" in text
        assert RULES["cow-on-readonly"] in text and "uvmcopy" in text
        # blamed at the store, with the usual mistake, the call stack and the source line
        assert MISTAKES["cow-on-readonly"] in text
        assert "the kernel stored at instruction" in text
        assert "stored at uvmcopy+0x" in text and "← fork (kernel/proc.c:" in text
        assert "kernel/cow.c:" in text and ": *pte = PA2PTE(pa) | flags;" in text
        assert "STOPPED" in app.query_one(StatusBar).plain()
        # the view jumped: process, PTE, frame
        assert app.selected_pid == 1
        assert app.query_one(PteList).highlighted_option.id == option_id(1, 0x0)
        frame = app.last_stop.violation.frames[0]
        grid = app.query_one(FrameGrid)
        assert grid.frames.index(frame) in grid.marked
        assert app.query_one("#frames-detail").content.plain.startswith(f"frame {frame:#x}")
        await pilot.press("i")                      # inspect the PTE involved
        inspector = app.screen
        assert isinstance(inspector, PteInspector)
        assert (inspector.details.pid, inspector.details.va) == (1, 0)
        assert "VR-XU-A- COW" in text_of(inspector.query_one("#inspector-summary").content)
        await pilot.press("escape", "escape")       # inspector, then the banner
        assert not banner.display


async def test_a_guest_that_never_stops_pauses_and_quits(loop_scenario):
    from cowtui.app import CowtuiApp
    from cowtui.scenario import load_scenario
    from cowtui.session import Session

    app = CowtuiApp(Session(load_scenario(loop_scenario)), stable=True)
    async with app.run_test(size=SIZE) as pilot:
        assert app.problems_notice and "no process table" in app.problems_notice
        toasts = [n.message for n in app._notifications]
        assert any(t.startswith("no process table") and "not checked: refcount-mismatch" in t
                   for t in toasts), toasts
        assert "13 rules off" in app.query_one(StatusBar).plain()   # in view for the whole run
        await pilot.press("c")
        for _ in range(1000):                       # poll until a view state arrived mid-run
            await asyncio.sleep(0.01)               # (pilot.pause waits for an idle CPU)
            if app.view_state.running and app.view_state.icount > 100_000:
                break
        assert app.running and app.view_state.running
        assert "RUNNING" in app.query_one(StatusBar).plain()
        await pilot.press("space")
        await finish_run(pilot)
        assert app.last_stop.reason == "paused"
        stopped_at = app.session.machine.icount
        await pilot.press("s")                      # panes still work without xv6
        assert app.session.machine.icount == stopped_at + 1
        await pilot.press("c")
        await pilot.pause()
        assert app.running
        await pilot.press("q")                      # quit while running
    assert not app.is_running
    assert all(worker.is_finished for worker in app.workers)


async def test_every_key_has_an_id_and_is_in_the_footer_and_palette():
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        for b in app.BINDINGS:
            assert b.id and b.id.startswith("cowtui."), b.key
            assert b.description and b.tooltip, b.key
        footer = {k.key for k in app.query("FooterKey")}
        assert footer == {"s", "n", "o", "f", "c", "ctrl+c", "ctrl+s", "v", "question_mark", "q"}
        palette = [command.title for command in app.get_system_commands(app.screen)]
        for title in ("Step (s)", "Over (n)", "Out (o)", "To mode switch (S)", "Fault (f)",
                      "To resolved (r)", "To fork (k)", "Continue (c)", "Pause (ctrl+c)",
                      "Break (b)", "Breakpoints (B)", "Go to VA (g)", "Export (e)", "Quit"):
            assert title in palette, title
