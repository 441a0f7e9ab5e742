"""Schedules from the command line (``--quantum N``, ``--schedule seed=K``)
and how a trace records them, so a run on several harts replays exactly.

With one hart there is nothing to schedule: no option changes anything and
the trace has no schedule line (it stays as it always was).
"""

from __future__ import annotations

import argparse

from machine.machine import Machine
from machine.schedule import Schedule, ScheduleError, parse_schedule

from .scenario import Scenario, ScenarioError, quantum_problem


def check_schedule_options(args: argparse.Namespace) -> None:
    """One-line errors for the schedule options, before anything runs."""
    if args.quantum is not None and (problem := quantum_problem(args.quantum)):
        raise ScenarioError(f"--quantum: {problem}")
    if args.schedule is not None:
        try:
            parse_schedule(args.schedule)
        except ScheduleError as error:
            raise ScenarioError(f"--schedule: {error}") from None
    if args.explore is not None:
        if args.explore < 1:
            raise ScenarioError(f"--explore: needs at least 1 schedule, got {args.explore}")
        if not args.headless:
            raise ScenarioError("--explore needs --headless (it runs many schedules to the end)")
        for name in ("schedule", "gdb", "json"):
            if getattr(args, name) is not None and getattr(args, name) is not False:
                raise ScenarioError(f"--explore chooses its own schedules: drop --{name}")


def apply_schedule_options(args: argparse.Namespace, scenario: Scenario) -> None:
    if args.quantum is not None:
        scenario.quantum = args.quantum
    if args.schedule is not None:
        scenario.schedule_seed = parse_schedule(args.schedule)


def schedule_of(machine: Machine) -> Schedule:
    return Schedule(machine.config.quantum, machine.config.schedule_seed)


def replay_options(machine: Machine) -> str:
    """The options that give this machine's schedule again."""
    return f"--harts {len(machine.harts)} {schedule_of(machine).describe()}"


def schedule_line(machine: Machine) -> str | None:
    """The text trace's first line on several harts: the schedule, as options."""
    if len(machine.harts) == 1:
        return None
    schedule = schedule_of(machine)
    kind = f"seed={schedule.seed}" if schedule.seed is not None else "round-robin"
    return f"schedule: {len(machine.harts)} harts, {kind}, quantum {schedule.quantum} " \
           f"(replay: {replay_options(machine)})"


def schedule_record(machine: Machine) -> dict | None:
    """The JSON trace's first record on several harts."""
    if len(machine.harts) == 1:
        return None
    schedule = schedule_of(machine)
    return {"event": "schedule", "harts": len(machine.harts), "quantum": schedule.quantum,
            "seed": schedule.seed, "replay": replay_options(machine)}
