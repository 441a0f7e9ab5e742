"""Timeline: faults, forks, refcount changes and violations over instruction
count, one column per stretch of instructions, to scrub and jump with.

Left/right move the cursor a column, shift+left/right (or [ and ]) to the
previous/next column with a mark, home/end to the ends; Enter or a click
goes to the cursor's column: just after the first event of the kind it shows
(where running to that event would stop), or to its first instruction if it
has none. A column shows its most telling kind: violation, fork, fault, refcount.
The column of the current instruction is shown underlined.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.events import Click
from textual.message import Message
from textual.widget import Widget

from ..timeline_marks import TimelineMarks

GLYPHS = {"violation": ("!", "bold white on red"), "fork": ("Y", "bold magenta"),
          "fault": ("f", "bold yellow"), "refcount": ("·", "cyan"), None: ("─", "dim")}
WORDS = {"violation": "violation", "fork": "fork", "fault": "fault", "refcount": "refcount change"}


class Timeline(Widget, can_focus=False):   # focusable while shown (t)
    DEFAULT_CSS = """
    Timeline { height: 2; background: $panel; }
    Timeline:focus { background: $boost; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("left", "move(-1)", "Earlier", show=False),
        Binding("right", "move(1)", "Later", show=False),
        Binding("shift+left,left_square_bracket", "to_mark(-1)", "Previous mark", show=False),
        Binding("shift+right,right_square_bracket", "to_mark(1)", "Next mark", show=False),
        Binding("home", "move(-1_000_000)", "Start", show=False),
        Binding("end", "move(1_000_000)", "End", show=False),
        Binding("enter", "go", "Go there", show=False),
    ]

    class Selected(Message):
        """Go to ``icount`` (``why`` says what is there, for the status bar)."""

        def __init__(self, icount: int, why: str) -> None:
            super().__init__()
            self.icount, self.why = icount, why

    def __init__(self, marks: TimelineMarks, **kwargs) -> None:
        super().__init__(**kwargs)
        self.marks = marks
        self.now = marks.start
        self.cursor: int | None = None   # a column; None: follow the current instruction

    # --- columns -----------------------------------------------------------------------
    def columns(self) -> int:
        return max(1, self.size.width)

    def span(self, column: int) -> tuple[int, int]:
        """The instructions [start, end) column ``column`` covers."""
        start, end = self.marks.start, max(self.marks.furthest, self.now + 1)
        width = self.columns()
        length = max(end - start, width)
        return (start + column * length // width, start + (column + 1) * length // width)

    def column_of(self, icount: int) -> int:
        width = self.columns()
        for column in range(width):   # (a binary search would do; a row is short)
            if icount < self.span(column)[1]:
                return column
        return width - 1

    def cursor_column(self) -> int:
        return self.column_of(self.now) if self.cursor is None else self.cursor

    def show(self, now: int) -> None:
        self.marks.reached(now)
        self.now = now
        self.cursor = None
        self.refresh()

    # --- drawing -----------------------------------------------------------------------
    def render(self) -> Text:
        here = self.column_of(self.now)
        cursor = here if self.cursor is None else self.cursor
        row = Text(no_wrap=True)
        for column in range(self.columns()):
            shown = self.marks.telling(*self.span(column))
            glyph, style = GLYPHS[shown[0] if shown else None]
            if column == here:
                style += " underline"
            if column == cursor and self.has_focus:
                style += " reverse"
            row.append(glyph, style)
        return row + Text("\n") + Text(self.describe(cursor), no_wrap=True, style="dim")

    def describe(self, column: int) -> str:
        start, end = self.span(column)
        counts = [(self.marks.count(kind, start, end), word) for kind, word in WORDS.items()]
        said = ", ".join(f"{n} {word}{'s' if n != 1 else ''}" for n, word in counts if n)
        return f" #{start:,}..#{end - 1:,}: {said or 'no events'}   (now #{self.now:,}; " \
               "←/→ [ ] scrub, enter or click: go)"

    # --- moving ------------------------------------------------------------------------
    def action_move(self, by: int) -> None:
        start = self.cursor_column()
        self.cursor = min(self.columns() - 1, max(0, start + by))
        self.refresh()

    def action_to_mark(self, direction: int) -> None:
        column = self.cursor_column()
        while 0 <= column + direction < self.columns():
            column += direction
            if self.marks.telling(*self.span(column)) is not None:
                self.cursor = column
                self.refresh()
                return
        self.notify(f"no marks {'before' if direction < 0 else 'after'} this column", timeout=2)

    def action_go(self) -> None:
        column = self.cursor_column()
        start, end = self.span(column)
        shown = self.marks.telling(start, end)
        if shown is None:
            self.post_message(self.Selected(start, f"at #{start:,} (from the timeline)"))
        else:
            kind, icount = shown
            self.post_message(self.Selected(icount + 1, f"just after the {WORDS[kind]} at "
                                            f"#{icount:,} (from the timeline)"))

    def on_click(self, event: Click) -> None:
        self.focus()
        self.cursor = min(self.columns() - 1, max(0, event.x))
        self.action_go()

