"""Pilot tests of time travel: the backward keys, Enter on a fault, the
inspector's history and 'go to the write', go to #N, and a scenario that
opens the app at an instruction. Each asserts what the panes show at the
moment returned to."""

from __future__ import annotations

from pathlib import Path

from cowtui.app import CowtuiApp
from cowtui.scenario import load_scenario
from cowtui.session import Session
from cowtui.widgets.faults import FaultTable
from cowtui.widgets.pte_inspector import PteInspector
from cowtui.widgets.pte_list import PteList
from cowtui.widgets.status_bar import StatusBar
from machine.introspect.events import PageFault

from .conftest import APP_TEST_ENGINE, SIZE, finish_run, make_app
from .test_keys import cells, history_of, pte_line

FIRST_FAULT = 1_716_484   # cowdemo's child writes its data page (the default scenario)


async def test_back_keys_pair_the_forward_ones():
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        status = app.query_one(StatusBar)
        faults = app.query_one(FaultTable)
        await pilot.press("f")
        await finish_run(pilot)
        forward = app.session.machine.icount
        assert forward == FIRST_FAULT + 1
        await pilot.press("r")                      # resolved: the child has its own copy
        await finish_run(pilot)
        assert "VRW-U-AD" in pte_line(app, 4, 0x3000)
        assert cells(faults, str(FIRST_FAULT))[4].startswith("copied")

        await pilot.press("F")                      # back to that fault
        await finish_run(pilot)
        assert app.session.machine.icount == forward
        assert f"#{FIRST_FAULT:,}" in status.plain() and "PAUSED" in status.plain()
        assert faults.row_count == 1 and cells(faults, str(FIRST_FAULT))[4] == "handling..."
        line = pte_line(app, 4, 0x3000)             # shared again: COW, refcount 2
        assert "VR--U-AD COW" in line and line.rstrip().endswith("2")

        await pilot.press("ctrl+s")                 # one instruction back: before the trap
        await finish_run(pilot)
        assert app.session.machine.icount == FIRST_FAULT
        assert "stepped back to #1,716,484" in status.plain()
        assert faults.row_count == 0
        assert app.view_state.cpu.privilege == 0    # the faulting store, in U-mode
        await pilot.press("s")                      # and forward again: the same trap
        assert app.session.machine.icount == forward and faults.row_count == 1

        await pilot.press("K")                      # back to cowdemo's fork
        await finish_run(pilot)
        assert "ProcessForked" in app.last_stop.message and "pid 3 -> pid 4" in \
            app.last_stop.message
        assert faults.row_count == 0 and "4" in app.query_one("#processes").rows
        await pilot.press("F")                      # nothing earlier: refused, nothing moves
        await finish_run(pilot)
        assert "no fault before" in status.plain()
        await pilot.press("M")                      # the previous mode switch
        await finish_run(pilot)
        assert "mode switch" in status.plain()


async def test_enter_on_a_fault_goes_there():
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("c")                      # to the scenario's end
        await finish_run(pilot)
        assert app.last_stop.reason == "scenario-end"
        faults = app.query_one(FaultTable)
        assert faults.row_count == 3
        first = next(e for e in app.session.trace if isinstance(e, PageFault))
        faults.focus()
        faults.move_cursor(row=0)
        await pilot.press("enter")
        await finish_run(pilot)
        assert app.session.machine.icount == first.icount + 1
        assert faults.row_count == 1 and cells(faults, str(first.icount))[4] == "handling..."
        assert "VR--U-AD COW" in pte_line(app, 4, 0x3000)
        console = app.query_one("#console")
        assert "cowdemo: ok" not in "\n".join(console.lines)   # printed later
        await pilot.press("c")                      # on again: the same end
        await finish_run(pilot)
        assert app.last_stop.reason == "scenario-end" and faults.row_count == 3
        assert "cowdemo: ok" in "\n".join(console.lines)


async def test_inspector_history_and_go_to_the_write():
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f", "r")
        await finish_run(pilot)
        await pilot.press("r")
        await finish_run(pilot)
        app.inspect(4, 0x3000)
        await pilot.pause()
        assert isinstance(app.screen, PteInspector)
        copy = app.screen.details.history[-1]       # the fault's copy made it writable
        await pilot.press("w")                      # go to that write
        await finish_run(pilot)
        assert not isinstance(app.screen, PteInspector)
        assert app.session.machine.icount == copy.icount + 1
        assert f"{copy.pc:#x}" in app.last_stop.message and "changed at" in \
            app.last_stop.message
        assert "VRW-U-AD" in pte_line(app, 4, 0x3000)
        await pilot.press("ctrl+s")                 # just before it: still the shared page
        await finish_run(pilot)
        assert "COW" in pte_line(app, 4, 0x3000)

        app.inspect(3, 0x3000)                      # the parent: fork set COW on it
        await pilot.pause()
        assert "uvmcopy" in history_of(app.screen)
        changes = app.screen.query_one("#inspector-history")
        fork_change = next(i for i, c in enumerate(app.screen.details.history)
                           if c.where and "uvmcopy" in c.where)
        icount = app.screen.details.history[fork_change].icount
        changes.focus()
        changes.highlighted = fork_change
        await pilot.press("enter")
        await finish_run(pilot)
        assert app.session.machine.icount == icount + 1
        assert "COW" in pte_line(app, 3, 0x3000)


async def test_go_to_an_instruction_and_the_keys_are_offered():
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("number_sign", *"#1,716,485", "enter")   # ahead: runs there
        await finish_run(pilot)
        assert app.session.machine.icount == FIRST_FAULT + 1
        assert app.query_one(FaultTable).row_count == 1
        await pilot.press("number_sign", *"1000", "enter")         # back
        await finish_run(pilot)
        assert app.session.machine.icount == 1000
        assert app.query_one(FaultTable).row_count == 0
        footer = {key for key, active in app.active_bindings.items() if active.binding.show}
        assert "ctrl+s" in footer       # the others in the palette and help: 80 columns
        commands = [c.title for c in app.get_system_commands(app.screen)]
        for title in ("Back (ctrl+s)", "Fault back (F)", "Fork back (K)", "Mode back (M)",
                      "Break back (C)", "Write (w)", "Go to # (#)"):
            assert title in commands


async def test_a_scenario_can_open_the_app_at_an_instruction(tmp_path: Path):
    scenario = tmp_path / "at.yaml"
    scenario.write_text("name: at-the-fault\nkernel: teaching\n"
                        "console:\n  - {wait: \"$ \", type: \"cowdemo\\n\"}\n"
                        f"stop: {{at: {FIRST_FAULT + 1}}}\n")
    loaded = load_scenario(scenario)
    loaded.engine = APP_TEST_ENGINE
    app = CowtuiApp(Session(loaded, warm=True), stable=True)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await finish_run(pilot)
        assert app.session.machine.icount == FIRST_FAULT + 1
        assert "where the scenario stops" in app.query_one(StatusBar).plain()
        assert app.query_one(FaultTable).row_count == 1
        assert isinstance(app.query_one(PteList), PteList)


async def test_go_to_the_write_behind_a_violation():
    app = make_app("bug-text-becomes-writable")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("c")
        await finish_run(pilot)
        violation = app.last_stop.violation
        assert violation is not None and violation.ptes
        await pilot.press("w")                      # the store that set COW on the text page
        await finish_run(pilot)
        assert app.session.machine.icount <= violation.icount + 1   # the write broke the rule
        assert "uvmcopy" in app.last_stop.message and "changed at" in app.last_stop.message
        assert "called from fork (kernel/proc.c:" in app.last_stop.message   # who called it
        pid, va = violation.ptes[0]
        assert "COW" in pte_line(app, pid, va)
        await pilot.press("ctrl+s")                 # one before: the PTE not yet COW
        await finish_run(pilot)
        assert "COW" not in pte_line(app, pid, va)
        await pilot.press("V")                      # and no violation before it
        await finish_run(pilot)
        assert "no violation before" in app.query_one(StatusBar).plain()
