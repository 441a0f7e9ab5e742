"""The frames heat map: one character cell per physical frame.

The glyph says what the frame is (free, kernel image, page table, user page,
kernel-allocated); its background is the frame's refcount. Only visible rows
are rendered (Line API). In compact mode runs of rows that are all free fold
into one line, so 128 MiB (32768 frames) fits a pane and the frames that
matter stay together. Hover or click a cell to see that frame, or move a
cursor with the arrow keys ([ and ] jump to the previous / next shared
frame) and press Enter to choose it.
"""

from __future__ import annotations

from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from ..view_state import FREE, KERNEL, TABLE, USER_FRAME, FrameMap
from .lines_view import BaseStyled

LABEL = 11   # "0x87f80000 "
HEAT = ("", "on #1e5a32", "on #7a6a00", "on #a04800", "on #a01010")  # refcount 0, 1, 2, 3, 4+
NEGATIVE = "on #8a0a8a"


def heat(count: int) -> str:
    if count >= 0x80:   # negative in the low byte: a double free
        return NEGATIVE
    return HEAT[min(count, 4)]


# a process's own (unshared) user pages are drawn in its colour
OWNER_COLOURS = ("#5fd7ff", "#ffaf5f", "#87ff87", "#ff87d7", "#d7d75f", "#af87ff")


def owner_colour(pid: int) -> str:
    return OWNER_COLOURS[pid % len(OWNER_COLOURS)]


def glyph(kind: int, count: int, owner: int | None = None) -> tuple[str, str]:
    """(character, style) of one frame; no wide glyphs, so the grid stays aligned.
    Only user frames (and anything with an unexpected refcount) get a background:
    kernel frames stay dark, so what user pages share stands out."""
    unexpected = " " + heat(count) if count > 1 else ""
    if kind == FREE:
        return (".", "#5a5a5a") if count == 0 else ("!", "bold white " + heat(count))
    if kind == KERNEL:
        return "#", "#6c8ebf"
    if kind == TABLE:
        return "P", "#a58fd0" + unexpected
    if kind == USER_FRAME:
        if count == 0 or count >= 0x80:
            return "!", "bold white " + (NEGATIVE if count else "on #a01010")
        if count == 1:
            return "u", "bold " + (owner_colour(owner) if owner is not None else "white") \
                + " " + HEAT[1]
        return (str(count) if count < 10 else "+"), "bold white " + heat(count)
    return "k", "#8a8a8a" + unexpected


LEGEND = (("free", "."), ("kernel", "#"), ("kernel data", "k"), ("page table", "P"),
          ("bad", "!"))


def owners_of(frames: FrameMap) -> dict[int, int]:
    """Frame index -> pid, for the frames exactly one process maps."""
    owners = {}
    for frame, users in frames.mappings.items():
        pids = {pid for pid, _, _ in users}
        i = frames.index(frame)
        if len(pids) == 1 and i is not None:
            owners[i] = next(iter(pids))
    return owners


class FrameGrid(BaseStyled, ScrollView, can_focus=True):
    compact: reactive[bool] = reactive(True)
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("left", "move(-1, 0)", "Previous frame", show=False, id="frames.left",
                tooltip="Move the cursor one frame back"),
        Binding("right", "move(1, 0)", "Next frame", show=False, id="frames.right",
                tooltip="Move the cursor one frame on"),
        Binding("up", "move(0, -1)", "Frame above", show=False, id="frames.up",
                tooltip="Move the cursor one row up (folded free frames skipped)"),
        Binding("down", "move(0, 1)", "Frame below", show=False, id="frames.down",
                tooltip="Move the cursor one row down"),
        Binding("right_square_bracket", "shared(1)", "Next shared",
                tooltip="The next frame with a refcount above 1", show=False,
                id="frames.next-shared"),
        Binding("left_square_bracket", "shared(-1)", "Previous shared",
                tooltip="The previous frame with a refcount above 1", show=False,
                id="frames.prev-shared"),
        Binding("enter", "choose_cursor", "Choose",
                tooltip="Show the frame's PTE in the page table", show=False,
                id="frames.choose"),
    ]

    class Pointed(Message):
        """The mouse is over a frame (clicked: the user chose it)."""

        def __init__(self, frame: int | None, clicked: bool) -> None:
            super().__init__()
            self.frame, self.clicked = frame, clicked

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.frames: FrameMap | None = None
        self.rows: list[tuple[str, int, int]] = []   # ('frames'|'gap', first index, count)
        self.per_row = 64
        self.marked: set[int] = set()               # frame indices to show reversed
        self.chosen: int | None = None              # frame index clicked
        self._styles: dict[tuple[int, int, int | None], tuple[str, Style]] = {}
        self.owners: dict[int, int] = {}            # frame index -> the one pid mapping it

    # --- data -------------------------------------------------------------------
    def show(self, frames: FrameMap) -> None:
        old, old_rows, old_owners = self.frames, self.rows, self.owners
        self.frames = frames
        self.owners = owners_of(frames)
        if old is not None and old.kinds == frames.kinds and old.counts == frames.counts \
                and old_owners == self.owners:
            return
        self._layout_rows()
        if old is None or self.rows != old_rows or old_owners != self.owners:
            self.refresh()
            return
        # Repaint only the rows whose frames changed: a repainted row is
        # repainted across every pane beside it, so few rows is cheap.
        top = self.scroll_offset.y
        for row in range(top, min(len(self.rows), top + self.size.height)):
            _, first, count = self.rows[row]
            end = first + count
            if old.kinds[first:end] != frames.kinds[first:end] or \
                    old.counts[first:end] != frames.counts[first:end]:
                self.refresh_line(row - top)

    def mark(self, frames: list[int]) -> None:
        if self.frames is None:
            return
        self.marked = {i for i in (self.frames.index(f) for f in frames) if i is not None}
        self.refresh()

    def watch_compact(self) -> None:
        self._layout_rows()
        self.refresh()

    def on_resize(self, event: events.Resize) -> None:
        self._layout_rows()

    def _layout_rows(self) -> None:
        room = max(8, self.scrollable_content_region.width - LABEL)
        self.per_row = 1 << (room.bit_length() - 1)
        rows: list[tuple[str, int, int]] = []
        if self.frames is not None:
            kinds, n, per = self.frames.kinds, len(self.frames.kinds), self.per_row
            empty = bytes([FREE]) * per
            counts = self.frames.counts
            zero = bytes(per)
            for first in range(0, n, per):
                if self.compact and kinds[first:first + per] == empty[:min(per, n - first)] \
                        and counts[first:first + per] == zero[:min(per, n - first)]:
                    if rows and rows[-1][0] == "gap":
                        rows[-1] = ("gap", rows[-1][1], rows[-1][2] + min(per, n - first))
                        continue
                    rows.append(("gap", first, min(per, n - first)))
                else:
                    rows.append(("frames", first, min(per, n - first)))
        self.rows = rows
        self.virtual_size = Size(LABEL + self.per_row, len(rows))

    # --- drawing ------------------------------------------------------------------
    def notify_style_update(self) -> None:
        self._styles = {}
        super().notify_style_update()

    def _cell(self, kind: int, count: int, owner: int | None) -> tuple[str, Style]:
        slot = owner % len(OWNER_COLOURS) if owner is not None and kind == USER_FRAME else None
        key = (kind, count, slot)
        cell = self._styles.get(key)
        if cell is None:
            character, style = glyph(kind, count, owner)
            cell = self._styles[key] = (character, self.base_style() + Style.parse(style))
        return cell

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        index = y + scroll_y
        width = self.scrollable_content_region.width
        plain = self.base_style()
        if self.frames is None or index >= len(self.rows):
            return Strip.blank(width, plain)
        what, first, count = self.rows[index]
        base = self.frames.base
        label = Segment(f"{base + (first << 12):#010x} ", plain + Style(color="#808080"))
        if what == "gap":
            end = base + ((first + count) << 12) - 1
            text = f"... {count} free frames to {end:#x} ..."
            return Strip([label, Segment(text, plain + Style(color="#5a5a5a", italic=True))]) \
                .crop(scroll_x, scroll_x + width).extend_cell_length(width, plain)
        segments = [label]
        kinds, counts, owners = self.frames.kinds, self.frames.counts, self.owners
        run_text, run_style = "", None
        for i in range(first, first + count):
            character, style = self._cell(kinds[i], counts[i], owners.get(i))
            if i in self.marked or i == self.chosen:
                style = style + Style(reverse=True, bold=True)
            if style is run_style or style == run_style:
                run_text += character
            else:
                if run_text:
                    segments.append(Segment(run_text, run_style))
                run_text, run_style = character, style
        if run_text:
            segments.append(Segment(run_text, run_style))
        return Strip(segments).crop(scroll_x, scroll_x + width).extend_cell_length(width, plain)

    # --- pointing -------------------------------------------------------------------
    def frame_at(self, x: int, y: int) -> int | None:
        """The frame under content offset (x, y), if any."""
        index = y + self.scroll_offset.y
        if self.frames is None or not 0 <= index < len(self.rows) or x < LABEL:
            return None
        what, first, count = self.rows[index]
        column = x + self.scroll_offset.x - LABEL
        if what != "frames" or column >= count:
            return None
        return self.frames.base + ((first + column) << 12)

    def row_of(self, frame: int) -> int | None:
        if self.frames is None:
            return None
        i = self.frames.index(frame)
        if i is None:
            return None
        for row, (_, first, count) in enumerate(self.rows):
            if first <= i < first + count:
                return row
        return None

    def scroll_to_frame(self, frame: int) -> None:
        row = self.row_of(frame)
        if row is not None:
            self.scroll_to(y=max(0, row - self.scrollable_content_region.height // 2),
                           animate=False)

    def choose(self, frame: int | None) -> None:
        self.chosen = self.frames.index(frame) if self.frames and frame is not None else None
        self.refresh()

    # --- the keyboard cursor (self.chosen) ------------------------------------------------
    def _cursor(self) -> int:
        return self.chosen if self.chosen is not None else 0

    def _put_cursor(self, index: int) -> None:
        if self.frames is None:
            return
        self.chosen = index
        row = self.row_of(self.frames.base + (index << 12))
        if row is not None:
            column = LABEL + index - self.rows[row][1]
            self.scroll_to_region(Region(column, row, 1, 1), animate=False, immediate=True)
        self.refresh()
        self.post_message(self.Pointed(self.frames.base + (index << 12), False))

    def action_move(self, dx: int, dy: int) -> None:
        if self.frames is None or not self.frames.kinds:
            return
        index = self._cursor()
        if dy:     # the same column in the next row that shows frames (gaps skipped)
            row = self.row_of(self.frames.base + (index << 12)) or 0
            column = index - self.rows[row][1]
            row += dy
            while 0 <= row < len(self.rows) and self.rows[row][0] != "frames":
                row += dy
            if not 0 <= row < len(self.rows):
                return
            _, first, count = self.rows[row]
            index = first + min(column, count - 1)
        else:
            index = max(0, min(len(self.frames.kinds) - 1, index + dx))
        self._put_cursor(index)

    def action_shared(self, direction: int) -> None:
        if self.frames is None:
            return
        counts, kinds, n = self.frames.counts, self.frames.kinds, len(self.frames.kinds)
        index = self._cursor() + direction
        while 0 <= index < n:
            if kinds[index] != FREE and 1 < counts[index] < 0x80:
                self._put_cursor(index)
                return
            index += direction
        self.notify("no shared frame " + ("after" if direction > 0 else "before") + " this one",
                    timeout=3)

    def action_choose_cursor(self) -> None:
        if self.frames is not None and self.chosen is not None:
            self.post_message(self.Pointed(self.frames.base + (self.chosen << 12), True))

    def on_mouse_move(self, event: events.MouseMove) -> None:
        offset = event.get_content_offset(self)
        if offset is not None:
            self.post_message(self.Pointed(self.frame_at(offset.x, offset.y), False))

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        frame = self.frame_at(offset.x, offset.y) if offset is not None else None
        if frame is not None:
            self.choose(frame)
            self.post_message(self.Pointed(frame, True))
