"""Schedules from the command line (``--quantum N``, ``--schedule seed=K``)
and how a trace records them, so a run on several harts replays exactly.

With one hart there is nothing to schedule: no option changes anything and
the trace has no schedule line (it stays as it always was).
"""

from __future__ import annotations

import argparse

from machine.introspect.lockset import attach_lockset
from machine.introspect.preemption import RacePreemption
from machine.introspect.tracker import Tracker
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
        scenario.schedule_kind, scenario.schedule_seed = parse_schedule(args.schedule)


def attach_race_tools(machine: Machine, tracker: Tracker, scenario: Scenario) -> object:
    """On several harts: the lockset rule (refcount-race) and, for a pct=K
    schedule, its preemptions at refcount and PTE stores. What it returns
    must be kept (the subscribers)."""
    if len(machine.harts) == 1:
        return None
    preemption = RacePreemption(machine) if scenario.schedule_kind == "pct" else None
    return attach_lockset(machine, tracker), preemption


def schedule_of(scenario: Scenario) -> Schedule:
    return Schedule(scenario.quantum, scenario.schedule_kind, scenario.schedule_seed)


def replay_options(scenario: Scenario, harts: int) -> str:
    """The options that give this scenario's schedule again on ``harts`` harts."""
    return f"--harts {harts} {schedule_of(scenario).describe()}"


def schedule_line(scenario: Scenario, machine: Machine) -> str | None:
    """The text trace's first line on several harts: the schedule, as options."""
    harts = len(machine.harts)
    if harts == 1:
        return None
    schedule = schedule_of(scenario)
    return f"schedule: {harts} harts, {schedule.text()}, quantum {schedule.quantum} " \
           f"(replay: {replay_options(scenario, harts)})"


def schedule_record(scenario: Scenario, machine: Machine) -> dict | None:
    """The JSON trace's first record on several harts."""
    harts = len(machine.harts)
    if harts == 1:
        return None
    schedule = schedule_of(scenario)
    return {"event": "schedule", "harts": harts, "quantum": schedule.quantum,
            "kind": schedule.kind, "seed": schedule.seed,
            "replay": replay_options(scenario, harts)}
