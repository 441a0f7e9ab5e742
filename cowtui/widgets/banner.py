"""The banner shown when a COW invariant breaks: which rule, what broke it,
the instruction that did it. Escape dismisses it; Enter inspects the PTE."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from machine.introspect.events import Violation
from machine.introspect.rules import MISTAKES, RULES

from ..source_text import blamed_line


class ViolationBanner(Static):
    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.violation: Violation | None = None
        self.display = False

    def show_violation(self, violation: Violation, where: str | None, source: str | None,
                       instruction: str | None, more: int) -> None:
        self.violation = violation
        text = Text()
        text.append(" INVARIANT VIOLATED ", "bold white on red")
        text.append(f"  [{violation.rule}] ", "bold")
        text.append(violation.message)
        text.append(f"\n rule: {RULES.get(violation.rule, '?')}\n", "italic")
        text.append(f" {MISTAKES.get(violation.rule, '')}\n", "italic")
        blame = violation.blame
        if blame is not None:  # the store that made the state wrong, not where it was seen
            text.append(f" {blame.who()} stored at instruction #{blame.icount:,}  "
                        f"pc {violation.pc:#x}")
        else:
            text.append(f" at instruction #{violation.icount:,}  pc {violation.pc:#x}")
        if where:
            text.append(f" {where}", "bold")
        if instruction:
            text.append(f"  {instruction}")
        if source:
            text.append(f"  ({source})")
        if more:
            text.append(f"  (+{more} more)", "dim")
        if violation.repeats > 1:
            text.append(f"  (×{violation.repeats:,} stores)", "dim")
        if blame is not None and len(blame.stack) > 1 and blame.where() not in violation.message:
            text.append(f"\n call stack: {blame.where()}")
        line = self._source_text(violation)
        if line:
            text.append(f"\n   {line}", "bold")
        text.append("\n i or click: inspect the PTE   w: go to the write   escape: dismiss   "
                    "c: continue", "dim")
        self.update(text)
        self.display = True

    def _source_text(self, violation: Violation) -> str | None:
        scenario = getattr(getattr(self.app, "session", None), "scenario", None)
        blamed = blamed_line(scenario.kernel, violation) if scenario is not None else None
        return f"{blamed[0]}: {blamed[1]}" if blamed and blamed[1] else None

    def dismiss(self) -> None:
        self.display = False

    def on_click(self) -> None:
        self.app.run_action("inspect")
