"""The breakpoint list (B): every breakpoint, enabled or not; add, remove,
enable and disable them with one key each."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Footer, OptionList, Static
from textual.widgets.option_list import Option

from ..breakpoints import Breakpoints


def entry_line(address: int, enabled: bool, name: str, source: str | None) -> Text:
    text = Text()
    text.append("[x] " if enabled else "[ ] ", "bold green" if enabled else "dim")
    text.append(f"{address:#018x}  ", "" if enabled else "dim")
    text.append(name, "cyan" if enabled else "dim")
    if source:
        text.append(f"  {source}", "green" if enabled else "dim")
    return text


class BreakpointList(ModalScreen[str | None]):
    """Dismissed with 'add' when the user asks for a new one (the app prompts)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("space", "toggle", "Enable/disable", id="breakpoints.toggle"),
        Binding("d,delete", "remove", "Remove", id="breakpoints.remove"),
        Binding("a", "add", "Add", id="breakpoints.add"),
        Binding("escape,B", "close", "Close", id="breakpoints.close"),
    ]

    def __init__(self, breakpoints: Breakpoints) -> None:
        super().__init__()
        self.breakpoints = breakpoints

    def compose(self) -> ComposeResult:
        with Vertical(id="breakpoint-list"):
            yield Static(id="breakpoint-empty")
            yield OptionList(id="breakpoint-options")
        yield Footer(show_command_palette=False)

    def on_mount(self) -> None:
        self.query_one("#breakpoint-list").border_title = "Breakpoints"
        self.refill()
        self.query_one(OptionList).focus()

    def refill(self) -> None:
        options = self.query_one(OptionList)
        highlighted = options.highlighted
        options.clear_options()
        entries = self.breakpoints.entries()
        options.add_options([Option(entry_line(e.address, e.enabled, e.name, e.source),
                                    id=f"bp-{e.address:x}") for e in entries])
        if entries:
            options.highlighted = min(highlighted or 0, len(entries) - 1)
        self.query_one("#breakpoint-empty", Static).update(
            f"{len(entries)} breakpoint{'s' if len(entries) != 1 else ''}, "
            f"{len(self.breakpoints.enabled)} enabled" if entries else
            "no breakpoints: a adds one (or b in the main screen)")

    def highlighted_address(self) -> int | None:
        options = self.query_one(OptionList)
        if options.highlighted is None or not options.option_count:
            return None
        return int(options.get_option_at_index(options.highlighted).id.split("-")[1], 16)

    def action_toggle(self) -> None:
        address = self.highlighted_address()
        if address is not None:
            self.breakpoints.toggle(address)
            self.refill()

    def action_remove(self) -> None:
        address = self.highlighted_address()
        if address is not None:
            self.breakpoints.remove(address)
            self.refill()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.action_toggle()

    def action_add(self) -> None:
        self.dismiss("add")

    def action_close(self) -> None:
        self.dismiss(None)
