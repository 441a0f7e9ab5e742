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
from pathlib import Path
from typing import ClassVar

from textual import work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer
from textual.worker import get_current_worker

from machine.introspect.events import Violation
from machine.introspect.pte import pte_frame
from machine.isa.disasm import disassemble

from .coverage import Gap, rules_off
from .export import export_all
from .history import PteHistory
from .pte_details import pte_details
from .runner import Goal, Runner, Stop
from .session import Session
from .timetravel_app import TIME_TRAVEL_BINDINGS, TimeTravelActions
from .view_state import ViewState, ViewStateBuilder
from .widgets.banner import ViolationBanner
from .widgets.console import ConsoleView
from .widgets.cpu import CpuView
from .widgets.faults import FaultTable
from .widgets.frame_grid import FrameGrid
from .widgets.frames import FramesPane
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


class CowtuiApp(TimeTravelActions, App):
    CSS_PATH = "app.tcss"
    TITLE = "cowtui"
    BINDINGS: ClassVar[list[BindingType]] = [
        _key("s", "step", "Step", "Execute one instruction"),
        _key("S", "step_mode", "Step mode",
             "Run to the next instruction in the other privilege mode (enter or leave the kernel)"),
        _key("f", "to_fault", "Fault", "Run to the next page fault"),
        _key("r", "to_resolved", "Resolve", "Run until the current page fault is resolved"),
        _key("k", "to_fork", "Fork", "Run to the next fork"),
        _key("c", "continue_run", "Continue", "Run until a breakpoint, violation or pause"),
        _key("space", "pause", "Pause", "Pause the running machine"),
        _key("b", "breakpoint", "Break", "Set or clear a breakpoint at a symbol or address"),
        _key("g", "goto_va", "Go to VA", "Show the PTE that maps a virtual address"),
        _key("i", "inspect", "Inspect", "Open the PTE inspector on the highlighted PTE"),
        _key("e", "export", "Export",
             "Save an SVG screenshot, vmprint of the selected process and the trace as JSON"),
        _key("z", "compact", "Compact", "Fold runs of free frames in the heat map", show=False),
        _key("escape", "dismiss_banner", "Dismiss", "Hide the violation banner", show=False),
        *TIME_TRAVEL_BINDINGS,   # the backward pairs of the keys above (timetravel_app.py)
        _key("q", "quit", "Quit", "Quit cowtui"),
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
        self.breakpoints: set[int] = set(session.breakpoint_addresses)
        self.last_stop: Stop | None = None
        self.violations: list[Violation] = []
        self._slow_shown = 0.0
        self.problems_notice = ""       # what KernelView could not find, as told on start
        self.gaps_told: list[Gap] = []  # what this run cannot check, each told once
        self.gdb_link = None
        if gdb is not None:
            from .gdbstub.app_link import GdbAppLink
            self.gdb_link = GdbAppLink(self, gdb)

    # --- layout ------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield ViolationBanner(id="banner")
        with Horizontal(id="main"):
            with Vertical(id="left"):
                yield ProcessTable(id="processes")
                yield FaultTable(id="faults")
            with Vertical(id="middle"):
                yield PageTablePane(id="page-table")
                yield FramesPane(id="frames")
            with Vertical(id="right"):
                yield CpuView(id="cpu")
                yield ConsoleView(id="console")
        yield Timeline(self.timeline_marks, id="timeline")   # t shows it (timetravel_app.py)
        yield StatusBar(id="status")
        yield Footer()

    def on_mount(self) -> None:
        titles = {"#processes": "Processes", "#faults": "Faults", "#page-table": "Page table",
                  "#frames": "Frames (heat map: refcount)", "#cpu": "CPU",
                  "#console": "Console (focus to type)"}
        for selector, title in titles.items():
            self.query_one(selector).border_title = title
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

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        for binding in self.BINDINGS:
            if isinstance(binding, Binding) and binding.action not in ("quit",):
                yield SystemCommand(f"{binding.description} ({binding.key})", binding.tooltip,
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
            self.query_one(CpuView).show(snap.cpu, self.before_registers, self.breakpoints)
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
                (self.goal.describe() if self.goal else "")
        else:
            state = "STOPPED" if self.last_stop and self.last_stop.reason in (
                "violation", "exit", "reset", "error") else "PAUSED"
            detail = self.stop_message
        process = next((f"pid {p.pid} {p.name}" for p in snap.processes
                        if p.pid == snap.current_pid), None)
        if self.gdb_link is not None:
            detail = f"{self.gdb_link.status}  {detail}"
        mips = None if self.stable or not self.running and self.runner.mips is None \
            else self.runner.mips
        self.query_one(StatusBar).show(snap.icount, state, detail, mips, process,
                                       self.session.scenario.name, rules_off(self.gaps_told))

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
        self.runner.wake()

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
            self.notify("already running: space pauses", severity="warning", timeout=3)
            return
        if self.last_stop is not None and self.last_stop.reason in ("exit", "reset"):
            self.notify(self.last_stop.message, severity="warning", timeout=3)
            return
        self.running = True
        self.goal = goal
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
        self.goal = None
        self.stopped(event.stop, event.view_state)

    def stopped(self, stop: Stop, snap: ViewState) -> None:
        """A run or step ended: show where, and why."""
        self.last_stop = stop
        self.stop_message = stop.message
        if stop.reason != "step" and snap.current_pid is not None:
            self.selected_pid = snap.current_pid
        self.apply(snap)
        if stop.violation is not None:
            self.show_violation(stop.violation, stop.more_violations)
        elif stop.reason in ("scenario-end", "budget", "exit", "reset", "breakpoint", "error"):
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
        if self.running:
            self.notify("running: space pauses first", severity="warning", timeout=3)
            return
        self.before_registers = self.view_state.cpu.registers if self.view_state else None
        self.query_one(ViolationBanner).dismiss()
        stop = self.runner.step()
        self.stopped(stop, self.builder.build(running=False))

    def action_step_mode(self) -> None:
        self.start(Goal("mode"))

    def action_to_fault(self) -> None:
        self.start(Goal("fault"))

    def action_to_resolved(self) -> None:
        fault = self.runner.open_fault_icount()
        if fault is None:
            self.notify("no page fault is being handled: running to the next one resolved",
                        timeout=4)
        self.start(Goal("resolve", fault_icount=fault))

    def action_to_fork(self) -> None:
        self.start(Goal("fork"))

    def action_continue_run(self) -> None:
        self.start(Goal("continue"))

    def action_pause(self) -> None:
        if self.running:
            self.runner.request_pause()
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
            m = self.session.machine
            name = m.symbol_at(address) or f"{address:#x}"
            if address in self.breakpoints:
                self.breakpoints.discard(address)
                m.remove_breakpoint(address)
                self.notify(f"breakpoint cleared at {name}", timeout=4)
            else:
                self.breakpoints.add(address)
                m.add_breakpoint(address)
                self.notify(f"breakpoint set at {name} ({address:#x})", timeout=4)
            if self.view_state is not None:
                self.query_one(CpuView).show(self.view_state.cpu, self.before_registers,
                                             self.breakpoints)

        self.push_screen(Prompt("Breakpoint", "symbol, file:line or address "
                                "(again to clear), e.g. cowfault, kernel/vm.c:120, 0x80000324"),
                         done)

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
        space = self.view_state.spaces.get(pid) if self.view_state and pid is not None else None
        row = space.leaf(va) if space else None
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

    def action_export(self) -> None:
        def done(text: str | None) -> None:
            if text is None:
                return
            try:
                paths = export_all(self.session, Path(text or "."), self.selected_pid,
                                   lambda name, path: self.save_screenshot(name, path))
            except OSError as error:
                self.notify(f"export failed: {error}", severity="error", timeout=6)
                return
            self.notify("wrote " + ", ".join(str(p) for p in paths), title="Exported",
                        timeout=8)

        self.push_screen(Prompt("Export", "directory for the SVG screenshot, vmprint text "
                                "and trace (JSON lines)", "."), done)
