"""CPU pane: privilege mode, pc with its symbol and C source line,
disassembly around pc, registers (changed since the last stop highlighted)."""

from __future__ import annotations

from machine.isa.disasm import ABI_NAMES
from machine.trap import PRIVILEGE_NAMES

from ..view_state import CpuState
from .lines_view import Line, LinesView

DISASM_LINES = 9
MODE_STYLES = {0: "bold black on green", 1: "bold black on yellow", 3: "bold white on red"}


def cpu_lines(cpu: CpuState, before: tuple[int, ...] | None, breakpoints: set[int]) -> list[Line]:
    """Always the same number of lines, so an update never needs a layout pass."""
    head: Line = [] if cpu.hart is None else [(f" hart {cpu.hart} ", "bold reverse")]
    if not cpu.runs:  # another hart runs: this one waits for its turn (h picks the hart)
        head.append((" waits ", "dim reverse"))
    head += [(f" {PRIVILEGE_NAMES.get(cpu.privilege, '?')}-mode ",
                   MODE_STYLES.get(cpu.privilege, "")), (f"  pc {cpu.pc:#x}", "bold")]
    where: Line = [(cpu.where, "cyan")] if cpu.where else []   # its own line: never cut
    source: Line = []
    if cpu.source:
        source = [(f"{cpu.source[0]}:{cpu.source[1]}", "green")]
        if cpu.source_text:
            source.append((f"  {cpu.source_text}", ""))
    elif cpu.privilege == 0:
        source = [("user code (no debug info)", "dim")]
    lines = [head, where, source]
    for row in list(cpu.disasm)[:DISASM_LINES]:
        stop = "b" if row.address in breakpoints and cpu.privilege != 0 else " "
        # the whole address (0x3ffffff000 too), never cut to 32 bits
        where = f"{'>' if row.is_pc else ' '}{row.address:08x}  {row.text:<24}"
        line: Line = [(stop, "bold red"), (where, "bold reverse" if row.is_pc else "")]
        if row.label:
            line.append((f" <{row.label}>", "cyan"))
        lines.append(line)
    lines.extend([] for _ in range(3 + DISASM_LINES - len(lines) + 1))
    for i in range(0, 32, 2):
        line = []
        for j in (i, i + 1):
            changed = before is not None and before[j] != cpu.registers[j]
            line += [(f"{ABI_NAMES[j]:>4} ", "dim"),
                     (f"{cpu.registers[j]:016x}", "bold yellow" if changed else ""),
                     ("  " if j == i else "", "")]
        lines.append(line)
    lines.append([(f"satp {cpu.satp:016x}", "dim")])
    return lines


class CpuView(LinesView):
    def show(self, cpu: CpuState, before: tuple[int, ...] | None,
             breakpoints: set[int] = frozenset()) -> None:
        self.set_lines(cpu_lines(cpu, before, breakpoints))
