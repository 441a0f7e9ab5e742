"""Regression tests for what the QEMU differential found wrong in our core.

They run on our Machine only (no QEMU needed), through the same harness.

SC permission checks (machine/engine/memory.py, store_conditional): the
Zalrsc text says "No SC instruction shall retire unless it passes memory
permission checks, but it is UNSPECIFIED whether any side effects of implicit
address translation and protection memory accesses (such as setting a
page-table entry D bit) occur on a failed SC". Our SC used to fail silently,
unchecked, when there was no reservation. (QEMU 7.2 also skips the checks;
the differential never generates such an SC, see programs.lr_sc.)
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from .harness import (
    ENGINES,
    PTE_A,
    PTE_D,
    PTE_R,
    PTE_V,
    PTE_W,
    R_PTES,
    SCRATCH_PA,
    SCRATCH_SIZE,
    UNMAPPED_PA,
    VA_SCRATCH,
    VA_SCRATCH_PAGES,
    Image,
    Program,
    Result,
    load_const,
    parse,
    run_ours,
)

REGS = [0x1111 * i for i in range(1, 32)]


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest) -> str:
    return request.param


def run(engine: str, *programs: Program) -> list[list[int]]:
    image = Image(list(programs))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "t.elf"
        path.write_bytes(image.elf())
        text, status = run_ours(path, len(programs), engine)
    assert status == 0
    results = parse(text)
    assert len(results) == len(programs)
    return results


def traps(words: list[int]) -> list[tuple[int, int]]:
    return [(cause, tval) for _, cause, tval, _, _ in Result(words).traps]


def test_sc_without_reservation_still_faults_on_absent_memory(engine: str) -> None:
    body = load_const("a1", UNMAPPED_PA) + ["li a0, 7", "sc.d a0, a2, (a1)"]
    [result] = run(engine, Program("M", body, REGS, bytes(SCRATCH_SIZE)))
    assert traps(result) == [(7, UNMAPPED_PA)]
    assert Result(result).regs[9] == 7  # a0 (x10): the SC did not retire


def test_sc_without_reservation_fails_quietly_on_ram(engine: str) -> None:
    body = load_const("a1", SCRATCH_PA) + ["li a0, 7", "sc.d a0, a2, (a1)"]
    [result] = run(engine, Program("M", body, REGS, bytes(SCRATCH_SIZE)))
    assert traps(result) == []
    assert Result(result).regs[9] == 1


def test_failed_sc_checks_page_permissions_without_setting_a_or_d(engine: str) -> None:
    read_only = PTE_V | PTE_R                # no W, and A/D clear
    writable = PTE_V | PTE_R | PTE_W         # A/D clear: a failed SC must not set them
    l0 = [read_only, writable] + [0] * 6
    body = (load_const("a1", VA_SCRATCH) + ["li a0, 7", "sc.d a0, a2, (a1)"]
            + load_const("a1", VA_SCRATCH_PAGES + 0x1000) + ["li a3, 7", "sc.w a3, a2, (a1)"])
    [result] = run(engine, Program("S", body, REGS, bytes(SCRATCH_SIZE), l0_flags=l0))
    assert traps(result) == [(15, VA_SCRATCH)]
    regs = Result(result).regs
    assert regs[9] == 7 and regs[12] == 1   # a0 untouched (trapped), a3 = failure
    assert result[R_PTES] & (PTE_A | PTE_D) == 0
    assert result[R_PTES + 1] & (PTE_A | PTE_D) == 0
