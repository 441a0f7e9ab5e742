"""A teaching kernel built with knobs (machine/guest/kernel/param.h), once per session."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from .support import REPO

CC = "riscv64-unknown-elf-gcc"


@pytest.fixture(scope="session")
def hidden_refcount_leak(tmp_path_factory) -> Path:
    """The refcount-leak bug, its refcount array under a name cowtui does not guess."""
    if shutil.which(CC) is None or shutil.which("make") is None:
        pytest.skip(f"{CC} not installed")
    out = tmp_path_factory.mktemp("kernels")
    knobs = "-DREFCOUNT_NAME=page_users -DREFCOUNT_LEN=40000 -DBUG_REFCOUNT_LEAK"
    subprocess.run(["make", "-s", "-C", str(REPO / "machine" / "guest"), f"-j{os.cpu_count() or 2}",
                    "variant", f"O={out}", "NAME=hidden-leak", f"CFLAGS_EXTRA={knobs}"],
                   check=True, capture_output=True)
    return out / "kernel-hidden-leak.elf"
