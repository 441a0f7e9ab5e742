"""RV64A: LR/SC reservations and every AMO, .w and .d, plus their faults."""

from __future__ import annotations

import pytest

from machine.isa.asm import asm

from .harness import DATA, PDATA, PTE_A, PTE_R, PTE_W, SUPERVISOR, VDATA, Machine

NEG1 = (1 << 64) - 1
MIN64 = 1 << 63


def test_lr_sc_word_succeeds_and_sign_extends() -> None:
    m = Machine()
    m.poke(DATA, 8, 0x1111111180000000)
    m.run_code("lr.w a0, (a1); sc.w a2, a3, (a1)", a1=DATA, a3=0xAAAAAAAA55555555)
    assert m["a0"] == 0xFFFFFFFF80000000
    assert m["a2"] == 0
    assert m.read(DATA, 8) == 0x1111111155555555   # only the word is written


def test_lr_sc_double_succeeds() -> None:
    m = Machine()
    m.poke(DATA, 8, 0x8000000000000001)
    m.run_code("lr.d a0, (a1); addi a0, a0, 1; sc.d a2, a0, (a1)", a1=DATA)
    assert m["a2"] == 0
    assert m.read(DATA, 8) == 0x8000000000000002


@pytest.mark.parametrize("sc", ["sc.w", "sc.d"])
def test_sc_without_reservation_fails_and_leaves_memory(sc: str) -> None:
    m = Machine()
    m.poke(DATA, 8, 0x1234)
    m.run_code(f"{sc} a2, a3, (a1)", a1=DATA, a3=0x5678)
    assert m["a2"] != 0
    assert m.read(DATA, 8) == 0x1234


def test_second_sc_fails() -> None:
    m = Machine()
    m.run_code("lr.d a0, (a1); sc.d a2, a3, (a1); sc.d a4, a5, (a1)",
               a1=DATA, a3=1, a5=2)
    assert m["a2"] == 0 and m["a4"] != 0
    assert m.read(DATA, 8) == 1


def test_sc_to_another_address_fails() -> None:
    m = Machine()
    m.run_code("lr.w a0, (a1); sc.w a2, a3, (a4)", a1=DATA, a4=DATA + 0x1000, a3=7)
    assert m["a2"] != 0
    assert m.read(DATA + 0x1000, 4) == 0


def test_trap_clears_reservation() -> None:
    m = Machine()
    m.load_code("lr.w a0, (a1); ecall; sc.w a2, a3, (a1)")
    m["a1"], m["a3"] = DATA, 9
    m.run_to_end()
    assert m.trap.cause == 11
    m.hart.pc = m.trap.epc + 4    # resume after the ecall without an xRET
    m.run_to_end()
    assert m["a2"] != 0
    assert m.read(DATA, 4) == 0


def test_store_to_reserved_address_clears_reservation() -> None:
    m = Machine()
    m.run_code("lr.w a0, (a1); sw a4, 0(a1); sc.w a2, a3, (a1)", a1=DATA, a3=9, a4=5)
    assert m["a2"] != 0
    assert m.read(DATA, 4) == 5


def test_reservation_survives_alu_work() -> None:
    m = Machine()
    m.poke(DATA + 8, 8, 41)
    m.run_code("retry: lr.d a0, (a1); addi a0, a0, 1; sc.d a2, a0, (a1); bnez a2, retry",
               a1=DATA + 8)
    assert m["a2"] == 0 and m.read(DATA + 8, 8) == 42


# (name, old memory, rs2, expected memory); rd gets the old value (sign-extended for .w)
AMO_W = [
    ("amoswap.w", 0x80000000, 0xFFFFFFFF00001234, 0x1234),
    ("amoadd.w", 0xFFFFFFFF, 1, 0),
    ("amoadd.w", 0x7FFFFFFF, 0x1200000001, 0x80000000),
    ("amoxor.w", 0xF0F0F0F0, 0xFFFFFFFFFFFFFFFF, 0x0F0F0F0F),
    ("amoand.w", 0xF0F0F0F0, 0x3C3C3C3C, 0x30303030),
    ("amoor.w", 0xF0F0F0F0, 0x0F000000, 0xFFF0F0F0),
    ("amomin.w", 0x80000000, 1, 0x80000000),
    ("amomin.w", 0, 0x00000001FFFFFFFF, 0xFFFFFFFF),       # rs2's low word is -1
    ("amomax.w", 0x80000000, 1, 1),
    ("amomax.w", 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFF),       # -1 > -2
    ("amominu.w", 0x80000000, 1, 1),
    ("amominu.w", 7, 0xFFFFFFFF00000005, 5),                # upper half of rs2 ignored
    ("amomaxu.w", 0x80000000, 1, 0x80000000),
    ("amomaxu.w", 1, 0xFFFFFFFF, 0xFFFFFFFF),
]
AMO_D = [
    ("amoswap.d", MIN64, 0x123456789, 0x123456789),
    ("amoadd.d", NEG1, 2, 1),
    ("amoxor.d", NEG1, 0xFF, 0xFFFFFFFFFFFFFF00),
    ("amoand.d", 0xFF00FF00FF00FF00, 0x0FF00FF00FF00FF0, 0x0F000F000F000F00),
    ("amoor.d", MIN64, 1, MIN64 | 1),
    ("amomin.d", MIN64, 1, MIN64),
    ("amomin.d", 5, NEG1, NEG1),
    ("amomax.d", MIN64, 1, 1),
    ("amomax.d", NEG1, NEG1 - 1, NEG1),
    ("amominu.d", MIN64, 1, 1),
    ("amominu.d", NEG1, NEG1 - 1, NEG1 - 1),
    ("amomaxu.d", MIN64, 1, MIN64),
    ("amomaxu.d", 3, NEG1, NEG1),
]


@pytest.mark.parametrize("name, old, rs2, new", AMO_W)
def test_amo_word(name: str, old: int, rs2: int, new: int) -> None:
    m = Machine()
    m.poke(DATA, 4, old)
    m.poke(DATA + 4, 4, 0xCAFEF00D)
    m.run_code(f"{name} a0, a2, (a1)", a1=DATA, a2=rs2)
    assert not m.traps
    assert m["a0"] == ((old ^ 0x80000000) - 0x80000000) & NEG1
    assert m.read(DATA, 4) == new
    assert m.read(DATA + 4, 4) == 0xCAFEF00D


@pytest.mark.parametrize("name, old, rs2, new", AMO_D)
def test_amo_double(name: str, old: int, rs2: int, new: int) -> None:
    m = Machine()
    m.poke(DATA + 8, 8, old)
    m.run_code(f"{name} a0, a2, (a1)", a1=DATA + 8, a2=rs2)
    assert not m.traps
    assert m["a0"] == old
    assert m.read(DATA + 8, 8) == new


def test_amo_with_rd_equal_rs2_and_rd_zero() -> None:
    m = Machine()
    m.poke(DATA, 8, 10)
    m.run_code("amoswap.d a2, a2, (a1); amoadd.d zero, a3, (a1)", a1=DATA, a2=77, a3=3)
    assert m["a2"] == 10
    assert m.read(DATA, 8) == 80


def test_aq_rl_bits_accepted() -> None:
    word = asm("amoadd.w a0, a2, (a1)")[0] | (3 << 25)   # .aqrl
    lr = asm("lr.d a3, (a1)")[0] | (1 << 26)              # .aq
    sc = asm("sc.d a4, a2, (a1)")[0] | (1 << 25)          # .rl
    m = Machine()
    m.poke(DATA, 8, 5)
    m.run_code(f".word {word}; .word {lr}; .word {sc}", a1=DATA, a2=2)
    assert not m.traps
    assert m["a0"] == 5 and m["a3"] == 7 and m["a4"] == 0
    assert m.read(DATA, 8) == 2


@pytest.mark.parametrize("text, offset, cause", [
    ("lr.w a0, (a1)", 2, 4), ("lr.d a0, (a1)", 4, 4), ("lr.d a0, (a1)", 1, 4),
    ("sc.w a0, a2, (a1)", 1, 6), ("sc.d a0, a2, (a1)", 4, 6),
    ("amoadd.w a0, a2, (a1)", 2, 6), ("amoswap.d a0, a2, (a1)", 4, 6),
    ("amomaxu.d a0, a2, (a1)", 7, 6), ("amoor.w a0, a2, (a1)", 3, 6),
])
def test_misaligned_atomics_raise(text: str, offset: int, cause: int) -> None:
    m = Machine()
    m.poke(DATA, 16, 0x0102030405060708090A0B0C0D0E0F10)
    m.run_code(text, a1=DATA + offset, a2=0xFFFF, a0=0x55)
    assert m.trap.cause == cause
    assert m.trap.tval == DATA + offset
    assert m["a0"] == 0x55                                     # rd not written
    assert m.read(DATA, 16) == 0x0102030405060708090A0B0C0D0E0F10


def test_sc_with_reservation_misaligned_raises_store_misaligned() -> None:
    m = Machine()
    m.run_code("lr.d a0, (a1); sc.d a2, a3, (a4)", a1=DATA, a4=DATA + 4)
    assert (m.trap.cause, m.trap.tval) == (6, DATA + 4)


@pytest.mark.parametrize("text, cause", [
    ("amoadd.w a0, a2, (a1)", 7), ("amoswap.d a0, a2, (a1)", 7),
    ("lr.w a0, (a1)", 5), ("lr.d a0, (a1)", 5),
])
def test_atomics_on_absent_memory_raise_access_faults(text: str, cause: int) -> None:
    # AMOs raise store/AMO faults (privileged spec, table of exception codes)
    m = Machine()
    m.run_code(text, a1=0x4000_0000)
    assert (m.trap.cause, m.trap.tval) == (cause, 0x4000_0000)


def test_atomics_under_sv39_fault_as_stores() -> None:
    # a read-only page: LR works, SC and AMOs need write permission (cause 15)
    m = Machine()
    m.enable_sv39(data_flags=PTE_R | PTE_A)
    m.poke(PDATA, 8, 3)
    m.run_code("lr.d a0, (a1)", SUPERVISOR, a1=VDATA)
    assert not m.traps and m["a0"] == 3
    m.run_code("amoadd.d a0, a2, (a1)", SUPERVISOR, a1=VDATA + 8, a2=1)
    assert (m.trap.cause, m.trap.tval) == (15, VDATA + 8)
    m.run_code("lr.w a0, (a1); sc.w a2, a3, (a1)", SUPERVISOR, a1=VDATA + 16)
    assert (m.trap.cause, m.trap.tval) == (15, VDATA + 16)
    m.run_code("lr.w a0, (a1)", SUPERVISOR, a1=VDATA + 0x20000)  # unmapped
    assert (m.trap.cause, m.trap.tval) == (13, VDATA + 0x20000)
    assert m.read(PDATA + 8, 8) == 0


def test_store_clears_reservation_even_after_earlier_stores_to_the_page() -> None:
    # the page was written before the LR (a fast store path may know it)
    m = Machine()
    m.run_code("sd a4, 8(a1); sd a4, 16(a1); lr.d a0, (a1); sd a4, 0(a1); "
               "sc.d a2, a3, (a1)", a1=DATA, a3=9, a4=5)
    assert m["a2"] != 0
    assert m.read(DATA, 8) == 5


def test_reservation_made_in_s_under_sv39() -> None:
    m = Machine()
    m.enable_sv39()
    m.run_code("lr.w a0, (a1); sc.w a2, a3, (a1); lr.w a0, (a1); sw zero, 0(a1); "
               "sc.w a4, a3, (a1)", SUPERVISOR, a1=VDATA + 0x40, a3=0x77)
    assert not m.traps
    assert m["a2"] == 0 and m["a4"] != 0
    assert m.read(PDATA + 0x40, 4) == 0


def test_failing_sc_still_checks_store_permission() -> None:
    # Zalrsc: no SC retires unless it passes the memory permission checks
    m = Machine()
    tables = m.enable_sv39(data_flags=PTE_R | PTE_A)
    pte = tables.map(0x3000_0000, PDATA + 0x3000, PTE_R | PTE_W)     # no A, no D yet
    m.hart.translation_changed()
    m.run_code("sc.w a0, a1, (a2)", SUPERVISOR, a2=VDATA)          # read-only page
    assert (m.trap.cause, m.trap.tval) == (15, VDATA)
    m.run_code("sc.d a0, a1, (a2)", SUPERVISOR, a2=0x3100_0000)    # unmapped
    assert (m.trap.cause, m.trap.tval) == (15, 0x3100_0000)
    m.run_code("sc.d a0, a1, (a2)", SUPERVISOR, a2=0x3000_0000, a1=5)
    assert m.hart.pc == m.end and m["a0"] != 0
    assert m.read(PDATA + 0x3000, 8) == 0
    assert m.read(pte, 8) & PTE_W                                  # mapping unchanged
