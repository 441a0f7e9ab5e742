"""Differential test: the same programs on QEMU 7.2 and on our Machine.

Random programs (tests/qemu_diff/programs.py) run in batches, one QEMU launch
and one Machine per batch, inside the M-mode harness of harness.py; every
register, trap record, CSR, scratch-window PTE and scratch byte must match.
Where QEMU 7.2 is known to deviate from the specification the comparison
corrects for it (harness.qemu_corrections) or the generator stays out of the
case (programs.py), each with the specification's words.

Run: python -m pytest tests/qemu_diff -q   (the summary line says how many
programs were compared).
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from . import tally
from .harness import (
    PTE_A,
    PTE_D,
    PTE_R,
    PTE_U,
    PTE_V,
    PTE_W,
    PTE_X,
    SCRATCH_PA,
    SCRATCH_SIZE,
    UNMAPPED_PA,
    VA_SCRATCH,
    VA_SCRATCH_PAGES,
    BatchOutcome,
    Program,
    Result,
    load_const,
    qemu_available,
    run_batch,
)
from .programs import programs

pytestmark = [
    pytest.mark.qemu,
    pytest.mark.skipif(not qemu_available(), reason="qemu-system-riscv64 is not installed"),
]

BATCH = 10  # programs per QEMU launch (Hypothesis' entropy budget allows ~10)
EXAMPLES = {"M": 20, "S": 15, "U": 12, "MPRV": 10}  # batches per mode: 570 programs


def report(outcome: BatchOutcome, batch: list[Program]) -> str:
    """Every program that differs, with its listing and the trap lists."""
    parts = []
    for index, program in enumerate(batch):
        diffs = [line for ours in outcome.ours for line in outcome.differences(index, ours)]
        if not diffs:
            continue
        parts.append(f"--- program {index}: {program.listing()}")
        parts.extend("    " + line for line in diffs)
        sides = [("qemu", outcome.qemu)] + [(o.engine, o.results) for o in outcome.ours]
        for name, results in sides:
            if index < len(results):
                traps = [f"(h{h} cause={c:#x} tval={v:#x} epc={e:#x})"
                         for h, c, v, e, _ in Result(results[index]).traps]
                parts.append(f"    {name} traps: {' '.join(traps) or '-'}")
    return "\n".join(parts)


def check_batch(mode: str, batch: list[Program]) -> None:
    outcome = run_batch(batch)
    tally.count(mode, min([len(outcome.qemu)] + [len(o.results) for o in outcome.ours]))
    for ours in outcome.ours:
        assert ours.exit_status == 0, f"{ours.engine} did not finish: {ours.raw[-300:]!r}"
        assert len(outcome.qemu) == len(ours.results) == len(batch), (
            f"results: qemu {len(outcome.qemu)}, {ours.engine} {len(ours.results)}, "
            f"of {len(batch)}\nqemu tail: {outcome.qemu_raw[-200:]!r}")
    problems = report(outcome, batch)
    assert not problems, "QEMU and our Machine disagree:\n" + problems


@pytest.mark.parametrize("mode", list(EXAMPLES))
def test_random_programs_match_qemu(mode: str) -> None:
    """M: physical memory; S and U: Sv39 with random PTE flags, superpages,
    delegation; MPRV: M-mode code whose loads and stores translate as U."""

    # No shrinking: the report already isolates the programs that differ,
    # and each shrink step would cost a QEMU launch and a Machine run.
    @settings(max_examples=EXAMPLES[mode], deadline=None, derandomize=True, database=None,
              phases=[Phase.explicit, Phase.generate],
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                     HealthCheck.large_base_example])
    @given(st.lists(programs(mode), min_size=BATCH, max_size=BATCH))
    def check(batch: list[Program]) -> None:
        check_batch(mode, batch)

    check()


# --- directed programs: the known corners, always run ----------------------
RW = PTE_V | PTE_R | PTE_W | PTE_A | PTE_D
REGS = [0x1111 * i for i in range(1, 32)]
SCRATCH = bytes(range(SCRATCH_SIZE))


def _at(reg: str, address: int, *lines: str) -> list[str]:
    return load_const(reg, address) + list(lines)


DIRECTED = [
    # AMOs that fault: QEMU 7.2 reports the load causes (corrected, see
    # harness.qemu_corrections); LR misaligned is a load-address-misaligned.
    Program("M", _at("a1", SCRATCH_PA + 2, "amoadd.w a0, a2, (a1)", "lr.w a3, (a1)")
            + _at("a1", UNMAPPED_PA, "amoswap.d a0, a2, (a1)", "lr.d a4, (a1)")
            + _at("a1", SCRATCH_PA + 8, "lr.d a5, (a1)", "addi a5, a5, 1",
                  "sc.d a6, a5, (a1)", "sc.d a7, a5, (a1)"),
            REGS, SCRATCH),
    # misaligned loads and stores, within the window and across RAM's end
    Program("M", _at("a1", SCRATCH_PA + 0x7D, "ld a0, 0(a1)", "sd a2, 3(a1)",
                     "lw a3, -1(a1)", "sh a4, 0x7(a1)")
            + _at("a1", UNMAPPED_PA - 4, "ld a5, 0(a1)", "sd a2, 0(a1)", "lw a6, 0(a1)"),
            REGS, SCRATCH),
    # S-mode page faults 12/13/15, all delegated
    Program("S", _at("a1", VA_SCRATCH_PAGES + 0x2000, "ld a0, 0(a1)", "sd a0, 8(a1)",
                     "amoor.w a2, a3, (a1)", "addi a1, a1, 2047", "addi a1, a1, 2047",
                     "lw a6, 2(a1)", "sw a6, 6(a1)")
            + _at("a1", VA_SCRATCH, "sd a4, 0x7C(a1)", "ld a5, 0x7D(a1)")
            + _at("t0", VA_SCRATCH_PAGES + 0x5000, "jalr ra, 0(t0)"),
            REGS, SCRATCH, medeleg=(1 << 12) | (1 << 13) | (1 << 15) | (1 << 5) | (1 << 7),
            l0_flags=[RW, RW, PTE_V | PTE_R | PTE_A, 0, RW, RW, RW, RW]),
    # the same, none delegated, and the scratch pages without A/D: hardware sets them
    Program("S", _at("a1", VA_SCRATCH_PAGES + 0x2000, "ld a0, 0(a1)", "sd a0, 8(a1)")
            + _at("a1", VA_SCRATCH, "ld a5, 0x7D(a1)", "sd a4, 0x7C(a1)")
            + _at("t0", VA_SCRATCH_PAGES + 0x5000, "jalr ra, 0(t0)"),
            REGS, SCRATCH,
            l0_flags=[PTE_V | PTE_R | PTE_W, PTE_V | PTE_R | PTE_W, PTE_V | PTE_R | PTE_A,
                      0, 0, PTE_V | PTE_X | PTE_R, 0, 0]),
    # U-mode: a supervisor page, a user page, ecall and illegal CSR access
    Program("U", _at("a1", VA_SCRATCH, "ld a0, 0(a1)", "ld a2, 0x80(a1)", "sd a2, 0x88(a1)",
                     "csrr a3, sstatus", "ecall"),
            REGS, SCRATCH, medeleg=(1 << 2) | (1 << 13),
            l0_flags=[RW, RW | PTE_U] + [RW | PTE_U] * 6),
    # MPRV: M-mode data through U translations
    Program("MPRV", _at("a1", VA_SCRATCH, "ld a0, 0(a1)", "sd a0, 0x80(a1)",
                        "amoadd.d a2, a0, (a1)"),
            REGS, SCRATCH, l0_flags=[RW, RW | PTE_U] + [RW | PTE_U] * 6),
]


def test_directed_programs_match_qemu() -> None:
    check_batch("directed", DIRECTED)
