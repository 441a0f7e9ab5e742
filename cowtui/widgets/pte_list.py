"""The flat view of a page table: its mapped ranges, one line per leaf PTE.

A range is a run of leaves at consecutive virtual pages; each starts with a
header line. Clicking a leaf (or Enter on it) asks for the PTE inspector.
"""

from __future__ import annotations

from rich.text import Text
from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option, OptionDoesNotExist

from ..ptefmt import CHANGED_STYLE, SIZE_NAMES, flags_text
from ..view_state import AddressSpace, PteRow

HEADER = "  VA            size frame       VRWXUGAD cow  ref"


def option_id(pid: int, va: int) -> str:
    return f"pte-{pid}-{va:x}"


def ranges(leaves: tuple[PteRow, ...]) -> list[list[PteRow]]:
    out: list[list[PteRow]] = []
    for row in sorted(leaves, key=lambda r: r.va):
        if out:
            last = out[-1][-1]
            if last.va + (1 << (12 + 9 * last.level)) == row.va:
                out[-1].append(row)
                continue
        out.append([row])
    return out


def leaf_line(row: PteRow, cow_bit: int) -> Text:
    text = Text()
    text.append("* " if row.changed else "  ", CHANGED_STYLE)
    text.append(f"{row.va:#012x}  ", CHANGED_STYLE if row.changed else "")
    text.append(f"{SIZE_NAMES[row.level]:>4} {row.frame:#010x}  ")
    text.append_text(flags_text(row.pte, cow_bit))
    ref = "" if row.refcount is None else str(row.refcount)
    text.append(f" {ref:>4}", "bold red" if row.refcount is not None and row.refcount > 1 else "")
    return text


class PteList(OptionList):
    class Inspect(Message):
        """The user chose a PTE to inspect."""

        def __init__(self, pid: int, va: int) -> None:
            super().__init__()
            self.pid, self.va = pid, va

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._shown: tuple | None = None
        self.pid: int | None = None

    def show(self, space: AddressSpace | None, cow_bit: int) -> None:
        key = (space.pid, space.leaves) if space else None
        if key == self._shown:
            return
        self._shown = key
        highlighted = self.highlighted_option.id if self.highlighted_option else None
        self.clear_options()
        self.pid = space.pid if space else None
        if space is None:
            self.add_option(Option("(no page table)", disabled=True))
            return
        options: list[Option | None] = []
        for run in ranges(space.leaves):
            first, last = run[0], run[-1]
            end = last.va + (1 << (12 + 9 * last.level)) - 1
            options.append(Option(Text(f"{first.va:#x}-{end:#x}  {len(run)} page"
                                       f"{'s' if len(run) > 1 else ''}", "bold"),
                                  disabled=True))
            options.extend(Option(leaf_line(row, cow_bit), id=option_id(space.pid, row.va))
                           for row in run)
        self.add_options(options)
        if highlighted is not None:
            self.go_to(highlighted)

    def go_to(self, option: str) -> bool:
        try:
            index = self.get_option_index(option)
        except OptionDoesNotExist:
            return False
        self.highlighted = index
        self.scroll_to_highlight()
        return True

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id and self.pid is not None:
            self.post_message(self.Inspect(self.pid, int(event.option.id.rsplit("-", 1)[1], 16)))
