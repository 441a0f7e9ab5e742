"""Which invariant rules a run cannot check on this kernel, and why.

A rule that cannot be checked must never look like a rule that held: the
headless run warns about each gap on stderr and its summary lists the rules
that were off. Most gaps come from what the KernelView could not find; one
shows while the kernel runs: a kernel that marks its COW pages with the
other RSW bit than the one cowtui was told (``--cow-bit``).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from machine.events import EventBus
from machine.introspect.events import PteChanged
from machine.introspect.kernel_view import KernelView
from machine.introspect.pte import has_cow
from machine.introspect.rules import RULES
from machine.mmu import PTE_V, PTE_W

# Rules that read the kernel's per-frame reference counts.
REFCOUNT_RULES = ("refcount-mismatch", "maps-free-frame", "double-free", "frame-leak",
                  "allocated-without-count")
# Rules that need the processes' page tables, found through the process table
# (refcount-race needs neither: it is on only with several harts and known spinlocks).
PAGE_TABLE_RULES = tuple(rule for rule in RULES
                         if rule not in ("double-free", "kernel-panic", "allocated-without-count",
                                         "free-frame-written", "refcount-race"))
# The members of struct proc the page tables are found through.
PROC_MEMBERS = ("pid", "state", "pagetable")
# Rules that tell COW pages by their RSW bit.
COW_BIT_RULES = ("w-and-cow", "cow-on-readonly", "shared-frame-written",
                 "write-granted-without-cow")
RSW_BITS = (8, 9)


@dataclass(frozen=True)
class Gap:
    reason: str              # what is missing, one line
    rules: tuple[str, ...]   # the rules it turns off


class CowBitWatch:
    """Which RSW bits the kernel sets on the PTEs it write-protects (fork does,
    for COW): only the other bit than cowtui's means the kernel's PTE_COW is
    that one, and the rules that look for COW pages see none."""

    def __init__(self, events: EventBus, cow_bit: int) -> None:
        self.cow_bit = cow_bit
        self.set_on_protect: Counter[int] = Counter()
        events.subscribe(PteChanged, self._on_change)

    def _on_change(self, event: PteChanged) -> None:
        if event.old & PTE_W and not event.new & PTE_W and event.new & PTE_V:
            for bit in RSW_BITS:
                if has_cow(event.new, bit):
                    self.set_on_protect[bit] += 1

    def gap(self) -> Gap | None:
        other = next(bit for bit in RSW_BITS if bit != self.cow_bit)
        if self.set_on_protect[other] and not self.set_on_protect[self.cow_bit]:
            return Gap(f"the kernel sets RSW bit {other}, not {self.cow_bit}, on the pages it "
                       f"write-protects: its PTE_COW is bit {other}, pass --cow-bit {other}",
                       COW_BIT_RULES)
        return None


def page_tables_known(view: KernelView) -> bool:
    """Whether the processes' page tables can be followed (and so how faults end)."""
    return view.procs is not None and all(m in view.procs.offsets for m in PROC_MEMBERS)


def gaps(view: KernelView, cow_bits: CowBitWatch | None = None) -> list[Gap]:
    found: list[Gap] = []
    procs = view.procs
    missing = [m for m in PROC_MEMBERS if procs is not None and m not in procs.offsets]
    if procs is None:
        found.append(Gap("no process table (a global `struct proc proc[NPROC]` with DWARF: "
                         "build the kernel with -g)", PAGE_TABLE_RULES))
    elif missing:
        found.append(Gap(f"struct proc has no member {', '.join(missing)}", PAGE_TABLE_RULES))
    if view.refcounts is None:
        found.append(Gap("no refcount array found: name it with --refcount-symbol NAME "
                         "(e.g. --refcount-symbol kmem.ref)", REFCOUNT_RULES))
    if view.freelist_address is None:
        found.append(Gap("no free list found (a global `kmem` with a member `freelist`)",
                         ("allocated-without-count", "free-frame-written")))
    cow_gap = cow_bits.gap() if cow_bits is not None else None
    if cow_gap is not None:
        found.append(cow_gap)
    return found


def rules_off(found: list[Gap]) -> list[str]:
    """The rules these gaps turn off, in the order RULES lists them."""
    off = {rule for gap in found for rule in gap.rules}
    return [rule for rule in RULES if rule in off]


def warning_line(gap: Gap) -> str:
    return f"cowtui: warning: {gap.reason}; not checked: {', '.join(gap.rules)}"
