"""Regenerate the SVG screenshots of cowtui in this folder.

  cow-view.svg           the COW view (v): the child's pages beside its parent's once its
                         first COW fault copied one, and the two frames' bytes (README's main)
  main.svg               the default scenario stopped at its first COW fault (key f)
  pte-inspector.svg      the PTE inspector on a page the parent shares with its child
  violation-banner.svg   a bug-zoo kernel (text-becomes-writable) caught by cow-on-readonly
  frames-heatmap.svg     the frames heat map at cowstress's 12th page fault (forks and copies)
  time-travel.svg        the default scenario run to its end, then back to its last fault (F)

Run: python screenshots/make.py   (about half a minute)
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from cowtui.app import CowtuiApp
from cowtui.scenario import BUNDLED_DIR, load_scenario
from cowtui.session import Session

HERE = Path(__file__).resolve().parent
SIZE = (160, 50)


def app_on(scenario: str, stable: bool = True) -> CowtuiApp:
    return CowtuiApp(Session(load_scenario(BUNDLED_DIR / f"{scenario}.yaml")), stable=stable)


async def finish(pilot) -> None:
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def shoot(app: CowtuiApp, name: str, steps) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await steps(pilot)
        app.save_screenshot(f"{name}.svg", str(HERE))
        print(f"wrote {HERE / name}.svg")
        app.runner.request_pause()


async def main_screen(pilot) -> None:
    await pilot.press("f")
    await finish(pilot)


async def cow_view(pilot) -> None:
    for key in "frS":              # to the fault, its copy, the child's store into the copy
        await pilot.press(key)
        await finish(pilot)
    await pilot.press("v")
    screen = pilot.app.screen
    screen.query_one("DataTable").move_cursor(row=[r.va for r in screen.rows].index(0x3000))
    await pilot.pause()


async def inspector(pilot) -> None:
    await main_screen(pilot)
    pilot.app.inspect(3, 0x3000)
    await pilot.pause()


async def banner(pilot) -> None:
    await pilot.press("c")
    await finish(pilot)


async def heat_map_mid_run(pilot) -> None:
    # paused at an exact moment (the 12th page fault: the children are copying
    # pages), so the picture is the same every time
    for _ in range(12):
        await pilot.press("f")
        await finish(pilot)
    await pilot.press("4")
    await pilot.pause()


async def back_to_the_last_fault(pilot) -> None:
    await pilot.press("c")
    await finish(pilot)
    await pilot.press("F")
    await finish(pilot)


async def main() -> None:
    await shoot(app_on("default"), "cow-view", cow_view)
    await shoot(app_on("default"), "main", main_screen)
    await shoot(app_on("default"), "pte-inspector", inspector)
    await shoot(app_on("bug-text-becomes-writable"), "violation-banner", banner)
    await shoot(app_on("cowstress"), "frames-heatmap", heat_map_mid_run)
    await shoot(app_on("default"), "time-travel", back_to_the_last_fault)


if __name__ == "__main__":
    asyncio.run(main())
