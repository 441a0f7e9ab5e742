"""Events from guest programs: MemoryWrite on watched physical pages (exactly
one per store, with the right address, size, old and new values, pc and
instruction number; none for other pages), also through Sv39 and after the
page was already in the soft TLB; and an event nobody subscribes to is never
built."""

from __future__ import annotations

import machine.machine as machine_module
from machine.events import EventBus, MemoryWrite, TrapTaken
from machine.mmu import PTE_A, PTE_D, PTE_R, PTE_W, PTE_X
from tests.support.sv39 import PageTableBuilder

from .guest import (
    FINISHER,
    MAIN,
    RAM,
    S_CODE,
    finish,
    icount_of,
    label_address,
    li64,
    make_machine,
    read_u64,
)

WATCHED = RAM + 0x40000
UNWATCHED = RAM + 0x50000
OLD, NEW = 0xDEAD_BEEF_0BAD_F00D, 0x1122_3344_5566_7788

STORES = f"""
    {li64('t0', WATCHED)}
    {li64('t2', UNWATCHED)}
    {li64('t1', NEW)}
    sd t1, 0(t2)            # an unwatched page: no event
watched: sd t1, 8(t0)
    sd t1, 16(t2)
    {finish()}
"""


def prepare(machine) -> None:
    machine.bus.ram[WATCHED + 8 - RAM:WATCHED + 16 - RAM] = OLD.to_bytes(8, "little")


def test_store_to_a_watched_page_emits_one_memory_write(tmp_path, engine) -> None:
    machine = make_machine(tmp_path, {MAIN: STORES}, engine=engine)
    prepare(machine)
    writes: list[MemoryWrite] = []
    machine.events.subscribe(MemoryWrite, writes.append)
    machine.watch_physical_page(WATCHED >> 12)
    assert machine.run(max_instructions=10_000).reason == "exit"
    store = label_address(STORES, "watched", MAIN)
    assert writes == [MemoryWrite(icount_of(store), store, WATCHED + 8, 8, OLD, NEW)]
    assert read_u64(machine, WATCHED + 8) == NEW
    assert read_u64(machine, UNWATCHED) == read_u64(machine, UNWATCHED + 16) == NEW


def test_unwatched_stores_emit_nothing(tmp_path, engine) -> None:
    machine = make_machine(tmp_path, {MAIN: STORES}, engine=engine)
    prepare(machine)
    writes: list[MemoryWrite] = []
    machine.events.subscribe(MemoryWrite, writes.append)
    machine.watch_physical_page(WATCHED >> 12)
    machine.unwatch_physical_page(WATCHED >> 12)
    assert machine.run(max_instructions=10_000).reason == "exit"
    assert writes == []
    assert read_u64(machine, WATCHED + 8) == NEW


LOOP = f"""
    {li64('t0', WATCHED)}
    li t3, 0
    li t4, 3
again:
    addi t3, t3, 1
store: sd t3, 8(t0)         # the page is in the write TLB after the first round
    blt t3, t4, again
    {finish()}
"""


def test_watching_a_page_already_in_the_write_tlb(tmp_path, engine) -> None:
    machine = make_machine(tmp_path, {MAIN: LOOP}, engine=engine)
    writes: list[MemoryWrite] = []
    machine.events.subscribe(MemoryWrite, writes.append)
    store = label_address(LOOP, "store", MAIN)
    # run the first round's store, then watch the page
    machine.run(max_instructions=icount_of(store) + 1)
    assert writes == [] and read_u64(machine, WATCHED + 8) == 1
    machine.watch_physical_page(WATCHED >> 12)
    assert machine.run(max_instructions=10_000).reason == "exit"
    first = icount_of(store)
    assert writes == [MemoryWrite(first + 3, store, WATCHED + 8, 8, 1, 2),
                      MemoryWrite(first + 6, store, WATCHED + 8, 8, 2, 3)]


VIRTUAL = 0x4000_0000
S_STORES = f"""
    {li64('t0', VIRTUAL)}
    {li64('t1', NEW)}
    sw t1, 0x10(t0)
virtual_store: sh t1, 0x22(t0)
    {finish()}
"""


TABLES = RAM + 0x100000  # the page-table pool: its first page is the root
SATP = (8 << 60) | (TABLES >> 12)


def test_store_through_sv39_reports_the_physical_address(tmp_path, engine) -> None:
    """S-mode stores through a virtual address: the events name the physical
    address; the walker's A/D updates in a watched page table are not stores."""
    main = f"""
        {li64('t0', S_CODE)}
        csrw mepc, t0
        li t0, 6144
        csrc mstatus, t0
        li t0, 2048
        csrs mstatus, t0        # MPP = S
        {li64('t0', SATP)}
        csrw satp, t0
        sfence.vma zero, zero
        mret
    """
    machine = make_machine(tmp_path, {MAIN: main, S_CODE: S_STORES}, engine=engine)
    tables = PageTableBuilder(machine.bus, TABLES)
    assert tables.satp == SATP
    tables.map(RAM, RAM, PTE_R | PTE_W | PTE_X | PTE_A | PTE_D, level=2)  # RAM 1:1 (1 GiB)
    tables.map(FINISHER, FINISHER, PTE_R | PTE_W | PTE_A | PTE_D)
    leaf = tables.map(VIRTUAL, WATCHED, PTE_R | PTE_W)  # A, D clear: the walker sets them
    machine.watch_physical_page(leaf >> 12)
    machine.watch_physical_page(WATCHED >> 12)
    writes: list[MemoryWrite] = []
    traps: list[TrapTaken] = []
    machine.events.subscribe(MemoryWrite, writes.append)
    machine.events.subscribe(TrapTaken, traps.append)
    assert machine.run(max_instructions=10_000).reason == "exit"
    assert traps == []
    store = label_address(S_STORES, "virtual_store", S_CODE)
    assert [(w.pc, w.address, w.size, w.old, w.new, w.by_dma) for w in writes] == [
        (store - 4, WATCHED + 0x10, 4, 0, NEW & 0xFFFF_FFFF, False),
        (store, WATCHED + 0x22, 2, 0, NEW & 0xFFFF, False)]
    assert writes[1].icount == writes[0].icount + 1
    assert read_u64(machine, leaf) & (PTE_A | PTE_D) == PTE_A | PTE_D


def test_events_nobody_wants_are_never_built(tmp_path, engine, monkeypatch) -> None:
    built = []

    class CountedWrite(MemoryWrite):
        __slots__ = ()

        def __init__(self, *args, **kwargs) -> None:
            built.append(args)
            super().__init__(*args, **kwargs)

    class CountedTrap(TrapTaken):
        __slots__ = ()

        def __init__(self, *args, **kwargs) -> None:
            built.append(args)
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(machine_module, "MemoryWrite", CountedWrite)
    monkeypatch.setattr(machine_module, "TrapTaken", CountedTrap)
    program = f"{li64('t0', WATCHED)}\nsd t0, 0(t0)\nebreak\n"
    machine = make_machine(tmp_path, {MAIN: program}, engine=engine)
    machine.watch_physical_page(WATCHED >> 12)
    machine.run(max_instructions=6)  # the watched store, then a breakpoint trap
    assert read_u64(machine, WATCHED) == WATCHED
    assert machine.read_csr("mcause") == 3
    assert built == []
    # the same program with subscribers: both events are built (the counter works)
    seen: list = []
    again = make_machine(tmp_path, {MAIN: program}, engine=engine)
    again.watch_physical_page(WATCHED >> 12)
    again.events.subscribe(CountedWrite, seen.append)
    again.events.subscribe(CountedTrap, seen.append)
    again.run(max_instructions=6)
    assert [type(event) for event in seen] == [CountedWrite, CountedTrap]
    assert len(built) == 2


def test_event_bus_wants_follows_subscriptions() -> None:
    bus = EventBus()
    got: list = []
    assert not bus.wants(MemoryWrite)
    bus.subscribe(MemoryWrite, got.append)
    assert bus.wants(MemoryWrite) and not bus.wants(TrapTaken)
    event = MemoryWrite(1, 2, 3, 8, 4, 5)
    bus.publish(event)
    bus.publish(TrapTaken(1, 2, 3, 4, 0, 3))  # nobody listens: dropped
    assert got == [event]
    bus.unsubscribe(MemoryWrite, got.append)
    assert not bus.wants(MemoryWrite)


def test_unwatching_a_range_keeps_another_watch_of_the_same_bytes(tmp_path, engine) -> None:
    """A debugger's watchpoint inside the tracker's refcount range comes and
    goes without taking the tracker's watch with it."""
    machine = make_machine(tmp_path, {MAIN: STORES}, engine=engine)
    prepare(machine)
    writes: list[MemoryWrite] = []
    machine.events.subscribe(MemoryWrite, writes.append)
    machine.watch_physical_range(WATCHED, WATCHED + 64)     # the tracker's
    machine.watch_physical_range(WATCHED + 8, WATCHED + 16)  # a watchpoint's
    machine.unwatch_physical_range(WATCHED + 8, WATCHED + 16)
    assert machine.run(max_instructions=10_000).reason == "exit"
    assert [(w.address, w.new) for w in writes] == [(WATCHED + 8, NEW)]
    machine.unwatch_physical_range(WATCHED, WATCHED + 64)
    assert not machine.bus.watches(WATCHED, 64)


def test_watch_changes_reach_the_engine_however_many_or_however_made(tmp_path, engine) -> None:
    """An engine that was told of a watch is told it ended: after more
    changes than the bus's log keeps, and after time travel replaced the set
    wholesale (then it reads the whole set again)."""
    from machine.bus import _WATCH_LOG_LIMIT
    for how in ("many changes", "replaced"):
        machine = make_machine(tmp_path, {MAIN: STORES}, engine=engine)
        prepare(machine)
        writes: list[MemoryWrite] = []
        machine.events.subscribe(MemoryWrite, writes.append)
        machine.watch_physical_page(WATCHED >> 12)
        machine.run(max_instructions=1)  # the engine now watches the page
        if how == "many changes":
            machine.unwatch_physical_page(WATCHED >> 12)
            for _ in range(_WATCH_LOG_LIMIT):
                machine.watch_physical_page(UNWATCHED >> 12)
                machine.unwatch_physical_page(UNWATCHED >> 12)
        else:
            machine.bus.watched_pages = set()
            machine.bus.watch_generation += 1
        assert machine.run(max_instructions=10_000).reason == "exit"
        assert writes == [], how


def test_watch_changes_since_gives_the_changes_or_says_it_cannot() -> None:
    from machine.bus import Bus
    bus = Bus(RAM, 1 << 20)
    start = bus.watch_generation
    bus.watch_physical_page(RAM >> 12)
    bus.watch_physical_range(RAM + 0x1000, RAM + 0x1010)
    bus.unwatch_physical_page(RAM >> 12)
    assert bus.watch_changes_since(start) == [
        (RAM >> 12, True), ((RAM >> 12) + 1, True), (-1, True), (RAM >> 12, False)]
    assert bus.watch_changes_since(bus.watch_generation) == []
    bus.watch_generation += 1  # replaced from outside: unknown
    assert bus.watch_changes_since(start) is None
