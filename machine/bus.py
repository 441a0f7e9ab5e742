"""The physical address space: RAM plus memory-mapped devices.

RAM is one bytearray. A physical address that is neither RAM nor a device
window answers ``None`` / ``False``, which the hart turns into an access
fault: never a Python error.

Watched pages: a store into a watched physical page (by the CPU or by device
DMA) calls every ``write_hooks`` entry with (address, size, old, new). The
hart keeps such pages out of its fast store path so that it sees each store.
A page can also be watched in parts (``watch_physical_range``): then only a
store that touches a watched byte range calls the hooks (the refcount fields
of an array, not the spinlock beside them).
"""

from __future__ import annotations

import bisect
from typing import Callable

from .devices.base import MmioDevice

PAGE_SHIFT = 12
WriteHook = Callable[[int, int, int, int], None]  # address, size, old value, new value


_WATCH_LOG_LIMIT = 8192  # changes kept for watch_changes_since


class Bus:
    def __init__(self, ram_base: int, ram_size: int) -> None:
        self.ram_base = ram_base
        self.ram_size = ram_size
        self.ram_end = ram_base + ram_size
        self.ram = bytearray(ram_size)
        self._device_bases: list[int] = []
        self._devices: list[MmioDevice] = []
        self.watched_pages: set[int] = set()
        self.watch_generation = 0  # grows at every change of what is watched
        # The recent changes, (page, now watched) or (-1, _) for a change of
        # ranges only, one per generation: a native core applies only these
        # instead of comparing whole sets (thousands of pages, many changes a
        # second while the tracker follows page tables).
        self._watch_log: list[tuple[int, bool]] = []
        self._watch_log_start = 0  # the generation before _watch_log[0]
        # Pages watched only in parts: page -> the [start, end) byte ranges watched in it.
        self.partial_watches: dict[int, list[tuple[int, int]]] = {}
        self.range_generation = 0  # grows at every change of partial_watches
        self.in_dma = False  # True while a device writes RAM (for MemoryWrite.by_dma)
        # RAM pages (numbered from RAM's start) written through the bus since
        # time travel last took them (Hart.take_dirty_pages); None: nobody asks.
        self.dirty_pages: set[int] | None = None
        # With several harts: physical page numbers stored into through the
        # bus since the scheduler last took them (Hart.take_stored_pages), so
        # that the other harts drop what they decoded there; None: one hart.
        self.stored_pages: set[int] | None = None
        self.write_hooks: list[WriteHook] = []
        # Called with (address, length) after any RAM write that bypasses the
        # harts (DMA, loading): they drop decoded code and reservations there.
        self.ram_changed_hooks: list[Callable[[int, int], None]] = []
        # Called when the set of watched pages changes: harts flush fast paths.
        self.watch_changed_hooks: list[Callable[[], None]] = []

    # --- wiring -----------------------------------------------------------
    def attach(self, device: MmioDevice) -> None:
        i = bisect.bisect(self._device_bases, device.base)
        self._device_bases.insert(i, device.base)
        self._devices.insert(i, device)

    def device_at(self, address: int) -> MmioDevice | None:
        i = bisect.bisect(self._device_bases, address) - 1
        if i >= 0:
            device = self._devices[i]
            if address < device.base + device.size:
                return device
        return None

    def is_ram(self, address: int, size: int = 1) -> bool:
        return self.ram_base <= address and address + size <= self.ram_end

    # --- watching ---------------------------------------------------------
    def _log_watch(self, page_number: int, watched: bool) -> None:
        self._watch_log.append((page_number, watched))
        self.watch_generation += 1
        if len(self._watch_log) > _WATCH_LOG_LIMIT:
            drop = _WATCH_LOG_LIMIT // 2
            del self._watch_log[:drop]
            self._watch_log_start += drop

    def watch_changes_since(self, generation: int) -> list[tuple[int, bool]] | None:
        """The (page, watched) changes after ``generation``, oldest first
        (page -1: ranges only); None where they are not known any more, or
        ``watched_pages`` was replaced wholesale: then read it whole."""
        if self.watch_generation != self._watch_log_start + len(self._watch_log):
            self._watch_log, self._watch_log_start = [], self.watch_generation  # replaced
            return None
        if generation < self._watch_log_start:
            return None
        return self._watch_log[generation - self._watch_log_start:]

    def watch_physical_page(self, page_number: int) -> None:
        """Watch the whole page (a page watched in parts becomes wholly watched)."""
        if page_number not in self.watched_pages or page_number in self.partial_watches:
            if self.partial_watches.pop(page_number, None) is not None:
                self.range_generation += 1
            self.watched_pages.add(page_number)
            self._log_watch(page_number, True)
            for hook in self.watch_changed_hooks:
                hook()

    def unwatch_physical_page(self, page_number: int) -> None:
        if page_number in self.watched_pages:
            self.watched_pages.discard(page_number)
            if self.partial_watches.pop(page_number, None) is not None:
                self.range_generation += 1
            self._log_watch(page_number, False)

    def watch_physical_range(self, start: int, end: int) -> None:
        """Watch the bytes [start, end) (pages already wholly watched stay so)."""
        new_page = False
        for page in range(start >> PAGE_SHIFT, ((end - 1) >> PAGE_SHIFT) + 1):
            if page in self.watched_pages and page not in self.partial_watches:
                continue
            low, high = max(start, page << PAGE_SHIFT), min(end, (page + 1) << PAGE_SHIFT)
            self.partial_watches.setdefault(page, []).append((low, high))
            if page not in self.watched_pages:
                new_page = True
                self.watched_pages.add(page)
                self._log_watch(page, True)
        self._log_watch(-1, True)
        self.range_generation += 1
        if new_page:
            for hook in self.watch_changed_hooks:
                hook()

    def unwatch_physical_range(self, start: int, end: int) -> None:
        """Undo one ``watch_physical_range(start, end)``: other watches of the
        same bytes (the tracker's refcounts, a debugger's watchpoint) stay."""
        for page in range(start >> PAGE_SHIFT, ((end - 1) >> PAGE_SHIFT) + 1):
            ranges = self.partial_watches.get(page)
            if ranges is None:
                continue
            piece = (max(start, page << PAGE_SHIFT), min(end, (page + 1) << PAGE_SHIFT))
            if piece in ranges:
                ranges.remove(piece)
            if not ranges:
                del self.partial_watches[page]
                self.watched_pages.discard(page)
                self._log_watch(page, False)
        self._log_watch(-1, False)
        self.range_generation += 1

    def watches(self, address: int, size: int) -> bool:
        """Whether a store of ``size`` bytes at ``address`` touches watched bytes."""
        for page in {address >> PAGE_SHIFT, (address + size - 1) >> PAGE_SHIFT}:
            if page in self.watched_pages:
                ranges = self.partial_watches.get(page)
                if ranges is None or any(a < address + size and address < b for a, b in ranges):
                    return True
        return False

    # --- accesses ---------------------------------------------------------
    def load(self, address: int, size: int) -> int | None:
        """Read ``size`` bytes little-endian; None where nothing answers."""
        if self.ram_base <= address and address + size <= self.ram_end:
            offset = address - self.ram_base
            return int.from_bytes(self.ram[offset:offset + size], "little")
        device = self.device_at(address)
        if device is None or address + size > device.base + device.size:
            return None
        return device.read(address - device.base, size) & ((1 << (8 * size)) - 1)

    def store(self, address: int, size: int, value: int) -> bool:
        """Write ``size`` bytes; False where nothing answers."""
        value &= (1 << (8 * size)) - 1
        if self.ram_base <= address and address + size <= self.ram_end:
            self.store_ram(address, size, value)
            return True
        device = self.device_at(address)
        if device is None or address + size > device.base + device.size:
            return False
        device.write(address - device.base, size, value)
        return True

    def mark_dirty(self, address: int, length: int) -> None:
        if self.dirty_pages is not None:
            first = (address - self.ram_base) >> PAGE_SHIFT
            self.dirty_pages.update(range(first, ((address + length - 1 - self.ram_base)
                                                  >> PAGE_SHIFT) + 1))
        if self.stored_pages is not None:
            self.stored_pages.update(range(address >> PAGE_SHIFT,
                                           ((address + length - 1) >> PAGE_SHIFT) + 1))

    def store_ram(self, address: int, size: int, value: int) -> None:
        offset = address - self.ram_base
        if self.dirty_pages is not None or self.stored_pages is not None:
            self.mark_dirty(address, size)
        new = value.to_bytes(size, "little")
        if (address >> PAGE_SHIFT in self.watched_pages or (address + size - 1) >> PAGE_SHIFT
                in self.watched_pages) and self.watches(address, size):
            old = int.from_bytes(self.ram[offset:offset + size], "little")
            self.ram[offset:offset + size] = new
            for hook in self.write_hooks:
                hook(address, size, old, value)
        else:
            self.ram[offset:offset + size] = new

    # --- DMA and loading (the PhysicalMemory protocol of devices/base.py) --
    # A guest can point a device at any address: outside RAM, DMA reads see
    # zeros and writes are dropped (a device never raises for the guest).
    def read_physical(self, address: int, length: int) -> bytes:
        if not self.is_ram(address, length):
            return bytes(self.load(address + i, 1) if self.is_ram(address + i) else 0
                         for i in range(length))
        offset = address - self.ram_base
        return bytes(self.ram[offset:offset + length])

    def write_physical(self, address: int, data: bytes) -> None:
        if not self.is_ram(address, len(data)):
            start = max(address, self.ram_base)
            end = min(address + len(data), self.ram_end)
            if start < end:
                self.write_physical(start, data[start - address:end - address])
            return
        self.mark_dirty(address, len(data))
        first, last = address >> PAGE_SHIFT, (address + len(data) - 1) >> PAGE_SHIFT
        if any(p in self.watched_pages for p in range(first, last + 1)):
            # Report watched writes in 8-byte pieces, as the PTE/refcount
            # readers want them; unwatched parts are copied in one go.
            self.in_dma = True
            try:
                for i in range(0, len(data), 8):
                    piece = data[i:i + 8]
                    self.store_ram(address + i, len(piece), int.from_bytes(piece, "little"))
            finally:
                self.in_dma = False
        else:
            offset = address - self.ram_base
            self.ram[offset:offset + len(data)] = data
        for hook in self.ram_changed_hooks:
            hook(address, len(data))
