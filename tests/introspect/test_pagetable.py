"""The page-table walker and vmprint on synthetic Sv39 trees."""

from __future__ import annotations

from machine.bus import Bus
from machine.introspect.pagetable import leaf_at, vmprint, walk_tree
from machine.introspect.pte import PteFlags, is_user_leaf
from machine.mmu import PTE_A, PTE_R, PTE_U, PTE_V, PTE_W, PTE_X
from tests.support.sv39 import PageTableBuilder

RAM = 0x80000000
COW = 1 << 8


def build() -> tuple[Bus, PageTableBuilder]:
    bus = Bus(RAM, 4 << 20)
    tables = PageTableBuilder(bus, RAM + 0x100000)
    tables.map(0x0, RAM + 0x200000, PTE_R | PTE_X | PTE_U)              # text
    tables.map(0x1000, RAM + 0x201000, PTE_R | PTE_U | COW)             # COW data
    tables.map(0x3FFFFFF000, RAM + 0x202000, PTE_R | PTE_X)             # trampoline
    tables.map(0x40000000, RAM + 0x0, PTE_R | PTE_W | PTE_A, level=1)   # a 2 MiB page
    return bus, tables


def reader(bus: Bus):
    def read_page(address: int) -> bytes | None:
        if not bus.is_ram(address, 4096):
            return None
        return bytes(bus.ram[address - RAM:address - RAM + 4096])
    return read_page


def test_walk_finds_every_leaf_with_its_va_level_and_pte_address() -> None:
    bus, tables = build()
    table_pages, leaves = walk_tree(reader(bus), tables.root)
    by_va = {leaf.va: leaf for leaf in leaves}
    assert sorted(by_va) == [0x0, 0x1000, 0x40000000, 0x3FFFFFF000]
    assert by_va[0x40000000].level == 1 and by_va[0x0].level == 0
    assert by_va[0x1000].frame == RAM + 0x201000
    assert PteFlags(by_va[0x1000].pte).cow and not PteFlags(by_va[0x1000].pte).writable
    assert [is_user_leaf(by_va[va].pte) for va in (0x0, 0x3FFFFFF000)] == [True, False]
    # the PTE address really holds that PTE
    leaf = by_va[0x1000]
    assert tables.read(leaf.pte_address) == leaf.pte
    assert {t.level for t in table_pages} == {2, 1, 0}
    assert table_pages[0].address == tables.root


def test_cow_bit_is_configurable() -> None:
    value = PTE_V | PTE_R | PTE_U | (1 << 9)
    assert not PteFlags(value).cow
    assert PteFlags(value, cow_bit=9).cow
    assert PteFlags(value, cow_bit=9).letters() == "VR--U--- COW"


def test_leaf_at_reports_unmapped_and_mapped_addresses() -> None:
    bus, tables = build()
    assert leaf_at(reader(bus), tables.root, 0x1234).frame == RAM + 0x201000
    missing = leaf_at(reader(bus), tables.root, 0x5000)
    assert missing is not None and not missing.pte & PTE_V


def test_vmprint_matches_the_xv6_format() -> None:
    bus, tables = build()
    text = vmprint(reader(bus), tables.root)
    lines = text.splitlines()
    assert lines[0] == f"page table {tables.root:#018x}"
    # depth 3 leaf line for va 0x1000, as xv6's vmprint prints it (2024 lab)
    pte = tables.read(leaf_at(reader(bus), tables.root, 0x1000).pte_address)
    assert f" .. .. ..0x0000000000001000: pte {pte:#018x} pa {RAM + 0x201000:#018x}" in lines
    assert all(line.startswith(" ..") for line in lines[1:])
    old = vmprint(reader(bus), tables.root, style="2020").splitlines()
    assert old[1].startswith("..0: pte 0x") and ".. .. ..1: pte" in "\n".join(old)
