"""Loop idioms at their edges: the fast engine must leave exactly what the
interpreter leaves (registers, pc, count, memory, events, traps)."""

from __future__ import annotations

import pytest

from machine.bus import Bus
from machine.hart import Hart
from machine.isa.asm import assemble
from machine.native import NativeEngine
from machine.trap import SUPERVISOR
from tests.support.sv39 import PTE_A, PTE_D, RWX, PageTableBuilder

RAM = 0x80000000
VBASE = 0x10000000
CODE = VBASE + 0x1000
BUF = VBASE + 0x100000           # 16 virtual pages of data, mapped page by page
FRAMES = RAM + 0x200000          # their frames, scattered (see build)
HANDLER = VBASE + 0x3000

MEMSET = """
    loop: sb a1, 0(a0); addi a0, a0, 1; bne a0, a2, loop
    done: j done
"""
MEMSET_DOUBLE = """
    loop: sd a1, 0(a0); addi a0, a0, 8; bltu a0, a2, loop
    done: j done
"""
COPY_FORWARD = """
    loop: lbu a3, 0(a1); sb a3, 0(a0); addi a0, a0, 1; addi a1, a1, 1; bne a1, a2, loop
    done: j done
"""
COPY_BACKWARD = """
    loop: addi a1, a1, -1; addi a0, a0, -1; lbu a3, 0(a1); sb a3, 0(a0); bne a1, a2, loop
    done: j done
"""


def build(engine: str, code: str, regs: dict[int, int], unmapped_page: int | None = None,
          watch_page: int | None = None) -> Hart:
    bus = Bus(RAM, 8 << 20)
    tables = PageTableBuilder(bus, RAM + 0x600000)
    tables.map_range(VBASE, RAM, 0x10000, RWX | PTE_A | PTE_D)  # code and handler
    for page in range(16):  # virtual page i -> frame 15 - i: adjacent pages are not adjacent
        if page != unmapped_page:
            tables.map(BUF + page * 4096, FRAMES + (15 - page) * 4096, RWX | PTE_A | PTE_D)
    for i in range(16 * 4096):
        bus.ram[FRAMES - RAM + i] = (i * 7 + 3) & 0xFF
    image = assemble(code, CODE)
    bus.ram[CODE - VBASE:CODE - VBASE + len(image)] = image
    handler = assemble("h: j h", HANDLER)
    bus.ram[HANDLER - VBASE:HANDLER - VBASE + len(handler)] = handler
    hart = Hart(bus)
    hart.engine = engine
    hart.csr.satp = tables.satp
    hart.csr.mtvec = RAM + (HANDLER - VBASE)  # M-mode fetches physically
    hart.set_privilege(SUPERVISOR)
    hart.translation_changed()
    hart.pc = CODE
    for reg, value in regs.items():
        hart.x[reg] = value
    if watch_page is not None:
        bus.watch_physical_page((FRAMES + (15 - watch_page) * 4096) >> 12)
    return hart


FAST_ENGINES = ("fast",) + (("native",) if NativeEngine is not None else ())


def idiom_loops(hart: Hart) -> int:
    """How many loops the engine runs as idioms (so a test knows one really ran)."""
    if hart.engine == "native":
        return hart.native.idiom_loops
    return hart._engines["fast"].__self__.compiler.idiom_loops


def run_both(code: str, regs: dict[int, int], steps: int, engine: str = "fast",
             **options) -> tuple[Hart, Hart, list, list]:
    results = []
    for name in ("interp", engine):
        hart = build(name, code, regs, **options)
        writes: list = []
        hart.bus.write_hooks.append(lambda a, s, o, n, w=writes, h=hart: w.append((a, s, o, n)))
        hart.run(steps)
        results.append((hart, writes))
    (reference, ref_writes), (fast, fast_writes) = results
    return reference, fast, ref_writes, fast_writes


def assert_same(reference: Hart, fast: Hart) -> None:
    assert fast.icount == reference.icount
    assert fast.pc == reference.pc
    assert fast.x[:32] == reference.x[:32]
    assert fast.csr.mcause == reference.csr.mcause and fast.csr.mtval == reference.csr.mtval
    assert fast.bus.ram == reference.bus.ram


CASES = {
    # memset across pages whose frames are not adjacent
    "memset across scattered pages": (MEMSET, {10: BUF + 100, 11: 0x5A, 12: BUF + 3 * 4096 + 7}),
    "memset of 8-byte words": (MEMSET_DOUBLE, {10: BUF, 11: 0x1122334455667788,
                                               12: BUF + 2 * 4096 + 64}),
    # the C guard skips n = 0, but the bare loop with start == end runs until the
    # budget (it wraps): both engines must write the same bytes until then
    "length zero loop": (MEMSET, {10: BUF + 8, 11: 1, 12: BUF + 8}),
    "copy forward, no overlap": (COPY_FORWARD, {10: BUF + 5 * 4096, 11: BUF + 10,
                                                12: BUF + 2 * 4096 + 10}),
    "copy forward, dst below src (overlap)": (COPY_FORWARD, {10: BUF + 100, 11: BUF + 101,
                                                             12: BUF + 4096 + 3000}),
    "copy forward, dst above src (overlap)": (COPY_FORWARD, {10: BUF + 101, 11: BUF + 100,
                                                             12: BUF + 4096 + 3000}),
    "copy backward, dst above src (overlap)": (COPY_BACKWARD, {10: BUF + 3 * 4096 + 1,
                                                               11: BUF + 3 * 4096,
                                                               12: BUF + 20}),
    "copy backward, dst below src (overlap)": (COPY_BACKWARD, {10: BUF + 3 * 4096 - 1,
                                                               11: BUF + 3 * 4096,
                                                               12: BUF + 20}),
}


@pytest.fixture(params=FAST_ENGINES)
def engine(request) -> str:
    return request.param


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_idiom_matches_the_interpreter(case: str, engine: str) -> None:
    code, regs = CASES[case]
    reference, fast, _, _ = run_both(code, regs, 200_000, engine)
    assert_same(reference, fast)
    assert idiom_loops(fast) >= 1  # the idiom really ran, not only blocks


def test_idiom_stops_at_an_unmapped_page_with_the_same_fault(engine: str) -> None:
    regs = {10: BUF, 11: 0x77, 12: BUF + 6 * 4096}
    reference, fast, _, _ = run_both(MEMSET, regs, 100_000, engine, unmapped_page=3)
    assert reference.csr.mcause == 15  # store page fault
    assert reference.csr.mtval == BUF + 3 * 4096
    assert_same(reference, fast)


def test_idiom_reports_every_store_into_a_watched_page(engine: str) -> None:
    regs = {10: BUF, 11: 0x42, 12: BUF + 4 * 4096}
    reference, fast, ref_writes, fast_writes = run_both(MEMSET, regs, 100_000, engine,
                                                        watch_page=2)
    assert len(ref_writes) == 4096
    assert fast_writes == ref_writes
    assert_same(reference, fast)


def test_idiom_stops_at_the_budget_exactly(engine: str) -> None:
    regs = {10: BUF, 11: 0x33, 12: BUF + 8 * 4096}
    for budget in (1, 2, 3, 4, 1000, 3 * 4096 + 2):
        reference, fast, _, _ = run_both(MEMSET, regs, budget, engine)
        assert_same(reference, fast)


def test_idiom_fires_the_timer_at_the_same_instruction(engine: str) -> None:
    regs = {10: BUF, 11: 0x21, 12: BUF + 8 * 4096}
    harts = []
    for name in ("interp", engine):
        hart = build(name, MEMSET, regs)
        hart.csr.menvcfg = 1 << 63          # Sstc
        hart.csr.stimecmp = 10_001          # inside the loop
        hart.csr.mie = 1 << 5               # STIE, taken in M (not delegated)
        hart.run(30_000)
        harts.append(hart)
    reference, fast = harts
    assert reference.csr.mcause == (1 << 63) | 5
    assert_same(reference, fast)
    assert fast.csr.mepc == reference.csr.mepc


STRIDED_COPY = """
    loop: ld a3, 0(a1); sd a3, 0(a0); addi a0, a0, 16; addi a1, a1, 16; bne a1, a2, loop
    done: j done
"""


def test_the_loaded_register_holds_what_the_last_load_read(engine: str) -> None:
    # Each iteration's store overwrites bytes its own load read (dst = src - 5):
    # the loaded register must keep the value read before the store, whatever
    # budget cuts the bulk (a budget of one iteration once left the stored-over
    # value in it). Found by the QEMU-differential programs.
    regs = {10: BUF + 0x90, 11: BUF + 0x95, 12: BUF + 0x95 + 16 * 15}
    for budget in range(1, 40):
        reference, fast, _, _ = run_both(STRIDED_COPY, regs, budget, engine)
        assert_same(reference, fast)
