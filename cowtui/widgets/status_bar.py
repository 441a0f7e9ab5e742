"""Status bar: instruction count, run state, speed, current process, scenario."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

STATE_STYLES = {"RUNNING": "bold black on green", "PAUSED": "bold black on yellow",
                "IDLE": "bold black on cyan", "STOPPED": "bold white on red"}


class StatusBar(Static):
    def show(self, icount: int, state: str, detail: str, mips: float | None,
             process: str | None, scenario: str) -> None:
        text = Text()
        text.append(f" {state} ", STATE_STYLES.get(state, "reverse"))
        text.append(f" #{icount:,}", "bold")
        text.append(f"  {'--' if mips is None else f'{mips:.1f}'} MIPS")
        text.append(f"  {process or 'no process'}")
        text.append(f"  {scenario}", "dim")
        if detail:
            text.append(f"  {detail}", "italic")
        self.update(text)
