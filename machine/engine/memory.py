"""The hart's loads, stores and fetches, with soft TLBs in front of the MMU.

Each translation context (the privilege used for data and for fetch) has
three maps from virtual page number to what the page is:
  - reads / writes: the page's offset in the RAM bytearray. Permissions are
    folded into which map holds the entry: a page enters ``writes`` only once
    a store walk succeeded (so D is set), and never if it is watched, holds
    decoded code, or holds an LR reservation; those stores take the slow path.
  - fetch: the list of decoded instructions of the physical page.
Devices are never in a map. All maps are dropped on sfence.vma, satp writes
and mstatus MPRV/SUM/MXR/MPP changes, as a hardware TLB may be.

The accessors are closures over the current maps (cells rebound by
``switch``) because a closure call is the cheapest call CPython has, and
every load and store of the guest goes through one.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Callable

from ..mmu import walk
from ..trap import (FETCH, LOAD, LOAD_MISALIGNED, MACHINE, STORE, STORE_MISALIGNED, Trap,
                    ACCESS_FAULT_FOR)

if TYPE_CHECKING:
    from ..bus import Bus
    from ..hart import Hart

M64 = 0xFFFFFFFFFFFFFFFF
PAGE_SLOTS = 2048  # one decoded-instruction slot per halfword of a 4 KiB page
assert sys.byteorder == "little", "the RAM views assume a little-endian host"


class CodePage:
    """What the engines keep for one physical page of code: a decoded op per
    halfword slot, compiled blocks by entry slot, and how often each slot was
    entered (blocks are compiled only for hot entries)."""

    __slots__ = ("ops", "blocks", "heat")

    def __init__(self) -> None:
        self.ops: list = [None] * PAGE_SLOTS
        self.blocks: list = [None] * PAGE_SLOTS
        self.heat: list[int] = [0] * PAGE_SLOTS

    def clear(self) -> None:
        self.ops[:] = [None] * PAGE_SLOTS
        self.blocks[:] = [None] * PAGE_SLOTS
        self.heat[:] = [0] * PAGE_SLOTS


class NeedSync(Exception):
    """Raised by an instruction before it has any effect, when it needs the
    hart's state fully up to date (device access, CSR, privileged ops). The
    execution loop syncs the counters and executes it again, synced."""


class MemorySystem:
    """Builds the accessor functions for one hart."""

    def __init__(self, hart: "Hart", bus: "Bus") -> None:
        self.hart = hart
        self.bus = bus
        self.code_pages: dict[int, CodePage] = {}  # physical page -> its decoded code
        self.reservation: int | None = None    # physical address of an LR
        self._contexts: dict[tuple[int, int], tuple[dict, dict, dict]] = {}
        self.synced = False  # True while the loop re-executes an instruction synced
        # The maps of the current context, for compiled blocks' inline fast paths.
        self.current_reads: dict = {}
        self.current_writes: dict = {}
        self._translations: dict[tuple, int] = {}  # (vpn, access, privilege, SUM|MXR, satp) -> page
        # Physical pages walks have read PTEs from. The soft TLBs stay coherent
        # with them: a store into one drops every cached translation, so
        # sfence.vma and satp writes need drop nothing (xv6 does both on every
        # trap). Such pages never enter the fast store maps.
        self.table_pages_seen: set[int] = set()
        bus.ram_changed_hooks.append(self.ram_changed)
        bus.watch_changed_hooks.append(self.flush)
        self._build()

    # --- translation -----------------------------------------------------
    def translate(self, va: int, access: int, privilege: int, update_ad: bool = True) -> int:
        """Virtual to physical for this access, or the trap it raises.
        ``update_ad=False`` checks permissions without setting A/D (a failed SC)."""
        hart = self.hart
        csr = hart.csr
        if privilege == MACHINE or csr.satp >> 60 == 0:
            return va
        status = csr.mstatus
        # Pages the fast maps never hold (watched, code, devices) are walked
        # once per flush too, as a hardware TLB would cache them.
        key = (va >> 12, access, privilege, status & (3 << 18), csr.satp)
        page = self._translations.get(key)
        if page is not None:
            return page | (va & 4095)
        bus = self.bus

        seen = self.table_pages_seen

        def read_pte(address: int) -> int:
            if not bus.is_ram(address, 8):
                raise Trap(ACCESS_FAULT_FOR[access], va)
            if address >> 12 not in seen:
                seen.add(address >> 12)
                self.flush_writes()  # its stores must now take the slow path
            offset = address - bus.ram_base
            return int.from_bytes(bus.ram[offset:offset + 8], "little")

        def write_pte(address: int, value: int) -> None:
            # The hardware's A/D update: not a store by an instruction, so it
            # reaches RAM directly and raises no MemoryWrite event.
            if not update_ad:
                return
            offset = address - bus.ram_base
            bus.ram[offset:offset + 8] = value.to_bytes(8, "little")
            bus.mark_dirty(address, 8)

        physical = walk(va, access, privilege, csr.satp, bool(status & (1 << 18)),
                        bool(status & (1 << 19)), read_pte, write_pte)
        if update_ad:
            self._translations[key] = physical & ~4095
        return physical

    def data_privilege(self) -> int:
        """Loads and stores in M-mode use MPP's privilege when MPRV is set."""
        hart = self.hart
        if hart.privilege == MACHINE and hart.csr.mstatus & (1 << 17):
            return (hart.csr.mstatus >> 11) & 3
        return hart.privilege

    # --- maps ---------------------------------------------------------------
    def flush(self) -> None:
        self._translations.clear()
        self.table_pages_seen.clear()
        # Forget the other address spaces' maps (one per process would pile
        # up); the current ones are cleared in place, as the loops hold them.
        hart = self.hart
        current = (hart.csr.satp if hart.csr.satp >> 60 else 0, self.data_privilege(),
                   hart.privilege)
        for key in [k for k in self._contexts if k != current]:
            del self._contexts[key]
        for reads, writes, fetches in self._contexts.values():
            reads.clear()
            writes.clear()
            fetches.clear()

    def flush_writes(self) -> None:
        for _, writes, _ in self._contexts.values():
            writes.clear()

    def maps_for(self, data_privilege: int, fetch_privilege: int) -> tuple[dict, dict, dict]:
        """The maps of one translation context: address space (satp) and the
        privileges used for data and for fetch."""
        satp = self.hart.csr.satp if self.hart.csr.satp >> 60 else 0
        key = (satp, data_privilege, fetch_privilege)
        maps = self._contexts.get(key)
        if maps is None:
            maps = self._contexts[key] = ({}, {}, {})
        return maps

    def ram_changed(self, address: int, length: int) -> None:
        """RAM written behind the hart's back (DMA, loading)."""
        for page in range(address >> 12, ((address + length - 1) >> 12) + 1):
            self.invalidate_code(page)
            if page in self.table_pages_seen:
                self.flush()
        if self.reservation is not None and address <= self.reservation < address + length:
            self.reservation = None

    def invalidate_code(self, page: int) -> None:
        slots = self.code_pages.pop(page, None)
        if slots is not None:
            slots.clear()  # in place: the loop may hold this page
            # Fix: also forget the list in every fetch map. Out of code_pages, no
            # later store would invalidate it again, so code decoded into it
            # after this store would stay stale after the next one.
            for _, _, fetches in self._contexts.values():
                for vpn in [v for v, held in fetches.items() if held is slots]:
                    del fetches[vpn]

    def code_slots(self, physical: int) -> CodePage:
        page = physical >> 12
        slots = self.code_pages.get(page)
        if slots is None:
            slots = self.code_pages[page] = CodePage()
            self.flush_writes()  # stores to this page must now see the code
        return slots

    # --- the accessors ---------------------------------------------------
    def _build(self) -> None:
        bus = self.bus
        ram = bus.ram
        ram16 = memoryview(ram).cast("H")
        ram32 = memoryview(ram).cast("I")
        ram64 = memoryview(ram).cast("Q")
        ram_base = bus.ram_base
        watched = bus.watched_pages
        system = self
        reads: dict = {}
        writes: dict = {}

        def switch(maps: tuple[dict, dict, dict]) -> None:
            nonlocal reads, writes
            reads, writes = maps[0], maps[1]
            system.current_reads, system.current_writes = reads, writes

        def device_load(pa: int, size: int, va: int) -> int:
            if not system.synced:
                raise NeedSync
            value = bus.load(pa, size)
            if value is None:
                raise Trap(ACCESS_FAULT_FOR[LOAD], va)
            return value

        def slow_load(a: int, size: int) -> int:
            a &= M64
            if (a & 4095) + size > 4096:  # crosses a page: byte by byte, as QEMU
                value = 0
                for i in range(size):
                    value |= slow_load(a + i, 1) << (8 * i)
                return value
            pa = system.translate(a, LOAD, system.data_privilege())
            if bus.ram_base <= pa and pa + size <= bus.ram_end:
                offset = pa - ram_base
                reads[a >> 12] = offset & ~4095
                return int.from_bytes(ram[offset:offset + size], "little")
            return device_load(pa, size, a)

        def store_physical(pa: int, size: int, value: int, va: int) -> None:
            if bus.ram_base <= pa and pa + size <= bus.ram_end:
                page = pa >> 12
                if page in watched and not system.synced:
                    raise NeedSync  # its MemoryWrite event needs the exact pc and count
                bus.store_ram(pa, size, value)
                if page in system.code_pages:
                    system.invalidate_code(page)
                if page in system.table_pages_seen:
                    system.flush()  # a PTE may have changed: no stale translation survives
                reservation = system.reservation
                if reservation is not None and reservation >> 3 == pa >> 3:
                    system.reservation = None
                return
            if not system.synced:
                raise NeedSync
            if not bus.store(pa, size, value):
                raise Trap(ACCESS_FAULT_FOR[STORE], va)

        def slow_store(a: int, size: int, value: int) -> None:
            a &= M64
            value &= (1 << (8 * size)) - 1
            privilege = system.data_privilege()
            if (a & 4095) + size > 4096:
                # Translate both pages first so a fault leaves memory untouched.
                first = system.translate(a, STORE, privilege)
                split = 4096 - (a & 4095)
                second = system.translate(a + split, STORE, privilege)
                if not system.synced and (first >> 12 in watched or second >> 12 in watched):
                    raise NeedSync
                for i in range(size):
                    byte = (value >> (8 * i)) & 0xFF
                    pa = first + i if i < split else second + (i - split)
                    store_physical(pa, 1, byte, a + i)
                return
            pa = system.translate(a, STORE, privilege)
            page = pa >> 12
            # Decided before the store: a store into a page-table page flushes
            # the maps (and forgets the table pages), and the fast mapping made
            # from the walk before it would then survive the PTE it changed.
            fast = (bus.ram_base <= pa < bus.ram_end and page not in watched
                    and page not in system.code_pages
                    and page not in system.table_pages_seen)
            store_physical(pa, size, value, a)
            if fast and page not in system.code_pages and (
                    system.reservation is None or system.reservation >> 12 != page):
                writes[a >> 12] = (pa - ram_base) & ~4095

        def load_u8(a: int) -> int:
            off = reads.get(a >> 12)
            if off is not None:
                return ram[off | (a & 4095)]
            return slow_load(a, 1)

        def load_s8(a: int) -> int:
            return ((load_u8(a) ^ 0x80) - 0x80)

        def load_u16(a: int) -> int:
            off = reads.get(a >> 12)
            if off is not None:
                o = off | (a & 4095)
                if not o & 1:
                    return ram16[o >> 1]
                if a & 4095 != 4095:
                    return ram[o] | (ram[o + 1] << 8)
            return slow_load(a, 2)

        def load_s16(a: int) -> int:
            return (load_u16(a) ^ 0x8000) - 0x8000

        def load_u32(a: int) -> int:
            off = reads.get(a >> 12)
            if off is not None:
                o = off | (a & 4095)
                if not o & 3:
                    return ram32[o >> 2]
                if a & 4095 <= 4092:
                    return int.from_bytes(ram[o:o + 4], "little")
            return slow_load(a, 4)

        def load_s32(a: int) -> int:
            return (load_u32(a) ^ 0x80000000) - 0x80000000

        def load_u64(a: int) -> int:
            off = reads.get(a >> 12)
            if off is not None:
                o = off | (a & 4095)
                if not o & 7:
                    return ram64[o >> 3]
                if a & 4095 <= 4088:
                    return int.from_bytes(ram[o:o + 8], "little")
            return slow_load(a, 8)

        def store_8(a: int, v: int) -> None:
            off = writes.get(a >> 12)
            if off is not None:
                ram[off | (a & 4095)] = v & 0xFF
            else:
                slow_store(a, 1, v)

        def store_16(a: int, v: int) -> None:
            off = writes.get(a >> 12)
            if off is not None:
                o = off | (a & 4095)
                if not o & 1:
                    ram16[o >> 1] = v & 0xFFFF
                    return
            slow_store(a, 2, v)

        def store_32(a: int, v: int) -> None:
            off = writes.get(a >> 12)
            if off is not None:
                o = off | (a & 4095)
                if not o & 3:
                    ram32[o >> 2] = v & 0xFFFFFFFF
                    return
            slow_store(a, 4, v)

        def store_64(a: int, v: int) -> None:
            off = writes.get(a >> 12)
            if off is not None:
                o = off | (a & 4095)
                if not o & 7:
                    ram64[o >> 3] = v & M64
                    return
            slow_store(a, 8, v)

        # --- atomics: aligned only; an AMO needs store permission -----------
        def _aligned(a: int, size: int, cause: int) -> int:
            a &= M64
            if a & (size - 1):
                raise Trap(cause, a)
            return a

        def amo(a: int, size: int, update: Callable[[int], int]) -> int:
            a = _aligned(a, size, STORE_MISALIGNED)
            off = writes.get(a >> 12)
            if off is not None:  # a page the store path already allows: no walk
                o = off | (a & 4095)
                old = int.from_bytes(ram[o:o + size], "little")
                ram[o:o + size] = (update(old) & ((1 << (8 * size)) - 1)).to_bytes(size, "little")
                return old
            pa = system.translate(a, STORE, system.data_privilege())
            if bus.is_ram(pa, size):
                offset = pa - ram_base
                old = int.from_bytes(ram[offset:offset + size], "little")
            else:
                try:
                    old = device_load(pa, size, a)
                except Trap:  # an AMO faults as a store/AMO (cause 7), never as a load (5)
                    raise Trap(ACCESS_FAULT_FOR[STORE], a) from None
            store_physical(pa, size, update(old) & ((1 << (8 * size)) - 1), a)
            return old

        def load_reserved(a: int, size: int) -> int:
            a = _aligned(a, size, LOAD_MISALIGNED)
            pa = system.translate(a, LOAD, system.data_privilege())
            value = slow_load(a, size)
            system.reservation = pa
            system.flush_writes()  # stores to the reserved page must be seen
            return value

        def store_conditional(a: int, size: int, value: int) -> int:
            a = _aligned(a, size, STORE_MISALIGNED)
            reservation, system.reservation = system.reservation, None
            privilege = system.data_privilege()
            # Zalrsc: "No SC instruction shall retire unless it passes memory
            # permission checks, but it is UNSPECIFIED whether any side effects
            # of implicit address translation [...] (such as setting a PTE D
            # bit) occur on a failed SC". So even an SC that will fail checks
            # its address as a store (page and access faults); a failing one
            # sets no A/D bits. (QEMU 7.2 skips the checks when it fails: its
            # issue #3323.)
            pa = system.translate(a, STORE, privilege, update_ad=False)
            if reservation is None or pa != reservation:
                if not bus.is_ram(pa, size) and bus.device_at(pa) is None:
                    raise Trap(ACCESS_FAULT_FOR[STORE], a)
                return 1  # fails without touching memory
            pa = system.translate(a, STORE, privilege)  # now with the A/D update
            store_physical(pa, size, value & ((1 << (8 * size)) - 1), a)
            return 0

        self.switch = switch
        self.ram_views = {"ram": ram, "ram16": ram16, "ram32": ram32, "ram64": ram64}
        self.accessors: dict[str, Callable] = {
            "load_u8": load_u8, "load_s8": load_s8, "load_u16": load_u16,
            "load_s16": load_s16, "load_u32": load_u32, "load_s32": load_s32,
            "load_u64": load_u64, "store_8": store_8, "store_16": store_16,
            "store_32": store_32, "store_64": store_64,
            "amo_32": lambda a, f: amo(a, 4, f), "amo_64": lambda a, f: amo(a, 8, f),
            "load_reserved_32": lambda a: load_reserved(a, 4),
            "load_reserved_64": lambda a: load_reserved(a, 8),
            "store_conditional_32": lambda a, v: store_conditional(a, 4, v),
            "store_conditional_64": lambda a, v: store_conditional(a, 8, v),
        }

    # --- instruction fetch -------------------------------------------------
    def fetch_slots(self, pc: int, privilege: int, fetches: dict) -> CodePage:
        """The decoded-instruction slots of the page holding ``pc``
        (translating it for execution, which may raise the fetch's trap)."""
        pa = self.translate(pc, FETCH, privilege)
        if not self.bus.is_ram(pa, 2):
            raise Trap(ACCESS_FAULT_FOR[FETCH], pc)
        slots = self.code_slots(pa)
        fetches[pc >> 12] = slots
        return slots

    def fetch_halfword(self, va: int, privilege: int) -> int:
        pa = self.translate(va, FETCH, privilege)
        if not self.bus.is_ram(pa, 2):
            raise Trap(ACCESS_FAULT_FOR[FETCH], va)
        offset = pa - self.bus.ram_base
        return self.bus.ram[offset] | (self.bus.ram[offset + 1] << 8)
