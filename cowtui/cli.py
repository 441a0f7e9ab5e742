"""The ``cowtui`` command."""

from __future__ import annotations

import argparse
import sys

from . import __version__
from machine.hart import Hart, default_engine
from machine.native import unavailable_reason

from .scenario import DEFAULT_SCENARIO, ScenarioError, load_scenario, scenario_for_kernel


def engine_description() -> str:
    """Which engine runs by default, and why when it is not the C core."""
    reason = unavailable_reason()
    return "native (the C core)" if reason is None else f"fast (Python; {reason})"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cowtui",
        description="Interactive debugger and visualiser for copy-on-write memory on a "
                    "RISC-V xv6-style kernel.")
    parser.add_argument("scenario", nargs="?", help="scenario YAML file (default: the bundled "
                        "cowdemo scenario)")
    parser.add_argument("--kernel", help="run your own xv6 kernel ELF (kernel/kernel)")
    parser.add_argument("--disk", help="its disk image (fs.img); never modified")
    parser.add_argument("--ram-mib", type=int, default=128, help="RAM size (default 128)")
    parser.add_argument("--refcount-symbol", help="name of your refcount array, e.g. refcnt "
                        "or kmem.ref (found automatically when possible)")
    parser.add_argument("--cow-bit", type=int, choices=(8, 9), default=8,
                        help="the PTE RSW bit your kernel uses as PTE_COW (default 8)")
    parser.add_argument("--engine", choices=Hart.ENGINES, default=None,
                        help="execution engine: the reference interpreter, compiled blocks, "
                             "blocks with exact loop idioms, or the C core (the default where "
                             "it was built, else 'fast')")
    parser.add_argument("--cold", action="store_true",
                        help="boot from scratch: don't restore (or record) the boot snapshot "
                             "kept in ~/.cache/cowtui (headless runs always boot cold)")
    parser.add_argument("--headless", action="store_true",
                        help="run to the end without the UI: print faults, violations, summary")
    parser.add_argument("--console", action="store_true", help="headless: echo the guest console")
    parser.add_argument("--json", action="store_true", help="headless: JSON lines output")
    parser.add_argument("--version", action="version",
                        version=f"cowtui {__version__} (engine: {engine_description()})")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.kernel:
            if args.scenario:
                raise ScenarioError("give either a scenario or --kernel, not both")
            scenario = scenario_for_kernel(args.kernel, args.disk, args.ram_mib,
                                           args.refcount_symbol, args.cow_bit)
        else:
            scenario = load_scenario(args.scenario or DEFAULT_SCENARIO)
            if args.refcount_symbol:
                scenario.refcount_symbol = args.refcount_symbol
            if args.cow_bit != 8:
                scenario.cow_bit = args.cow_bit
        if args.engine == "native" and unavailable_reason() is not None:
            raise ScenarioError(f"--engine native: {unavailable_reason()}")
        scenario.engine = args.engine or default_engine()
        if scenario.engine != "native" and args.engine is None:
            print(f"cowtui: running on the Python engine: {unavailable_reason()}",
                  file=sys.stderr)
        from .session import Session
        session = Session(scenario, warm=not (args.cold or args.headless))
    except ScenarioError as error:
        print(f"cowtui: {error}", file=sys.stderr)
        return 2
    if args.headless:
        from .headless import run_headless
        return run_headless(session, args.console, args.json)
    from .app import CowtuiApp
    CowtuiApp(session).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
