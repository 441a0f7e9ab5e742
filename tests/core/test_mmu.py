"""Sv39 (privileged spec 4.3-4.4): the walk itself (machine.mmu.walk), then
translation end to end through loads, stores and fetches of a hart."""

from __future__ import annotations

import pytest

from machine.hart import Hart
from machine.mmu import PTE_G, PTE_V, walk
from machine.trap import FETCH, LOAD, STORE, Trap
from tests.support.sv39 import PageTableBuilder

from .harness import (
    CODE,
    DATA,
    MACHINE,
    PCODE,
    PDATA,
    PTE_A,
    PTE_D,
    PTE_R,
    PTE_U,
    PTE_W,
    PTE_X,
    SUPERVISOR,
    USER,
    VCODE,
    VDATA,
    Machine,
)

RWX = PTE_R | PTE_W | PTE_X
AD = PTE_A | PTE_D
SUM, MXR, MPRV = 1 << 18, 1 << 19, 1 << 17
SATP_SV39 = 8 << 60


# --- the walk, on a dictionary of PTEs --------------------------------------------------
class Tables:
    """Page tables in a dict: root at 0x1000, L1 at 0x2000, L0 at 0x3000."""

    ROOT, L1, L0 = 0x1000, 0x2000, 0x3000

    def __init__(self) -> None:
        self.ptes: dict[int, int] = {}
        self.writes: list[tuple[int, int]] = []

    def pointer(self, table: int, index: int, child: int) -> None:
        self.ptes[table + 8 * index] = ((child >> 12) << 10) | PTE_V

    def leaf(self, table: int, index: int, pa: int, flags: int) -> int:
        address = table + 8 * index
        self.ptes[address] = ((pa >> 12) << 10) | flags | PTE_V
        return address

    def read(self, address: int) -> int:
        return self.ptes.get(address, 0)

    def write(self, address: int, value: int) -> None:
        self.writes.append((address, value))
        self.ptes[address] = value

    def walk(self, va: int, access: int = LOAD, privilege: int = SUPERVISOR, *,
             sum_: bool = False, mxr: bool = False) -> int:
        return walk(va, access, privilege, SATP_SV39 | (self.ROOT >> 12), sum_, mxr,
                    self.read, self.write)


def va_of(vpn2: int, vpn1: int, vpn0: int, offset: int = 0) -> int:
    va = (vpn2 << 30) | (vpn1 << 21) | (vpn0 << 12) | offset
    return va | (((1 << 25) - 1) << 39) if vpn2 & 0x100 else va   # sign-extend bit 38


def four_k(flags: int, pa: int = 0x80005000) -> tuple[Tables, int]:
    t = Tables()
    t.pointer(t.ROOT, 1, t.L1)
    t.pointer(t.L1, 2, t.L0)
    return t, t.leaf(t.L0, 3, pa, flags)


def fault(t: Tables, va: int, access: int, **kw) -> int:
    with pytest.raises(Trap) as info:
        t.walk(va, access, **kw)
    assert info.value.tval == va
    return info.value.cause


def test_walk_4k_page() -> None:
    t, _ = four_k(RWX | AD)
    assert t.walk(va_of(1, 2, 3, 0x123)) == 0x80005123
    assert t.walk(va_of(1, 2, 3, 0xFFF), STORE) == 0x80005FFF
    assert t.walk(va_of(1, 2, 3), FETCH) == 0x80005000
    assert fault(t, va_of(1, 2, 4), LOAD) == 13       # neighbouring page: invalid PTE
    assert fault(t, va_of(1, 3, 3), STORE) == 15
    assert fault(t, va_of(2, 2, 3), FETCH) == 12


def test_walk_2m_superpage() -> None:
    t = Tables()
    t.pointer(t.ROOT, 1, t.L1)
    t.leaf(t.L1, 5, 0x80200000, RWX | AD)
    va = va_of(1, 5, 0x1AB, 0x345)
    assert t.walk(va) == 0x80200000 + (0x1AB << 12) + 0x345


def test_walk_1g_superpage() -> None:
    t = Tables()
    t.leaf(t.ROOT, 3, 0x80000000, RWX | AD)
    va = va_of(3, 0x155, 0x0AA, 0x777)
    assert t.walk(va) == 0x80000000 | (va & 0x3FFFFFFF)


def test_walk_high_half_address() -> None:
    t = Tables()
    t.leaf(t.ROOT, 0x1FF, 0x40000000, RWX | AD)   # the top GiB: 0xffff_ffff_c000_0000
    assert t.walk(0xFFFFFFFFC0001234) == 0x40001234
    assert t.walk(0xFFFFFFFFFFFFFFFF) == 0x7FFFFFFF


@pytest.mark.parametrize("level, ppn", [(1, 0x80201), (1, 0x801FF), (2, 0x80200), (2, 0x40001)])
def test_misaligned_superpage_faults(level: int, ppn: int) -> None:
    t = Tables()
    if level == 1:
        t.pointer(t.ROOT, 1, t.L1)
        t.leaf(t.L1, 5, ppn << 12, RWX | AD)
        va = va_of(1, 5, 0)
    else:
        t.leaf(t.ROOT, 3, ppn << 12, RWX | AD)
        va = va_of(3, 0, 0)
    for access, cause in ((LOAD, 13), (STORE, 15), (FETCH, 12)):
        assert fault(t, va, access) == cause


def test_pointer_at_last_level_faults() -> None:
    t, _ = four_k(0)          # V only: a pointer where a leaf must be
    assert fault(t, va_of(1, 2, 3), LOAD) == 13


@pytest.mark.parametrize("flags", [PTE_W, PTE_W | PTE_X, PTE_W | AD, PTE_W | PTE_X | PTE_U])
def test_write_without_read_is_reserved(flags: int) -> None:
    t, _ = four_k(flags)
    assert fault(t, va_of(1, 2, 3), LOAD) == 13
    assert fault(t, va_of(1, 2, 3), STORE) == 15
    assert fault(t, va_of(1, 2, 3), FETCH) == 12


def test_write_without_read_in_a_pointer_level_is_reserved() -> None:
    t = Tables()
    t.ptes[t.ROOT + 8] = ((t.L1 >> 12) << 10) | PTE_W | PTE_V
    assert fault(t, va_of(1, 0, 0), LOAD) == 13


@pytest.mark.parametrize("bit", [54, 55, 60, 61, 62, 63])
def test_reserved_high_pte_bits_fault(bit: int) -> None:
    t, address = four_k(RWX | AD)
    t.ptes[address] |= 1 << bit
    assert fault(t, va_of(1, 2, 3), LOAD) == 13


@pytest.mark.parametrize("va", [0x0000004000000000, 0x0000_8000_0000_0000, 0x8000000000000000,
                                0xFFFFFFBFFFFFFFFF, 0x7FFFFFC000000000])
def test_non_canonical_addresses_fault(va: int) -> None:
    t = Tables()
    for index in range(512):                 # every root entry maps something
        t.leaf(t.ROOT, index, index << 30, RWX | AD)
    for access, cause in ((LOAD, 13), (STORE, 15), (FETCH, 12)):
        assert fault(t, va, access) == cause


@pytest.mark.parametrize("flags, access, privilege, sum_, mxr, ok", [
    (PTE_R, LOAD, SUPERVISOR, False, False, True),
    (PTE_R, STORE, SUPERVISOR, False, False, False),
    (PTE_R, FETCH, SUPERVISOR, False, False, False),
    (PTE_X, LOAD, SUPERVISOR, False, False, False),
    (PTE_X, LOAD, SUPERVISOR, False, True, True),        # MXR
    (PTE_X, STORE, SUPERVISOR, False, True, False),
    (PTE_X, FETCH, SUPERVISOR, False, False, True),
    (PTE_R | PTE_W, FETCH, SUPERVISOR, False, False, False),
    (PTE_R | PTE_W, STORE, SUPERVISOR, False, False, True),
    (PTE_R | PTE_U, LOAD, SUPERVISOR, False, False, False),  # U page from S needs SUM
    (PTE_R | PTE_U, LOAD, SUPERVISOR, True, False, True),
    (PTE_R | PTE_W | PTE_U, STORE, SUPERVISOR, True, False, True),
    (PTE_R | PTE_W | PTE_U, STORE, SUPERVISOR, False, False, False),
    (RWX | PTE_U, FETCH, SUPERVISOR, True, False, False),    # S never executes U pages
    (RWX, LOAD, USER, False, False, False),                  # S pages are not for U
    (RWX, FETCH, USER, True, True, False),
    (RWX | PTE_U, LOAD, USER, False, False, True),
    (PTE_X | PTE_U, LOAD, USER, False, True, True),
    (PTE_X | PTE_U, LOAD, USER, False, False, False),
    (RWX | PTE_U, FETCH, USER, False, False, True),
    (PTE_R | PTE_U, STORE, USER, True, True, False),
    (RWX | PTE_G, STORE, SUPERVISOR, False, False, True),
])
def test_permission_checks(flags: int, access: int, privilege: int, sum_: bool, mxr: bool,
                           ok: bool) -> None:
    t, _ = four_k(flags | AD)
    va = va_of(1, 2, 3, 8)
    if ok:
        assert t.walk(va, access, privilege, sum_=sum_, mxr=mxr) == 0x80005008
    else:
        assert fault(t, va, access, privilege=privilege, sum_=sum_, mxr=mxr) == \
            {LOAD: 13, STORE: 15, FETCH: 12}[access]


def test_accessed_and_dirty_bits_set_by_hardware() -> None:
    t, address = four_k(RWX)
    t.walk(va_of(1, 2, 3), LOAD)
    assert t.ptes[address] & AD == PTE_A
    t.walk(va_of(1, 2, 3), FETCH)
    assert t.ptes[address] & AD == PTE_A
    t.walk(va_of(1, 2, 3), STORE)
    assert t.ptes[address] & AD == AD
    count = len(t.writes)
    t.walk(va_of(1, 2, 3), STORE)
    assert len(t.writes) == count                 # nothing left to set: no write


def test_failed_walk_sets_nothing() -> None:
    t, address = four_k(PTE_R)
    fault(t, va_of(1, 2, 3), STORE)
    assert t.ptes[address] & AD == 0 and not t.writes


def test_rsw_bits_are_ignored_and_kept() -> None:
    t, address = four_k(PTE_R | PTE_W | (3 << 8))
    assert t.walk(va_of(1, 2, 3, 4), STORE) == 0x80005004
    assert t.ptes[address] & (3 << 8) == 3 << 8
    assert t.ptes[address] & AD == AD


@pytest.mark.parametrize("access, cause", [(LOAD, 5), (STORE, 7), (FETCH, 1)])
def test_unreadable_pte_is_an_access_fault(access: int, cause: int) -> None:
    def read(address: int) -> int:
        raise Trap(5, address)

    va = va_of(1, 2, 3)
    with pytest.raises(Trap) as info:
        walk(va, access, SUPERVISOR, SATP_SV39 | 0x12345, False, False, read,
             lambda a, v: None)
    assert (info.value.cause, info.value.tval) == (cause, va)


# --- end to end -----------------------------------------------------------------------------
def test_s_mode_loads_and_stores_translate() -> None:
    m = Machine()
    m.enable_sv39()
    m.poke(PDATA + 0x1238, 8, 0x1122334455667788)
    m.run_code("ld a0, 0x238(a1); sd a0, 0x100(a1)", SUPERVISOR, a1=VDATA + 0x1000)
    assert not m.traps
    assert m["a0"] == 0x1122334455667788
    assert m.read(PDATA + 0x1100, 8) == 0x1122334455667788


def test_superpages_end_to_end() -> None:
    m = Machine()
    tables = m.enable_sv39()
    tables.map(0x4000_0000, 0x8000_0000, PTE_R | PTE_W | AD, level=1)   # 2 MiB
    tables.map(0xC000_0000, 0x8000_0000, PTE_R | PTE_W | AD, level=2)   # 1 GiB
    m.hart.translation_changed()
    m.poke(DATA + 8, 8, 0xABCDEF)
    m.run_code("ld a0, 0(a1); ld a2, 0(a3); sd a4, 16(a1)", SUPERVISOR,
               a1=0x4000_0000 + (DATA + 8 - 0x8000_0000), a3=0xC000_0000 + (DATA + 8 - 0x8000_0000),
               a4=0x55)
    assert not m.traps
    assert m["a0"] == 0xABCDEF and m["a2"] == 0xABCDEF
    assert m.read(DATA + 24, 8) == 0x55


def test_misaligned_superpage_end_to_end() -> None:
    m = Machine()
    tables = m.enable_sv39()
    tables.map(0x4000_0000, 0x8000_1000, PTE_R | PTE_W | AD, level=1)
    m.hart.translation_changed()
    m.run_code("ld a0, 8(a1)", SUPERVISOR, a1=0x4000_0000)
    assert (m.trap.cause, m.trap.tval) == (13, 0x4000_0008)


def test_fetch_page_faults() -> None:
    m = Machine()
    m.enable_sv39()
    m.run_code("jalr ra, 0(a1)", SUPERVISOR, a1=VDATA)       # data page: no X
    assert (m.trap.cause, m.trap.tval, m.trap.epc) == (12, VDATA, VDATA)
    m.run_code("jalr ra, 0(a1)", SUPERVISOR, a1=0x3000_0000)  # unmapped
    assert (m.trap.cause, m.trap.tval, m.trap.epc) == (12, 0x3000_0000, 0x3000_0000)


def test_32_bit_instruction_across_pages_faults_on_second_half() -> None:
    m = Machine()
    tables = m.enable_sv39()
    tables.map(0x2000_0000, PCODE + 0x8000, PTE_R | PTE_X | AD)   # next page unmapped
    m.hart.translation_changed()
    m.write(PCODE + 0x8FFE, bytes([0x13, 0x05]))                  # low half of addi
    m.set_privilege(SUPERVISOR)
    m.hart.pc = 0x2000_0FFE
    m.end = -1
    m.run_to_end()
    assert (m.trap.cause, m.trap.tval, m.trap.epc) == (12, 0x2000_1000, 0x2000_0FFE)


def test_32_bit_instruction_across_pages_executes() -> None:
    m = Machine()
    tables = m.enable_sv39()
    tables.map(0x2000_0000, PCODE + 0x8000, PTE_R | PTE_X | AD)
    tables.map(0x2000_1000, PCODE + 0x3000, PTE_R | PTE_X | AD)   # not adjacent
    m.hart.translation_changed()
    m.write(PCODE + 0x8FFE, bytes([0x13, 0x05]))                  # addi a0, a0, 0x7ff
    m.write(PCODE + 0x3000, bytes([0xF5, 0x7F]))
    m.set_privilege(SUPERVISOR)
    m.hart.pc = 0x2000_0FFE
    m["a0"] = 1
    m.hart.step()
    assert not m.traps and m["a0"] == 0x800 and m.hart.pc == 0x2000_1002


def test_misaligned_access_across_virtual_pages() -> None:
    m = Machine()
    tables = m.enable_sv39()
    tables.map(0x2000_0000, PDATA + 0x5000, PTE_R | PTE_W | AD)
    tables.map(0x2000_1000, PDATA + 0x2000, PTE_R | PTE_W | AD)   # physically before
    m.hart.translation_changed()
    m.write(PDATA + 0x5FFC, bytes([1, 2, 3, 4]))
    m.write(PDATA + 0x2000, bytes([5, 6, 7, 8]))
    m.run_code("ld a0, -4(a1); sd a2, -2(a1); lw a3, -1(a1)", SUPERVISOR, a1=0x2000_1000,
               a2=0xA8A7A6A5A4A3A2A1)
    assert not m.traps
    assert m["a0"] == 0x0807060504030201
    assert m.read(PDATA + 0x5FFE, 2) == 0xA2A1
    assert m.read(PDATA + 0x2000, 6) == 0xA8A7A6A5A4A3
    assert m["a3"] == 0xFFFFFFFFA5A4A3A2


@pytest.mark.parametrize("text, cause", [("ld a0, -4(a1)", 13), ("lhu a0, -1(a1)", 13),
                                         ("sd a2, -3(a1)", 15), ("sw a2, -2(a1)", 15)])
def test_misaligned_access_faults_on_the_second_page(text: str, cause: int) -> None:
    m = Machine()
    tables = m.enable_sv39()
    tables.map(0x2000_0000, PDATA + 0x5000, PTE_R | PTE_W | AD)
    second = tables.map(0x2000_1000, PDATA + 0x2000, PTE_R | AD)    # read-only
    if cause == 13:
        tables.write(second, 0)                                      # not mapped at all
    m.hart.translation_changed()
    m.run_code(text, SUPERVISOR, a1=0x2000_1000, a0=0x99)
    assert (m.trap.cause, m.trap.tval) == (cause, 0x2000_1000)
    assert m["a0"] == 0x99


def test_sum_controls_supervisor_access_to_user_pages() -> None:
    m = Machine()
    m.enable_sv39(data_flags=PTE_R | PTE_W | PTE_U | AD)
    m.poke(PDATA, 8, 77)
    m.run_code("ld a0, 0(a1)", SUPERVISOR, a1=VDATA)
    assert (m.trap.cause, m.trap.tval) == (13, VDATA)
    m.run_code("sd a0, 8(a1)", SUPERVISOR, a1=VDATA)
    assert (m.trap.cause, m.trap.tval) == (15, VDATA + 8)
    m.run_code("csrs sstatus, a2; ld a0, 0(a1); sd a0, 8(a1)", SUPERVISOR, a1=VDATA, a2=SUM)
    assert m.hart.pc == m.end and m["a0"] == 77 and m.read(PDATA + 8, 8) == 77
    m.run_code("csrc sstatus, a2; ld a0, 0(a1)", SUPERVISOR, a1=VDATA, a2=SUM)
    assert (m.trap.cause, m.trap.tval) == (13, VDATA)     # the change takes effect at once


def test_supervisor_never_executes_user_pages() -> None:
    m = Machine()
    m.enable_sv39(user_code=True)
    m.set_mstatus(SUM)
    m.run_code("nop", SUPERVISOR)
    assert (m.trap.cause, m.trap.tval, m.trap.epc) == (12, VCODE, VCODE)


def test_user_mode_translation() -> None:
    m = Machine()
    tables = m.enable_sv39(user_code=True)
    tables.map(0x3000_0000, PDATA + 0x8000, PTE_R | PTE_W | AD)     # a kernel page
    m.hart.translation_changed()
    m.poke(PDATA, 8, 5)
    m.run_code("ld a0, 0(a1); sd a0, 8(a1)", USER, a1=VDATA)
    assert not m.traps and m["a0"] == 5 and m.read(PDATA + 8, 8) == 5
    m.run_code("ld a0, 0(a1)", USER, a1=0x3000_0000)
    assert (m.trap.cause, m.trap.tval, m.trap.from_privilege) == (13, 0x3000_0000, USER)
    m.run_code("sd a0, 0(a1)", USER, a1=0x3000_0000)
    assert (m.trap.cause, m.trap.tval) == (15, 0x3000_0000)


def test_mxr_makes_execute_only_pages_readable() -> None:
    m = Machine()
    m.enable_sv39(data_flags=PTE_X | PTE_A)
    m.poke(PDATA, 8, 0x1234)
    m.run_code("ld a0, 0(a1)", SUPERVISOR, a1=VDATA)
    assert (m.trap.cause, m.trap.tval) == (13, VDATA)
    m.run_code("csrs sstatus, a2; ld a0, 0(a1)", SUPERVISOR, a1=VDATA, a2=MXR)
    assert m.hart.pc == m.end and m["a0"] == 0x1234
    m.run_code("sd a0, 0(a1)", SUPERVISOR, a1=VDATA)
    assert (m.trap.cause, m.trap.tval) == (15, VDATA)


def test_mprv_translates_machine_loads_and_stores_with_mpp() -> None:
    m = Machine()
    m.enable_sv39(data_flags=PTE_R | PTE_W | PTE_U | AD)
    m.poke(PDATA, 8, 42)
    # MPP = S, SUM = 1: M-mode data accesses go through Sv39 as S; fetches do not
    m.set_mstatus(MPRV | (SUPERVISOR << 11) | SUM)
    m.run_code("ld a0, 0(a1); sd a0, 16(a1)", MACHINE, a1=VDATA)
    assert not m.traps and m["a0"] == 42 and m.read(PDATA + 16, 8) == 42
    # MPP = S without SUM: the U page faults, into M (tval = the virtual address)
    m.set_mstatus(MPRV | (SUPERVISOR << 11))
    m.run_code("ld a0, 0(a1)", MACHINE, a1=VDATA)
    assert (m.trap.cause, m.trap.tval, m.trap.to_privilege) == (13, VDATA, MACHINE)
    # MPP = U: the U page is fine
    m.set_mstatus(MPRV | (USER << 11))
    m.poke(PDATA + 8, 8, 43)
    m.run_code("ld a0, 8(a1)", MACHINE, a1=VDATA)
    assert m.hart.pc == m.end and m["a0"] == 43
    # MPP = M: no translation at all
    m.set_mstatus(MPRV | (MACHINE << 11))
    m.poke(DATA, 8, 99)
    m.run_code("ld a0, 0(a1)", MACHINE, a1=DATA)
    assert m.hart.pc == m.end and m["a0"] == 99


def test_mprv_set_by_csr_instruction() -> None:
    m = Machine()
    m.enable_sv39()
    m.poke(PDATA, 8, 8)
    m.set_mstatus(SUPERVISOR << 11)
    m.run_code("csrs mstatus, a2; ld a0, 0(a1); csrc mstatus, a2; ld a3, 0(a4)", MACHINE,
               a1=VDATA, a2=MPRV, a4=DATA)
    assert m.hart.pc == m.end and m["a0"] == 8


@pytest.mark.parametrize("flags", [PTE_W | AD, PTE_R | PTE_W | AD | (1 << 54),
                                   PTE_R | PTE_W | AD | (1 << 63)])
def test_reserved_encodings_end_to_end(flags: int) -> None:
    m = Machine()
    m.enable_sv39(data_flags=flags)
    m.run_code("ld a0, 0(a1)", SUPERVISOR, a1=VDATA)
    assert (m.trap.cause, m.trap.tval) == (13, VDATA)
    m.run_code("sd a0, 0(a1)", SUPERVISOR, a1=VDATA)
    assert (m.trap.cause, m.trap.tval) == (15, VDATA)


@pytest.mark.parametrize("va", [0x0000_0040_0000_0000, 0x8000_0000_0000_0000,
                                0xFFFF_FFBF_FFFF_F000])
def test_non_canonical_end_to_end(va: int) -> None:
    m = Machine()
    m.enable_sv39()
    for text, cause in (("ld a0, 0(a1)", 13), ("sd a0, 0(a1)", 15), ("jalr ra, 0(a1)", 12)):
        m.run_code(text, SUPERVISOR, a1=va)
        assert (m.trap.cause, m.trap.tval) == (cause, va)


def test_accessed_and_dirty_bits_in_ram() -> None:
    m = Machine()
    tables = m.enable_sv39()
    code_pte = tables.map(VCODE, PCODE, PTE_R | PTE_X)                 # no A yet
    data_pte = tables.map(0x3000_0000, PDATA + 0x3000, PTE_R | PTE_W | (3 << 8))
    m.hart.translation_changed()
    m.run_code("ld a0, 0(a1)", SUPERVISOR, a1=0x3000_0000)
    assert m.read(code_pte, 8) & AD == PTE_A                           # fetched
    assert m.read(data_pte, 8) & AD == PTE_A                           # loaded
    m.run_code("sd a0, 0(a1)", SUPERVISOR, a1=0x3000_0000)
    assert m.read(data_pte, 8) & AD == AD                              # stored
    assert m.read(data_pte, 8) & (3 << 8) == 3 << 8                    # RSW kept
    assert m.read(code_pte, 8) & PTE_D == 0


def test_dirty_bit_set_when_first_store_follows_loads() -> None:
    m = Machine()
    tables = m.enable_sv39()
    pte = tables.map(0x3000_0000, PDATA + 0x3000, PTE_R | PTE_W | PTE_A)
    m.hart.translation_changed()
    m.run_code("ld a0, 0(a1); ld a0, 8(a1); sb a0, 3(a1)", SUPERVISOR, a1=0x3000_0000)
    assert m.read(pte, 8) & AD == AD


def test_rsw_bits_do_not_change_translation() -> None:
    m = Machine()
    m.enable_sv39(data_flags=PTE_R | PTE_W | AD | (1 << 8) | (1 << 9))
    m.run_code("sd a2, 0(a1); ld a0, 0(a1)", SUPERVISOR, a1=VDATA, a2=6)
    assert not m.traps and m["a0"] == 6 and m.read(PDATA, 8) == 6


def test_sfence_vma_makes_a_changed_pte_visible() -> None:
    m = Machine()
    tables = m.enable_sv39()
    pte = tables.map(0x3000_0000, PDATA + 0x3000, PTE_R | PTE_W | AD)
    new_pte = (((PDATA + 0x4000) >> 12) << 10) | PTE_R | PTE_W | AD | 1
    m.poke(PDATA + 0x3000, 8, 111)
    m.poke(PDATA + 0x4000, 8, 222)
    # map the page table into the kernel's view so the guest can edit it
    tables.map(0x3800_0000, pte & ~0xFFF, PTE_R | PTE_W | AD)
    m.hart.translation_changed()
    m.run_code("ld a0, 0(a1); sd a3, 0(a2); sfence.vma zero, zero; ld a4, 0(a1)",
               SUPERVISOR, a1=0x3000_0000, a2=0x3800_0000 + (pte & 0xFFF), a3=new_pte)
    assert not m.traps
    assert m["a0"] == 111 and m["a4"] == 222
    # unmapping and fencing one address: the next access faults
    m.run_code("sd zero, 0(a2); sfence.vma a1, zero; ld a4, 0(a1)", SUPERVISOR,
               a1=0x3000_0000, a2=0x3800_0000 + (pte & 0xFFF))
    assert (m.trap.cause, m.trap.tval) == (13, 0x3000_0000)


def test_satp_write_switches_address_space() -> None:
    m = Machine()
    first = m.enable_sv39()
    second = PageTableBuilder(m.bus, first.next_free)
    second.map_range(VCODE, PCODE, 0x10000, PTE_R | PTE_X | AD)
    second.map(VDATA, PDATA + 0x8000, PTE_R | PTE_W | AD)
    m.poke(PDATA, 8, 1)
    m.poke(PDATA + 0x8000, 8, 2)
    m.run_code("ld a0, 0(a1); csrw satp, a2; ld a3, 0(a1)", SUPERVISOR, a1=VDATA,
               a2=second.satp)
    assert not m.traps and (m["a0"], m["a3"]) == (1, 2)


def test_bare_mode_in_s_and_u_does_not_translate() -> None:
    for privilege in (SUPERVISOR, USER):
        m = Machine()
        m.poke(DATA, 8, 3)
        m.run_code("ld a0, 0(a1)", privilege, a1=DATA)
        assert not m.traps and m["a0"] == 3


def test_page_table_outside_ram_is_an_access_fault() -> None:
    m = Machine()
    m.csr.satp = SATP_SV39 | (0x4000_0000 >> 12)     # nothing there
    m.hart.translation_changed()
    m.set_privilege(SUPERVISOR)
    m.hart.pc = CODE
    m.end = -1
    m.run_to_end()
    assert (m.trap.cause, m.trap.tval) == (1, CODE)


def test_compressed_instruction_at_page_end_does_not_fetch_the_next_page() -> None:
    m = Machine()
    tables = m.enable_sv39()
    tables.map(0x2000_0000, PCODE + 0x8000, PTE_R | PTE_X | AD)   # next page unmapped
    m.hart.translation_changed()
    m.write(PCODE + 0x8FFE, (0x0505).to_bytes(2, "little"))      # c.addi a0, 1
    m.set_privilege(SUPERVISOR)
    m.hart.pc = 0x2000_0FFE
    m.hart.step()
    assert not m.traps and m["a0"] == 1 and m.hart.pc == 0x2000_1000
    m.hart.step()
    assert (m.trap.cause, m.trap.tval, m.trap.epc) == (12, 0x2000_1000, 0x2000_1000)


SELF_MAPPED = 0x1020_0000  # a VA whose leaf PTE lives in the page it maps


@pytest.mark.parametrize("engine", Hart.ENGINES)
def test_a_store_that_rewrites_its_own_pte_leaves_no_stale_fast_mapping(engine) -> None:
    # The page-table page holding SELF_MAPPED's PTE is mapped at SELF_MAPPED,
    # writable. M-mode code with MPRV (loads and stores translated as S, fetch
    # physical: no walk in between) stores through it to make that PTE
    # read-only; after sfence.vma a second store through the same VA must walk
    # again and fault.
    m = Machine()
    m.hart.engine = engine
    tables = m.enable_sv39()
    leaf_pte = tables.map(SELF_MAPPED, 0, 0)  # allocate the path, find the PTE's address
    leaf_page = leaf_pte & ~4095
    tables.map(SELF_MAPPED, leaf_page, PTE_R | PTE_W | PTE_A | PTE_D)
    read_only = ((leaf_page >> 12) << 10) | PTE_V | PTE_R | PTE_A | PTE_D
    m.set_mstatus(MPRV | (SUPERVISOR << 11))
    ran = m.run_code("sd t1, 0(t0); sfence.vma zero, zero; sd t2, 8(t3)", privilege=MACHINE,
                     t0=SELF_MAPPED + (leaf_pte & 4095), t1=read_only, t2=0x5555,
                     t3=SELF_MAPPED)
    assert ran.read(leaf_pte, 8) == read_only
    assert (ran.trap.cause, ran.trap.tval) == (15, SELF_MAPPED + 8)
    assert ran.read(leaf_page + 8, 8) == 0  # the faulting store wrote nothing
