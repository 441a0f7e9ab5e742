"""Status bar: run state, instruction count, speed, current process, scenario,
and the rules this run cannot check."""

from __future__ import annotations

from collections.abc import Sequence

from .lines_view import LinesView

STATE_STYLES = {"RUNNING": "bold black on green", "PAUSED": "bold black on yellow",
                "IDLE": "bold black on cyan", "STOPPED": "bold white on red"}


class StatusBar(LinesView, can_focus=False):
    def show(self, icount: int, state: str, detail: str, mips: float | None,
             process: str | None, scenario: str, rules_off: Sequence[str] = (),
             hart: int | None = None) -> None:
        off = f"  {len(rules_off)} rule{'s' if len(rules_off) != 1 else ''} off" \
            if rules_off else ""
        self._parts = (state, icount, detail, mips, process, scenario, off, hart)
        self._lay_out()

    def on_resize(self) -> None:
        super().on_resize()
        if getattr(self, "_parts", None) is not None:
            self._lay_out()

    def _lay_out(self) -> None:
        state, icount, detail, mips, process, scenario, off, hart = self._parts
        # What the user needs most stays: the state, the count, the message
        # (a hint, why it stopped); the speed, the scenario's name and the
        # process go first when the line is too narrow for everything.
        optional = [(f"  {'--' if mips is None else f'{mips:.1f}'} MIPS", ""),
                    (f"  {process or 'no process'}", ""), (f"  {scenario}", "dim")]
        fixed = [(f" {state} ", STATE_STYLES.get(state, "reverse")), (f" #{icount:,}", "bold")]
        if hart is not None:  # several harts: the one that runs
            fixed.append((f"  hart {hart}", "bold"))
        tail = [(off, "bold red"), (f"  {detail}" if detail else "", "italic")]
        width = self.size.width or 10_000
        drop = [0, 2, 1]        # MIPS, then the scenario, then the process
        while drop and sum(len(t) for t, _ in fixed + optional + tail) > width:
            optional[drop.pop(0)] = ("", "")
        self.set_lines([fixed + optional + tail])
