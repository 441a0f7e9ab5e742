"""Status bar: run state, instruction count, speed, current process, scenario."""

from __future__ import annotations

from .lines_view import LinesView

STATE_STYLES = {"RUNNING": "bold black on green", "PAUSED": "bold black on yellow",
                "IDLE": "bold black on cyan", "STOPPED": "bold white on red"}


class StatusBar(LinesView, can_focus=False):
    def show(self, icount: int, state: str, detail: str, mips: float | None,
             process: str | None, scenario: str) -> None:
        self.set_lines([[
            (f" {state} ", STATE_STYLES.get(state, "reverse")), (f" #{icount:,}", "bold"),
            (f"  {'--' if mips is None else f'{mips:.1f}'} MIPS", ""),
            (f"  {process or 'no process'}", ""), (f"  {scenario}", "dim"),
            (f"  {detail}" if detail else "", "italic")]])
