"""The cowtui Textual app: panes, keys, and the machine on a worker thread.

Threading: exactly one thread drives the machine at a time. While a run is
under way that is the worker (``_run_worker``), which hands the UI coalesced
view states (the latest replaces any not yet shown; at most 20 a second) and a
final one when it stops. While paused, the UI thread steps the machine and
reads it directly, which keeps a single step cheap.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path
from typing import ClassVar

from textual import events, work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer, Static
from textual.worker import get_current_worker

from machine.elf import ElfImage
from machine.introspect.events import Violation
from machine.introspect.pte import pte_frame
from machine.isa.disasm import disassemble
from machine.mmu import is_canonical_sv39

from .breakpoints import Breakpoints
from .coverage import Gap, rules_off
from .export import export_all
from .hart_actions import HART_BINDING, HartActions
from .history import PteHistory
from .layout import (
    HORIZONTAL_BREAKPOINTS,
    MEDIUM,
    PANE_BY_ID,
    PANES,
    VERTICAL_BREAKPOINTS,
    pane_strip,
    too_small,
)
from .pte_details import pte_details
from .runner import Goal, Runner, Stop
from .session import Session
from .stepping import finish, step_over
from .timetravel_app import TIME_TRAVEL_BINDINGS, TimeTravelActions
from .view_state import ViewState, ViewStateBuilder
from .widgets.banner import ViolationBanner
from .widgets.breakpoint_list import BreakpointList
from .widgets.call_stack import CallStackView
from .widgets.console import ConsoleView
from .widgets.cow_screen import CowScreen
from .widgets.cpu import CpuView
from .widgets.faults import FaultTable
from .widgets.frame_grid import FrameGrid
from .widgets.frames import FramesPane
from .widgets.help import HelpScreen, key_name
from .widgets.lines_view import LinesView
from .widgets.page_table import PageTablePane
from .widgets.processes import ProcessTable
from .widgets.prompt import Prompt
from .widgets.pte_inspector import PteInspector
from .widgets.pte_list import PteList
from .widgets.status_bar import StatusBar
from .widgets.timeline import Timeline


class ViewStateReady(Message):
    """The worker left a newer view state in ``app._latest`` (carries nothing,
    so a slow UI skips straight to the newest)."""


class RunEnded(Message):
    def __init__(self, stop: Stop, view_state: ViewState) -> None:
        super().__init__()
        self.stop, self.view_state = stop, view_state


def _key(key: str, action: str, description: str, tooltip: str, show: bool = True) -> Binding:
    return Binding(key, action, description, show=show, tooltip=tooltip,
                   id=f"cowtui.{action.replace('_', '-')}")


# the keys that run or step the machine (the rest look at it)
RUN_ACTIONS = {"step", "step_over", "step_out", "step_mode", "to_fault", "to_resolved", "to_fork",
               "continue_run", "pause", "breakpoint", "breakpoints", "next_hart"}


class CowtuiApp(TimeTravelActions, HartActions, App):
    CSS_PATH = "app.tcss"
    TITLE = "cowtui"
    HORIZONTAL_BREAKPOINTS = HORIZONTAL_BREAKPOINTS
    VERTICAL_BREAKPOINTS = VERTICAL_BREAKPOINTS
    # Every key of the app, in one table: (key, action, name, what it does, in
    # the footer?). The help screen (?) and the command palette list them all.
    BINDINGS: ClassVar[list[BindingType]] = [
        _key("s", "step", "Step", "Execute one instruction"),
        _key("n", "step_over", "Over",
             "Step over: one instruction, or past a whole call (to the instruction after it)"),
        _key("o", "step_out", "Out", "Finish: run until the current function returns"),
        _key("S", "step_mode", "To mode switch",
             "Run to the next instruction in the other privilege mode (enter or leave the "
             "kernel)", show=False),
        _key("f", "to_fault", "Fault", "Run to the next page fault"),
        _key("r", "to_resolved", "To resolved",
             "Run until the page fault being handled is resolved", show=False),
        _key("k", "to_fork", "To fork", "Run to the next fork", show=False),
        _key("c", "continue_run", "Continue",
             "Run until you pause, or a breakpoint, goal or violation stops it"),
        Binding("ctrl+c", "pause", "Pause", priority=True, tooltip="Pause the running machine",
                id="cowtui.pause"),
        _key("space", "pause", "Pause", "Pause the running machine", show=False),
        _key("v", "cow_view", "COW view",
             "The selected process's pages beside its parent's and children's: shared or "
             "copied frames, W, COW, refcounts, and the bytes of both frames"),
        _key("b", "breakpoint", "Break", "Set or clear a breakpoint at a symbol or address",
             show=False),
        _key("B", "breakpoints", "Breakpoints",
             "List the breakpoints: enable, disable or remove them", show=False),
        _key("g", "goto_va", "Go to VA", "Show the PTE that maps a virtual address", show=False),
        _key("i", "inspect", "Inspect", "Open the PTE inspector on the highlighted PTE",
             show=False),
        _key("e", "export", "Export",
             "Save an SVG screenshot, vmprint of the selected process and the trace as JSON",
             show=False),
        _key("z", "compact", "Fold free", "Fold runs of free frames in the heat map", show=False),
        *(Binding(pane.key, f"show_pane('{pane.id}')", pane.title, show=False,
                  tooltip=f"Show and focus the {pane.title.lower()} pane",
                  id=f"cowtui.pane-{pane.id}") for pane in PANES),
        _key("escape", "dismiss_banner", "Dismiss", "Hide the violation banner", show=False),
        # the backward pairs of the keys above (timetravel_app.py); of them only 'Back'
        # in the footer, which must fit 80 columns
        *(replace(b, show=b.action == "step_back") for b in TIME_TRAVEL_BINDINGS),
        HART_BINDING,
        _key("question_mark", "help", "Help", "Every key, one line each"),
        _key("q", "quit", "Quit", "Quit cowtui (also ctrl+q)"),
    ]

    SLOW_PANES_SECONDS = 0.5     # the tall panes' pace while running

    def __init__(self, session: Session, stable: bool = False, gdb=None) -> None:
        """``stable``: no wall-clock figures on screen (tests, screenshots);
        ``gdb``: a GdbServer to serve while the app runs (cowtui --gdb)."""
        super().__init__()
        self.session = session
        self.stable = stable
        self.history = PteHistory(session.machine.events)
        self.runner = Runner(session, self.history)
        self.builder = ViewStateBuilder(session, self.history)
        self.setup_time_travel()
        self.cow_bit = session.view.cow_bit
        self.view_state: ViewState | None = None
        self._latest: ViewState | None = None
        self._posted = False
        self.running = False
        self.goal: Goal | None = None
        self.selected_pid: int | None = None
        self.before_registers: tuple[int, ...] | None = None
        where = "at the shell prompt (boot snapshot)" if session.restored_boot else "at reset"
        self.stop_message = f"paused {where}: c runs, s steps, f runs to the next page fault"
        self.breakpoints = Breakpoints(session.machine, session.breakpoint_addresses)
        self.runner.user_breakpoints = self.breakpoints.enabled   # the same set, kept in step
        self.last_stop: Stop | None = None
        self.violations: list[Violation] = []
        self._slow_shown = 0.0
        self.problems_notice = ""       # what KernelView could not find, as told on start
        self.gaps_told: list[Gap] = []  # what this run cannot check, each told once
        self.shown_pane = "page-table"  # the one pane on screen in the narrow layout
        self._exporting = False         # an export's screenshot is being taken
        self.gdb_link = None
        if gdb is not None:
            from .gdbstub.app_link import GdbAppLink
            self.gdb_link = GdbAppLink(self, gdb)

    # --- layout ------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield ViolationBanner(id="banner")
        yield LinesView(id="pane-strip")
        yield Static(id="too-small")
        with Horizontal(id="main"):
            with Vertical(id="left", classes="column"):
                yield ProcessTable(id="processes", classes="pane")
                yield FaultTable(id="faults", classes="pane")
                yield CallStackView(id="stack", classes="pane")
            with Vertical(id="middle", classes="column"):
                yield PageTablePane(id="page-table", classes="pane")
                yield FramesPane(id="frames", classes="pane")
            with Vertical(id="right", classes="column"):
                yield CpuView(id="cpu", classes="pane")
                yield ConsoleView(id="console", classes="pane")
        yield Timeline(self.timeline_marks, id="timeline")   # t shows it (timetravel_app.py)
        yield StatusBar(id="status")
        yield Footer(show_command_palette=False, id="footer")

    def on_mount(self) -> None:
        for pane in PANES:
            self.query_one(f"#{pane.id}").border_title = f"{pane.key} {pane.title}"
        self.query_one("#console").border_title = "6 Console (6 to type, Esc leaves)"
        self.query_one(PageTablePane).title_prefix = "3 "
        self.show_pane(self.shown_pane, focus=False)
        self.apply(self.builder.build(running=False))
        problems = self.session.view.problems
        if problems:
            self.problems_notice = "\n".join(problems)
            self.notify(self.problems_notice, title="Not found in this kernel (the rest works)",
                        severity="warning", timeout=30)
            if self.session.view.procs is None:
                self.query_one(ProcessTable).border_subtitle = "no process table found"
        self.tell_rules_off()
        self.open_at_stop_instruction()
        if self.session.restored_boot:
            self.notify("restored the boot snapshot: resumed at the shell prompt "
                        "(--cold boots from scratch)", title="Warm start", timeout=8)
        if self.session.snapshot_notice:
            self.notify(self.session.snapshot_notice, severity="warning", timeout=10)
        if self.gdb_link is not None:
            self.gdb_link.start()

    # --- panes: one key each; in the narrow layout only the chosen one is shown -------------
    def show_pane(self, pane_id: str, focus: bool = True) -> None:
        self.shown_pane = pane_id
        for pane in PANES:
            self.query_one(f"#{pane.id}").set_class(pane.id == pane_id, "-active")
        column = PANE_BY_ID[pane_id].column
        for node in self.query(".column"):
            node.set_class(node.id == column, "-holds-active")
        self.query_one("#pane-strip", LinesView).set_lines([pane_strip(pane_id)])
        if focus:
            target = self.query_one(f"#{pane_id}")
            if target.can_focus:
                target.focus()
            else:
                next((w for w in target.query("*") if w.can_focus and w.display), target).focus()

    def action_show_pane(self, pane_id: str) -> None:
        self.show_pane(pane_id)

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        # Tab (or a click) into a pane makes it the shown one, so focus is never hidden.
        node: Widget | None = event.widget
        while node is not None and node.id not in PANE_BY_ID:
            node = node.parent if isinstance(node.parent, Widget) else None
        if node is not None and node.id != self.shown_pane:
            self.show_pane(node.id, focus=False)

    def on_resize(self, event: events.Resize) -> None:
        message = too_small(event.size.width, event.size.height)
        self.query_one("#too-small", Static).update(message or "")
        # below the medium layout the footer's keys lose their padding to fit
        self.query_one("#footer", Footer).compact = event.size.width < MEDIUM

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        seen = {"quit"}             # the palette has its own Quit
        for binding in self.BINDINGS:
            if isinstance(binding, Binding) and binding.action not in seen:
                seen.add(binding.action)
                yield SystemCommand(f"{binding.description} ({key_name(binding.key)})",
                                    binding.tooltip,
                                    lambda action=binding.action: self.run_action(action))

    # --- showing a view state -------------------------------------------------------------------
    def apply(self, snap: ViewState) -> None:
        self.view_state = snap
        now = time.monotonic()
        # While running, the tall panes (processes, page table, CPU) follow at
        # a slower pace: repainting a tall pane repaints every pane beside it,
        # and registers that change 20 times a second tell nobody anything.
        slow = not snap.running or now - self._slow_shown >= self.SLOW_PANES_SECONDS
        if slow:
            self._slow_shown = now
            pids = [p.pid for p in snap.processes]
            if self.selected_pid not in pids:
                self.selected_pid = snap.current_pid if snap.current_pid in pids else \
                    (pids[0] if pids else None)
            table = self.query_one(ProcessTable)
            table.show(snap.processes, snap.current_pid)
            table.select(self.selected_pid)
            self.show_page_table()
            self.query_one(CpuView).show(snap.cpu, self.before_registers,
                                         self.breakpoints.enabled)
            self.query_one(CallStackView).show(snap.stack)
            self.tell_rules_off()
        self.query_one(FramesPane).show(snap.frames, self.cow_bit, totals=slow)
        self.query_one(FaultTable).add_events(self.session.trace, snap.trace_len)
        self.query_one(Timeline).show(snap.icount)
        console = self.query_one(ConsoleView)
        if snap.console_len > console.consumed:
            console.add_output(bytes(self.session.machine.console[console.consumed:
                                                                  snap.console_len]))
        self.show_status()

    def tell_rules_off(self) -> None:
        """No false pass in the app either: each rule this run cannot check is
        said once, as it becomes known, and the status bar keeps them in view."""
        for gap in self.session.gaps():
            if gap not in self.gaps_told:
                self.gaps_told.append(gap)
                self.notify(f"{gap.reason}\nnot checked: {', '.join(gap.rules)}",
                            title="Rules off on this kernel", severity="warning", timeout=30)

    def show_page_table(self) -> None:
        if self.view_state is not None:
            space = self.view_state.spaces.get(self.selected_pid) \
                if self.selected_pid is not None else None
            self.query_one(PageTablePane).show(space, self.cow_bit)

    def show_status(self) -> None:
        snap = self.view_state
        if snap is None:
            return
        if self.running:
            state = "IDLE" if snap.idle else "RUNNING"
            detail = "the guest waits for console input" if snap.idle else \
                (self.goal.describe() if self.goal else self.stop_message)  # no goal: travel
        else:
            state = "STOPPED" if self.last_stop and self.last_stop.reason in (
                "violation", "exit", "reset", "error") else "PAUSED"
            detail = self.stop_message
        process = next((f"pid {p.pid} {p.name}" for p in snap.processes
                        if p.pid == snap.current_pid), None)
        if self.gdb_link is not None:
            detail = f"{self.gdb_link.status}  {detail}"
        # MIPS is wall-clock: only while running, never in tests or exported screenshots
        mips = self.runner.mips if self.running and not self.stable and not self._exporting \
            else None
        self.query_one(StatusBar).show(snap.icount, state, detail, mips, process,
                                       self.session.scenario.name, rules_off(self.gaps_told),
                                       self.running_hart())

    def on_view_state_ready(self, _: ViewStateReady) -> None:
        self._posted = False
        snap = self._latest
        if snap is not None and self.running:
            self.apply(snap)

    def on_process_table_chosen(self, event: ProcessTable.Chosen) -> None:
        if event.pid != self.selected_pid:
            self.selected_pid = event.pid
            self.show_page_table()

    def on_pte_list_inspect(self, event: PteList.Inspect) -> None:
        self.inspect(event.pid, event.va)

    def on_console_view_typed(self, event: ConsoleView.Typed) -> None:
        self.session.machine.feed_console(event.text)
        if self.running:
            self.runner.wake()
        else:
            self.query_one(ConsoleView).typed_while_paused(event.text)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # While the console has focus the keys are the guest's: the footer shows
        # the console's own bindings (and ctrl+c, which pauses from anywhere).
        if action in ("pause", "quit"):
            return True
        # ... and on a screen of its own (help, COW view, inspector) the keys are its own
        return not isinstance(self.focused, ConsoleView) and len(self.screen_stack) == 1

    def on_frame_grid_pointed(self, event: FrameGrid.Pointed) -> None:
        if event.clicked and event.frame is not None and self.view_state is not None:
            # a click on a user frame shows a process that maps it
            users = self.view_state.frames.mappings.get(event.frame, ())
            if users and all(pid != self.selected_pid for pid, _, _ in users):
                self.selected_pid = users[0][0]
                self.query_one(ProcessTable).select(self.selected_pid)
                self.show_page_table()
            for pid, va, _ in users:
                if pid == self.selected_pid:
                    self.query_one(PageTablePane).go_to(pid, va)

    # --- running --------------------------------------------------------------------------
    def start(self, goal: Goal) -> None:
        if self.running:
            self.notify("already running: ctrl+c pauses", severity="warning", timeout=3)
            return
        if self.last_stop is not None and self.last_stop.reason in ("exit", "reset"):
            self.notify(self.last_stop.message, severity="warning", timeout=3)
            return
        self.running = True
        self.goal = goal
        self.query_one(ConsoleView).machine_runs()
        self.before_registers = self.view_state.cpu.registers if self.view_state else None
        self.query_one(ViolationBanner).dismiss()
        self.show_status()
        self._run_worker(goal)

    @work(thread=True, exclusive=True, group="machine")
    def _run_worker(self, goal: Goal) -> None:
        worker = get_current_worker()

        def publish(idle: bool) -> None:
            if self._posted:
                return          # the UI has not shown the last one: never queue up
            self._latest = self.builder.build(running=True, idle=idle, mips=self.runner.mips)
            self._posted = True
            self.post_message(ViewStateReady())

        try:
            stop = self.runner.run(goal, publish, lambda: worker.is_cancelled)
        except Exception as error:  # noqa: BLE001 - an emulator bug must not kill the UI
            self.log.error(traceback.format_exc())
            stop = Stop("error", f"internal error in the emulator: {error!r}")
        self.post_message(RunEnded(stop, self.builder.build(running=False)))

    def on_run_ended(self, event: RunEnded) -> None:
        self.running = False
        if not self.screen_stack or not self.screen_stack[0].query(ProcessTable):
            return      # the app is closing: its panes are gone already
        stop, goal, self.goal = event.stop, self.goal, None
        if goal is not None and goal.kind != "continue" and stop.reason != "goal":
            # the goal was not reached: say so first, then why the run ended
            missed = {"fork": "no fork yet", "fault": "no page fault yet",
                      "resolve": "not resolved yet", "mode": "no mode switch yet",
                      "pte": "the PTE has not changed yet", "return": "not returned yet"}[goal.kind]
            stop = replace(stop, message=f"{missed}: {stop.message}")
        self.stopped(stop, event.view_state)

    def stopped(self, stop: Stop, snap: ViewState) -> None:
        """A run or step ended: show where, and why."""
        self.last_stop = stop
        self.stop_message = stop.message
        if stop.reason != "step" and snap.current_pid is not None:
            self.selected_pid = snap.current_pid
        self.apply(snap)
        if stop.violation is not None:
            self.show_violation(stop.violation, stop.more_violations)
        elif stop.reason in ("scenario-end", "at", "exit", "reset", "breakpoint", "error"):
            self.notify(stop.message, timeout=6,
                        severity="error" if stop.reason == "error" else "information")

    def show_violation(self, v: Violation, more: int = 0) -> None:
        """Banner, then jump: the process and PTE involved, the frame in the heat map."""
        self.violations.append(v)
        m = self.session.machine
        source = m.source_line(v.pc)
        word = m.read_physical(v.pc, 4)
        instruction = None
        if word is not None:
            value = int.from_bytes(word, "little")
            instruction = disassemble(value & (0xFFFF if value & 3 != 3 else 0xFFFFFFFF), v.pc)
        self.query_one(ViolationBanner).show_violation(
            v, m.symbol_at(v.pc), f"{source[0]}:{source[1]}" if source else None, instruction,
            more)
        frames = list(v.frames)
        if v.ptes and self.view_state is not None:
            pid, va = v.ptes[0]
            space = self.view_state.spaces.get(pid)
            if space is not None:
                self.selected_pid = pid
                self.query_one(ProcessTable).select(pid)
                self.show_page_table()
                self.query_one(PageTablePane).go_to(pid, va & ~0xFFF)
                row = space.leaf(va)
                if row is not None and not frames:
                    frames = [pte_frame(row.pte)]
        grid = self.query_one(FrameGrid)
        grid.mark(frames)
        if frames:
            self.query_one(FramesPane).jump_to(frames[0])

    # --- actions -----------------------------------------------------------------------------
    def action_step(self) -> None:
        if self.refuse_while_running():
            return
        self.before_registers = self.view_state.cpu.registers if self.view_state else None
        self.query_one(ViolationBanner).dismiss()
        self.run_chosen_hart()  # several harts: the one the CPU pane shows (h)
        stop = self.runner.step()
        self.stopped(stop, self.builder.build(running=False))

    def action_step_over(self) -> None:
        if self.refuse_while_running():
            return
        point = step_over(self.session.machine)
        if point is None:
            self.action_step()      # no call here: over it is one step
        else:
            self.start(Goal("return", point=point))

    def action_step_out(self) -> None:
        if self.refuse_while_running():
            return
        point = finish(self.session.machine, self.running_image())
        if isinstance(point, str):
            self.notify(point, severity="warning", timeout=5)
        else:
            self.start(Goal("return", point=point))

    def running_image(self) -> ElfImage:
        snap = self.view_state
        name = next((p.name for p in snap.processes if p.pid == snap.current_pid), None) \
            if snap else None
        return self.builder.locator.code_image(self.session.machine.privilege, name)

    def refuse_while_running(self) -> bool:
        if self.running:
            self.notify("running: ctrl+c pauses first", severity="warning", timeout=3)
        return self.running

    def action_step_mode(self) -> None:
        self.start(Goal("mode"))

    def action_to_fault(self) -> None:
        self.start(Goal("fault"))

    def action_to_resolved(self) -> None:
        fault = self.runner.open_fault_icount()
        if fault is None:
            self.notify("no page fault is being handled now: f runs to the next one",
                        severity="warning", timeout=4)
            return
        self.start(Goal("resolve", fault_icount=fault))

    def action_to_fork(self) -> None:
        self.start(Goal("fork"))

    def action_continue_run(self) -> None:
        self.start(Goal("continue"))

    def action_pause(self) -> None:
        if self.running:
            self.runner.request_pause()
            self.interrupt_travel()   # a search back through the history stops too
        else:
            self.notify("already paused", timeout=2)

    async def action_quit(self) -> None:
        self.runner.request_pause()     # the worker ends within one slice
        self.exit()

    def on_unmount(self) -> None:
        self.runner.request_pause()
        if self.gdb_link is not None:
            self.gdb_link.stop()

    def action_dismiss_banner(self) -> None:
        self.query_one(ViolationBanner).dismiss()

    def action_compact(self) -> None:
        grid = self.query_one(FrameGrid)
        grid.compact = not grid.compact

    def action_breakpoint(self) -> None:
        def done(text: str | None) -> None:
            if not text:
                return
            from .scenario import ScenarioError
            try:
                address = self.session.resolve_location(text)
            except ScenarioError as error:
                self.notify(str(error), severity="error", timeout=5)
                return
            name = self.breakpoints.name(address)
            if address in self.breakpoints.enabled:
                self.breakpoints.remove(address)
                self.notify(f"breakpoint cleared at {name}", timeout=4)
            else:
                self.breakpoints.add(address)
                self.notify(f"breakpoint set at {name} ({address:#x}); B lists them", timeout=4)
            self.show_breakpoints_in_cpu()

        self.push_screen(Prompt("Breakpoint", "symbol, file:line or address "
                                "(again to clear), e.g. cowfault, kernel/vm.c:120, 0x80000324"),
                         done)

    def action_breakpoints(self) -> None:
        def done(result: str | None) -> None:
            self.show_breakpoints_in_cpu()
            if result == "add":
                self.action_breakpoint()

        self.push_screen(BreakpointList(self.breakpoints), done)

    def show_breakpoints_in_cpu(self) -> None:
        if self.view_state is not None:
            self.query_one(CpuView).show(self.view_state.cpu, self.before_registers,
                                         self.breakpoints.enabled)

    def action_cow_view(self) -> None:
        if self.view_state is None or self.selected_pid is None:
            self.notify("no process yet: the COW view compares a process with its parent "
                        "and children (k runs to the next fork)", severity="warning", timeout=5)
            return
        m = self.session.machine
        self.push_screen(CowScreen(self.view_state, self.selected_pid, self.session.trace,
                                   self.cow_bit, lambda frame: m.read_physical(frame, 4096)))

    def action_help(self) -> None:
        app_keys = [b for b in self.BINDINGS if isinstance(b, Binding)]
        back = {b.action for b in TIME_TRAVEL_BINDINGS}
        self.push_screen(HelpScreen([
            ("Running and stepping", [b for b in app_keys if b.action in RUN_ACTIONS]),
            ("Back in time", [b for b in app_keys if b.action in back]),
            ("Looking, and the rest", [b for b in app_keys
                                       if b.action not in RUN_ACTIONS and b.action not in back]),
            ("In the console (6)", list(ConsoleView.HELP_BINDINGS)),
            ("In the COW view (v)", [b for b in CowScreen.BINDINGS if isinstance(b, Binding)]),
            ("In the frames heat map (4)", [b for b in FrameGrid.BINDINGS
                                            if isinstance(b, Binding)]),
            ("In the PTE inspector", [b for b in PteInspector.BINDINGS
                                      if isinstance(b, Binding)]),
            ("In the breakpoint list (B)", [b for b in BreakpointList.BINDINGS
                                            if isinstance(b, Binding)]),
        ]))

    def action_goto_va(self) -> None:
        def done(text: str | None) -> None:
            if not text:
                return
            try:
                va = int(text.split()[0], 16)
                pid = int(text.split()[1]) if len(text.split()) > 1 else self.selected_pid
            except ValueError:
                self.notify(f"not a hex address: {text!r}", severity="error", timeout=4)
                return
            self.go_to(pid, va)

        self.push_screen(Prompt("Go to VA", "virtual address in hex, optionally a pid "
                                "(e.g. 0x1000 or 0x1000 4)"), done)

    def go_to(self, pid: int | None, va: int) -> bool:
        if not is_canonical_sv39(va):
            self.notify(f"{va:#x} is not a valid Sv39 address (bits 63-39 must copy bit 38)",
                        severity="warning", timeout=4)
            return False
        space = self.view_state.spaces.get(pid) if self.view_state and pid is not None else None
        if space is None:
            self.notify(f"no process with pid {pid}" if pid is not None else "no process yet",
                        severity="warning", timeout=4)
            return False
        row = space.leaf(va)
        if row is None:
            self.notify(f"va {va:#x} is not mapped in pid {pid}", severity="warning", timeout=4)
            return False
        if pid != self.selected_pid:
            self.selected_pid = pid
            self.query_one(ProcessTable).select(pid)
            self.show_page_table()
        pane = self.query_one(PageTablePane)
        pane.go_to(pid, row.va)
        self.query_one(PteList).focus()
        self.query_one(FramesPane).jump_to(row.frame)
        return True

    def action_inspect(self) -> None:
        banner = self.query_one(ViolationBanner)
        if banner.display and banner.violation is not None and banner.violation.ptes:
            pid, va = banner.violation.ptes[0]
            self.inspect(pid, va)
            return
        pte_list = self.query_one(PteList)
        option = pte_list.highlighted_option
        if option is None or not option.id or pte_list.pid is None:
            self.notify("highlight a PTE in the page-table pane first", timeout=3)
            return
        self.inspect(pte_list.pid, int(option.id.rsplit("-", 1)[1], 16))

    def inspect(self, pid: int, va: int) -> None:
        if self.view_state is None:
            return
        details = pte_details(self.session, self.history, self.view_state.frames, pid, va)
        if details is None:
            self.notify(f"pid {pid} has no page table now", severity="warning", timeout=3)
            return

        def done(result: str | None) -> None:
            if result == "run-until-change":
                self.start(Goal("pte", pid=pid, va=va))
            else:
                self.after_inspector(result, pid, va)

        self.push_screen(PteInspector(details), done)

    def _export_screenshot(self, name: str, directory: str) -> str:
        """The screen as an SVG without wall-clock figures: the same state
        exports the same file."""
        self._exporting = True
        self.clear_notifications()    # toasts come and go: not part of the state
        try:
            self.show_status()
            return self.save_screenshot(name, directory)
        finally:
            self._exporting = False
            self.show_status()

    def action_export(self) -> None:
        def done(text: str | None) -> None:
            if text is None:
                return
            try:
                paths = export_all(self.session, Path(text or "."), self.selected_pid,
                                   self._export_screenshot)
            except OSError as error:
                self.notify(f"export failed: {error}", severity="error", timeout=6)
                return
            self.notify("wrote " + ", ".join(str(p) for p in paths), title="Exported",
                        timeout=8)

        self.push_screen(Prompt("Export", "directory for the SVG screenshot, vmprint text "
                                "and trace (JSON lines)", "."), done)
