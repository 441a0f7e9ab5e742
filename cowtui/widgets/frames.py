"""Frames pane: the heat map with its legend and a line about the frame pointed at."""

from __future__ import annotations

from collections.abc import Sequence

from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from ..ptefmt import flags_plain
from ..view_state import FREE, KERNEL, KIND_NAMES, OTHER, TABLE, USER_FRAME, FrameMap
from .frame_grid import HEAT, LEGEND, FrameGrid, glyph

MAX_OWNERS_SHOWN = 4


def legend(owners: Sequence[int] = ()) -> Text:
    """Two short lines (they fit the narrowest frames pane): the kinds of frame,
    then whose user pages are which colour and how sharing is drawn."""
    text = Text()
    samples = {".": (FREE, 0), "#": (KERNEL, 1), "k": (OTHER, 1), "P": (TABLE, 1),
               "!": (USER_FRAME, 0)}
    for i, (name, key) in enumerate(LEGEND):
        character, style = glyph(*samples[key])
        text.append("  " if i else "")
        text.append(character, Style.parse(style))
        text.append(f" {name}")
    text.append("\nuser pages of " + ("pid" if owners else "no process yet"))
    for pid in owners[:MAX_OWNERS_SHOWN]:
        text.append(f" {pid} ")
        text.append(*glyph(USER_FRAME, 1, pid))
    if len(owners) > MAX_OWNERS_SHOWN:
        text.append(f" +{len(owners) - MAX_OWNERS_SHOWN}")
    text.append("  shared")
    for count in range(2, len(HEAT)):
        text.append(" ")
        text.append(f"{count}{'+' if count == len(HEAT) - 1 else ''}",
                    Style.parse("bold white " + HEAT[count]))
    return text


def describe(frames: FrameMap, frame: int, cow_bit: int) -> Text:
    i = frames.index(frame)
    if i is None:
        return Text(f"{frame:#x}: outside RAM")
    text = Text()
    text.append(f"frame {frame:#x}", "bold")
    text.append(f"  {KIND_NAMES[frames.kinds[i]]}")
    refcount = frames.refcount(frame)
    if refcount is not None:
        text.append(f"  refcount {refcount}", "bold red" if refcount > 1 else "")
    for pid, va, pte in frames.mappings.get(frame, ()):
        text.append(f"  | pid {pid} va {va:#x} {flags_plain(pte, cow_bit)}")
    return text


class FramesPane(Vertical):
    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.frames: FrameMap | None = None
        self.cow_bit = 8
        self.pointed: int | None = None
        self.owners: list[int] = []        # pids in the legend

    def compose(self) -> ComposeResult:
        yield Static(legend(), id="frames-legend")
        yield FrameGrid(id="frames-grid")
        yield Static("hover or click a frame", id="frames-detail")

    def show(self, frames: FrameMap, cow_bit: int, totals: bool = True) -> None:
        """``totals``: also the counts in the border (repaints the whole pane)."""
        self.frames, self.cow_bit = frames, cow_bit
        grid = self.query_one(FrameGrid)
        grid.show(frames)
        owners = sorted(set(grid.owners.values()))
        if owners != self.owners:
            self.owners = owners
            self.query_one("#frames-legend", Static).update(legend(owners))
        if self.pointed is not None:
            self.point(self.pointed)
        if not totals:
            return
        used = len(frames.kinds) - frames.kinds.count(FREE)
        shared = sum(1 for m in frames.mappings.values() if len(m) > 1)
        subtitle = f"{used} of {len(frames.kinds)} in use, {shared} shared"
        if subtitle != self.border_subtitle:
            self.border_subtitle = subtitle

    def point(self, frame: int | None) -> None:
        self.pointed = frame
        if frame is not None and self.frames is not None:
            self.query_one("#frames-detail", Static).update(
                describe(self.frames, frame, self.cow_bit), layout=False)  # fixed height

    def jump_to(self, frame: int) -> None:
        grid = self.query_one(FrameGrid)
        grid.choose(frame)
        grid.scroll_to_frame(frame)
        self.point(frame)

    def on_frame_grid_pointed(self, event: FrameGrid.Pointed) -> None:
        if event.frame is not None:
            self.point(event.frame)
