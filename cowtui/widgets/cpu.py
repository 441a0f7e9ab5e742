"""CPU pane: privilege mode, pc with its symbol and C source line,
disassembly around pc, registers (changed since the last stop highlighted)."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from machine.isa.disasm import ABI_NAMES
from machine.trap import PRIVILEGE_NAMES

from ..snapshot import CpuState

MODE_STYLES = {0: "bold black on green", 1: "bold black on yellow", 3: "bold white on red"}


def cpu_text(cpu: CpuState, before: tuple[int, ...] | None, breakpoints: set[int]) -> Text:
    text = Text()
    text.append(f" {PRIVILEGE_NAMES.get(cpu.privilege, '?')}-mode ",
                MODE_STYLES.get(cpu.privilege, ""))
    text.append(f"  pc {cpu.pc:#x}", "bold")
    if cpu.where:
        text.append(f"  {cpu.where}", "cyan")
    text.append("\n")
    if cpu.source:
        text.append(f"{cpu.source[0]}:{cpu.source[1]}", "green")
        if cpu.source_text:
            text.append(f"  {cpu.source_text}")
        text.append("\n")
    elif cpu.privilege == 0:
        text.append("user code (no debug info)\n", "dim")
    text.append("\n")
    for line in cpu.disasm:
        if line.label:
            text.append(f"          <{line.label}>:\n", "cyan")
        marker, style = (">", "bold reverse") if line.is_pc else (" ", "")
        stop = "b" if line.address in breakpoints and cpu.privilege != 0 else " "
        text.append(stop, "bold red")
        text.append(f"{marker}{line.address & 0xFFFFFFFF:08x}  {line.text}\n", style)
    text.append("\n")
    for i in range(0, 32, 2):
        for j in (i, i + 1):
            changed = before is not None and before[j] != cpu.registers[j]
            text.append(f"{ABI_NAMES[j]:>4} ", "dim")
            text.append(f"{cpu.registers[j]:016x}", "bold yellow" if changed else "")
            text.append("  " if j == i else "\n")
    text.append(f"satp {cpu.satp:016x}", "dim")
    return text


class CpuView(Static):
    def show(self, cpu: CpuState, before: tuple[int, ...] | None,
             breakpoints: set[int] = frozenset()) -> None:
        self.update(cpu_text(cpu, before, breakpoints))
