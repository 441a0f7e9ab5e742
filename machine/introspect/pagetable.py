"""Reading a Sv39 page-table tree out of guest physical memory.

The tree is read, never written: ``read_page(pa)`` returns the 4096 bytes of a
physical page (or None outside RAM). ``vmprint`` renders the tree in the
format of xv6's ``vmprint()`` (the 2024+ pgtbl lab: virtual address first),
so students can diff it against the lab's expected output.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Callable

from .pte import is_leaf, pte_frame
from ..mmu import PTE_V

ReadPage = Callable[[int], bytes | None]
_ENTRIES = struct.Struct("<512Q")
LEVEL_SPAN = {2: 1 << 30, 1: 1 << 21, 0: 1 << 12}


@dataclass(frozen=True, slots=True)
class Leaf:
    va: int
    pte: int
    level: int          # 0: 4 KiB page, 1: 2 MiB, 2: 1 GiB
    pte_address: int    # physical address of the PTE itself

    @property
    def frame(self) -> int:
        return pte_frame(self.pte)


@dataclass(frozen=True, slots=True)
class TablePage:
    address: int        # physical address of the table page
    level: int          # 2 for the root
    va_base: int        # first virtual address it covers


def entries(read_page: ReadPage, table: int) -> tuple[int, ...] | None:
    data = read_page(table)
    return _ENTRIES.unpack(data) if data is not None else None


def walk_tree(read_page: ReadPage, root: int) -> tuple[list[TablePage], list[Leaf]]:
    """Every table page and every leaf reachable from ``root`` (Sv39)."""
    tables: list[TablePage] = []
    leaves: list[Leaf] = []

    def visit(table: int, level: int, va_base: int) -> None:
        values = entries(read_page, table)
        if values is None:
            return
        tables.append(TablePage(table, level, va_base))
        for index, pte in enumerate(values):
            if not pte & PTE_V:
                continue
            va = va_base + index * LEVEL_SPAN[level]
            if is_leaf(pte):
                leaves.append(Leaf(sign_extend_va(va), pte, level, table + index * 8))
            elif level > 0:
                visit(pte_frame(pte), level - 1, va)

    visit(root, 2, 0)
    return tables, leaves


def sign_extend_va(va: int) -> int:
    return va | ~((1 << 39) - 1) & 0xFFFFFFFFFFFFFFFF if va >> 38 & 1 else va


def vmprint(read_page: ReadPage, root: int, style: str = "2024") -> str:
    """xv6's vmprint(): one line per valid PTE, indented by depth. Style
    "2024" (pgtbl lab 2024+) starts each line with the virtual address,
    " ..0x0000000000000000: pte ..."; style "2020" (2020-2023) with the
    index, "..0: pte ..."."""
    lines = [f"page table {root:#018x}"]

    def visit(table: int, level: int, va_base: int) -> None:
        values = entries(read_page, table)
        if values is None:
            return
        for index, pte in enumerate(values):
            if not pte & PTE_V:
                continue
            va = va_base + index * LEVEL_SPAN[level]
            if style == "2020":
                where = " ".join([".."] * (3 - level)) + str(index)
            else:
                where = " .." * (3 - level) + f"{va:#018x}"
            lines.append(f"{where}: pte {pte:#018x} pa {pte_frame(pte):#018x}")
            if not is_leaf(pte) and level > 0:
                visit(pte_frame(pte), level - 1, va)

    visit(root, 2, 0)
    return "\n".join(lines) + "\n"


def leaf_at(read_page: ReadPage, root: int, va: int) -> Leaf | None:
    """The leaf mapping ``va`` (any validity of the final PTE is reported:
    a PTE that is present but invalid comes back with V clear), or None."""
    table = root
    for level in (2, 1, 0):
        values = entries(read_page, table)
        if values is None:
            return None
        index = (va >> (12 + 9 * level)) & 0x1FF
        pte = values[index]
        if level == 0 or is_leaf(pte) or not pte & PTE_V:
            base = va & ~(LEVEL_SPAN[level] - 1)
            return Leaf(base, pte, level, table + index * 8)
        table = pte_frame(pte)
    return None

