"""The tracker's witness, remembering the ``Change`` of recent stores so a
replay makes them without unwinding a stack again.

A step back replays up to a checkpoint interval of instructions, and every
watched store in it asks the witness for its call stack: 43 % of a replay's
time went to unwinding stacks the first run had already unwound
(bench/timetravel.py under cProfile). A replay is exact, so the store at the
same instruction, pc and hart has the same Change. Entries are kept only for
instructions before the machine's present: going back to instruction T
forgets those at T and later (what follows T may now differ: other console
input, a register written by gdb), so every entry describes the timeline
the machine is on.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from machine.introspect.blame import Change, StoreWitness
    from machine.machine import Machine

DEFAULT_LIMIT = 20_000   # entries (~5 MiB); past it the older half is forgotten


class RecallingWitness:
    """Stands in for the tracker's StoreWitness (same ``change``/``new_entry``)."""

    def __init__(self, witness: StoreWitness, machine: Machine,
                 limit: int = DEFAULT_LIMIT) -> None:
        self.witness = witness
        self.machine = machine
        self.limit = limit
        self._known: dict[tuple[int, int, int, bool], Change] = {}
        self._latest = -1   # the latest instruction count known
        self.recalled = 0   # how many changes came from memory (for benches)

    def new_entry(self) -> None:
        self.witness.new_entry()

    def change(self, icount: int, pc: int, by_dma: bool = False) -> Change:
        key = (icount, pc, self.machine.hart.hartid, by_dma)
        change = self._known.get(key)
        if change is not None:
            self.recalled += 1
            return change
        change = self._known[key] = self.witness.change(icount, pc, by_dma)
        self._latest = max(self._latest, icount)
        if len(self._known) > self.limit:
            newest = sorted(self._known, key=lambda k: k[0])[len(self._known) // 2:]
            self._known = {k: self._known[k] for k in newest}
        return change

    def forget_from(self, icount: int) -> None:
        """Time went back to ``icount``: what follows may differ from what was seen."""
        if icount <= self._latest:
            self._known = {k: v for k, v in self._known.items() if k[0] < icount}
            self._latest = max((k[0] for k in self._known), default=-1)
