"""The COW invariants as pure functions over page-table facts.

The tracker feeds them what it read from the guest; tests feed them
synthetic mappings. Each returns ``Finding``s: a rule name (see rules.py), a
one-line message, and the frames and (pid, va) PTEs involved.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from ..mmu import PTE_V, PTE_W, PTE_X
from .pte import has_cow, pte_frame

Mapping = tuple[int, int, int]  # (pid, va, pte)


@dataclass(frozen=True)
class Finding:
    rule: str
    message: str
    frames: tuple[int, ...] = ()
    ptes: tuple[tuple[int, int], ...] = ()


def check_pte_change(pid: int, va: int, old: int, new: int, cow_bit: int) -> list[Finding]:
    """Rules a single leaf PTE store can break, checked at the store itself."""
    findings = []
    frame = (pte_frame(new),)
    if new & PTE_W and has_cow(new, cow_bit):
        findings.append(Finding("w-and-cow", f"pid {pid} va {va:#x}: PTE {new:#x} has both W "
                                "and COW", frame, ((pid, va),)))
    if has_cow(new, cow_bit) and not has_cow(old, cow_bit) and old & PTE_V and not old & PTE_W:
        kind = "an executable" if old & PTE_X else "a read-only"
        findings.append(Finding("cow-on-readonly", f"pid {pid} va {va:#x}: COW set on {kind} "
                                f"page (PTE {old:#x} -> {new:#x})", frame, ((pid, va),)))
    return findings


def check_frames(mappings: dict[int, list[Mapping]], refcount: Callable[[int], int | None],
                 cow_bit: int) -> list[Finding]:
    """Rules over every user-mapped frame, at a quiescent point."""
    findings = []
    for frame, users in sorted(mappings.items()):
        ptes = tuple((pid, va) for pid, va, _ in users)
        where = ", ".join(f"pid {p} va {v:#x}" for p, v in ptes[:3])
        if len(users) > 1:
            writable = [(pid, va) for pid, va, pte in users if pte & PTE_W]
            if writable:
                findings.append(Finding(
                    "shared-frame-writable",
                    f"frame {frame:#x} is mapped by {len(users)} PTEs and writable through "
                    f"pid {writable[0][0]} va {writable[0][1]:#x}", (frame,), ptes))
        count = refcount(frame)
        if count is None:
            continue
        if count == 0:
            findings.append(Finding("maps-free-frame", f"frame {frame:#x} has refcount 0 "
                                    f"(freed) but is mapped by {where}", (frame,), ptes))
        elif count != len(users):
            findings.append(Finding("refcount-mismatch", f"frame {frame:#x} has refcount "
                                    f"{count} but {len(users)} user PTE(s) map it ({where})",
                                    (frame,), ptes))
    return findings


def shared_cow_frames(mappings: dict[int, list[Mapping]], cow_bit: int) -> set[int]:
    """Frames shared by several PTEs, at least one of them COW: the kernel must not store there."""
    return {frame for frame, users in mappings.items()
            if len(users) > 1 and any(has_cow(pte, cow_bit) for _, _, pte in users)}
