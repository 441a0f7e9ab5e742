"""Every store into a watched physical range, kept compactly, so "when did
this PTE / refcount / address last change before now" is a lookup, not a
replay.

The log is fed by the MemoryWrite events the watches already produce (the
tracker watches PTEs of known page tables and the refcount fields); it adds
no event path of its own. Entries are columns of ``array`` (about 50 bytes
a store) and an index from each 8-byte granule to the entries that touched
it. Time travel trims the log when it goes back (``forget_from``): the
replay logs the same stores again.

The privilege of each store is the hart's at the MemoryWrite: exact, because
the log keeps trap and return events subscribed, and the native core hands
the hart back to Python (so its privilege is current) at every one of them.
"""

from __future__ import annotations

import bisect
from array import array
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .events import MemoryWrite, TrapReturn, TrapTaken

if TYPE_CHECKING:
    from .machine import Machine

GRANULE = 3  # log2 of the bytes an index entry covers


@dataclass(frozen=True, slots=True)
class LoggedStore:
    icount: int
    pc: int
    privilege: int
    address: int
    size: int
    old: int
    new: int
    by_dma: bool


class StoreLog:
    def __init__(self, machine: Machine) -> None:
        self.machine = machine
        self._icount = array("Q")
        self._pc = array("Q")
        self._address = array("Q")
        self._old = array("Q")
        self._new = array("Q")
        self._size_privilege = array("B")  # size (1..8) << 3 | privilege, DMA: bit 7
        self._by_granule: dict[int, array] = {}
        events = machine.events
        events.subscribe(MemoryWrite, self._on_write)
        events.subscribe(TrapTaken, self._keep_privilege_exact)
        events.subscribe(TrapReturn, self._keep_privilege_exact)

    def _keep_privilege_exact(self, event: TrapTaken | TrapReturn) -> None:
        """Subscribed only so that the native core stops at traps and returns."""

    def _on_write(self, event: MemoryWrite) -> None:
        number = len(self._icount)
        self._icount.append(event.icount)
        self._pc.append(event.pc)
        self._address.append(event.address)
        self._old.append(event.old & 0xFFFFFFFFFFFFFFFF)
        self._new.append(event.new & 0xFFFFFFFFFFFFFFFF)
        self._size_privilege.append(event.size << 3 | self.machine.hart.privilege
                                    | (0x80 if event.by_dma else 0))
        for granule in self._granules(event.address, event.address + event.size):
            entries = self._by_granule.get(granule)
            if entries is None:
                entries = self._by_granule[granule] = array("I")
            entries.append(number)

    @staticmethod
    def _granules(start: int, end: int) -> range:
        return range(start >> GRANULE, ((end - 1) >> GRANULE) + 1)

    def __len__(self) -> int:
        return len(self._icount)

    def entry(self, number: int) -> LoggedStore:
        packed = self._size_privilege[number]
        return LoggedStore(self._icount[number], self._pc[number], packed & 7,
                           self._address[number], (packed >> 3) & 0xF, self._old[number],
                           self._new[number], bool(packed & 0x80))

    def changes(self, start: int, end: int, before: int | None = None) -> list[LoggedStore]:
        """Stores that touched bytes [start, end), oldest first; only those
        with an instruction count below ``before`` if given."""
        numbers: set[int] = set()
        for granule in self._granules(start, end):
            numbers.update(self._by_granule.get(granule, ()))
        found = []
        for number in sorted(numbers):
            address = self._address[number]
            size = (self._size_privilege[number] >> 3) & 0xF
            if address < end and start < address + size and \
                    (before is None or self._icount[number] < before):
                found.append(self.entry(number))
        return found

    def last_change(self, start: int, end: int, before: int) -> LoggedStore | None:
        """The last store into bytes [start, end) at an instruction below ``before``."""
        best = None
        for granule in self._granules(start, end):
            entries = self._by_granule.get(granule)
            if not entries:
                continue
            # entries are in log order, which is instruction order: search back from ``before``
            at = bisect.bisect_left(entries, before, key=self._icount.__getitem__) - 1
            while at >= 0:
                number = entries[at]
                address = self._address[number]
                size = (self._size_privilege[number] >> 3) & 0xF
                if address < end and start < address + size:
                    if best is None or number > best:
                        best = number
                    break
                at -= 1
        return self.entry(best) if best is not None else None

    def forget_from(self, icount: int) -> None:
        """Drop the stores at instruction ``icount`` and later (time went back there)."""
        keep = bisect.bisect_left(self._icount, icount)
        for number in range(len(self._icount) - 1, keep - 1, -1):
            size = (self._size_privilege[number] >> 3) & 0xF
            address = self._address[number]
            for granule in self._granules(address, address + size):
                entries = self._by_granule[granule]
                entries.pop()
                if not entries:
                    del self._by_granule[granule]
        for column in (self._icount, self._pc, self._address, self._old, self._new,
                       self._size_privilege):
            del column[keep:]

    def memory_bytes(self) -> int:
        columns = (self._icount, self._pc, self._address, self._old, self._new,
                   self._size_privilege)
        return sum(c.itemsize * len(c) for c in columns) + \
            sum(4 * len(e) + 64 for e in self._by_granule.values())
