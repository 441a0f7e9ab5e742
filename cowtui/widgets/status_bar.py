"""Status bar: run state, instruction count, speed, current process, scenario,
and the rules this run cannot check."""

from __future__ import annotations

from collections.abc import Sequence

from .lines_view import LinesView

STATE_STYLES = {"RUNNING": "bold black on green", "PAUSED": "bold black on yellow",
                "IDLE": "bold black on cyan", "STOPPED": "bold white on red"}


class StatusBar(LinesView, can_focus=False):
    def show(self, icount: int, state: str, detail: str, mips: float | None,
             process: str | None, scenario: str, rules_off: Sequence[str] = ()) -> None:
        off = f"  {len(rules_off)} rule{'s' if len(rules_off) != 1 else ''} off" \
            if rules_off else ""
        self.set_lines([[
            (f" {state} ", STATE_STYLES.get(state, "reverse")), (f" #{icount:,}", "bold"),
            (f"  {'--' if mips is None else f'{mips:.1f}'} MIPS", ""),
            (f"  {process or 'no process'}", ""), (f"  {scenario}", "dim"),
            (off, "bold red"),
            (f"  {detail}" if detail else "", "italic")]])
