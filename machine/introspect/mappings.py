"""Which user PTEs map which frame, kept up to date from PTE stores.

A full page-table walk happens only when an address space appears (a new
process, or exec's new table); after that every leaf store arrives as a
PteChanged and updates the index in O(1). Frames whose mappings or refcount
changed since the last check are ``dirty``: the invariant checks look at
those only, so a check costs what changed, not the size of memory (cowtest's
processes map tens of thousands of pages).
"""

from __future__ import annotations

from .journaled import JournaledDict, JournaledDictOfDicts, JournaledSet
from .pte import is_user_leaf, pte_frame

Mapping = tuple[int, int, int]  # (pid, va, pte)


class MappingIndex:
    def __init__(self) -> None:
        # Journaled (time travel keeps what changed): a process's page map
        # journals its own PTEs; a frame's few users are a new dict at each
        # change (a journaled value is never changed in place).
        self.by_process: JournaledDictOfDicts[int, JournaledDict[int, int]] = \
            JournaledDictOfDicts()  # pid -> va -> pte
        self.by_frame: JournaledDict[int, dict[tuple[int, int], int]] = \
            JournaledDict()  # frame -> (pid, va) -> pte
        self.dirty: JournaledSet[int] = JournaledSet()

    def _add(self, pid: int, va: int, pte: int) -> None:
        frame = pte_frame(pte)
        ptes = self.by_process.get(pid)
        if ptes is None:
            ptes = self.by_process[pid] = JournaledDict()
        ptes[va] = pte
        users = dict(self.by_frame.get(frame, ()))
        users[(pid, va)] = pte
        self.by_frame[frame] = users
        self.dirty.add(frame)

    def _remove(self, pid: int, va: int) -> None:
        pte = self.by_process.get(pid, {}).pop(va, None)
        if pte is None:
            return
        frame = pte_frame(pte)
        users = self.by_frame.get(frame)
        if users is not None:
            users = {key: value for key, value in users.items() if key != (pid, va)}
            if users:
                self.by_frame[frame] = users
            else:
                del self.by_frame[frame]
        self.dirty.add(frame)

    def set_leaf(self, pid: int, va: int, pte: int) -> None:
        """A PTE of ``pid`` now holds ``pte`` (any value: non-user leaves drop out)."""
        self._remove(pid, va)
        if is_user_leaf(pte):
            self._add(pid, va, pte)

    def replace_process(self, pid: int, leaves: list[tuple[int, int]]) -> None:
        """``pid``'s address space is ``leaves`` [(va, pte)] from now on."""
        self.remove_process(pid)
        self.by_process[pid] = JournaledDict()
        for va, pte in leaves:
            if is_user_leaf(pte):
                self._add(pid, va, pte)

    def remove_process(self, pid: int) -> None:
        for va in list(self.by_process.get(pid, {})):
            self._remove(pid, va)
        self.by_process.pop(pid, None)

    def users(self, frame: int) -> list[Mapping]:
        return [(pid, va, pte) for (pid, va), pte in self.by_frame.get(frame, {}).items()]

    def all(self) -> dict[int, list[Mapping]]:
        return {frame: self.users(frame) for frame in self.by_frame}

    def take_dirty(self) -> set[int]:
        dirty = set(self.dirty)
        self.dirty.clear()
        return dirty
