"""The PTE inspector: one PTE in full — raw value, every bit, its frame and
refcount, who else maps that frame, and every change made to it."""

from __future__ import annotations

from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, OptionList, Static
from textual.widgets.option_list import Option

from ..pte_details import FIELDS, PteDetails, field_value
from ..ptefmt import COW_STYLE, W_STYLE, flags_plain, flags_text


def bits_table(d: PteDetails) -> Table:
    table = Table(box=None, padding=(0, 1), show_header=True, header_style="bold")
    for column in ("field", "bits", "value", "meaning"):
        table.add_column(column)
    for name, high, low, meaning in FIELDS:
        value = field_value(d.pte, high, low)
        if name == "RSW":
            cow = d.pte >> d.cow_bit & 1
            shown = Text(f"{value:02b}")
            meaning = f"software bits; bit {d.cow_bit} is COW: " + ("set" if cow else "clear")
            if cow:
                shown = Text(f"{value:02b} COW", COW_STYLE)
        elif name == "PPN":
            shown = Text(f"{value:#x}")
            meaning = f"frame {value << 12:#x}"
        else:
            shown = Text(str(value) if high == low else f"{value:#x}",
                         W_STYLE if name == "W" and value else "bold" if value else "dim")
        bits = f"{high}" if high == low else f"{high}-{low}"
        table.add_row(name, bits, shown, meaning)
    return table


def summary_text(d: PteDetails) -> Text:
    text = Text()
    text.append(f"pid {d.pid}  va {d.va:#x}", "bold")
    size = {0: "4 KiB", 1: "2 MiB", 2: "1 GiB"}[d.level]
    text.append(f"  ({size} page, L{d.level} entry at {d.pte_address or 0:#x})\n")
    text.append(f"PTE {d.pte:#018x}  ", "bold")
    text.append_text(flags_text(d.pte, d.cow_bit))
    text.append("\n")
    if not d.pte & 1:
        text.append("not valid: this page is not mapped\n", "bold red")
        return text
    text.append(f"frame {d.frame:#x}  ({d.frame_kind})  refcount ")
    text.append("unknown" if d.refcount is None else str(d.refcount),
                "bold red" if d.refcount is not None and d.refcount != len(d.sharers) else "bold")
    text.append(f"  mapped by {len(d.sharers)} user PTE(s)")
    return text


def sharers_text(d: PteDetails) -> Text:
    text = Text("Every PTE mapping this frame\n", "bold underline")
    if not d.sharers:
        text.append("  none\n", "dim")
    for pid, va, pte in d.sharers:
        mark = "  <- this PTE" if pid == d.pid and va & ~0xFFF == d.va else ""
        text.append(f"  pid {pid:<3} va {va:#012x}  {flags_plain(pte, d.cow_bit):<12}{mark}\n")
    return text


def change_text(c, cow_bit: int) -> Text:
    # fixed widths, so the columns line up from #0 to #99,999,999,999 and any pc
    where = c.where or ""
    where = where if len(where) <= 18 else where[:17] + "…"
    text = Text(f"#{c.icount:<14,} pc {c.pc:#012x} {where:<18} ")
    text.append(f"{flags_plain(c.old, cow_bit) if c.old & 1 else 'invalid':<12} -> ")
    text.append(f"{flags_plain(c.new, cow_bit) if c.new & 1 else 'invalid':<12}")
    text.append(f"  {c.source or ''}", "green")
    return text


def history_text(d: PteDetails) -> Text:
    """The history as one text (every line of the inspector's history list)."""
    text = Text()
    for c in d.history:
        text.append("  ")
        text.append_text(change_text(c, d.cow_bit))
        text.append("\n")
    return text


class PteInspector(ModalScreen[str | None]):
    """Dismissed with 'run-until-change' when the user asks to run on."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "close", "Close", id="inspector.close"),
        Binding("u", "run_until_change", "Run until this PTE changes",
                id="inspector.run-until-change"),
        Binding("w", "last_write", "Go to the write that made it so",
                id="inspector.last-write"),
    ]

    def __init__(self, details: PteDetails) -> None:
        super().__init__()
        self.details = details

    def compose(self) -> ComposeResult:
        d = self.details
        with VerticalScroll(id="inspector"):
            yield Static(summary_text(d), id="inspector-summary")
            yield Static(bits_table(d), id="inspector-bits")
            yield Static(sharers_text(d), id="inspector-sharers")
            yield Static(Text("History of this PTE (Enter on a change: go to just after it)",
                              "bold underline"), id="inspector-history-title")
            if d.history:
                yield OptionList(*(Option(change_text(c, d.cow_bit), id=f"change-{c.icount}")
                                   for c in d.history), id="inspector-history")
            else:
                yield Static(Text("  no change seen since the machine started", "dim"),
                             id="inspector-history")
            with Horizontal(id="inspector-buttons"):
                yield Button("Run until this PTE changes (u)", id="run-until-change",
                             variant="primary")
                yield Button("Go to the write (w)", id="last-write")
                yield Button("Close (esc)", id="close")

    def on_mount(self) -> None:
        self.query_one("#inspector").border_title = "PTE inspector"

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "run-until-change":
            self.action_run_until_change()
        elif event.button.id == "last-write":
            self.action_last_write()
        else:
            self.action_close()

    def action_close(self) -> None:
        self.dismiss(None)

    def action_run_until_change(self) -> None:
        self.dismiss("run-until-change")

    def action_last_write(self) -> None:
        self.dismiss("last-write")

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        """Enter on a change: the app goes to the moment just after it."""
        event.stop()
        self.dismiss(f"goto:{event.option.id.split('-', 1)[1]}")
