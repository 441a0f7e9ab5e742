"""The race tools' costs (issue 18): what the lockset rule and pct schedules
add to a headless run on the teaching kernel built for 3 harts, and how long
--explore takes to find the unlocked-refcount bug.

  python bench/races.py

Times are process CPU seconds (the best of two runs) of whole sessions run
in this process, native engine where it is built.
"""

from __future__ import annotations

import dataclasses
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.dirname(__file__))

from engines import cpu_time  # noqa: E402

from cowtui.explore import explore  # noqa: E402
from cowtui.scenario import load_scenario  # noqa: E402
from cowtui.session import Session  # noqa: E402
from machine.introspect.events import RefcountChanged  # noqa: E402


def scenario(directory: Path, kernel: str, program: str):
    path = directory / f"{kernel}-{program}.yaml"
    path.write_text(f"name: {program}\nkernel: {kernel}\nconsole:\n"
                    f"  - {{wait: \"$ \", type: \"{program}\\n\"}}\n"
                    "stop: {console: \"$ \", instructions: 200000000}\n")
    return load_scenario(path)


def run(s, lockset: bool = True) -> None:
    session = Session(s)
    rule = session.race_tools[0] if session.race_tools else None
    if not lockset and rule is not None:  # the same session without the rule
        session.machine.events.unsubscribe(RefcountChanged, rule._on_refcount)
    session.run_to_end()


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        for program in ("forktree", "cowstress"):
            s = scenario(directory, "teaching-smp", program)
            without = cpu_time(lambda s=s: run(s, lockset=False), repeat=2)
            with_rule = cpu_time(lambda s=s: run(s), repeat=2)
            pct = cpu_time(lambda s=s: run(dataclasses.replace(s, schedule_kind="pct",
                                                              schedule_seed=1)), repeat=2)
            print(f"{program} on 3 harts: {without:.2f} s without the lockset rule, "
                  f"{with_rule:.2f} s with it ({with_rule / without:.2f}x), "
                  f"{pct:.2f} s on pct=1")
        bug = scenario(directory, "smp-refcount-unlocked", "cowstress")
        start = time.process_time()
        with open(os.devnull, "w") as quiet:
            status = explore(bug, 50, ["--headless", "--explore", "50", "bug.yaml"],
                             out=quiet, err=quiet)
        print(f"--explore 50 on smp-refcount-unlocked cowstress: "
              f"{'found' if status == 1 else 'not found'} in "
              f"{time.process_time() - start:.1f} s")


if __name__ == "__main__":
    main()
