"""What introspection adds to the machine's events: the kernel's view of them."""

from __future__ import annotations

from dataclasses import dataclass

from ..events import Event
from .blame import Change


@dataclass(frozen=True, slots=True)
class PteChanged(Event):
    pid: int
    va: int
    old: int
    new: int
    pc: int
    pte_address: int


@dataclass(frozen=True, slots=True)
class RefcountChanged(Event):
    frame: int
    old: int
    new: int
    pc: int


@dataclass(frozen=True, slots=True)
class PageFault(Event):
    pid: int
    name: str
    scause: int
    stval: int
    sepc: int
    pte_before: int


@dataclass(frozen=True, slots=True)
class FaultResolved(Event):
    pid: int
    fault_icount: int   # the PageFault this closes
    va: int
    outcome: str        # 'copied', 'made-writable', 'mapped', 'killed', 'not-cow'
    pte_after: int
    new_frame: int | None = None


@dataclass(frozen=True, slots=True)
class ProcessForked(Event):
    parent: int
    child: int
    name: str


@dataclass(frozen=True, slots=True)
class ProcessExited(Event):
    pid: int
    name: str


@dataclass(frozen=True, slots=True)
class Violation(Event):
    rule: str
    message: str
    pc: int
    frames: tuple[int, ...] = ()
    ptes: tuple[tuple[int, int], ...] = ()  # (pid, va)
    blame: Change | None = None  # the store that made the state wrong (pc is its pc)
    repeats: int = 1  # identical findings in the same kernel operation (stores of one memset)


OUTCOMES = ("copied", "made-writable", "mapped", "killed", "not-cow")
