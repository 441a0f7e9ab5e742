"""Time travel for a session: step back, run back to the previous fault,
fork, mode switch or breakpoint, back to the last change of a PTE, a frame's
refcount or any watched physical address, and go to any instruction.

The machine goes back with machine/checkpoints.py. What was learnt from the
machine's events (the tracker's processes, page tables and open faults, the
session's script position and trace, the PTE histories, ...) must be what it
was at the moment gone to, so each checkpoint also keeps those observers'
state, frozen to bytes (frozen_state.py); going to instruction N restores
checkpoint k <= N, machine and observers together, then replays k..N with
every event on, exactly as the run that first got there. Event logs (lists
of events only ever appended) are not kept: they are cut back to the
checkpoint's instruction.
"""

from __future__ import annotations

import threading
from array import array
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import Any

from machine.checkpoints import DEFAULT_EVERY, Checkpoints
from machine.events import TrapReturn, TrapTaken
from machine.introspect.callstack import call_stack, format_call_stack
from machine.introspect.events import PageFault, ProcessForked, Violation
from machine.machine import RunResult
from machine.store_log import LoggedStore, StoreLog

from .change_recall import RecallingWitness
from .frozen_state import RecentContents, freeze, thaw
from .history import PteHistory
from .session import Session

_THREAD_TYPES = (threading.Event, threading.Condition, type(threading.Lock()),
                 type(threading.RLock()))
MOMENT_KINDS = {"fault": PageFault, "fork": ProcessForked, "violation": Violation}


@dataclass(frozen=True)
class Arrival:
    """Where a move in time ended, in words for the status bar."""

    icount: int
    message: str
    store: LoggedStore | None = None   # 'back to the last change': the store gone to
    interrupted: bool = False          # a search back was stopped before it found its goal
    exhausted: bool = False            # a search back found nothing: at the history's start


# Runs at most ``budget`` instructions forward; returns the run's result and
# the moments in it at which a run forward stops (TimeTravel.back_to_stop).
StopFinder = Callable[[int], tuple[RunResult, list[int]]]
Progress = Callable[[int, int], None]
REVERSE_SLICE = 500_000   # instructions between two looks at interrupted() in a search back
OBSERVER_BUDGET = 64 * 1024   # bytes of frozen observers' state per checkpoint, on average


def _never() -> bool:
    return False


class TimeTravelError(ValueError):
    """A move that cannot be made (nothing earlier, before the first checkpoint)."""


def _trim(log: list, icount: int) -> None:
    """Cut an event log back to the events before ``icount``."""
    keep = len(log)
    while keep and log[keep - 1].icount >= icount:
        keep -= 1
    del log[keep:]


class TimeTravel:
    def __init__(self, session: Session, history: PteHistory | None = None,
                 every: int = DEFAULT_EVERY, observers: Iterable[object] = (),
                 pinned: Iterable[object] = (),
                 observer_budget: int = OBSERVER_BUDGET) -> None:
        """``observers``: more objects whose state follows time (the app's
        runner); ``pinned``: objects they refer to that are no state;
        ``observer_budget``: bytes of their frozen state kept per checkpoint,
        on average."""
        self.observer_budget = observer_budget
        self.session = session
        self.machine = session.machine
        self.history = history
        self.stores = StoreLog(self.machine)
        self._switches = array("Q")   # instructions where the privilege mode changed
        self.machine.events.subscribe(TrapTaken, self._on_switch)
        self.machine.events.subscribe(TrapReturn, self._on_switch)
        self._observers: list[object] = [session, session.tracker, session.view,
                                          session.cow_bits, *observers]
        self._logs: list[tuple[object, str]] = [(session, "trace"),
                                                (session.tracker, "violations")]
        # Not state of a moment: the PTEs changed since the last stop (a jump
        # starts that afresh).
        self._skipped: set[tuple[int, str]] = set()
        if history is not None:   # its log of changes is cut back by its forget_from
            self._observers.append(history)
            self._skipped |= {(id(history), "_changed"), (id(history), "_by_pte"),
                              (id(history), "_order")}
        m = self.machine
        # Replays ask the tracker for stores' call stacks the first run unwound.
        self._witness = RecallingWitness(session.tracker.witness, m)
        session.tracker.witness = self._witness
        # Shared, not copied: the machine and what it is wired to, the observers
        # themselves (they refer to each other), and their threads' locks and events.
        wiring = [value for owner in self._observers for value in vars(owner).values()
                  if isinstance(value, _THREAD_TYPES)]
        self._pinned = [self, m, m.events, m.bus, m.kernel, m.hart, session.scenario,
                        self._witness,
                        *self._observers, *wiring, *pinned]
        self.replaying = False
        session.timetravel = self   # before the first capture: restoring it keeps this
        self.checkpoints = Checkpoints(m, every)
        self._recent = RecentContents()
        self.checkpoints.points[0].extra = self._capture_observers(None)
        self.checkpoints.on_capture = self._attach

    # --- what follows time besides the machine ------------------------------------
    def _on_switch(self, event: TrapTaken | TrapReturn) -> None:
        if event.from_privilege != event.to_privilege:
            self._switches.append(event.icount)

    def _capture_observers(self, previous: dict[str, Any] | None) -> dict[str, Any]:
        """What the observers know now; ``previous``: the last capture kept
        (the journaled containers are kept as changes since it)."""
        logs = {(id(owner), name) for owner, name in self._logs} | self._skipped
        states = [{name: value for name, value in vars(owner).items()
                   if (id(owner), name) not in logs} for owner in self._observers]
        bus = self.machine.bus
        frozen = freeze(states, self._pinned, previous["observers"] if previous else None,
                        self._recent)
        # 8 bytes a page (thousands are watched on xv6), shared while unchanged
        watched = array("Q", sorted(bus.watched_pages))
        if previous is not None and previous["watched_pages"] == watched:
            watched = previous["watched_pages"]
        return {"observers": frozen,
                # what the checkpoints up to this one keep of the observers
                "kept_bytes": frozen.nbytes + (previous["kept_bytes"] if previous else 0),
                "watched_pages": watched,
                "partial_watches": {p: list(r) for p, r in bus.partial_watches.items()}}

    def _attach(self, point) -> None:
        """The observers' state, kept with this checkpoint while what is kept
        stays within the budget (when it grows faster, it is kept at every
        few checkpoints only; a move replays from the nearest checkpoint
        that has it)."""
        points = self.checkpoints.points
        last = points[self._observed_at_or_before(points[-2].icount)].extra
        if last["kept_bytes"] + last["observers"].nbytes > self.observer_budget * len(points):
            return
        point.extra = self._capture_observers(last)

    def _observed_at_or_before(self, icount: int) -> int:
        """The latest checkpoint at or before ``icount`` that has the observers' state."""
        points = self.checkpoints.points
        index = self.checkpoints.index_at_or_before(icount)
        while points[index].extra is None:   # the first checkpoint always has it
            index -= 1
        return index

    def _restore_observers(self, saved: dict[str, Any], icount: int) -> None:
        state = thaw(saved["observers"], self._pinned, self._recent)
        for owner, fields in zip(self._observers, state, strict=True):
            vars(owner).update(fields)
        for owner, name in self._logs:
            _trim(getattr(owner, name), icount)
        if self.history is not None:
            self.history.forget_from(icount)
        self._witness.new_entry()   # its stack memo may hold a later kernel entry's
        bus = self.machine.bus
        bus.watched_pages = set(saved["watched_pages"])
        bus.partial_watches = {p: list(r) for p, r in saved["partial_watches"].items()}
        bus.watch_generation += 1   # engines re-read what is watched
        bus.range_generation += 1
        for hook in bus.watch_changed_hooks:
            hook()
        self.stores.forget_from(icount)
        keep = len(self._switches)
        while keep and self._switches[keep - 1] >= icount:
            keep -= 1
        del self._switches[keep:]

    # --- forward ---------------------------------------------------------------------
    def after_run(self) -> None:
        """Called after every slice the session runs: a checkpoint if one is due."""
        if not self.replaying:
            self.checkpoints.maybe_capture()

    def due_in(self) -> int:
        """Instructions until the next checkpoint is due (at least 1)."""
        return max(1, self.checkpoints.points[-1].icount + self.checkpoints.every
                   - self.machine.icount)

    def _run(self, budget: int):
        return self.session.run(max_instructions=budget)

    # --- moves --------------------------------------------------------------------------
    def go_to(self, target: int, why: str | None = None) -> Arrival:
        """Every view as it was at instruction ``target`` (ahead: run there)."""
        if target < self.checkpoints.points[0].icount:
            raise TimeTravelError(f"#{target:,} is before the first checkpoint "
                                  f"(#{self.checkpoints.points[0].icount:,})")
        if target < self.machine.icount:
            index = self._observed_at_or_before(target)
            point = self.checkpoints.points[index]
            self.checkpoints.restore(index)
            self._restore_observers(point.extra, point.icount)
        self.replaying = True
        try:
            end = self.checkpoints.run_to(target, self._run)
        finally:
            self.replaying = False
        here = self.machine.icount
        self._witness.forget_from(here)
        message = why or f"at #{here:,}"
        if end in ("exit", "reset", "idle") and here < target:
            message += f" (the run {'idles' if end == 'idle' else 'ends'} at #{here:,})"
        return Arrival(here, message)

    def step_back(self) -> Arrival:
        now = self.machine.icount
        if now <= self.checkpoints.points[0].icount:
            raise TimeTravelError("at the first instruction time travel has kept")
        return self.go_to(now - 1, f"stepped back to #{now - 1:,}")

    def _last_before(self, kind: str, now: int) -> Any:
        wanted = MOMENT_KINDS[kind]
        for event in reversed(self.session.trace):
            if isinstance(event, wanted) and event.icount + 1 < now:
                return event
        return None

    def back_to(self, kind: str, interrupted: Callable[[], bool] = _never,
                progress: Progress | None = None) -> Arrival:
        """Run back to the previous 'fault', 'fork', 'violation', 'mode' switch
        or 'breakpoint' (hit, or violation: where ``c`` stops). As the forward
        goals stop after the instruction that reached them, so does this: at a
        fault, the trap has been taken. Only 'breakpoint' searches (replays
        the history newest first): ``interrupted`` and ``progress`` are for it
        (see ``back_to_stop``)."""
        now = self.machine.icount
        if kind == "mode":
            switches = [i for i in self._switches if i + 1 < now]
            if not switches:
                raise TimeTravelError("no mode switch before this instruction")
            return self.go_to(switches[-1] + 1, f"back at the mode switch at #{switches[-1]:,}")
        if kind == "breakpoint":
            return self._back_to_breakpoint(interrupted, progress)
        event = self._last_before(kind, now)
        if event is None:
            raise TimeTravelError(f"no {kind} before this instruction")
        return self.go_to_event(event)

    def go_to_event(self, event: Any) -> Arrival:
        """Where a run forward stops for this event: after its instruction."""
        return self.go_to(event.icount + 1, f"at the {type(event).__name__} of "
                          f"#{event.icount:,}: " + describe(event))

    def _back_to_breakpoint(self, interrupted: Callable[[], bool] = _never,
                            progress: Progress | None = None) -> Arrival:
        """Back to where ``c`` would last have stopped: a breakpoint hit or a violation."""
        if not self.machine.hart.breakpoints:   # violations are in the trace: no search
            if self._last_before("violation", self.machine.icount) is None:
                raise TimeTravelError("no breakpoints are set (and no violation before this "
                                      "instruction)")
            return self.back_to("violation")
        arrival = self.back_to_stop(self._breakpoint_or_violation, "breakpoint hit or violation",
                                    interrupted, progress)
        violation = self._last_before("violation", arrival.icount + 1)
        if violation is not None and violation.icount + 1 == arrival.icount:
            return self.go_to_event(violation)   # (already there: names it)
        if not (arrival.interrupted or arrival.exhausted):
            return replace(arrival, message=f"back at the breakpoint at #{arrival.icount:,}: "
                           + self.where(self.machine.pc))
        return arrival

    def _breakpoint_or_violation(self, budget: int) -> tuple[RunResult, list[int]]:
        seen = len(self.session.trace)
        result = self.session.run(max_instructions=budget)
        moments = [e.icount + 1 for e in self.session.trace[seen:] if isinstance(e, Violation)]
        if result.reason == "breakpoint":
            moments.append(self.machine.icount)
        return result, moments

    def back_to_stop(self, find: StopFinder, what: str,
                     interrupted: Callable[[], bool] = _never,
                     progress: Progress | None = None) -> Arrival:
        """Back to the latest moment before now at which a run forward would
        have stopped. What stops a run (a breakpoint, a watchpoint, ...) is
        not logged, so the stretches between checkpoints are replayed newest
        first, ``find(budget)`` running each slice of them and naming the
        moments it stopped at. ``interrupted()`` is asked between slices: then
        the move ends at the earliest instruction from which everything up to
        now was searched (Arrival.interrupted). ``progress(searched_from, now)``
        is called after every stretch. If nothing earlier stops a run, the
        move ends at the history's first instruction (Arrival.exhausted)."""
        now = self.machine.icount
        points = self.checkpoints.points
        end, index = now, self._observed_at_or_before(now - 1)
        while index >= 0 and end > points[0].icount:
            found = self._stops_between(index, end, find, interrupted)
            if found is None:
                self.go_to(end)
                return Arrival(end, f"stopped searching back for a {what}: none between "
                               f"#{end:,} and #{now:,}", interrupted=True)
            if found:
                self.go_to(found[-1])
                return Arrival(found[-1], f"back at the {what} at #{found[-1]:,}: "
                               + self.where(self.machine.pc))
            end = points[index].icount
            index = self._observed_at_or_before(end - 1) if index else -1
            if progress is not None:
                progress(end, now)
        first = points[0].icount
        self.go_to(first)
        return Arrival(first, f"no {what} before #{now:,}: at #{first:,}, the first "
                       "instruction the history keeps", exhausted=True)

    def _stops_between(self, index: int, end: int, find: StopFinder,
                       interrupted: Callable[[], bool]) -> list[int] | None:
        """The moments before ``end`` that ``find`` stops at, replaying from
        checkpoint ``index``; None if interrupted."""
        point = self.checkpoints.points[index]
        self.checkpoints.restore(index)
        self._restore_observers(point.extra, point.icount)
        found: list[int] = []
        self.replaying = True
        try:
            while self.machine.icount < end:
                if interrupted():
                    return None
                result, moments = find(min(end - self.machine.icount, REVERSE_SLICE))
                found += (moment for moment in moments if moment < end)
                if result.reason in ("exit", "reset", "idle"):
                    break
        finally:
            self.replaying = False
        return sorted(found)

    # --- back to the last change ------------------------------------------------------------
    # "The last change" is the store that made the state seen now: if it is the
    # instruction just executed, the move stays here and names it.
    def _to_store(self, store: LoggedStore | None, what: str) -> Arrival:
        if store is None:
            raise TimeTravelError(f"no change of {what} was seen before this instruction")
        self.go_to(store.icount)     # at the store itself, for who called whom
        callers = self.callers()
        arrival = self.go_to(store.icount + 1)
        return Arrival(arrival.icount, f"{what} was changed at #{store.icount:,} by "
                       f"{self.where(store.pc)}{callers}: {store.old:#x} -> {store.new:#x}",
                       store)

    def callers(self) -> str:
        """', called from f (file:line) ← g ...' for the instruction at pc (kernel
        code; empty in user mode or at the stack's bottom)."""
        frames = call_stack(self.machine, self.machine.kernel, max_frames=16)[1:]
        if not frames:
            return ""
        frames[0] = replace(frames[0], offset=0)   # a return address: no offset to show
        return f", called from {format_call_stack(frames, limit=6)}"

    def last_change_of_address(self, start: int, end: int | None = None) -> Arrival:
        """Back to just after the last store into physical bytes [start, end)."""
        end = start + 1 if end is None else end
        store = self.stores.last_change(start, end, self.machine.icount)
        return self._to_store(store, f"physical {start:#x}")

    def last_change_of_pte(self, pid: int, va: int) -> Arrival:
        if self.history is None:
            raise TimeTravelError("no PTE history is kept")
        now = self.machine.icount   # (a store at now - 1 made the state seen now)
        changes = [e for e in self.history.of(pid, va) if e.icount < now]
        if not changes:
            raise TimeTravelError(f"no change of pid {pid}'s PTE for {va:#x} before this "
                                  "instruction")
        address = changes[-1].pte_address
        store = self.stores.last_change(address, address + 8, now)
        return self._to_store(store, f"pid {pid}'s PTE for {va:#x}")

    def last_change_of_refcount(self, frame: int) -> Arrival:
        array_ = self.session.view.refcounts
        address = array_.address_of(frame) if array_ is not None else None
        if address is None:
            raise TimeTravelError(f"frame {frame:#x} has no refcount this kernel shows")
        store = self.stores.last_change(address, address + array_.element_size,
                                        self.machine.icount)
        return self._to_store(store, f"frame {frame:#x}'s refcount")

    def where(self, pc: int) -> str:
        """pc, symbol and source line of an instruction, for messages."""
        m = self.machine
        text = f"{pc:#x}"
        symbol = m.symbol_at(pc)
        if symbol:
            text += f" {symbol}"
        source = m.source_line(pc)
        if source:
            text += f" ({source[0].rsplit('/', 1)[-1]}:{source[1]})"
        return text

    # --- cost -------------------------------------------------------------------------------
    def forget_recalled(self) -> None:
        """Unwind every store's stack again in the next replay (benches: the cold case)."""
        self._witness.forget_from(0)

    def memory_bytes(self) -> int:
        return self.checkpoints.memory_bytes() + self.stores.memory_bytes()


def describe(event: Any) -> str:
    if isinstance(event, PageFault):
        return f"pid {event.pid} va {event.stval:#x} at pc {event.sepc:#x}"
    if isinstance(event, ProcessForked):
        return f"pid {event.parent} -> pid {event.child} ({event.name})"
    if isinstance(event, Violation):
        return f"[{event.rule}] {event.message}"
    return type(event).__name__
