"""The lockset rule ``refcount-race``: two harts store to the same frame's
refcount with no spinlock in common held, whether or not this schedule
happened to lose an update (a lockset check in the manner of Eraser, on
refcount stores).

Per refcount entry:
  - a frame's count belongs to one hart while only that hart stores to it
    (boot code setting every count, or the hart that just allocated it: a
    count going 0 -> 1 starts over, so ownership passes with the frame);
  - once another hart has stored to it, each store is compared with the
    last store by a different hart: if the two held no spinlock in common,
    both are reported, once per pair of instructions.
Only stores are seen (the machine watches stores, not loads), so a race
between a load and a store is found when its own store comes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from .events import RefcountChanged
from .spinlocks import Spinlocks

if TYPE_CHECKING:
    from ..machine import Machine
    from .tracker import Tracker

RULE = "refcount-race"


@dataclass(frozen=True, slots=True)
class Access:
    hart: int
    icount: int
    pc: int
    locks: frozenset[int]


@dataclass(slots=True)
class Entry:
    owner: int | None          # the one hart that stored so far; None once shared
    last: dict[int, Access]    # the last store by each hart


class LocksetRule:
    def __init__(self, machine: Machine, tracker: Tracker, spinlocks: Spinlocks) -> None:
        self.machine, self.tracker, self.spinlocks = machine, tracker, spinlocks
        self.entries: dict[int, Entry] = {}
        self.reported: set[tuple[int, int]] = set()
        machine.events.subscribe(RefcountChanged, self._on_refcount)

    def _on_refcount(self, event: RefcountChanged) -> None:
        access = Access(event.hart, event.icount, event.pc,
                        self.spinlocks.held_by(event.hart))
        entry = self.entries.get(event.frame)
        if entry is None or (event.old == 0 and event.new == 1):  # allocated: a new owner
            self.entries[event.frame] = Entry(event.hart, {event.hart: access})
            return
        others = [a for hart, a in entry.last.items() if hart != event.hart]
        entry.last[event.hart] = access
        if entry.owner == event.hart:
            return
        entry.owner = None  # shared from now on
        other = max(others, key=lambda a: a.icount)
        if not other.locks & access.locks:
            self._report(event, access, other)

    def _report(self, event: RefcountChanged, this: Access, other: Access) -> None:
        pair = (min(this.pc, other.pc), max(this.pc, other.pc))
        if pair in self.reported:
            return
        self.reported.add(pair)
        describe = self.spinlocks.describe
        message = (f"frame {event.frame:#x}: its refcount was stored by hart {other.hart} "
                   f"at {self._where(other.pc)} (#{other.icount}, holding "
                   f"{describe(other.locks)}) and by hart {this.hart} at "
                   f"{self._where(this.pc)} (holding {describe(this.locks)}): "
                   "no spinlock in common")
        blame = self.tracker.witness.change(event.icount, event.pc)
        self.tracker.violate(RULE, message, (event.frame,), key=pair, blame=blame)

    def _where(self, pc: int) -> str:
        machine = self.machine
        symbol = machine.symbol_at(pc) or f"{pc:#x}"
        line = machine.source_line(pc)
        return f"{symbol} ({line[0]}:{line[1]})" if line else symbol


def attach_lockset(machine: Machine, tracker: Tracker) -> LocksetRule | None:
    """The rule on a machine of several harts whose kernel's spinlocks are
    known (None otherwise: with one hart there is nothing to race)."""
    if len(machine.harts) < 2 or tracker.view.refcounts is None:
        return None
    spinlocks = Spinlocks(machine)
    return LocksetRule(machine, tracker, spinlocks) if spinlocks.known else None
