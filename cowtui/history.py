"""Every PTE's history, and which PTEs changed since the last stop.

Subscribed to PteChanged from the start, so the inspector can show each
change to a PTE with the instruction number and pc that made it. Handlers
run on the emulator's thread; the UI reads copies.
"""

from __future__ import annotations

from collections import defaultdict

from machine.events import EventBus
from machine.introspect.events import PteChanged

VA_MASK = (1 << 39) - 1


def pte_key(pid: int, va: int) -> tuple[int, int]:
    """A PTE named by process and page (VAs sign-extended or not)."""
    return pid, va & VA_MASK & ~0xFFF


class PteHistory:
    def __init__(self, events: EventBus) -> None:
        self._by_pte: dict[tuple[int, int], list[PteChanged]] = defaultdict(list)
        self._order: list[tuple[int, int]] = []   # the key of every change, in order
        self._changed: set[int] = set()   # PTE addresses written since the last stop
        events.subscribe(PteChanged, self._on_change)

    def _on_change(self, event: PteChanged) -> None:
        key = pte_key(event.pid, event.va)
        self._by_pte[key].append(event)
        self._order.append(key)
        self._changed.add(event.pte_address)

    def new_run(self) -> None:
        """A run or step begins: what changes from now on is 'since the last stop'."""
        self._changed = set()

    def changed_addresses(self) -> frozenset[int]:
        return frozenset(self._changed)

    def forget_from(self, icount: int) -> None:
        """Drop the changes at instruction ``icount`` and later (time went back
        there): newest first, so the cost is the number dropped."""
        order, by_pte = self._order, self._by_pte
        while order and by_pte[order[-1]][-1].icount >= icount:
            key = order.pop()
            changes = by_pte[key]
            changes.pop()
            if not changes:
                del by_pte[key]

    def of(self, pid: int, va: int) -> list[PteChanged]:
        return list(self._by_pte.get(pte_key(pid, va), ()))
