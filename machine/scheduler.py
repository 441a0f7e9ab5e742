"""Several harts on one thread, deterministically (DESIGN.md, "Several harts").

Round-robin in hart-id order with a fixed quantum counted in ticks (the
instruction count, which is also mtime). There is one time for the whole
board: the hart that runs carries it in its ``icount``; a hart switched in
first catches up to it (the gap counts as not retired, as WFI idle time
does), so every engine, device and event keeps reading time from "the hart"
as with one hart.

Every decision depends only on guest state and instruction counts, never on
the host, so a run, a step-by-step run and a replay take the same schedule:
  - a hart in WFI with nothing that could wake it sleeps (costs no host
    time) until its mip & mie is non-zero; device changes (CLINT msip and
    mtimecmp writes, PLIC outputs) stop the running hart so sleepers are
    looked at again at that exact instruction;
  - while only one hart is awake it runs unsliced (parked harts are free);
  - a WFI waiting for a timer jumps at most to the end of its quantum, and
    the hart then sleeps until that timer's deadline (or an interrupt), so
    harts idling in a kernel's scheduler loop cost no host time and take no
    share of the time from the busy ones; when every hart sleeps, time jumps
    to the first deadline;
  - at a switch the incoming hart's LR reservation is dropped (the spec lets
    a reservation be lost at any time, so an SC that follows fails, exactly
    as it must when another hart stored into the reserved set meanwhile) and
    it drops its decoded code (and translations, for a page table) on every
    page another hart stored into since it last ran: each hart marks the
    pages it stores into (Hart.take_stored_pages), apart from time travel's
    dirty marks.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .hart import Hart
    from .schedule import SeededDraws

DEFAULT_QUANTUM = 10_000  # ticks a hart runs before the next awake hart's turn


class HartScheduler:
    def __init__(self, harts: list[Hart], quantum: int = DEFAULT_QUANTUM,
                 on_switch: Callable[[Hart], None] | None = None,
                 draws: SeededDraws | None = None) -> None:
        if quantum < 1:
            raise ValueError(f"quantum must be at least 1 tick, not {quantum}")
        self.harts = harts
        self.quantum = quantum
        # The hart that runs (and holds the time), and its index. A plain
        # attribute, not a property: every watched store reads it.
        self.hart, self.current = harts[0], 0
        self._on_switch = on_switch  # told of each new running hart (Machine.hart)
        self.slice_left = quantum  # ticks left in the current hart's quantum
        # Per hart: pages the others stored into since it last ran.
        self._stale: list[set[int]] = [set() for _ in harts]
        if len(harts) > 1:
            harts[0].bus.stored_pages = set()  # the bus's stores are marked too
        # Seeded schedules (machine/schedule.py): quanta and the next hart
        # drawn, and preemptions asked at watched stores (--explore).
        self.draws = draws
        self._preempt_at: int | None = None  # (preempt) when the running hart's turn ends
        self.short_turns, self.short_quantum = 0, 1  # turns of at most short_quantum ticks

    def _set_current(self, index: int) -> None:
        self.current, self.hart = index, self.harts[index]
        if self._on_switch is not None:
            self._on_switch(self.hart)

    def now(self) -> int:
        return self.hart.icount

    # --- who may run -----------------------------------------------------------
    @staticmethod
    def wakes_at(hart: Hart) -> int:
        """When a hart asleep in WFI (waits_in_wfi) wakes by itself: its first
        timer or input deadline after the moment it fell asleep."""
        return hart.next_deadline(hart.icount)

    def awake(self, hart: Hart) -> bool:
        """A hart runs unless it sleeps in WFI with nothing pending for it
        (and, if it waits for a deadline, that deadline is still ahead)."""
        if not hart.idle_forever and not hart.waits_in_wfi:
            return True
        csr = hart.csr
        if csr.mip & csr.mie:
            return True
        return hart.waits_in_wfi and self.wakes_at(hart) <= self.now()

    def _next_quantum(self) -> int:
        if self.draws is None:
            return self.quantum
        if self.short_turns > 0:
            self.short_turns -= 1
            return 1 + self.draws.below(self.short_quantum)
        return 1 + self.draws.below(2 * self.quantum)

    def preempt(self, short_turns: int = 0, short_quantum: int = 1, delay: int = 1) -> None:
        """From an event hook (a seeded explorer at a watched store): end the
        running hart's turn ``delay`` ticks after this instruction's (1: right
        after it; more: a few instructions on, past a lock's release), and on
        a seeded schedule make the next ``short_turns`` turns short,
        1..short_quantum ticks, so harts interleave finely around the store."""
        if len(self.harts) > 1:
            self._preempt_at = self.now() + max(1, delay)
            self.hart.stop_requested = True
            self.short_turns, self.short_quantum = short_turns, max(1, short_quantum)

    def _next_awake(self, after: int) -> int | None:
        count = len(self.harts)
        if self.draws is not None:  # seeded: any other awake hart, drawn
            others = [i for i in range(count) if i != self.current and self.awake(self.harts[i])]
            if others:
                return others[self.draws.below(len(others))]
            return self.current if self.awake(self.hart) else None
        for step in range(1, count + 1):
            index = (after + step) % count
            if self.awake(self.harts[index]):
                return index
        return None

    def devices_changed(self) -> None:
        """A CLINT or PLIC output may have woken a sleeper: stop and look."""
        if len(self.harts) > 1:
            self.harts[self.current].stop_requested = True

    # --- running ----------------------------------------------------------------
    def switch_to(self, index: int) -> None:
        if index == self.current:
            return
        now = self.now()
        stored = self.hart.take_stored_pages()
        if stored:
            for other, stale in enumerate(self._stale):
                if other != self.current:
                    stale |= stored
        self._set_current(index)
        self.slice_left = self.quantum
        hart = self.hart
        gap = now - hart.icount
        hart.icount += gap
        hart.not_retired += gap
        hart.idle_forever = hart.waits_in_wfi = False
        hart.memory.reservation = None
        if self._stale[index]:
            hart.pages_stored_elsewhere(self._stale[index])
            self._stale[index] = set()

    def choose(self) -> Hart | None:
        """Switch to the hart whose turn it is now; None if every hart sleeps
        (then nothing changes). Choosing again without running is a no-op."""
        if self.awake(self.hart) and self.slice_left > 0:
            return self.hart
        chosen = self._next_awake(self.current if self.slice_left <= 0 else self.current - 1)
        if chosen is None:
            return None
        self.switch_to(chosen)
        self.slice_left = self._next_quantum()
        return self.hart

    def run(self, ticks: int) -> None:
        """Run the board for up to ``ticks`` of time, stopping early where the
        running hart's loop stops (breakpoint, stop request, exit), or where
        every hart sleeps (the current hart is left ``idle_forever``)."""
        end = self.now() + ticks
        while self.now() < end:
            hart = self.choose()
            if hart is None:
                if self._idle_until_a_wake(end):
                    continue
                return  # everyone sleeps for good: the machine is idle
            hart.idle_forever = hart.waits_in_wfi = False
            others = [other for other in self.harts if other is not hart]
            alone = all(not self.awake(other) for other in others)
            # The first moment a sleeper wakes by itself (None: none still sleeps so).
            wake = min((when for other in others if other.waits_in_wfi
                        and (when := self.wakes_at(other)) > self.now()), default=None)
            limit = end if alone else min(end, self.now() + self.slice_left)
            if wake is not None and wake < limit:
                limit = wake
            hart.time_limit = None if alone and limit == end else limit
            start = hart.icount
            hart.run(limit - start)
            hart.time_limit = None
            ran = hart.icount - start
            self.slice_left = self.quantum if alone else self.slice_left - ran
            if alone and wake is not None and hart.icount >= wake:
                self.slice_left = 0  # a sleeper's deadline: its turn comes now
            if self._preempt_at is not None:
                at, self._preempt_at = self._preempt_at, None
                if not alone:
                    self.slice_left = min(self.slice_left, max(0, at - self.now()))
            if self.slice_left <= 0:
                self.choose()  # at once: the pc shown after a stop is the next hart's
            if hart.stop_requested or hart.breakpoint_hit is not None:
                return
            if hart.idle_forever and self._next_awake(self.current) is None:
                return

    def _idle_until_a_wake(self, end: int) -> bool:
        """Every hart sleeps: let time pass (idle, on the running hart) to the
        first deadline a sleeper waits for, or to ``end``. False if none waits
        for one."""
        wake = min((self.wakes_at(h) for h in self.harts if h.waits_in_wfi), default=None)
        if wake is None or wake >= self.hart.NEVER:
            return False
        skipped = min(wake, end) - self.now()
        self.hart.icount += skipped
        self.hart.not_retired += skipped
        return True

    # --- snapshots of the schedule ------------------------------------------------
    def state(self) -> dict:
        state = {"current": self.current, "slice_left": self.slice_left,
                 "waiting": [hart.waits_in_wfi for hart in self.harts]}
        if self.draws is not None:  # unseeded schedules keep their snapshots' exact form
            state["draws"] = self.draws.state
            state["short"] = [self.short_turns, self.short_quantum]
        return state

    def restore(self, state: dict) -> None:
        """Put back ``state()`` plus which harts sleep; every hart's caches
        are dropped by the restore, so none is stale."""
        self._set_current(int(state["current"]))
        self.slice_left = int(state["slice_left"])
        if self.draws is not None and "draws" in state:
            self.draws.state = int(state["draws"])
            self.short_turns, self.short_quantum = (int(v) for v in state["short"])
        for hart, asleep in zip(self.harts, state["asleep"]):
            hart.idle_forever = bool(asleep)
        for hart, waiting in zip(self.harts, state.get("waiting", [])):
            hart.waits_in_wfi = bool(waiting)
        self._stale = [set() for _ in self.harts]
