"""Teaching kernels built with knobs (machine/guest/kernel/param.h), once per session."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from .support import REPO

CC = "riscv64-unknown-elf-gcc"
KNOBS = {
    # the refcount-leak bug, its refcount array under a name cowtui does not guess
    "hidden-leak": "-DREFCOUNT_NAME=page_users -DREFCOUNT_LEN=40000 -DBUG_REFCOUNT_LEAK",
    # PTE_COW in RSW bit 9, and text made COW (the rule that catches it needs the bit)
    "cow-bit-9-text-bug": "-DRSW_COW_BIT=9 -DBUG_TEXT_BECOMES_WRITABLE",
    # kfree frees whatever the count says and never touches it (count stays 1)
    "kfree-keeps-count": "-DBUG_KFREE_IGNORES_COUNT -DKFREE_KEEPS_COUNT",
}


@pytest.fixture(scope="session")
def kernel_variant(tmp_path_factory):
    if shutil.which(CC) is None or shutil.which("make") is None:
        pytest.skip(f"{CC} not installed")
    out = tmp_path_factory.mktemp("kernels")

    def build(name: str) -> Path:
        path = out / f"kernel-{name}.elf"
        if not path.exists():
            subprocess.run(["make", "-s", "-C", str(REPO / "machine" / "guest"),
                            f"-j{os.cpu_count() or 2}", "variant", f"O={out}", f"NAME={name}",
                            f"CFLAGS_EXTRA={KNOBS[name]}"], check=True, capture_output=True)
        return path
    return build


@pytest.fixture(scope="session")
def hidden_refcount_leak(kernel_variant) -> Path:
    return kernel_variant("hidden-leak")
