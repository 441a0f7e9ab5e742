"""The recalling witness: a store seen before is not unwound again; going
back forgets what was seen at and after the moment gone to."""

from __future__ import annotations

from types import SimpleNamespace

from cowtui.change_recall import RecallingWitness
from machine.introspect.blame import Change


class CountingWitness:
    def __init__(self) -> None:
        self.asked: list[int] = []
        self.entries = 0

    def change(self, icount: int, pc: int, by_dma: bool = False) -> Change:
        self.asked.append(icount)
        return Change(icount, pc, 1, 0)

    def new_entry(self) -> None:
        self.entries += 1


def test_seen_stores_are_recalled_until_time_goes_back_before_them() -> None:
    inner = CountingWitness()
    machine = SimpleNamespace(hart=SimpleNamespace(hartid=0))
    witness = RecallingWitness(inner, machine, limit=100)
    first = [witness.change(icount, 0x8000_0000 + icount) for icount in (10, 20, 30)]
    assert [witness.change(icount, 0x8000_0000 + icount) for icount in (10, 20, 30)] == first
    assert inner.asked == [10, 20, 30] and witness.recalled == 3
    assert witness.change(20, 0x8000_0004) is not first[1]   # another pc: another store
    witness.forget_from(20)
    witness.change(10, 0x8000_000A)
    witness.change(20, 0x8000_0014)
    assert inner.asked == [10, 20, 30, 20, 20]
    witness.new_entry()
    assert inner.entries == 1


def test_past_its_limit_the_oldest_half_is_forgotten() -> None:
    inner = CountingWitness()
    witness = RecallingWitness(inner, SimpleNamespace(hart=SimpleNamespace(hartid=0)), limit=10)
    for icount in range(11):
        witness.change(icount, 0)
    witness.change(10, 0)
    witness.change(0, 0)
    assert inner.asked == [*range(11), 0]
