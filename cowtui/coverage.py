"""Which invariant rules a run cannot check on this kernel, and why.

A rule that cannot be checked must never look like a rule that held: the
headless run warns about each gap on stderr and its summary lists the rules
that were off. The gaps come from what the KernelView could not find.
"""

from __future__ import annotations

from dataclasses import dataclass

from machine.introspect.kernel_view import KernelView
from machine.introspect.rules import RULES

# Rules that read the kernel's per-frame reference counts.
REFCOUNT_RULES = ("refcount-mismatch", "maps-free-frame", "double-free", "frame-leak")
# Rules that need the processes' page tables, found through the process table.
PAGE_TABLE_RULES = tuple(rule for rule in RULES if rule not in ("double-free", "kernel-panic"))
# The members of struct proc the page tables are found through.
PROC_MEMBERS = ("pid", "state", "pagetable")


@dataclass(frozen=True)
class Gap:
    reason: str              # what is missing, one line
    rules: tuple[str, ...]   # the rules it turns off


def gaps(view: KernelView) -> list[Gap]:
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
    return found


def rules_off(view: KernelView) -> list[str]:
    """The rules this run cannot check, in the order RULES lists them."""
    off = {rule for gap in gaps(view) for rule in gap.rules}
    return [rule for rule in RULES if rule in off]


def warning_lines(view: KernelView) -> list[str]:
    return [f"cowtui: warning: {gap.reason}; not checked: {', '.join(gap.rules)}"
            for gap in gaps(view)]
