"""Console pane: the guest's UART. When focused, typed keys go to the guest;
Esc leaves. Long lines wrap at the pane's width. Keys typed while the
machine is paused are queued for the guest and shown at once, marked, until
it runs (then the guest echoes them itself, as a terminal would)."""

from __future__ import annotations

from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from .lines_view import BaseStyled

# Keys that are not characters but mean something to a Unix-like console.
SPECIAL_KEYS = {"enter": "\n", "backspace": "\x7f", "tab": "\t", "ctrl+d": "\x04",
                "ctrl+u": "\x15", "ctrl+p": "\x10", "ctrl+h": "\x08"}
MAX_LINES = 5000
CURSOR = Style(reverse=True)
PENDING = Style(color="black", bgcolor="yellow", italic=True)   # typed, not yet read
PENDING_NOTE = "typed while paused: sent when the machine runs"


def shown_typed(text: str) -> str:
    """How queued input looks in the pane (control keys as visible marks)."""
    return text.replace("\n", "⏎").replace("\t", "⇥").replace("\x04", "^D") \
        .replace("\x15", "^U").replace("\x10", "^P")


class ConsoleView(BaseStyled, ScrollView, can_focus=True):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "leave", "Leave console", id="console.leave"),
    ]
    # For the help screen: what the console does with keys that are no binding.
    HELP_BINDINGS = (
        Binding("escape", "leave", "Leave", tooltip="Leave the console: keys work the app again"),
        Binding("any key", "", "Type", tooltip="Typed to the guest (while paused: queued, "
                "shown marked, sent when it runs)"),
        Binding("ctrl+d,ctrl+u,ctrl+p", "", "Control keys",
                tooltip="End of input, erase the line, list processes (xv6's console)"),
        Binding("ctrl+c", "", "Pause", tooltip="Pauses the machine, also in the console"),
    )

    class Typed(Message):
        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.lines: list[str] = [""]
        self.consumed = 0       # bytes of the console taken in
        self.pending = ""       # typed while paused, not yet echoed by the guest
        self._rows: list[tuple[int, int, int]] = []   # (line index, start, end) per screen row
        self._first_row: list[int] = []               # line index -> its first row
        self._width = 0

    # --- content ------------------------------------------------------------------------
    def reset(self) -> None:
        """Empty, to take the console again from its start (time went back)."""
        self.lines, self.consumed, self.pending = [""], 0, ""
        self.border_subtitle = ""
        self._first_row, self._rows = [], []
        self._rewrap(0)

    def add_output(self, data: bytes) -> None:
        """Append guest output, as a terminal would show it."""
        if not data:
            return
        lines = self.lines
        first_changed = len(lines) - 1
        for ch in data.decode("utf-8", errors="replace"):
            if ch == "\n":
                lines.append("")
            elif ch == "\b":
                lines[-1] = lines[-1][:-1]
            elif ch >= " " or ch == "\t":
                lines[-1] += "    " if ch == "\t" else ch
        if len(lines) > MAX_LINES:
            del lines[:len(lines) - MAX_LINES]
            first_changed = 0
        self.consumed += len(data)
        self._rewrap(first_changed)

    def typed_while_paused(self, text: str) -> None:
        """Show queued input at once (the guest echoes it only when it runs)."""
        if text in ("\x7f", "\x08"):
            self.pending = self.pending[:-1]
        else:
            self.pending += shown_typed(text)
        self.border_subtitle = PENDING_NOTE if self.pending else ""
        self._rewrap(len(self.lines) - 1)

    def machine_runs(self) -> None:
        """The guest reads what was queued now, and echoes it itself."""
        if self.pending:
            self.pending = ""
            self.border_subtitle = ""
            self._rewrap(len(self.lines) - 1)

    def text_of_line(self, index: int) -> str:
        line = self.lines[index]
        return line + self.pending if index == len(self.lines) - 1 else line

    def screen_rows(self) -> list[str]:
        """The text of every row as wrapped now, for tests and people."""
        return [self.text_of_line(i)[start:end] for i, start, end in self._rows]

    # --- wrapping -----------------------------------------------------------------------
    def _rewrap(self, from_line: int) -> None:
        width = max(1, self._width - 1)      # room for the cursor at a full row's end
        if from_line < len(self._first_row):
            del self._rows[self._first_row[from_line]:]
            del self._first_row[from_line:]
        else:
            from_line = len(self._first_row)
        for index in range(from_line, len(self.lines)):
            self._first_row.append(len(self._rows))
            length = len(self.text_of_line(index))
            self._rows.extend((index, start, min(start + width, length))
                              for start in range(0, max(length, 1), width))
        at_end = self.scroll_offset.y >= self.max_scroll_y
        size = Size(self._width, len(self._rows))
        if size != self.virtual_size:
            self.virtual_size = size
        if at_end:
            self.scroll_end(animate=False, immediate=True, x_axis=False)
        self.refresh()

    def on_resize(self) -> None:
        width = self.scrollable_content_region.width
        if width != self._width:
            self._width = width
            self._first_row, self._rows = [], []
            self._rewrap(0)

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        base = self.base_style()
        row = y + self.scroll_offset.y
        if row >= len(self._rows):
            return Strip.blank(width, base)
        index, start, end = self._rows[row]
        text = self.text_of_line(index)
        segments = [Segment(text[start:end], base)]
        last = index == len(self.lines) - 1
        if last and self.pending:
            split = max(start, min(end, len(self.lines[index])))
            segments = [Segment(text[start:split], base),
                        Segment(text[split:end], base + PENDING)]
        if last and end == len(text) and self.has_focus:
            segments.append(Segment(" ", base + CURSOR))
        strip = Strip(segments).extend_cell_length(width, base)
        return strip.crop(0, width) if strip.cell_length > width else strip

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self.refresh()

    # --- keys ---------------------------------------------------------------------------
    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()

    def on_key(self, event: events.Key) -> None:
        text = SPECIAL_KEYS.get(event.key)
        if text is None and event.character and event.is_printable:
            text = event.character
        if text is not None:
            event.stop()
            event.prevent_default()
            self.post_message(self.Typed(text))

    def action_leave(self) -> None:
        self.screen.focus_next()
