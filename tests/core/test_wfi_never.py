"""A timer compare register left at all ones means "never": WFI then waits
for outside input instead of jumping time to 2**64 - 1 (found by the fuzz)."""

from __future__ import annotations

from machine.bus import Bus
from machine.hart import Hart
from machine.isa.asm import assemble

RAM = 0x80000000


def test_wfi_with_stimecmp_all_ones_waits_forever_without_jumping_time() -> None:
    bus = Bus(RAM, 1 << 20)
    code = assemble("wfi; j 0", RAM)
    bus.ram[:len(code)] = code
    hart = Hart(bus)
    hart.pc = RAM
    hart.csr.menvcfg = 1 << 63            # Sstc on
    hart.csr.stimecmp = (1 << 64) - 1     # "never"
    hart.csr.mie = 1 << 5
    hart.run(10)
    assert hart.idle_forever
    assert hart.icount < 10 and hart.pc == RAM
    hart.run(10)                          # asking again changes nothing and returns
    assert hart.icount < 10
