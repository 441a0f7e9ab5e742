"""The help screen (?): every key of the app, one line each, from the app's
own binding table (and the console's), so it cannot fall out of date."""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

KEY_NAMES = {"question_mark": "?", "space": "space", "escape": "Esc", "ctrl+c": "ctrl+c",
             "ctrl+q": "ctrl+q", "enter": "Enter", "delete": "Del", "number_sign": "#",
             "left_square_bracket": "[", "right_square_bracket": "]", "left": "←",
             "right": "→", "up": "↑", "down": "↓"}


def key_name(key: str) -> str:
    return ", ".join(KEY_NAMES.get(k.strip(), k.strip()) for k in key.split(","))


def help_table(sections: Iterable[tuple[str, Iterable[Binding]]]) -> Table:
    table = Table(box=None, show_header=False, padding=(0, 1), expand=True)
    table.add_column("key", style="bold yellow", no_wrap=True, width=8)
    table.add_column("name", style="bold", no_wrap=True, width=14)
    table.add_column("what it does", ratio=1)
    for title, bindings in sections:
        table.add_row("", f"[underline]{title}[/]", "")
        for b in bindings:
            table.add_row(key_name(b.key), b.description, b.tooltip or "")
    return table


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,question_mark,q", "close", "Close", id="help.close")]

    def __init__(self, sections: list[tuple[str, list[Binding]]]) -> None:
        super().__init__()
        self.sections = sections

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help"):
            yield Static(help_table(self.sections), id="help-table")

    def on_mount(self) -> None:
        help_box = self.query_one("#help")
        help_box.border_title = "Keys"
        help_box.border_subtitle = "Esc or ? closes"

    def action_close(self) -> None:
        self.dismiss(None)
