"""A widget that shows lines of styled runs through the Line API.

Hot panes (CPU, status) change at every snapshot; going through Rich Text
and Content costs more than the rest of a refresh, so they hand over lines
of (text, style) runs that become Strips directly.
"""

from __future__ import annotations

from functools import lru_cache

from rich.segment import Segment
from rich.style import Style
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

Run = tuple[str, str]          # (text, style as rich parses it)
Line = list[Run]


@lru_cache(maxsize=512)
def style_of(spec: str) -> Style:
    return Style.parse(spec) if spec else Style()


class BaseStyled:
    """The widget's own colours (background), looked up once: it walks the
    ancestors, which is too slow to do for every line."""

    _base: Style | None = None

    def base_style(self) -> Style:
        if self._base is None:
            self._base = self.rich_style
        return self._base

    def notify_style_update(self) -> None:
        self._base = None
        super().notify_style_update()


class LinesView(BaseStyled, ScrollView):
    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.lines: list[Line] = []
        self._strips: list[Strip] | None = None

    def notify_style_update(self) -> None:
        self._strips = None
        super().notify_style_update()

    def set_lines(self, lines: list[Line]) -> None:
        if lines == self.lines:
            return
        self.lines = lines
        self._strips = None
        self._size_to(self.scrollable_content_region.width)
        self.refresh()

    def _size_to(self, width: int) -> None:
        # As wide as the pane (long lines are cut): a virtual size that
        # changes costs a layout pass of the whole screen.
        size = Size(width, len(self.lines))
        if size != self.virtual_size:
            self.virtual_size = size

    def on_resize(self) -> None:
        self._size_to(self.scrollable_content_region.width)

    def plain(self) -> str:
        """The text shown, for tests and people."""
        return "\n".join("".join(text for text, _ in line) for line in self.lines)

    def render_line(self, y: int) -> Strip:
        index = y + self.scroll_offset.y
        width = self.scrollable_content_region.width
        if self._strips is None:
            base = self.base_style()
            self._strips = [Strip([Segment(text, base + style_of(style))
                                   for text, style in line if text]) for line in self.lines]
        if index >= len(self._strips):
            return Strip.blank(width, self.base_style())
        strip = self._strips[index].extend_cell_length(width, self.base_style())
        return strip.crop(0, width) if strip.cell_length > width else strip
