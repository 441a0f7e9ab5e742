"""Console pane: the guest's UART. When focused, typed keys go to the guest."""

from __future__ import annotations

from rich.segment import Segment
from rich.style import Style
from textual import events
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


class ConsoleView(BaseStyled, ScrollView, can_focus=True):
    class Typed(Message):
        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.lines: list[str] = [""]
        self._strips: dict[int, Strip] = {}   # line index -> its strip, while unchanged
        self.consumed = 0       # bytes of the console taken in

    def reset(self) -> None:
        """Empty, to take the console again from its start (time went back)."""
        self.lines, self.consumed = [""], 0
        self._strips.clear()
        self.refresh()

    def add_output(self, data: bytes) -> None:
        """Append guest output, as a terminal would show it."""
        if not data:
            return
        lines = self.lines
        for ch in data.decode("utf-8", errors="replace"):
            if ch == "\n":
                lines.append("")
            elif ch == "\b":
                lines[-1] = lines[-1][:-1]
            elif ch >= " " or ch == "\t":
                lines[-1] += "    " if ch == "\t" else ch
        if len(lines) > MAX_LINES:
            del lines[:len(lines) - MAX_LINES]
            self._strips.clear()
        self.consumed += len(data)
        at_end = self.scroll_offset.y >= self.max_scroll_y
        self.virtual_size = Size(max(40, max(len(line) for line in lines[-200:]) + 1), len(lines))
        if at_end:
            self.scroll_end(animate=False, immediate=True, x_axis=False)
        self.refresh()

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        index = y + scroll_y
        width = self.scrollable_content_region.width
        base = self.base_style()
        if index >= len(self.lines):
            return Strip.blank(width, base)
        line = self.lines[index]
        if self.has_focus and index == len(self.lines) - 1:
            strip = Strip([Segment(line, base), Segment(" ", base + CURSOR)])
        else:
            strip = self._strips.get(index)
            if strip is None or strip.text != line:
                strip = self._strips[index] = Strip([Segment(line, base)])
        strip = strip.extend_cell_length(width, base)
        return strip.crop(scroll_x, scroll_x + width) if scroll_x or strip.cell_length > width \
            else strip

    def notify_style_update(self) -> None:
        self._strips = {}
        super().notify_style_update()

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
        elif event.key == "escape":
            event.stop()
            self.screen.focus_next()
