"""The COW view's picture: a process's user pages beside the same VAs in its
parent and children, and whether each maps the same frame (shared, COW) or
its own (copied). Plain data from a ViewState and the trace; nothing here
knows Textual."""

from __future__ import annotations

from dataclasses import dataclass

from machine.introspect.events import ProcessForked
from machine.introspect.pte import PTE_U, pte_frame

from .view_state import ViewState


@dataclass(frozen=True)
class Cell:
    """One process's PTE for a page (None in a row: not mapped there)."""
    pid: int
    pte: int
    frame: int
    refcount: int | None


@dataclass(frozen=True)
class CowRow:
    va: int
    cells: tuple[Cell | None, ...]     # the selected process first, then its relatives

    def same_frame(self, i: int) -> bool | None:
        """Does relative ``i`` map the selected process's frame? None: one is unmapped."""
        mine, theirs = self.cells[0], self.cells[i]
        if mine is None or theirs is None:
            return None
        return mine.frame == theirs.frame


def relatives(trace: list, pid: int, alive: set[int]) -> list[tuple[int, str]]:
    """(pid, 'parent' or 'child') of the processes alive now, parent first."""
    parent: int | None = None
    children: list[int] = []
    for event in trace:
        if isinstance(event, ProcessForked):
            if event.child == pid:
                parent = event.parent
            elif event.parent == pid and event.child not in children:
                children.append(event.child)
    out = [(parent, "parent")] if parent in alive else []
    return out + [(child, "child") for child in children if child in alive]


def cow_rows(snap: ViewState, pids: list[int]) -> list[CowRow]:
    """One row per user page of ``pids[0]``, with each other pid's PTE for it."""
    spaces = [snap.spaces.get(pid) for pid in pids]
    if spaces[0] is None:
        return []
    rows = []
    for leaf in spaces[0].leaves:
        if not leaf.pte & PTE_U:
            continue
        cells: list[Cell | None] = []
        for pid, space in zip(pids, spaces, strict=True):
            row = space.leaf(leaf.va) if space is not None else None
            if row is None or not row.pte & PTE_U:
                cells.append(None)
                continue
            frame = pte_frame(row.pte)
            cells.append(Cell(pid, row.pte, frame, snap.frames.refcount(frame)))
        rows.append(CowRow(leaf.va, tuple(cells)))
    return rows


@dataclass(frozen=True)
class HexLine:
    offset: int
    left: bytes
    right: bytes | None

    @property
    def differs(self) -> bool:
        return self.right is not None and self.left != self.right


def hex_lines(left: bytes, right: bytes | None, width: int = 16) -> list[HexLine]:
    return [HexLine(o, left[o:o + width], right[o:o + width] if right is not None else None)
            for o in range(0, len(left), width)]
