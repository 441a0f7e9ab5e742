"""Seeded schedules (machine/schedule.py): one seed is one interleaving, the
same on every engine; other seeds interleave otherwise; time travel in a
seeded run lands where a straight run was."""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

import pytest

from machine.machine import Machine, MachineConfig
from machine.native import NativeEngine
from machine.schedule import ScheduleError, SeededDraws, parse_schedule

from .guest import DATA, MAIN, finish, li64, write_kernel

ENGINES = ("interp", "fast") + (("native",) if NativeEngine is not None else ())
HARTS = 3
ROUNDS = 300

# Every hart adds 1 to a shared counter ROUNDS times with a plain load and
# store (no lock: a lost update whenever a switch falls between them), then
# counts itself done with an AMO; hart 0 waits for all and finishes. The
# final counter, and when each hart ends, tell one interleaving from another.
LOST_UPDATES = {
    MAIN: f"""
        csrr t0, mhartid
        {li64('s0', DATA)}
        addi s1, s0, 8
        li t2, {ROUNDS}
    again:
        ld t3, 0(s0)
        addi t3, t3, 1
        addi t4, t4, 1
        sd t3, 0(s0)
        addi t2, t2, -1
        bnez t2, again
        li t4, 1
        amoadd.d zero, t4, (s1)
        bnez t0, parked
    wait:
        ld t5, 0(s1)
        li t6, {HARTS}
        bne t5, t6, wait
        {finish()}
    parked:
        wfi
        jal zero, parked
    """,
}


def seeded(tmp_path: Path, engine: str, seed: int | None, quantum: int = 40) -> Machine:
    kernel = write_kernel(tmp_path / "lost.elf", LOST_UPDATES)
    return Machine(MachineConfig(kernel=kernel, ram_mib=16, harts=HARTS, engine=engine,
                                 quantum=quantum, schedule_seed=seed))


def outcome(machine: Machine) -> tuple:
    return (machine.read_u64(DATA), machine.icount, tuple(h.icount for h in machine.harts),
            tuple(h.retired() for h in machine.harts))


def test_the_generator_is_a_pure_function_of_its_seed() -> None:
    one, two = SeededDraws(7), SeededDraws(7)
    assert [one.next() for _ in range(5)] == [two.next() for _ in range(5)]
    assert SeededDraws(7).next() != SeededDraws(8).next()
    assert all(0 <= SeededDraws(k).below(3) < 3 for k in range(50))


def test_schedules_are_parsed_with_one_line_errors() -> None:
    assert parse_schedule("seed=42") == ("seed", 42)
    assert parse_schedule("pct=0x10") == ("pct", 16)
    assert parse_schedule("round-robin") == ("round-robin", None)
    for bad in ("seed=", "seed=abc", "rr", "seed=-1"):
        with pytest.raises(ScheduleError):
            parse_schedule(bad)


def test_one_seed_is_one_interleaving_on_every_engine(tmp_path: Path) -> None:
    ends = set()
    for engine in ENGINES:
        machine = seeded(tmp_path, engine, seed=11)
        assert machine.run(max_instructions=2_000_000).reason == "exit"
        ends.add(outcome(machine))
    assert len(ends) == 1, ends


def test_different_seeds_interleave_differently(tmp_path: Path) -> None:
    seen = set()
    for seed in range(6):
        machine = seeded(tmp_path, "fast", seed=seed)
        machine.run(max_instructions=2_000_000)
        assert machine.exit_status == 0
        seen.add(outcome(machine))
    assert len(seen) >= 5  # every seed its own schedule (a collision is possible, not likely)
    robin = seeded(tmp_path, "fast", seed=None)
    robin.run(max_instructions=2_000_000)
    again = seeded(tmp_path, "fast", seed=None)
    again.run(max_instructions=2_000_000)
    assert outcome(robin) == outcome(again)
    assert robin.read_u64(DATA) < HARTS * ROUNDS  # switches inside the window lose updates


@pytest.mark.parametrize("delay", [1, 5])
def test_a_preemption_at_a_store_switches_harts_after_that_instruction(
        tmp_path: Path, delay: int) -> None:
    """What --explore asks at a watched store: the running hart's quantum ends
    right after it (or ``delay`` ticks after it began), on every engine alike."""
    from machine.events import MemoryWrite
    ends = set()
    for engine in ENGINES:
        machine = seeded(tmp_path, engine, seed=3, quantum=5_000)
        machine.watch_physical_range(DATA, DATA + 8)
        switches: list[tuple[int, int]] = []

        def preempt(event: MemoryWrite, machine: Machine = machine,
                    switches: list = switches) -> None:
            switches.append((event.icount, event.hart))
            machine.scheduler.preempt(delay=delay)

        machine.events.subscribe(MemoryWrite, preempt)
        machine.run(max_instructions=3_000_000)
        assert machine.exit_status == 0
        harts = [hart for _, hart in switches]
        # a switch after every store: the next store is another hart's
        assert sum(a != b for a, b in pairwise(harts)) >= len(harts) // 2
        ends.add((outcome(machine), tuple(switches)))
    assert len(ends) == 1


@pytest.mark.parametrize("engine", ENGINES[1:])
def test_time_travel_in_a_seeded_run_lands_where_a_straight_run_was(
        tmp_path: Path, engine: str) -> None:
    from machine.checkpoints import Checkpoints

    def now(machine: Machine) -> tuple:
        return (machine.hart.hartid, machine.scheduler.slice_left, machine.scheduler.draws.state,
                tuple((h.pc, h.icount, tuple(h.x[:32])) for h in machine.harts),
                machine.read_u64(DATA))

    straight = seeded(tmp_path, engine, seed=5)
    seen = {}
    for moment in (1_500, 4_321, 7_777):
        straight.run(max_instructions=moment - straight.icount)
        seen[moment] = now(straight)
    straight.run(max_instructions=2_000_000)
    machine = seeded(tmp_path, engine, seed=5)
    travel = Checkpoints(machine, every=1_000, verify=True)
    assert travel.run_to(2_000_000) == "exit"
    for moment in (7_777, 1_500, 4_321):
        machine.halt_reason = None
        travel.go_to(moment)
        assert now(machine) == seen[moment], moment
    machine.halt_reason = None
    machine.run(max_instructions=2_000_000)
    assert outcome(machine) == outcome(straight)
