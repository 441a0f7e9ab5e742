"""The COW view (v): the selected process's user pages beside the same VAs in
its parent and children — frame, W, COW, refcount, and whether the frame is
the same one (shared) or its own (copied) — and below, the highlighted
page's bytes in two frames side by side, differing bytes marked: the
parent's original and the child's copy after a COW fault."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from machine.introspect.pte import PTE_W, has_cow

from ..cow_view import Cell, CowRow, cow_rows, hex_lines, relatives
from ..ptefmt import COW_STYLE, W_STYLE
from ..view_state import ViewState
from .lines_view import Line, LinesView

SAME_STYLE = "bold magenta"
COPIED_STYLE = "bold green"
DIFF_STYLE = "bold black on yellow"


def cell_text(cell: Cell | None, cow_bit: int, same: bool | None) -> Text:
    text = Text()
    if cell is None:
        return Text("not mapped", "dim")
    if same is not None:
        text.append("= " if same else "≠ ", SAME_STYLE if same else COPIED_STYLE)
    text.append(f"{cell.frame:#010x} ")
    text.append("W" if cell.pte & PTE_W else "-", W_STYLE if cell.pte & PTE_W else "dim")
    text.append(" ")
    text.append("COW" if has_cow(cell.pte, cow_bit) else "---",
                COW_STYLE if has_cow(cell.pte, cow_bit) else "dim")
    if cell.refcount is not None:
        text.append(f" ref {cell.refcount}", "bold red" if cell.refcount > 1 else "")
    return text


def hex_view(left: bytes, right: bytes | None, per_line: int) -> tuple[list[Line], int | None]:
    """Lines of 'offset  left bytes │ right bytes', differing bytes marked,
    and the index of the first line that differs."""
    lines: list[Line] = []
    first: int | None = None
    for i, h in enumerate(hex_lines(left, right, per_line)):
        line: Line = [(f"{h.offset:03x}  ", "dim")]
        for side, other in ((h.left, h.right), (h.right, h.left)):
            if side is None:
                continue
            if side is h.right:
                line.append((" │ ", "dim"))
            for j, byte in enumerate(side):
                differs = other is not None and j < len(other) and other[j] != byte
                line.append((f"{byte:02x}", DIFF_STYLE if differs else ""))
                line.append((" ", ""))
            line.append((" " + "".join(chr(b) if 32 <= b < 127 else "." for b in side), "cyan"))
        if h.differs and first is None:
            first = i
        lines.append(line)
    return lines, first


class CowScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,v", "close", "Close", id="cow.close"),
        Binding("p", "next_relative", "Compare with next",
                tooltip="Compare the highlighted page with the next relative's", id="cow.next"),
    ]

    def __init__(self, snap: ViewState, pid: int, trace: list, cow_bit: int,
                 read_frame: Callable[[int], bytes | None]) -> None:
        super().__init__()
        self.snap, self.pid, self.cow_bit, self.read_frame = snap, pid, cow_bit, read_frame
        names = {p.pid: p.name for p in snap.processes}
        self.names = names
        self.relatives = relatives(trace, pid, set(names))
        self.pids = [pid] + [r for r, _ in self.relatives]
        self.rows: list[CowRow] = cow_rows(snap, self.pids)
        self.compare = 1 if len(self.pids) > 1 else 0    # which relative the bytes show

    def compose(self) -> ComposeResult:
        yield Static(id="cow-header")
        yield DataTable(id="cow-table", cursor_type="row", zebra_stripes=True)
        yield LinesView(id="cow-hex")
        yield Footer(show_command_palette=False)

    def on_mount(self) -> None:
        roles = dict(self.relatives)
        header = Text()
        header.append(f"COW view: pid {self.pid} {self.names.get(self.pid, '')}", "bold")
        if self.relatives:
            header.append("  beside  " + ", ".join(
                f"{roles[p]} pid {p} {self.names.get(p, '')}" for p in self.pids[1:]))
        else:
            header.append("  (no parent or child alive to compare with)", "dim")
        header.append("\n")
        header.append("= ", SAME_STYLE)
        header.append("same frame (shared)  ")
        header.append("≠ ", COPIED_STYLE)
        header.append("its own frame (copied)  ")
        header.append("W", W_STYLE)
        header.append(" writable  ")
        header.append("COW", COW_STYLE)
        header.append(" copy on write  ref: the frame's refcount")
        self.query_one("#cow-header", Static).update(header)
        table = self.query_one(DataTable)
        table.add_column("VA", key="va")
        for p in self.pids:
            role = f" ({roles[p]})" if p in roles else ""
            table.add_column(f"pid {p} {self.names.get(p, '')}{role}", key=f"pid-{p}")
        for row in self.rows:
            table.add_row(f"{row.va:#012x}", *(cell_text(c, self.cow_bit, row.same_frame(i)
                                                        if i else None)
                                               for i, c in enumerate(row.cells)),
                          key=f"{row.va:x}")
        if not self.rows:
            self.query_one("#cow-hex", LinesView).set_lines([[(
                f"pid {self.pid} has no user pages", "dim")]])
        table.focus()
        self.show_bytes()

    def on_data_table_row_highlighted(self, _: DataTable.RowHighlighted) -> None:
        self.show_bytes()

    def highlighted(self) -> CowRow | None:
        table = self.query_one(DataTable)
        if not self.rows or table.cursor_row is None or table.cursor_row >= len(self.rows):
            return None
        return self.rows[table.cursor_row]

    def show_bytes(self) -> None:
        row = self.highlighted()
        pane = self.query_one("#cow-hex", LinesView)
        if row is None or row.cells[0] is None:
            return
        mine = row.cells[0]
        theirs = row.cells[self.compare] if self.compare else None
        left = self.read_frame(mine.frame) or b""
        right = self.read_frame(theirs.frame) if theirs is not None and \
            theirs.frame != mine.frame else None
        per_line = 16 if self.size.width >= 150 else 8
        lines, first = hex_view(left, right, per_line)
        # short enough for 80 columns: the count of differing bytes must show
        title = f"va {row.va:#x}  pid {mine.pid} {mine.frame:#x}"
        if theirs is None and self.compare:
            title += f"  not mapped in pid {self.pids[self.compare]}"
        elif theirs is not None and right is None:
            title += f" = pid {theirs.pid}'s: one frame, shared"
        elif theirs is not None:
            differ = sum(a != b for a, b in zip(left, right or b"", strict=False))
            title += f" │ pid {theirs.pid} {theirs.frame:#x}  {differ} bytes differ"
        pane.border_title = title
        pane.set_lines(lines)
        pane.scroll_to(y=first or 0, animate=False)

    def action_next_relative(self) -> None:
        if len(self.pids) > 1:
            self.compare = self.compare % (len(self.pids) - 1) + 1
            self.show_bytes()

    def action_close(self) -> None:
        self.dismiss(None)
