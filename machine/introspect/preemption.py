"""``pct=K`` schedules: preempt a hart right after it stores to a refcount
or a PTE (or a few instructions after: past the release of the lock it
stored under), and let the harts take short turns for a while, so a second
hart lands inside the first one's read-modify-write of the same count, or
between two locked sections (random priority changes concentrated where COW
races happen, after PCT).

Every decision is drawn from the scheduler's seeded generator at the store's
instruction, so it is the same on every engine, kept in snapshots and
checkpoints, and a pct=K run replays exactly.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .events import PteChanged, RefcountChanged

if TYPE_CHECKING:
    from ..machine import Machine

CHANCES = (100, 250, 500, 900)   # per thousand stores: how eagerly this seed preempts
SHORT_QUANTA = (4, 16, 64)       # the longest short turn, in ticks
BURSTS = (2, 4, 8)               # how many short turns follow a preemption
DELAYS = (1, 1, 8, 32)           # the longest wait after the store (1: at once; more:
#                                  past the lock's release that follows it)


class RacePreemption:
    def __init__(self, machine: Machine) -> None:
        draws = machine.scheduler.draws
        if draws is None:
            raise ValueError("pct schedules need a seed (machine schedule_seed)")
        self.scheduler, self.draws = machine.scheduler, draws
        # This seed's temperament, drawn once before anything runs.
        self.chance = CHANCES[draws.below(len(CHANCES))]
        self.short = SHORT_QUANTA[draws.below(len(SHORT_QUANTA))]
        self.burst = BURSTS[draws.below(len(BURSTS))]
        self.delay = DELAYS[draws.below(len(DELAYS))]
        machine.events.subscribe(RefcountChanged, self._stored)
        machine.events.subscribe(PteChanged, self._stored)

    def _stored(self, event: RefcountChanged | PteChanged) -> None:
        if self.draws.chance(self.chance):
            self.scheduler.preempt(self.burst, self.short, 1 + self.draws.below(self.delay))
