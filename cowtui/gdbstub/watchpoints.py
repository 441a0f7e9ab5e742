"""gdb's watchpoints, and which one the next instruction is about to touch.

Write watchpoints (Z2) are physical byte ranges watched on the bus: a store
into one is a MemoryWrite event, at full speed. Read and access watchpoints
(Z3, Z4) have no such hook, so the target steps the machine and asks, before
each instruction runs, what it will read or write: its access as declared
(machine/isa/accesses.py), its address from the registers (the load may
overwrite its own base register, so after would be too late), translated as
the hart will translate it. An access that would fault touches nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from machine.isa.accesses import effective_address
from machine.isa.decoder import decode
from machine.machine import Machine

PAGE = 4096
WRITE, READ, ACCESS = 2, 3, 4
WATCH_KINDS = {WRITE: "watch", READ: "rwatch", ACCESS: "awatch"}  # as stop replies name them


@dataclass(frozen=True)
class Watchpoint:
    kind: int                    # WRITE, READ or ACCESS
    va: int
    length: int
    ranges: tuple[tuple[int, int], ...]  # physical [start, end) pieces

    def covers(self, start: int, end: int) -> bool:
        return any(low < end and start < high for low, high in self.ranges)


def next_access_hit(machine: Machine, points: list[Watchpoint]) -> tuple[Watchpoint, int] | None:
    """The read/access watchpoint the instruction at pc will touch, with the
    register a store-conditional reports success in (0 for any other
    instruction: its access always happens); None if it touches none."""
    word = machine.instruction_at_pc()
    decoded = decode(word) if word is not None else None
    found = effective_address(decoded, machine.registers()) if decoded is not None else None
    if found is None:
        return None
    va, access = found
    if access.aligned_only and va % access.size:
        return None  # a misaligned AMO, LR or SC traps
    pieces = []
    end = va + access.size
    while va < end:  # a misaligned plain load or store may cross into the next page
        chunk = min(end - va, PAGE - (va & (PAGE - 1)))
        pa = machine.data_address(va, store=access.writes)
        if pa is None:
            return None  # it faults before touching memory
        pieces.append((pa, pa + chunk))
        va += chunk
    for point in points:
        wanted = point.kind == ACCESS or point.kind == READ and access.reads
        if wanted and any(point.covers(start, stop) for start, stop in pieces):
            return point, decoded.base_operands["rd"] if access.conditional else 0
    return None
