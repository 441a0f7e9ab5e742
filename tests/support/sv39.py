"""Build small Sv39 address spaces directly in a Bus's RAM, for tests and benches."""

from __future__ import annotations

from machine.bus import Bus
from machine.mmu import PTE_A, PTE_D, PTE_R, PTE_U, PTE_V, PTE_W, PTE_X, vpn

RWX = PTE_R | PTE_W | PTE_X


class PageTableBuilder:
    """Allocates page-table pages from a physical pool and maps pages."""

    def __init__(self, bus: Bus, pool: int) -> None:
        self.bus = bus
        self.next_free = pool
        self.root = self.allocate()

    def allocate(self) -> int:
        page = self.next_free
        self.next_free += 4096
        offset = page - self.bus.ram_base
        self.bus.ram[offset:offset + 4096] = bytes(4096)
        return page

    def read(self, address: int) -> int:
        offset = address - self.bus.ram_base
        return int.from_bytes(self.bus.ram[offset:offset + 8], "little")

    def write(self, address: int, value: int) -> None:
        offset = address - self.bus.ram_base
        self.bus.ram[offset:offset + 8] = value.to_bytes(8, "little")

    def map(self, va: int, pa: int, flags: int, level: int = 0) -> int:
        """Map one page (level 0: 4 KiB, 1: 2 MiB, 2: 1 GiB); returns the PTE address."""
        table = self.root
        for lvl in (2, 1):
            if lvl == level:
                break
            entry = table + vpn(va, lvl) * 8
            pte = self.read(entry)
            if not pte & PTE_V:
                child = self.allocate()
                pte = ((child >> 12) << 10) | PTE_V
                self.write(entry, pte)
            table = ((pte >> 10) << 12) & ((1 << 56) - 1)
        entry = table + vpn(va, level) * 8
        self.write(entry, ((pa >> 12) << 10) | flags | PTE_V)
        return entry

    def map_range(self, va: int, pa: int, length: int, flags: int) -> None:
        for offset in range(0, length, 4096):
            self.map(va + offset, pa + offset, flags)

    @property
    def satp(self) -> int:
        return (8 << 60) | (self.root >> 12)


__all__ = ["PageTableBuilder", "RWX", "PTE_A", "PTE_D", "PTE_U", "PTE_R", "PTE_W", "PTE_X"]
