"""Processes pane: pid, name, state, size, fault count; the highlighted row
is the process whose page table the page-table pane shows."""

from __future__ import annotations

from textual.message import Message
from textual.widgets import DataTable

from ..view_state import ProcessRow


class ProcessTable(DataTable):
    class Chosen(Message):
        def __init__(self, pid: int) -> None:
            super().__init__()
            self.pid = pid

    def __init__(self, **kwargs) -> None:
        super().__init__(cursor_type="row", **kwargs)
        self._rows: tuple[ProcessRow, ...] = ()
        self._current: int | None = None

    def on_mount(self) -> None:
        for label, width in (("pid", 4), ("name", 10), ("state", 8), ("size", 6), ("faults", 6)):
            self.add_column(label, key=label, width=width)

    @property
    def selected_pid(self) -> int | None:
        if not self.row_count:
            return None
        key = self.coordinate_to_cell_key((self.cursor_row, 0)).row_key.value
        return int(key) if key is not None else None

    def show(self, rows: tuple[ProcessRow, ...], current: int | None) -> None:
        """Rows as the snapshot has them; '>' marks the process on the CPU."""
        if rows == self._rows and current == self._current:
            return
        keep = self.selected_pid
        self._rows, self._current = rows, current
        self.clear()
        for row in rows:
            self.add_row(f"{'>' if row.pid == current else ' '}{row.pid}", row.name,
                         row.state.lower(), f"{row.size // 1024}K", str(row.faults),
                         key=str(row.pid))
        self.select(keep)

    def select(self, pid: int | None) -> None:
        if pid is not None and str(pid) in self.rows and pid != self.selected_pid:
            self.move_cursor(row=self.get_row_index(str(pid)), animate=False)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        if event.row_key.value is not None:
            self.post_message(self.Chosen(int(event.row_key.value)))
