"""The engines side by side: the table issue 8 asks for.

  python bench/engines.py            # everything (about a minute on a quiet machine)
  python bench/engines.py --quick    # loops only
  python bench/engines.py --harts    # 3 harts against 1: boots, cowstress, busy loops (issue 18)

Prints, for the interpreter (interp), compiled blocks (blocks), blocks with
loop idioms (fast) and the C core (native, with its idioms; and a row of the
native core with idioms off, its plain interpretive speed): MIPS on the memset / copy / list-walk loops under
Sv39; the teaching kernel's boot to the shell prompt and the default
scenario, headless; and the cold and warm (boot snapshot) start of a session.
Times are process CPU seconds (the best of a few runs), so another busy
process on the machine disturbs them less than wall time would.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.dirname(__file__))

from loops import LOOPS, build  # noqa: E402

ENGINES = ("interp", "blocks", "fast", "native")


def cpu_time(work, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.process_time()
        work()
        best = min(best, time.process_time() - start)
    return best


def loop_mips(loop: str, engine: str, idioms: bool = True) -> float:
    count = {"interp": 1_000_000, "blocks": 3_000_000, "native": 200_000_000}.get(engine, 3_000_000)
    if engine in ("fast", "native") and idioms and loop != "listwalk":
        count = 3_000_000_000  # idioms: effective instructions, the loop's own count

    def work() -> None:
        hart = build(loop, engine)
        if engine == "native":
            hart._engine_run()
            hart.native.idioms = idioms
        hart.run(50_000)  # warm: decode, compile, fill the TLBs
        hart.run(count)
    return count / cpu_time(work) / 1e6


def boot_seconds(engine: str, harts: int = 1, kernel: str | None = None) -> tuple[float, int]:
    """Boot to the shell prompt: CPU seconds and ticks. ``kernel``: a bundled
    kernel's name (None: the one-hart teaching kernel)."""
    from machine.guest import bundled_disk, bundled_kernel
    from machine.machine import Machine, MachineConfig
    result = {}

    def work() -> None:
        m = Machine(MachineConfig(kernel=bundled_kernel(kernel), disk=bundled_disk(),
                                  engine=engine, harts=harts))
        m.run(max_instructions=50_000_000, until=lambda: m.console_text().endswith("$ "))
        result["n"] = m.icount
    return cpu_time(work, 5), result["n"]


def busy_harts_mips(harts: int, count: int = 100_000_000) -> float:
    """Every hart counting in a loop, round-robin at the default quantum."""
    from machine.isa.asm import assemble
    from machine.machine import Machine, MachineConfig
    from tests.support.mini_elf import make_elf
    with tempfile.TemporaryDirectory() as directory:
        kernel = os.path.join(directory, "spin.elf")
        with open(kernel, "wb") as out:
            out.write(make_elf(assemble("loop: addi a0, a0, 1\nxori a1, a0, 5\nj loop",
                                        0x80000000)))

        def work() -> None:
            m = Machine(MachineConfig(kernel=kernel, harts=harts, engine="native"))
            m.run(max_instructions=count)
        return count / cpu_time(work, 2) / 1e6


def smp_cowstress_seconds(harts: int) -> tuple[float, int, list[int]]:
    """cowstress (4 children rewriting shared pages) on the kernel built for 3
    harts, headless with every invariant live, native: CPU seconds, ticks and
    the instructions each hart retired."""
    from cowtui.scenario import load_scenario
    from cowtui.session import Session
    from machine.guest import SMP_KERNEL, bundled_kernel
    result = {}

    def work() -> None:
        scenario = load_scenario(os.path.join(os.path.dirname(__file__), "..", "scenarios",
                                              "cowstress.yaml"))
        scenario.kernel, scenario.harts, scenario.engine = bundled_kernel(SMP_KERNEL), harts, \
            "native"
        session = Session(scenario)
        session.run_to_end()
        result["n"] = session.machine.icount
        result["retired"] = [hart.retired() for hart in session.machine.harts]
    return cpu_time(work, 2), result["n"], result["retired"]


def scenario_seconds(engine: str) -> float:
    from cowtui.scenario import DEFAULT_SCENARIO, load_scenario
    from cowtui.session import Session

    def work() -> None:
        scenario = load_scenario(DEFAULT_SCENARIO)
        scenario.engine = engine
        Session(scenario).run_to_end()
    return cpu_time(work, 2)


def start_seconds() -> tuple[float, float]:
    from cowtui.scenario import DEFAULT_SCENARIO, load_scenario
    from cowtui.session import Session
    os.environ["XDG_CACHE_HOME"] = tempfile.mkdtemp()

    def to_prompt() -> Session:
        session = Session(load_scenario(DEFAULT_SCENARIO), warm=True)
        if not session.restored_boot:
            session.run(max_instructions=50_000_000, until=lambda: not session._snapshot_due
                        and not session._snapshot_taking)
        return session

    start = time.perf_counter()
    first = to_prompt()
    cold = time.perf_counter() - start
    assert not first.restored_boot
    start = time.perf_counter()
    second = to_prompt()
    warm = time.perf_counter() - start
    assert second.restored_boot
    return cold, warm


def main() -> None:
    quick = "--quick" in sys.argv
    if "--harts" in sys.argv:
        for kernel in (None, "teaching-smp"):
            for engine in ("fast", "native"):
                (one, n1), (three, n3) = boot_seconds(engine, 1, kernel), \
                    boot_seconds(engine, 3, kernel)
                print(f"boot to $, {kernel or 'teaching'} kernel, {engine}: 1 hart {one:.3f} s "
                      f"({n1:,} ticks), 3 harts {three:.3f} s ({n3:,} ticks): {three / one:.2f}x "
                      "(CPU seconds, best of 5)")
        (one, n1, _), (three, n3, retired) = smp_cowstress_seconds(1), smp_cowstress_seconds(3)
        print(f"cowstress headless, teaching-smp kernel, native: 1 hart {one:.2f} s ({n1:,} "
              f"ticks), 3 harts {three:.2f} s ({n3:,} ticks; retired per hart "
              f"{', '.join(f'{r:,}' for r in retired)}): {three / one:.2f}x")
        for harts in (1, 2, 3):
            print(f"{harts} busy hart(s), native: {busy_harts_mips(harts):.0f} MIPS "
                  "(a switch drops the incoming hart's code only where the others stored)")
        return
    print(f"{'':24s}" + "".join(f"{e:>12s}" for e in ENGINES))
    for loop in LOOPS:
        figures = [loop_mips(loop, e) for e in ENGINES]
        print(f"{loop + ' loop (MIPS)':24s}" + "".join(f"{f:12.1f}" for f in figures)
              + f"   native, idioms off: {loop_mips(loop, 'native', idioms=False):.1f}")
    if quick:
        return
    boots = [boot_seconds(e) for e in ENGINES]
    print(f"{'boot to $ (s)':24s}" + "".join(f"{b[0]:12.2f}" for b in boots)
          + f"   ({boots[0][1]:,} instructions)")
    print(f"{'default scenario (s)':24s}" + "".join(f"{scenario_seconds(e):12.2f}"
                                                   for e in ENGINES))
    cold, warm = start_seconds()
    print(f"session start to the prompt: cold {cold:.2f} s, warm (boot snapshot) {warm:.2f} s"
          " (wall time)")


if __name__ == "__main__":
    main()
