"""The cost of watching memory for events when nothing watched is written.

Runs the loops of bench/loops.py (S-mode, Sv39, 4 KiB pages) on a
whole Machine, twice: with no event subscriber and no watched page, and with
a MemoryWrite subscriber and 64 page-table pages watched (the address
space's own tables plus 60 more, as the app watches every process's page
tables) that the loops never write. Prints MIPS for both and the difference.
The target (the platform issue): less than 3 % apart. Times are the
process's CPU time (best of several alternating runs), so other load on the
host disturbs the comparison less than wall-clock time would.

Run: python bench/events_cost.py [instructions] [engine ...]
     (engines: interp, blocks, fast; default interp)
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = os.path.join(os.path.dirname(__file__), "..")
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.dirname(__file__))

from loops import CODE, LIST, LOOPS, VBASE

from machine.events import MemoryWrite
from machine.isa.asm import assemble
from machine.machine import Machine, MachineConfig
from machine.mmu import PTE_R
from machine.trap import SUPERVISOR
from tests.support.mini_elf import make_elf
from tests.support.sv39 import PTE_A, PTE_D, RWX, PageTableBuilder

RAM = 0x8000_0000
TABLES = RAM + 0x400000      # page-table pool, outside the 4 MiB the loops use
WATCHED_TABLES = 64
REPEATS = 7


def build(kernel: Path, loop: str, engine: str, watch: bool) -> tuple[Machine, list]:
    machine = Machine(MachineConfig(kernel=kernel, ram_mib=16))
    machine.hart.engine = engine
    bus = machine.bus
    tables = PageTableBuilder(bus, TABLES)
    tables.map_range(VBASE, RAM, 0x400000, RWX | PTE_A | PTE_D)
    # More leaf tables: one page mapped in each of further 2 MiB regions
    region = VBASE + 0x0200_0000
    while (tables.next_free - TABLES) // 4096 < WATCHED_TABLES:
        tables.map(region, TABLES - 0x1000, PTE_R | PTE_A)
        region += 0x20_0000
    table_pages = [(TABLES >> 12) + i for i in range(WATCHED_TABLES)]
    assert tables.next_free == TABLES + WATCHED_TABLES * 4096
    code = assemble(LOOPS[loop], CODE)
    bus.ram[CODE - VBASE:CODE - VBASE + len(code)] = code
    nodes = [LIST + i * 520 for i in range(512)]
    for i, node in enumerate(nodes):
        following = nodes[i + 1] if i + 1 < len(nodes) else 0
        offset = node - VBASE
        bus.ram[offset:offset + 16] = following.to_bytes(8, "little") + \
            (i * 7).to_bytes(8, "little")
    hart = machine.hart
    hart.csr.satp = tables.satp
    hart.set_privilege(SUPERVISOR)
    hart.translation_changed()
    hart.pc = CODE
    events: list = []
    if watch:
        machine.events.subscribe(MemoryWrite, events.append)
        for page in table_pages:
            machine.watch_physical_page(page)
    return machine, events


def measure(kernel: Path, loop: str, engine: str, watch: bool, instructions: int) -> float:
    machine, events = build(kernel, loop, engine, watch)
    machine.run(max_instructions=20_000)  # warm up: decode, compile, fill the TLBs
    start = time.process_time()  # CPU time: less disturbed by other processes
    machine.run(max_instructions=instructions)
    elapsed = time.process_time() - start
    assert events == [], "the loops must not write the watched page tables"
    return instructions / elapsed / 1e6


def main() -> None:
    instructions = int(sys.argv[1]) if len(sys.argv) > 1 else 2_000_000
    engines = sys.argv[2:] or ["interp"]
    with tempfile.TemporaryDirectory() as directory:
        kernel = Path(directory) / "idle.elf"
        kernel.write_bytes(make_elf(assemble("loop: j loop", RAM), RAM))
        print(f"{instructions} instructions per run, best of {REPEATS}, "
              f"{WATCHED_TABLES} page-table pages watched")
        for engine in engines:
            for loop in LOOPS:
                plain, watched = 0.0, 0.0
                for _ in range(REPEATS):  # alternate, so drift hits both alike
                    plain = max(plain, measure(kernel, loop, engine, False, instructions))
                    watched = max(watched, measure(kernel, loop, engine, True, instructions))
                difference = (watched - plain) / plain * 100
                print(f"{engine:6s} {loop:9s} no subscriber {plain:7.2f} MIPS   "
                      f"MemoryWrite on 64 tables {watched:7.2f} MIPS   {difference:+5.1f} %")


if __name__ == "__main__":
    main()
