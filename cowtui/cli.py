"""The ``cowtui`` command."""

from __future__ import annotations

import argparse
import os
import signal
import sys
from pathlib import Path

import yaml

from machine.checkpoints import DEFAULT_EVERY
from machine.guest import BUG_ZOO, SMP_BUG_ZOO, SMP_KERNEL
from machine.hart import Hart, default_engine
from machine.native import unavailable_reason
from machine.scheduler import DEFAULT_QUANTUM

from . import __version__
from .interrupts import Interrupted, raise_on_signals
from .scenario import (
    DEFAULT_SCENARIO,
    ScenarioError,
    find_scenario,
    harts_problem,
    load_scenario,
    ram_mib_problem,
    scenario_for_kernel,
    shipped_scenarios,
)
from .schedules import apply_schedule_options, check_schedule_options

EXIT_CODES = """\
exit status (headless):
  0    the scenario's expectations hold
  1    an invariant violation, a failed expectation, or a fault storm
  2    bad input: a scenario, option, kernel or disk cowtui cannot use (one line on stderr)
  130  interrupted by Ctrl-C (SIGINT), 143 by SIGTERM: partial trace and summary printed"""

EXAMPLES = """\
examples:
  cowtui                                   the app on the default scenario (cowdemo)
  cowtui forkexec                          the app on a shipped scenario, by name
  cowtui --headless bug-refcount-leak      run it to the end, print faults and violations
  cowtui --headless --json cowtest.yaml    the trace as JSON lines, for scripts
  cowtui --headless --gradescope /autograder/results/results.json cowtest.yaml
  cowtui --kernel kernel/kernel --disk fs.img    your own xv6 build
  cowtui --list                            the shipped scenarios and bug-zoo kernels

your own xv6 cow lab: copy examples/cowtest.yaml from cowtui's source into your
xv6 directory, run make there, then cowtui [--headless] cowtest.yaml"""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, like every other bad input
        print(f"cowtui: {message} (cowtui --help lists the options)", file=sys.stderr)
        sys.exit(2)


def engine_description() -> str:
    """Which engine runs by default, and why when it is not the C core."""
    reason = unavailable_reason()
    return "native (the C core)" if reason is None else f"fast (Python; {reason})"


def listing() -> str:
    """``cowtui --list``: the shipped scenarios and the bug-zoo kernels."""
    lines = ["shipped scenarios (cowtui [--headless] NAME):"]
    for path in shipped_scenarios():
        description = (yaml.safe_load(path.read_text()) or {}).get("description", "")
        first = " ".join(str(description).split()).split(". ")[0].rstrip(".")
        lines.append(f"  {path.stem:28} {first}")
    lines.append("bug-zoo kernels (kernel: NAME in a scenario), and the rule each breaks:")
    lines += [f"  {name:28} {rule}" for name, rule in BUG_ZOO.items()]
    lines.append(f"multi-hart bug-zoo kernels (races between harts; {SMP_KERNEL} is the correct one):")
    lines += [f"  {name:28} {rule}" for name, rule in SMP_BUG_ZOO.items()]
    return "\n".join(lines)


def _instruction_count(text: str) -> int:
    try:
        value = int(text.replace(",", "").replace("_", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of instructions, got {text!r}") \
            from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive number of instructions, got {text}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="cowtui", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Interactive debugger and visualiser for copy-on-write memory on a "
                    "RISC-V xv6-style kernel.",
        epilog=f"{EXIT_CODES}\n\n{EXAMPLES}\n\nshipped scenarios: "
               f"{', '.join(p.stem for p in shipped_scenarios())}\n"
               f"bug-zoo kernels: {', '.join(BUG_ZOO)}")
    parser.add_argument("scenario", nargs="?", help="a scenario YAML file or the name of a "
                        "shipped one (default: cowdemo; see --list)")
    parser.add_argument("--list", action="store_true",
                        help="list the shipped scenarios and bug-zoo kernels, and exit")
    parser.add_argument("--kernel", help="run your own xv6 kernel ELF (kernel/kernel)")
    parser.add_argument("--disk", help="its disk image (fs.img); never modified")
    parser.add_argument("--ram-mib", type=int, default=None,
                        help="RAM size in MiB, 16 to 2048 (default: the scenario's, else 128; "
                             "must match the kernel's PHYSTOP)")
    parser.add_argument("--refcount-symbol", help="name of your refcount array, e.g. refcnt "
                        "or kmem.ref (found automatically when possible)")
    parser.add_argument("--cow-bit", type=int, choices=(8, 9), default=None,
                        help="the PTE RSW bit your kernel uses as PTE_COW (default: the "
                             "scenario's, else 8)")
    parser.add_argument("--harts", type=int, default=None, metavar="N",
                        help="run N harts, round-robin, deterministically (default: the "
                             "scenario's harts, else as many as the kernel was built for)")
    # --- several harts: schedules and race hunting (cowtui/explore.py) ---
    parser.add_argument("--quantum", type=int, default=None, metavar="N",
                        help="several harts: each runs N ticks per turn (default: the "
                             f"scenario's, else {DEFAULT_QUANTUM:,})")
    parser.add_argument("--schedule", default=None, metavar="KIND",
                        help="several harts: 'seed=K' draws quanta and the next hart from a "
                             "seeded generator, 'pct=K' also preempts around refcount and PTE "
                             "stores (the same K replays exactly); default round-robin")
    parser.add_argument("--explore", type=int, default=None, metavar="N",
                        help="headless: run the schedules pct=1..N; stop at the first that "
                             "breaks an invariant and print how to replay it (exit 1: found, "
                             "0: not found)")
    parser.add_argument("--engine", choices=Hart.ENGINES, default=None,
                        help="execution engine: the reference interpreter, compiled blocks, "
                             "blocks with exact loop idioms, or the C core (the default where "
                             "it was built, else 'fast')")
    parser.add_argument("--cold", action="store_true",
                        help="boot from scratch: don't restore (or record) the boot snapshot "
                             "kept in ~/.cache/cowtui (headless runs always boot cold)")
    parser.add_argument("--checkpoint-every", metavar="N", type=_instruction_count, default=None,
                        help="time travel: a checkpoint every N instructions (the app: "
                             f"default {DEFAULT_EVERY:,}; headless: off unless given or --gdb; the trace "
                             "is the same either way)")
    parser.add_argument("--headless", action="store_true",
                        help="run to the end without the UI: print faults, violations, summary")
    parser.add_argument("--console", action="store_true", help="headless: echo the guest console")
    parser.add_argument("--json", action="store_true", help="headless: JSON lines output")
    parser.add_argument("--junit", metavar="FILE", type=Path,
                        help="headless: also write a JUnit XML report (one test case per "
                             "expectation)")
    parser.add_argument("--gradescope", metavar="FILE", type=Path,
                        help="headless: also write Gradescope's results.json")
    parser.add_argument("--gdb", nargs="?", const="", metavar="[HOST:]PORT",
                        help="serve gdb's remote protocol (loopback; default port: the xv6 "
                             "lab's 25000 + uid %% 5000); headless, gdb drives the run")
    parser.add_argument("--explain", nargs="?", const="", metavar="RULE",
                        help="explain a rule (the invariant, the usual mistake, where to look); "
                             "alone: list the rules")
    parser.add_argument("--version", action="version",
                        version=f"cowtui {__version__} (engine: {engine_description()})")
    return parser


HEADLESS_ONLY = {"json": "the app shows the trace itself",
                 "console": "the app has a console pane",
                 "junit": "reports are written at the end of a headless run",
                 "gradescope": "reports are written at the end of a headless run"}
REPORTS = ("junit", "gradescope")


def _check_options(args: argparse.Namespace) -> None:
    if not args.headless:
        for name, why in HEADLESS_ONLY.items():
            if getattr(args, name):
                raise ScenarioError(f"--{name} needs --headless ({why})")
    for name in REPORTS:
        path = getattr(args, name)
        if path is not None and not path.parent.is_dir():
            raise ScenarioError(f"--{name} {path}: no such directory {path.parent}")
    if args.ram_mib is not None and (problem := ram_mib_problem(args.ram_mib)):
        raise ScenarioError(f"--ram-mib: {problem}")
    if args.harts is not None and (problem := harts_problem(args.harts)):
        raise ScenarioError(f"--harts: {problem}")
    check_schedule_options(args)
    if args.engine == "native" and unavailable_reason() is not None:
        raise ScenarioError(f"--engine native: {unavailable_reason()}")


def _scenario(args: argparse.Namespace):
    if args.kernel:
        if args.scenario:
            raise ScenarioError("give either a scenario or --kernel, not both")
        scenario = scenario_for_kernel(args.kernel, args.disk, args.ram_mib or 128,
                                       args.refcount_symbol, args.cow_bit or 8)
    else:
        if args.disk:
            raise ScenarioError("--disk goes with --kernel (a scenario names its own disk)")
        scenario = load_scenario(find_scenario(args.scenario) if args.scenario
                                 else DEFAULT_SCENARIO)
        if args.refcount_symbol:
            scenario.refcount_symbol = args.refcount_symbol
        if args.cow_bit is not None:
            scenario.cow_bit = args.cow_bit
        if args.ram_mib is not None:
            scenario.ram_mib = args.ram_mib
    if args.refcount_symbol:
        scenario.origins["refcount_symbol"] = "--refcount-symbol"
    if args.ram_mib is not None:
        scenario.origins["ram_mib"] = "--ram-mib"
    if args.harts is not None:
        scenario.harts = args.harts
    apply_schedule_options(args, scenario)
    scenario.engine = args.engine or default_engine()
    if scenario.engine != "native" and args.engine is None:
        print(f"cowtui: running on the Python engine: {unavailable_reason()}", file=sys.stderr)
    return scenario


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)  # --explore's replay command
    if args.list:
        print(listing())
        return 0
    if args.explain is not None:
        from .explain import explain
        text, status = explain(args.explain)
        print(text, file=sys.stderr if status else sys.stdout)
        return status
    if args.headless:
        raise_on_signals()  # a signal before the run starts: one line, no traceback
    try:
        return _main(args)
    except (Interrupted, KeyboardInterrupt) as interruption:
        status = interruption.exit_status if isinstance(interruption, Interrupted) else 130
        print("cowtui: interrupted", file=sys.stderr)
        return status
    except BrokenPipeError:  # `cowtui --headless ... | head`: the reader has gone
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 128 + signal.SIGPIPE


def _main(args: argparse.Namespace) -> int:
    gdb = None
    try:
        _check_options(args)
        if args.gdb is not None:  # `--gdb NAME` without a port: NAME is the scenario
            from .gdbstub.launch import looks_like_endpoint
            if args.gdb and args.scenario is None and not looks_like_endpoint(args.gdb):
                args.scenario, args.gdb = args.gdb, ""
        scenario = _scenario(args)
        if args.explore is not None:  # many sessions, one per schedule (cowtui/explore.py)
            from .explore import explore
            return explore(scenario, args.explore, args.argv)
        from .session import Session
        session = Session(scenario, warm=not (args.cold or args.headless),
                          checkpoint_every=args.checkpoint_every)
        if args.gdb is not None:
            from .gdbstub.launch import open_server
            gdb = open_server(session, args.gdb, end_on_detach=args.headless)
    except ScenarioError as error:
        print(f"cowtui: {error}", file=sys.stderr)
        return 2
    if args.headless:
        from .headless import run_headless
        reports = {name: getattr(args, name) for name in REPORTS if getattr(args, name)}
        drive = None
        if gdb is not None:
            from .gdbstub.launch import headless_drive
            drive = headless_drive(gdb)
        return run_headless(session, args.console, args.json, reports=reports, drive=drive)
    from .app import CowtuiApp
    CowtuiApp(session, gdb=gdb).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
