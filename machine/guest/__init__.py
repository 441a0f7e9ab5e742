"""The bundled guest: our teaching kernel, its bug-zoo variants and the disk,
shipped prebuilt (machine/guest/prebuilt) so users need no cross compiler."""

from __future__ import annotations

from pathlib import Path

PREBUILT = Path(__file__).parent / "prebuilt"

# Each bug-zoo kernel is the teaching kernel built with one classic cow-lab
# mistake; the value is the invariant rule it breaks.
BUG_ZOO: dict[str, str] = {
    "copyout-ignores-cow": "shared-frame-written",
    "refcount-leak": "frame-leak",
    "double-free": "maps-free-frame",
    "text-becomes-writable": "cow-on-readonly",
    "no-maxva-check": "kernel-panic",
    "oom-panics": "kernel-panic",
}


def bundled_kernel(bug: str | None = None) -> Path:
    return PREBUILT / (f"kernel-{bug}.elf" if bug else "kernel.elf")


def bundled_disk() -> Path:
    return PREBUILT / "fs.img"
