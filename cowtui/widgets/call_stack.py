"""Call-stack pane: the frames at pc, innermost first, each with its
function, offset and source line (machine.introspect.callstack unwinds)."""

from __future__ import annotations

from collections.abc import Sequence

from machine.introspect.callstack import StackFrame

from .lines_view import Line, LinesView


def stack_lines(frames: Sequence[StackFrame]) -> list[Line]:
    if not frames:
        return [[("no call stack", "dim")]]
    lines: list[Line] = []
    for i, frame in enumerate(frames):
        name = f"{frame.pc:#x}" if frame.symbol is None else \
            f"{frame.symbol}+{frame.offset:#x}" if frame.offset else frame.symbol
        line: Line = [(f"#{i:<2} ", "dim"), (name, "bold cyan" if i == 0 else "cyan")]
        if frame.file is not None and frame.line is not None:
            line.append((f"  {frame.file}:{frame.line}", "green"))
        elif frame.symbol is None:
            line.append(("  (no symbols)", "dim"))
        lines.append(line)
    return lines


class CallStackView(LinesView):
    def show(self, frames: Sequence[StackFrame]) -> None:
        self.set_lines(stack_lines(frames))
        subtitle = f"{len(frames)} frame{'s' if len(frames) != 1 else ''}"
        if subtitle != self.border_subtitle:
            self.border_subtitle = subtitle
