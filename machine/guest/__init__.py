"""The bundled guest: our teaching kernel, its bug-zoo variants and the disk,
shipped prebuilt (machine/guest/prebuilt) so users need no cross compiler."""

from __future__ import annotations

from pathlib import Path

PREBUILT = Path(__file__).parent / "prebuilt"

# Each bug-zoo kernel is the teaching kernel built with one classic cow-lab
# mistake; the value is the invariant rule it breaks.
BUG_ZOO: dict[str, str] = {
    "copyout-ignores-cow": "shared-frame-written",
    "refcount-leak": "refcount-mismatch",   # then frame-leak once both have exited
    "double-free": "maps-free-frame",
    "text-becomes-writable": "cow-on-readonly",
    "no-maxva-check": "kernel-panic",
    "oom-panics": "kernel-panic",
    "copyout-stale-pa": "foreign-frame-written",
    "parent-left-writable": "shared-frame-writable",
    "kalloc-no-count": "allocated-without-count",
    "kfree-ignores-count": "maps-free-frame",
    "no-cow-check": "write-granted-without-cow",
}

# Where each bug-zoo mistake is: the function (and its file) that the first
# finding of the zoo's rule must name in its blamed call stack.
BUG_SITES: dict[str, tuple[str, str]] = {
    "copyout-ignores-cow": ("copyout", "kernel/vm.c"),
    "refcount-leak": ("cowfault", "kernel/cow.c"),
    "double-free": ("cowfault", "kernel/cow.c"),
    "text-becomes-writable": ("uvmcopy", "kernel/cow.c"),
    "no-maxva-check": ("cowfault", "kernel/cow.c"),
    "oom-panics": ("cowfault", "kernel/cow.c"),
    "copyout-stale-pa": ("copyout", "kernel/vm.c"),
    "parent-left-writable": ("uvmcopy", "kernel/cow.c"),
    "kalloc-no-count": ("kalloc", "kernel/kalloc.c"),
    "kfree-ignores-count": ("kfree", "kernel/kalloc.c"),
    "no-cow-check": ("cowfault", "kernel/cow.c"),
}


# The teaching kernel built for 3 harts (-DNCPU=3, as xv6's `make qemu` runs),
# and its multi-hart bug zoo: refcount races between harts, which a run on one
# hart never shows (tests/platform/test_harts_zoo.py makes them happen). The
# value is the rule the race breaks, as the kernel's own panic shows it: a lost
# update frees a frame still mapped; the check-then-act frees one twice.
SMP_KERNEL = "teaching-smp"
SMP_BUG_ZOO: dict[str, str] = {
    "smp-refcount-unlocked": "maps-free-frame",   # or frame-leak, when a decrement is lost
    "smp-free-check-then-act": "double-free",
}


def bundled_kernel(bug: str | None = None) -> Path:
    """The teaching kernel, a bug-zoo kernel (BUG_ZOO, SMP_BUG_ZOO) or SMP_KERNEL."""
    if bug == SMP_KERNEL:
        return PREBUILT / "kernel-smp.elf"
    return PREBUILT / (f"kernel-{bug}.elf" if bug else "kernel.elf")


def bundled_disk() -> Path:
    return PREBUILT / "fs.img"
