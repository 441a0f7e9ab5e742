"""refrace.c, the race tools' small multi-hart guest, built at test time with
the RISC-V toolchain (its DWARF is what the lockset rule reads): locked, or
with ``-DREFCOUNT_WITHOUT_LOCK`` (kref without the lock)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

GUESTS = Path(__file__).parent / "guests"
CC = "riscv64-unknown-elf-gcc"
FLAGS = ["-march=rv64imac_zicsr", "-mabi=lp64", "-mcmodel=medany", "-nostdlib",
         "-ffreestanding", "-fno-builtin", "-g", "-O1", "-T", str(GUESTS / "refrace.ld")]


def build_refrace(directory: Path, without_lock: bool) -> Path:
    if shutil.which(CC) is None:
        pytest.skip(f"{CC} not installed")
    out = directory / ("refrace-nolock.elf" if without_lock else "refrace.elf")
    if not out.exists():
        knobs = ["-DREFCOUNT_WITHOUT_LOCK"] if without_lock else []
        subprocess.run([CC, *FLAGS, *knobs, "-o", str(out), str(GUESTS / "refrace.c")],
                       check=True, capture_output=True)
    return out


def scenario_text(kernel: Path, harts: int = 3, extra: str = "") -> str:
    return (f"name: refrace\nkernel: {kernel}\nram_mib: 16\nharts: {harts}\n"
            f"stop: {{instructions: 3000000}}\n{extra}")
