"""Faults pane: the page-fault trace (instruction number, pid, cause, VA,
outcome), one row per fault, following the newest."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import DataTable

from machine.introspect.events import FaultResolved, PageFault

CAUSES = {12: "fetch", 13: "load", 15: "store"}
OUTCOME_STYLES = {"copied": "bold green", "made-writable": "cyan", "mapped": "blue",
                  "killed": "bold red", "not-cow": "yellow"}


def outcome_text(event: FaultResolved | None) -> Text:
    if event is None:
        return Text("handling...", "italic")
    text = Text(event.outcome, OUTCOME_STYLES.get(event.outcome, ""))
    if event.new_frame is not None:
        text.append(f" {event.new_frame:x}")
    return text


class FaultTable(DataTable):
    def __init__(self, **kwargs) -> None:
        super().__init__(cursor_type="row", **kwargs)
        self.seen = 0          # trace events consumed
        self.faults = 0

    def reset(self) -> None:
        """Empty, to take a trace again from its start (time went back)."""
        self.clear()
        self.seen = self.faults = 0
        self.border_subtitle = ""

    def on_mount(self) -> None:
        for label in ("#instr", "pid", "cause", "va", "outcome"):
            self.add_column(label, key=label)   # as wide as the widest cell

    def add_events(self, trace: list, upto: int) -> None:
        """Take the trace events [seen, upto) into the table."""
        added = False
        follow = self.row_count == 0 or self.cursor_row >= self.row_count - 1
        for event in trace[self.seen:upto]:
            if isinstance(event, PageFault):
                self.add_row(f"{event.icount:,}", str(event.pid),
                             CAUSES.get(event.scause, str(event.scause)), f"{event.stval:#x}",
                             outcome_text(None), key=str(event.icount))
                self.faults += 1
                added = True
            elif isinstance(event, FaultResolved) and str(event.fault_icount) in self.rows:
                self.update_cell(str(event.fault_icount), "outcome", outcome_text(event))
        self.seen = max(self.seen, upto)
        if added:
            self.border_subtitle = f"{self.faults} fault{'s' if self.faults != 1 else ''}"
            if follow:
                self.move_cursor(row=self.row_count - 1, animate=False)
