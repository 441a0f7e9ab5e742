"""Running the session's machine toward a goal, in slices, and stopping it.

A goal (next page fault, next fork, the other privilege mode, ...) is a set
of event subscriptions that call ``machine.request_stop()`` on the emulator
thread, so a run stops exactly at the instruction that reached it. ``run``
is called on the app's worker thread; between slices it hands view states to a
callback and looks for a pause. ``step`` is cheap and runs on the UI thread
while nothing else runs the machine. Nothing here knows Textual.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass

from machine.events import TrapReturn, TrapTaken
from machine.introspect.events import (
    FaultResolved,
    PageFault,
    ProcessForked,
    PteChanged,
    Violation,
)

from .history import PteHistory, pte_key
from .session import Session
from .stepping import ReturnPoint


@dataclass(frozen=True)
class Goal:
    kind: str                    # 'continue', 'fault', 'resolve', 'fork', 'mode', 'pte',
    #                              'return' (step over, finish)
    pid: int | None = None       # 'pte': the PTE's process
    va: int | None = None        # 'pte': its page
    fault_icount: int | None = None  # 'resolve': that fault (None: the next one resolved)
    point: ReturnPoint | None = None  # 'return': where to

    def describe(self) -> str:
        return {"continue": "running", "fault": "running to the next page fault",
                "resolve": "running until the fault is resolved",
                "fork": "running to the next fork",
                "mode": "running to the other privilege mode",
                "pte": f"running until pid {self.pid} va {self.va or 0:#x} changes",
                "return": f"{self.point.what if self.point else 'return'}: running to "
                          f"{self.point.pc if self.point else 0:#x}"}[self.kind]


@dataclass(frozen=True)
class Stop:
    reason: str                  # 'step', 'paused', 'goal', 'breakpoint', 'violation',
    #                              'scenario-end', 'at', 'exit', 'reset', 'cancelled'
    message: str
    violation: Violation | None = None
    more_violations: int = 0     # others found at the same stop


class Runner:
    SLICE_SECONDS = 0.02         # a slice this long keeps pause and the view prompt
    SNAPSHOT_SECONDS = 0.1       # at most 10 view states a second

    def __init__(self, session: Session, history: PteHistory) -> None:
        self.session = session
        self.machine = session.machine
        self.history = history
        self._pause = threading.Event()
        self._wake = threading.Event()
        self._goal_reached: str | None = None
        self._violations: list[Violation] = []
        self._end_reported = False
        self._goal: Goal | None = None
        self._stop_at_reported = False
        self.mips: float | None = None
        self.machine.events.subscribe(Violation, self._on_violation)

    # --- from the UI thread ----------------------------------------------------------
    user_breakpoints: AbstractSet[int] = frozenset()   # the app's, beside any temporary one

    def is_user_breakpoint(self, pc: int) -> bool:
        return pc in self.user_breakpoints

    def request_pause(self) -> None:
        self._pause.set()
        self.machine.pause()
        self._wake.set()

    def wake(self) -> None:
        """Console input arrived: an idle guest has something to do."""
        self._wake.set()

    # --- stop conditions (emulator thread) ----------------------------------------------
    def _reach(self, what: str) -> None:
        if self._goal_reached is None:
            self._goal_reached = what
        self.machine.request_stop()

    def _on_violation(self, event: Violation) -> None:
        self._violations.append(event)
        self.machine.request_stop()

    def _subscriptions(self, goal: Goal) -> list[tuple[type, Callable]]:
        if goal.kind == "fault":
            return [(PageFault, lambda e: self._reach(
                f"page fault: pid {e.pid} va {e.stval:#x} at pc {e.sepc:#x}"))]
        if goal.kind == "resolve":
            def resolved(e: FaultResolved) -> None:
                if goal.fault_icount is None or e.fault_icount == goal.fault_icount:
                    self._reach(f"fault at #{e.fault_icount:,} resolved: {e.outcome}")
            return [(FaultResolved, resolved)]
        if goal.kind == "fork":
            return [(ProcessForked, lambda e: self._reach(
                f"fork: pid {e.parent} -> pid {e.child} ({e.name})"))]
        if goal.kind == "mode":
            names = {0: "U", 1: "S", 3: "M"}

            def switched(e) -> None:
                if e.from_privilege != e.to_privilege:
                    self._reach(f"{names[e.from_privilege]}-mode -> {names[e.to_privilege]}-mode")
            return [(TrapTaken, switched), (TrapReturn, switched)]
        if goal.kind == "pte":
            key = pte_key(goal.pid or 0, goal.va or 0)

            def changed(e: PteChanged) -> None:
                if pte_key(e.pid, e.va) == key:
                    self._reach(f"pid {e.pid} va {e.va:#x}: PTE {e.old:#x} -> {e.new:#x}")
            return [(PteChanged, changed)]
        return []

    # --- running (the worker thread, or the UI thread while paused) -----------------------
    def open_fault_icount(self) -> int | None:
        """The fault the kernel is handling now (the current process's), if any."""
        faults = self.session.tracker.open_faults
        if not faults:
            return None
        current = self.session.tracker.process_for_root(self.session.tracker.current_root())
        if current is not None and current.pid in faults:
            return faults[current.pid].event.icount
        return next(iter(faults.values())).event.icount

    def step(self) -> Stop:
        self._begin()
        with self.session.lock:  # a gdb stub may be running the machine (one slice)
            result = self.machine.step()
        stop = self._classify(result.reason)
        return stop or Stop("step", f"stepped to #{self.machine.icount:,}")

    def run(self, goal: Goal, publish: Callable[[bool], None],
            cancelled: Callable[[], bool]) -> Stop:
        """Run until the goal, a stop, a pause or cancellation. ``publish(idle)``
        is called between slices, at most every SNAPSHOT_SECONDS."""
        self._begin()
        subscriptions = self._subscriptions(goal)
        events = self.machine.events
        for kind, handler in subscriptions:
            events.subscribe(kind, handler)
        temporary = self._return_breakpoint(goal)
        self._goal = goal
        try:
            return self._loop(publish, cancelled)
        finally:
            self._goal = None
            for kind, handler in subscriptions:
                events.unsubscribe(kind, handler)
            if temporary is not None:
                self.machine.hart.clear_breakpoint(temporary)

    def _return_breakpoint(self, goal: Goal) -> int | None:
        """A 'return' goal's breakpoint (a physical address, as the hart keeps
        them), if it is not one of the user's already; None otherwise."""
        if goal.point is None:
            return None
        physical = self._physical(goal.point.pc)
        if physical is None or physical in self.machine.hart.breakpoints:
            return None
        self.machine.hart.set_breakpoint(physical)
        return physical

    def _physical(self, pc: int) -> int | None:
        satp = self.machine.read_csr("satp") or 0
        if self.machine.privilege == 3 or satp >> 60 == 0:
            return pc
        return self.machine.translate(pc, satp, user=self.machine.privilege == 0)

    def _returned(self) -> bool | None:
        """At a 'return' goal's breakpoint: reached (True), or a deeper call
        or another process passing by (False); None: not that breakpoint."""
        goal, m = self._goal, self.machine
        if goal is None or goal.point is None or m.pc != goal.point.pc:
            return None
        here = (m.read_csr("satp") or 0) if m.privilege == 0 else 0
        return m.registers()[2] >= goal.point.sp and goal.point.satp in (0, here)

    def _begin(self) -> None:
        self.history.new_run()
        self._goal_reached = None
        self._violations = []
        self._pause.clear()
        self._wake.clear()

    def _loop(self, publish: Callable[[bool], None], cancelled: Callable[[], bool]) -> Stop:
        machine, session = self.machine, self.session
        slice_size = 100_000         # instructions, tuned to SLICE_SECONDS as it runs
        last_publish = time.perf_counter()
        rate_start, rate_count = last_publish, machine.icount
        while True:
            if self._pause.is_set():
                return Stop("paused", f"paused at #{machine.icount:,}")
            if cancelled():
                return Stop("cancelled", "cancelled")
            # The scenario's 'stop: {at: N}' is the one place a scenario ends an app run
            # (a moment the user asked for); its budget is for headless runs only.
            this_slice = slice_size
            stop_at = session.scenario.stop_at
            if stop_at is not None and not self._stop_at_reported:
                if machine.icount >= stop_at:
                    self._stop_at_reported = True
                    return Stop("at", f"at #{machine.icount:,}, where the scenario stops "
                                "(stop: at)")
                this_slice = min(slice_size, stop_at - machine.icount)
            if session.timetravel is not None:  # end the slice where a checkpoint is due
                this_slice = min(this_slice, session.timetravel.due_in())
            started = time.perf_counter()
            result = session.run(max_instructions=this_slice)  # also takes the boot snapshot
            now = time.perf_counter()
            elapsed = now - started
            # Aim every slice at SLICE_SECONDS of host time. (The slice is the only
            # limit: in the app no scenario budget ends a run, only the user, a
            # breakpoint, a goal or a finding; the budget is for headless runs.)
            if result.reason == "budget" and elapsed > 0 and this_slice == slice_size:
                slice_size = int(min(5_000_000, max(10_000, slice_size * self.SLICE_SECONDS
                                                     / elapsed)))
            if now - rate_start >= 0.5:
                self.mips = (machine.icount - rate_count) / (now - rate_start) / 1e6
                rate_start, rate_count = now, machine.icount
            stop = self._classify(result.reason)
            if stop is not None:
                return stop
            idle = result.reason == "idle"
            if idle or now - last_publish >= self.SNAPSHOT_SECONDS:
                publish(idle)
                last_publish = time.perf_counter()
            if idle:
                # The guest waits for console input: sleep until some arrives.
                self._wake.wait(0.05)
                self._wake.clear()

    def _classify(self, reason: str) -> Stop | None:
        """What a RunResult's reason means for the app; None: keep running."""
        machine, session = self.machine, self.session
        if reason in ("breakpoint", "paused", "exit", "reset") or \
                (reason == "stopped" and session.finished):
            session.tracker.finish()  # a stop never hides what the tracker still holds
        if self._violations:
            v = self._violations[0]
            return Stop("violation", f"invariant violated: [{v.rule}] {v.message}", v,
                        len(self._violations) - 1)
        if self._goal_reached is not None:
            return Stop("goal", self._goal_reached)
        if reason == "breakpoint":
            where = machine.symbol_at(machine.pc) or f"{machine.pc:#x}"
            returned = self._returned()
            if returned:
                return Stop("goal", f"{self._goal.point.what}: at {where}")
            if returned is False and not self.is_user_breakpoint(machine.pc):
                return None         # a deeper call passing by: run on
            return Stop("breakpoint", f"breakpoint at {where}")
        if reason == "paused":
            return Stop("paused", f"paused at #{machine.icount:,}")
        if reason in ("exit", "reset"):
            status = machine.exit_status
            return Stop(reason, "the guest powered off" + (f" (status {status})"
                                                            if status is not None else "")
                        if reason == "exit" else "the guest asked for a reset")
        if reason == "stopped" and session.finished and not self._end_reported:
            # The scenario's stop text appeared: say so once, then run on freely.
            self._end_reported = True
            summary = session.summary("stop")
            verdict = "expectations hold" if summary.passed else "expectations FAIL: " + \
                "; ".join(e.check for e in summary.expectations if not e.held)
            return Stop("scenario-end", f"scenario '{session.scenario.name}' reached its end "
                        f"({verdict})")
        return None
