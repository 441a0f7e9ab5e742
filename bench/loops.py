"""Three guest loops in S-mode under Sv39 (4 KiB pages), for the engine benches.

  memset:  a byte store loop over 4 KiB pages (as xv6's memset compiles)
  copy:    a byte copy loop between pages (as memmove compiles)
  listwalk: a branchy linked-list walk summing values

``build(loop, engine)`` returns a hart ready to run one; run this file for the
interpreter's MIPS alone: python bench/loops.py [instructions]
"""

from __future__ import annotations

import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from machine.bus import Bus  # noqa: E402
from machine.hart import Hart  # noqa: E402
from machine.isa.asm import assemble  # noqa: E402
from machine.trap import SUPERVISOR  # noqa: E402
from tests.support.sv39 import PTE_A, PTE_D, RWX, PageTableBuilder  # noqa: E402

RAM = 0x80000000
VBASE = 0x10000000  # virtual addresses below 2 GiB: lui gives them without sign games
CODE, DATA, DATA2, LIST = VBASE + 0x1000, VBASE + 0x100000, VBASE + 0x200000, VBASE + 0x300000

LOOPS = {
    # a0 = dst, a1 = byte, a2 = end; like GCC's byte memset loop
    "memset": f"""
        li a0, 0; lui a0, {DATA >> 12:#x}; li a1, 0x5a
        restart:
        lui a0, {DATA >> 12:#x}
        lui a2, {(DATA + 0x10000) >> 12:#x}
        loop: sb a1, 0(a0); addi a0, a0, 1; bne a0, a2, loop
        j restart
    """,
    "copy": f"""
        restart:
        lui a0, {DATA >> 12:#x}; lui a1, {DATA2 >> 12:#x}
        lui a2, {(DATA + 0x10000) >> 12:#x}
        loop: lbu a3, 0(a0); sb a3, 0(a1); addi a0, a0, 1; addi a1, a1, 1; bne a0, a2, loop
        j restart
    """,
    "listwalk": f"""
        restart:
        lui a0, {LIST >> 12:#x}; li a5, 0
        loop: ld a1, 8(a0); andi a2, a1, 1; beqz a2, even
        add a5, a5, a1; j next
        even: sub a5, a5, a1
        next: ld a0, 0(a0); bnez a0, loop
        j restart
    """,
}


def build(name: str, engine: str = "interp") -> Hart:
    bus = Bus(RAM, 8 << 20)
    tables = PageTableBuilder(bus, RAM + 0x400000)
    tables.map_range(VBASE, RAM, 0x400000, RWX | PTE_A | PTE_D)
    code = assemble(LOOPS[name], CODE)
    bus.ram[CODE - VBASE:CODE - VBASE + len(code)] = code
    # a 512-node list spread over pages: next at +0, value at +8
    nodes = [LIST + i * 520 for i in range(512)]
    for i, node in enumerate(nodes):
        nxt = nodes[i + 1] if i + 1 < len(nodes) else 0
        off = node - VBASE
        bus.ram[off:off + 16] = nxt.to_bytes(8, "little") + (i * 7).to_bytes(8, "little")
    hart = Hart(bus)
    hart.engine = engine
    hart.csr.satp = tables.satp
    hart.set_privilege(SUPERVISOR)
    hart.translation_changed()
    hart.pc = CODE
    return hart


def measure(name: str, instructions: int) -> float:
    hart = build(name)
    hart.run(10_000)  # warm up: decode and fill the TLBs
    start = time.perf_counter()
    hart.run(instructions)
    return instructions / (time.perf_counter() - start) / 1e6


if __name__ == "__main__":
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 3_000_000
    for loop in LOOPS:
        print(f"interpreter {loop:9s} {measure(loop, count):6.2f} MIPS")
