"""The app's time-travel keys and jumps (a mixin of CowtuiApp).

Each backward key is the pair of a forward one: ctrl+s steps back as s
steps, F runs back to the previous fault as f runs to the next, K to the
previous fork as k, M to the previous mode switch as S (step to the other
mode), C back to the previous breakpoint hit or violation as c continues to
the next (a search through the history: progress in the status bar, space
stops it). Enter on a fault in the faults pane or on a line of the PTE
inspector's history goes to that moment; w goes to the write that made the
highlighted PTE (or the violation's PTE or frame) what it is, W to the last
change of the chosen frame's refcount, # to any instruction. t shows the
timeline (widgets/timeline.py) and focuses it: a click or Enter there goes
to a moment.

The footer has room for ctrl+s and F; every key is in the command palette.
A move runs on the machine's worker thread (a replay may take a while on a
Python engine); when it is done, every pane is rebuilt from the state there.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from textual import work
from textual.binding import Binding

from machine.introspect.events import PageFault, Violation

from .runner import Stop
from .timeline_marks import TimelineMarks
from .timetravel import Arrival, TimeTravel, TimeTravelError
from .widgets.console import ConsoleView
from .widgets.faults import FaultTable
from .widgets.frame_grid import FrameGrid
from .widgets.prompt import Prompt
from .widgets.pte_list import PteList
from .widgets.timeline import Timeline


def _key(key: str, action: str, description: str, tooltip: str, show: bool = True) -> Binding:
    return Binding(key, action, description, show=show, tooltip=tooltip,
                   id=f"cowtui.{action.replace('_', '-')}")


TIME_TRAVEL_BINDINGS = [
    _key("ctrl+s", "step_back", "Back", "Step back one instruction (s steps forward)"),
    _key("F", "back_to_fault", "Fault back", "Run back to the previous page fault (f: the next)"),
    _key("K", "back_to_fork", "Fork back", "Run back to the previous fork (k: the next)",
         show=False),
    _key("M", "back_to_mode", "Mode back",
         "Run back to the previous switch of privilege mode (S: the next)", show=False),
    _key("C", "back_to_breakpoint", "Break back",
         "Run back to the previous breakpoint hit or violation (c: continue to the "
         "next); space stops the search", show=False),
    _key("V", "back_to_violation", "Violation back",
         "Go back to the previous invariant violation", show=False),
    _key("w", "to_write", "Write",
         "Go to the write that made the highlighted PTE (or the violation's PTE or frame) "
         "what it is", show=False),
    _key("W", "to_refcount_write", "Refcount write",
         "Go to the last change of the chosen frame's refcount", show=False),
    _key("number_sign", "go_to_instruction", "Go to #", "Go to any instruction number",
         show=False),
    _key("t", "timeline", "Timeline", "Show (or hide) the timeline of faults, forks, refcount "
         "changes and violations, to scrub and jump with", show=False),
]


class TimeTravelActions:
    """Mixed into CowtuiApp: uses its session, runner, builder, panes and ``apply``."""

    timetravel: TimeTravel

    def setup_time_travel(self) -> None:
        session = self.session
        self._search_stop = threading.Event()
        from machine.checkpoints import DEFAULT_EVERY
        self.timetravel = TimeTravel(session, self.history,
                                     every=session.checkpoint_every or DEFAULT_EVERY,
                                     observers=[self.runner])
        self.timeline_marks = TimelineMarks(session.machine.events,
                                            start=self.timetravel.checkpoints.points[0].icount)

    # --- keys --------------------------------------------------------------------------
    def action_step_back(self) -> None:
        self.travel(lambda t: t.step_back())

    def action_back_to_fault(self) -> None:
        self.travel(lambda t: t.back_to("fault"))

    def action_back_to_fork(self) -> None:
        self.travel(lambda t: t.back_to("fork"))

    def action_back_to_mode(self) -> None:
        self.travel(lambda t: t.back_to("mode"))

    def action_back_to_breakpoint(self) -> None:
        """A search: the history is replayed newest first (progress in the
        status bar; space stops it where it has got to)."""
        self._search_stop.clear()
        self.travel(lambda t: t.back_to("breakpoint", self._search_stop.is_set,
                                        self._search_progress),
                    "searching back for a breakpoint hit or violation (space stops)...")

    def interrupt_travel(self) -> None:
        """space while going back: a search stops between two slices of its replay."""
        self._search_stop.set()

    def _search_progress(self, searched_from: int, now: int) -> None:
        """From the worker: every instruction from ``searched_from`` to ``now`` is searched."""
        self.call_from_thread(self._show_search, searched_from, now)

    def _show_search(self, searched_from: int, now: int) -> None:
        self.stop_message = (f"searching back: #{searched_from:,} to #{now:,} searched, "
                             "no breakpoint hit or violation yet (space stops)")
        self.show_status()

    def action_back_to_violation(self) -> None:
        self.travel(lambda t: t.back_to("violation"))

    def action_to_write(self) -> None:
        banner = self.query_one("#banner")
        violation: Violation | None = banner.violation if banner.display else None
        if violation is not None and violation.ptes:
            pid, va = violation.ptes[0]
            self.travel(lambda t: t.last_change_of_pte(pid, va))
        elif violation is not None and violation.frames:
            frame = violation.frames[0]
            self.travel(lambda t: t.last_change_of_refcount(frame))
        else:
            pte_list = self.query_one(PteList)
            option = pte_list.highlighted_option
            if option is None or not option.id or pte_list.pid is None:
                self.notify("highlight a PTE in the page-table pane first", timeout=3)
                return
            pid, va = pte_list.pid, int(option.id.rsplit("-", 1)[1], 16)
            self.travel(lambda t: t.last_change_of_pte(pid, va))

    def action_to_refcount_write(self) -> None:
        grid = self.query_one(FrameGrid)
        if grid.chosen is None or grid.frames is None:
            self.notify("click a frame in the heat map first", timeout=3)
            return
        frame = grid.frames.base + (grid.chosen << 12)
        self.travel(lambda t: t.last_change_of_refcount(frame))

    def action_go_to_instruction(self) -> None:
        def done(text: str | None) -> None:
            if not text:
                return
            try:
                target = int(text.strip().lstrip("#").replace(",", "").replace("_", ""), 0)
            except ValueError:
                self.notify(f"not an instruction number: {text!r}", severity="error",
                            timeout=4)
                return
            self.travel(lambda t: t.go_to(target))

        self.push_screen(Prompt("Go to instruction", "an instruction number, e.g. 1716484 or "
                                "#1,716,484 (earlier: replayed; later: run)"), done)

    def action_timeline(self) -> None:
        timeline = self.query_one(Timeline)
        if timeline.display and timeline.has_focus:
            timeline.display = timeline.can_focus = False
            return
        timeline.display = timeline.can_focus = True
        timeline.focus()

    # --- jumps from the panes -------------------------------------------------------------
    def on_timeline_selected(self, event: Timeline.Selected) -> None:
        if event.icount != self.session.machine.icount:
            self.travel(lambda t: t.go_to(event.icount, event.why))

    def on_data_table_row_selected(self, event) -> None:
        """Enter (or a click) on a fault: where running to it would stop."""
        if not isinstance(event.data_table, FaultTable) or event.row_key.value is None:
            return
        icount = int(event.row_key.value)
        fault = next((e for e in self.session.trace
                      if isinstance(e, PageFault) and e.icount == icount), None)
        if fault is not None and self.session.machine.icount != icount + 1:
            self.travel(lambda t: t.go_to_event(fault))

    def after_inspector(self, result: str | None, pid: int, va: int) -> bool:
        """The inspector's time-travel answers; False if ``result`` is none of them."""
        if result == "last-write":
            self.travel(lambda t: t.last_change_of_pte(pid, va))
        elif result is not None and result.startswith("goto:"):
            icount = int(result.split(":", 1)[1])
            self.travel(lambda t: t.go_to(icount + 1, f"after the change of pid {pid}'s "
                                          f"PTE for {va:#x} at #{icount:,}"))
        else:
            return False
        return True

    # --- making a move ---------------------------------------------------------------------
    def travel(self, move: Callable[[TimeTravel], Arrival],
               message: str = "going back in time...") -> None:
        if self.running:
            self.notify("running: space pauses first", severity="warning", timeout=3)
            return
        self.running = True
        self.goal = None
        self.before_registers = self.view_state.cpu.registers if self.view_state else None
        self.query_one("#banner").dismiss()
        self.stop_message = message
        self.show_status()
        self._travel_worker(move)

    @work(thread=True, exclusive=True, group="machine")
    def _travel_worker(self, move: Callable[[TimeTravel], Arrival]) -> None:
        try:
            arrival: Arrival | str = move(self.timetravel)
        except TimeTravelError as error:
            arrival = str(error)
        self.call_from_thread(self._arrived, arrival)

    def _arrived(self, arrival: Arrival | str) -> None:
        self.running = False
        if isinstance(arrival, str):   # refused: nothing moved
            self.stop_message = arrival
            self.notify(arrival, severity="warning", timeout=4)
            self.show_status()
            return
        now = self.session.machine.icount
        self.violations = [v for v in self.violations if v.icount < now]
        self.history.new_run()   # nothing is 'changed since the last stop' after a jump
        self.query_one(FaultTable).reset()
        self.query_one(ConsoleView).reset()
        self.last_stop = Stop("travel", arrival.message)
        self.stop_message = arrival.message
        snap = self.builder.build(running=False)
        if snap.current_pid is not None:
            self.selected_pid = snap.current_pid
        self.apply(snap)

    def open_at_stop_instruction(self) -> None:
        """A scenario with ``stop: {at: N}`` opens the app at instruction N."""
        if self.session.scenario.stop_at is not None:
            self.action_continue_run()
