"""Time travel's costs on a long run of the teaching kernel.

  python bench/timetravel.py [--instructions 1000000000] [--every 2000000]
                             [--engine native] [--samples 11] [--scenario S]

The guest runs `cowstress` again and again (a console script that types it at
every prompt: forks, COW faults and frees all the way) up to --instructions,
with the tracker and every invariant live, as the app runs it. Printed:
  - the run's wall time with checkpoints and without (each in a child process,
    with its peak RSS: what time travel costs in host memory, all included);
  - step back one instruction from --samples random moments of the second
    half of the run, each reached by running forward to it (median, worst);
    a second step back; the first one again with nothing recalled (the call
    stacks of the stores replayed unwound again, as after a far jump);
  - run back to the previous page fault, from the same moments;
  - the history's own account (shadow RAM, kept pages, store log, checkpoint
    states) per G-instructions, and that extrapolated to 5.5 G instructions
    (xv6's cowtest: no student kernel ships here, so this is the teaching
    kernel's rate, not a measurement of cowtest).
With --scenario (e.g. a student kernel's cowtest stopped at 1.5 G
instructions) that scenario runs instead of the teaching kernel's.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from cowtui.history import PteHistory
from cowtui.scenario import load_scenario
from cowtui.session import Session
from cowtui.timetravel import TimeTravel, TimeTravelError
from machine.checkpoints import DEFAULT_EVERY
from machine.introspect.events import PageFault

MIB = 1 << 20


def scenario_file(directory: Path, instructions: int) -> Path:
    runs = instructions // 3_000_000 + 10   # cowstress takes ~3.9 M instructions a run
    steps = "\n".join('  - {wait: "$ ", type: "cowstress\\n"}' for _ in range(runs))
    path = directory / "cowstress-forever.yaml"
    path.write_text(f"name: cowstress-forever\nkernel: teaching\nconsole:\n{steps}\n"
                    f"stop: {{instructions: {instructions}}}\n")
    return path


def new_session(path: Path, engine: str) -> tuple[Session, PteHistory]:
    scenario = load_scenario(path)
    scenario.engine = engine
    session = Session(scenario)
    return session, PteHistory(session.machine.events)


def child(args: argparse.Namespace) -> None:
    """One variant in this process: prints a JSON line of its figures."""
    path = Path(args.scenario)
    session, history = new_session(path, args.engine)
    travel = TimeTravel(session, history, every=args.every) if args.every else None
    started = time.perf_counter()
    half = session.scenario.stop_instructions // 2
    session.scenario.stop_instructions, budget = half, session.scenario.stop_instructions
    session.run_to_end()
    rss_half, g_half = rss_mib(), session.machine.icount / 1e9
    session.scenario.stop_instructions = budget
    end = session.run_to_end()
    figures: dict = {"seconds": time.perf_counter() - started, "end": end,
                     "rss_slope_mib_per_g": (rss_mib() - rss_half) /
                     (session.machine.icount / 1e9 - g_half),
                     "instructions": session.machine.icount,
                     "faults": sum(isinstance(e, PageFault) for e in session.trace)}
    if travel is not None:
        figures.update(measure_moves(session, travel, args.samples))
        figures.update(account(travel))
    figures["max_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(figures))


def rss_mib() -> float:
    """The process's resident memory now."""
    return int(Path("/proc/self/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE") / MIB


def run_forward_to(session: Session, travel: TimeTravel, moment: int) -> None:
    """Arrive at ``moment`` as a user does: running forward to it (from two
    checkpoint intervals before), so what the run saw is what time travel knows."""
    travel.go_to(max(travel.checkpoints.points[0].icount, moment - 2 * travel.checkpoints.every))
    while session.machine.icount < moment:   # in slices ending where checkpoints are due
        session.run(max_instructions=min(moment - session.machine.icount, travel.due_in()))


def timed(move) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of ``move()``: on a shared machine the CPU
    time is what the move costs with a core to itself."""
    started, cpu = time.perf_counter(), time.process_time()
    move()
    return time.perf_counter() - started, time.process_time() - cpu


def measure_moves(session: Session, travel: TimeTravel, samples: int) -> dict:
    """From random moments of the run's second half, each reached by running
    forward: one step back, a second step back, and (back at the moment) a
    run back to the previous fault; then the same step back with nothing
    recalled (as after a jump from far away: every stack unwound again)."""
    end = session.machine.icount
    rng = random.Random(16)
    moments = sorted(rng.randrange(end // 2, end) for _ in range(samples))
    step, again, fault, cold = [], [], [], []
    for moment in moments:
        run_forward_to(session, travel, moment)
        step.append(timed(travel.step_back))
        assert session.machine.icount == moment - 1
        again.append(timed(travel.step_back))
        travel.go_to(moment)
        try:
            fault.append(timed(lambda: travel.back_to("fault")))
        except TimeTravelError:
            pass
        run_forward_to(session, travel, moment)
        travel.forget_recalled()
        cold.append(timed(travel.step_back))
    figures = {}
    for name, values in (("step_back", step), ("second_step_back", again),
                         ("fault_back", fault), ("cold_step_back", cold)):
        figures[f"{name}_ms"] = [round(wall * 1000, 1) for wall, _ in values]
        figures[f"{name}_cpu_ms"] = [round(cpu * 1000, 1) for _, cpu in values]
    return figures


def account(travel: TimeTravel) -> dict:
    points = travel.checkpoints.points
    states = sum(len(pickle.dumps(p.state, protocol=4)) for p in points)   # the machine's part
    observers = sum(p.extra["observers"].nbytes for p in points if p.extra)  # frozen, compressed
    return {"checkpoints": len(points),
            "shadow_mib": len(travel.checkpoints._shadow) / MIB,
            "kept_mib": (travel.checkpoints.memory_bytes() - len(travel.checkpoints._shadow))
            / MIB,
            "store_log_mib": travel.stores.memory_bytes() / MIB, "store_log_entries":
            len(travel.stores), "states_pickled_mib": states / MIB,
            "observers_mib": observers / MIB}


def run_child(args: argparse.Namespace, scenario: Path, every: int) -> dict:
    command = [sys.executable, __file__, "--child", "--scenario", str(scenario),
               "--every", str(every), "--engine", args.engine, "--samples", str(args.samples)]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instructions", type=int, default=1_000_000_000)
    parser.add_argument("--every", type=int, default=DEFAULT_EVERY)
    parser.add_argument("--engine", default="native")
    parser.add_argument("--samples", type=int, default=11)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--scenario", help="run this scenario instead (a student's cowtest: "
                        "its stop: instructions is the run's length)")
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    with tempfile.TemporaryDirectory() as directory:
        scenario = Path(args.scenario) if args.scenario else \
            scenario_file(Path(directory), args.instructions)
        plain = run_child(args, scenario, 0)
        timed = run_child(args, scenario, args.every)
    g = timed["instructions"] / 1e9
    print(f"load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"run: {timed['instructions']:,} instructions ({timed['end']}), "
          f"{timed['faults']:,} page faults, engine {args.engine}, checkpoint every "
          f"{args.every:,}")
    print(f"  wall: {plain['seconds']:.1f} s without checkpoints, {timed['seconds']:.1f} s with "
          f"({timed['checkpoints']} checkpoints)")
    print(f"  peak RSS: {plain['max_rss_mib']:.0f} MiB without, {timed['max_rss_mib']:.0f} MiB "
          f"with (+{timed['max_rss_mib'] - plain['max_rss_mib']:.0f} MiB)")
    for name, key, target in (("step back one instruction", "step_back_ms", 100),
                              ("  a second step back", "second_step_back_ms", 100),
                              ("  a step back, nothing recalled", "cold_step_back_ms", 100),
                              ("run back to the previous fault", "fault_back_ms", 300)):
        values, cpu = timed[key], timed[key.replace("_ms", "_cpu_ms")]
        print(f"  {name}: median {statistics.median(values):.0f} ms, worst "
              f"{max(values):.0f} ms over {len(values)} random moments (target <= {target} ms); "
              f"CPU time median {statistics.median(cpu):.0f} ms, worst {max(cpu):.0f} ms")
    kept = timed["kept_mib"] + timed["store_log_mib"] + timed["states_pickled_mib"] + \
        timed["observers_mib"]
    print(f"  history: shadow RAM {timed['shadow_mib']:.0f} MiB (fixed), kept pages "
          f"{timed['kept_mib']:.1f} MiB, store log {timed['store_log_mib']:.1f} MiB "
          f"({timed['store_log_entries']:,} stores), checkpoint states "
          f"{timed['states_pickled_mib']:.1f} MiB pickled (machine part), observers' state "
          f"{timed['observers_mib']:.1f} MiB (frozen)")
    print(f"  per G-instructions: {kept / g:.1f} MiB beyond the fixed shadow; at 5.5 G: "
          f"{timed['shadow_mib'] + kept / g * 5.5:.0f} MiB beyond guest RAM (target <= 1024), "
          f"extrapolated from this kernel's rate")
    growth = timed["max_rss_mib"] - plain["max_rss_mib"]
    slope = timed["rss_slope_mib_per_g"] - plain["rss_slope_mib_per_g"]
    print(f"  by RSS (everything): peak +{growth:.0f} MiB at {g:.2f} G; "
          f"growth over the second half {slope:.0f} MiB per G more than without; at 5.5 G: "
          f"{growth + slope * (5.5 - g):.0f} MiB")


if __name__ == "__main__":
    main()
