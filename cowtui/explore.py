"""``cowtui --headless --explore N SCENARIO``: hunt a race over N schedules.

Schedule k is ``pct=k``: seeded quanta and next hart, plus preemptions right
after refcount and PTE stores followed by short turns
(machine/introspect/preemption.py), so harts interleave finely where COW
races happen. Each schedule runs headless, quietly, to the scenario's end or
to its first violation of a COW invariant; the first schedule that breaks
one is printed in full (its trace and summary) with the command that
replays it exactly. ``refcount-race`` alone does not stop the hunt: the
lockset rule reports a race that this schedule may not have made harmful,
and the point of exploring is a schedule where it did.

Exit status: 1 a schedule broke an invariant (found), or none did but the
lockset rule reported a race in some (not harmful yet, still a bug); 0 none
did and no race was seen; 2 bad input; 128 + N a signal.
"""

from __future__ import annotations

import dataclasses
import io
import shlex
import sys
from typing import TextIO

from machine.introspect.events import Violation
from machine.introspect.lockset import RULE as LOCKSET_RULE

from .headless import run_headless
from .scenario import Scenario, ScenarioError
from .session import Session


def replay_command(argv: list[str], seed: int) -> str:
    """The command line the user gave, with ``--explore N`` swapped for the
    schedule that was found."""
    kept: list[str] = []
    skip = False
    for arg in argv:
        if skip:
            skip = False
            continue
        if arg == "--explore":
            skip = True
            continue
        if arg.startswith("--explore="):
            continue
        kept.append(arg)
    return shlex.join(["cowtui", *kept, "--schedule", f"pct={seed}"])


def explore(scenario: Scenario, schedules: int, argv: list[str], out: TextIO = sys.stdout,
            err: TextIO = sys.stderr) -> int:
    raced = 0  # schedules where the lockset rule found a race, harmful or not
    for seed in range(1, schedules + 1):
        trial = dataclasses.replace(scenario, schedule_kind="pct", schedule_seed=seed)
        session = Session(trial)
        if len(session.machine.harts) < 2:
            raise ScenarioError("--explore needs several harts (--harts N, or harts: in the "
                                "scenario): one hart has no schedule to choose")
        broken: list[Violation] = []

        def seen(violation: Violation, broken: list = broken, session: Session = session
                 ) -> None:
            if violation.rule != LOCKSET_RULE:
                broken.append(violation)
                session.machine.request_stop()  # this schedule is the one: no need to go on

        session.machine.events.subscribe(Violation, seen)

        def drive(progress, ended, session: Session = session, broken: list = broken) -> str:
            return session.run_to_end(
                progress, lambda: "violation" if broken else ended())

        trace = io.StringIO()
        status = run_headless(session, False, False, out=trace, err=io.StringIO(), drive=drive)
        if status >= 128:  # a signal ended it: stop hunting
            err.write(f"cowtui: explore: interrupted in schedule {seed}/{schedules}\n")
            return status
        race = any(v.rule == LOCKSET_RULE for v in session.tracker.violations)
        raced += race
        if broken:
            rules = ", ".join(sorted({v.rule for v in broken}))
            err.write(f"explore: schedule {seed}/{schedules} (pct={seed}): {rules}\n")
            out.write(trace.getvalue())
            out.write(f"explore: found in schedule {seed} of {schedules}: pct={seed} breaks "
                      f"{rules}\nreplay: {replay_command(argv, seed)}\n")
            return 1
        err.write(f"explore: schedule {seed}/{schedules} (pct={seed}): no violation"
                  + (f" ({LOCKSET_RULE} reported)\n" if race else "\n"))
        err.flush()
    out.write(f"explore: no schedule of {schedules} broke an invariant\n")
    if raced:  # not found is not safe: the race is there, no schedule made it harmful yet
        out.write(f"explore: but {LOCKSET_RULE} was reported in {raced} of them: run one "
                  "headless to see the two stores\n")
        return 1
    return 0
