"""Everything the PTE inspector shows about one PTE, as plain data."""

from __future__ import annotations

from dataclasses import dataclass

from machine.introspect.pagetable import leaf_at
from machine.introspect.pte import PteFlags, is_user_leaf, pte_frame

from .history import PteHistory, pte_key
from .session import Session
from .view_state import KIND_NAMES, FrameMap

# Sv39 PTE bit fields, high to low, as the privileged spec draws them.
FIELDS = (
    ("N", 63, 63, "Svnapot"), ("PBMT", 62, 61, "page-based memory type"),
    ("reserved", 60, 54, "must be zero"), ("PPN", 53, 10, "physical page number"),
    ("RSW", 9, 8, "software bits"), ("D", 7, 7, "dirty"), ("A", 6, 6, "accessed"),
    ("G", 5, 5, "global"), ("U", 4, 4, "user-accessible"), ("X", 3, 3, "executable"),
    ("W", 2, 2, "writable"), ("R", 1, 1, "readable"), ("V", 0, 0, "valid"),
)


@dataclass(frozen=True)
class Change:
    icount: int
    pc: int
    where: str | None            # symbol+offset of the storing instruction
    source: str | None           # file:line
    old: int
    new: int


@dataclass(frozen=True)
class PteDetails:
    pid: int
    va: int
    pte: int
    pte_address: int | None
    level: int
    cow_bit: int
    frame: int
    frame_kind: str
    refcount: int | None
    sharers: tuple[tuple[int, int, int], ...]   # (pid, va, pte) mapping the same frame
    history: tuple[Change, ...]

    @property
    def flags(self) -> PteFlags:
        return PteFlags(self.pte, self.cow_bit)


def field_value(pte: int, high: int, low: int) -> int:
    return pte >> low & ((1 << (high - low + 1)) - 1)


def pte_details(session: Session, history: PteHistory, frames: FrameMap, pid: int,
                va: int) -> PteDetails | None:
    """Read the PTE of ``pid`` at ``va`` now; None when the process is gone."""
    view, machine = session.view, session.machine
    process = next((p for p in view.processes() if p.pid == pid), None)
    if process is None or not process.pagetable:
        return None
    leaf = leaf_at(view.read_page, process.pagetable, va)
    pte = leaf.pte if leaf else 0
    frame = pte_frame(pte)
    sharers: list[tuple[int, int, int]] = []
    for other in view.processes():
        if other.pagetable:
            for row in view.page_table(other.pagetable)[1]:
                if row.frame == frame and is_user_leaf(row.pte) and frame:
                    sharers.append((other.pid, row.va, row.pte))
    refcount = view.refcount(frame) if frame else None
    index = frames.index(frame)
    kind = KIND_NAMES[frames.kinds[index]] if index is not None else "outside RAM"
    changes = []
    for event in history.of(pid, va):
        source = machine.source_line(event.pc)
        changes.append(Change(event.icount, event.pc, machine.symbol_at(event.pc),
                              f"{source[0]}:{source[1]}" if source else None,
                              event.old, event.new))
    return PteDetails(pid, pte_key(pid, va)[1], pte, leaf.pte_address if leaf else None,
                      leaf.level if leaf else 0, view.cow_bit, frame, kind, refcount,
                      tuple(sharers), tuple(changes))
