"""Which panes the app has, the key that shows each, and how the screen is
split at each terminal size.

Three layouts, chosen by CSS classes that Textual's breakpoints put on the
screen (see app.tcss):
  wide   (>= WIDE columns):   three columns, every pane at once
  medium (>= MEDIUM columns): processes and faults side by side on top, the
                              page table and frames beside the CPU and console
  narrow (smaller, or fewer than TALL rows): one pane at a time, chosen with
                              its number key (the strip on top says which)
Below MIN_WIDTH x MIN_HEIGHT nothing fits: a message says how much is needed.
"""

from __future__ import annotations

from dataclasses import dataclass

MIN_WIDTH, MIN_HEIGHT = 80, 24
MEDIUM, WIDE = 100, 150     # columns
TALL = 30                   # rows: fewer and the panes are shown one at a time

HORIZONTAL_BREAKPOINTS = [(0, "-w-tiny"), (MIN_WIDTH, "-w-narrow"), (MEDIUM, "-w-medium"),
                          (WIDE, "-w-wide")]
VERTICAL_BREAKPOINTS = [(0, "-h-tiny"), (MIN_HEIGHT, "-h-short"), (TALL, "-h-tall")]


@dataclass(frozen=True)
class Pane:
    key: str        # the number key that focuses (and, when narrow, shows) it
    id: str         # its widget's id
    column: str     # the id of the column that holds it
    title: str


PANES = (
    Pane("1", "processes", "left", "Processes"),
    Pane("2", "faults", "left", "Faults"),
    Pane("7", "stack", "left", "Stack"),
    Pane("3", "page-table", "middle", "Page table"),
    Pane("4", "frames", "middle", "Frames"),
    Pane("5", "cpu", "right", "CPU"),
    Pane("6", "console", "right", "Console"),
)
PANE_BY_ID = {pane.id: pane for pane in PANES}


def is_narrow(width: int, height: int) -> bool:
    return width < MEDIUM or height < TALL


def too_small(width: int, height: int) -> str | None:
    """The message shown instead of the panes, or None when they fit."""
    if width >= MIN_WIDTH and height >= MIN_HEIGHT:
        return None
    return (f"terminal too small (need {MIN_WIDTH}x{MIN_HEIGHT}, have {width}x{height})\n"
            "make the window larger, or press q to quit")


def pane_strip(active: str) -> list[tuple[str, str]]:
    """The narrow layout's strip of pane keys, the shown one highlighted."""
    runs: list[tuple[str, str]] = []
    for pane in PANES:
        shown = pane.id == active
        runs += [(f" {pane.key}", "bold reverse" if shown else "bold"),
                 (f" {pane.title} ", "reverse" if shown else "")]
    return runs
