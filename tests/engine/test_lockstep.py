"""The native core against the reference interpreter, in lockstep.

Random programs (the fuzz tests' raw and declaration-shaped words, random
registers and CSRs) in M, S and U, bare and under Sv39, run on both engines:
after every single step, and again after a long run, registers, pc,
privilege, counters, every CSR, the LR reservation, the traps taken and the
memory the program can reach must be the same.
"""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from machine.native import NativeEngine
from machine.snapshot import _CSR_FIELDS

from ..core.harness import DATA, PDATA, RAM, TABLE_POOL
from ..core.test_fuzz import MODES, build, csr_setup, register_value, words

pytestmark = pytest.mark.skipif(NativeEngine is None, reason="the native core is not built")


def region(m, start: int, length: int) -> str:
    offset = start - RAM
    return hashlib.sha256(m.bus.ram[offset:offset + length]).hexdigest()


def state(m) -> tuple:
    hart = m.hart
    csr = tuple(tuple(v) if isinstance(v := getattr(hart.csr, name), list) else v % (1 << 64)
                for name in _CSR_FIELDS)
    return (tuple(hart.x[:32]), hart.pc, hart.privilege, hart.icount, hart.not_retired,
            hart.memory.reservation, csr, tuple(m.traps),
            region(m, DATA, 0x2000), region(m, PDATA, 0x1000), region(m, TABLE_POOL, 0x10000))


def pair(mode: str, program: list[int], registers: list[int], csrs: dict[str, int]):
    machines = []
    for engine in ("interp", "native"):
        m = build(mode, program, registers, csrs)
        m.hart.engine = engine
        machines.append(m)
    return machines


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(mode=st.sampled_from(MODES), program=st.lists(words, min_size=1, max_size=24),
       registers=st.lists(register_value, min_size=31, max_size=31), csrs=csr_setup)
def test_native_steps_like_the_interpreter(mode, program, registers, csrs) -> None:
    reference, native = pair(mode, program, registers, csrs)
    for step in range(60):
        reference.hart.run(1)
        native.hart.run(1)
        assert state(native) == state(reference), f"after step {step + 1}"
        if reference.hart.idle_forever:
            assert native.hart.idle_forever
            break


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(mode=st.sampled_from(MODES), program=st.lists(words, min_size=1, max_size=24),
       registers=st.lists(register_value, min_size=31, max_size=31), csrs=csr_setup)
def test_native_runs_like_the_interpreter(mode, program, registers, csrs) -> None:
    reference, native = pair(mode, program, registers, csrs)
    for budget in (7, 500, 3000):
        reference.hart.run(budget)
        native.hart.run(budget)
        assert state(native) == state(reference), f"after a run of {budget}"
    assert region(native, RAM, 4 << 20) == region(reference, RAM, 4 << 20)
