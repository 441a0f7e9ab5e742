"""Symbols: by name, by address (functions and assembly labels)."""

from __future__ import annotations

from pathlib import Path

import pytest

from machine.elf import ElfImage
from machine.elf.symbols import RawSymbol, SymbolTable

from .support import compiler_facts


def raw(
    name: str,
    address: int,
    size: int = 0,
    kind: str = "STT_FUNC",
    bind: str = "STB_GLOBAL",
    code: tuple[int, int] | None = (0x1000, 0x2000),
) -> RawSymbol:
    return RawSymbol(name, address, size, kind, bind, code)


def test_symbol_at_sized_functions_and_gaps() -> None:
    table = SymbolTable([raw("a", 0x1000, 0x10), raw("b", 0x1020, 0x8)])
    assert table.symbol_at(0x1000) == (table.symbol("a"), 0)
    assert table.symbol_at(0x100F) == (table.symbol("a"), 0xF)
    assert table.symbol_at(0x1010) is None  # padding between a and b
    assert table.symbol_at(0x1027) == (table.symbol("b"), 7)
    assert table.symbol_at(0x1028) is None
    assert table.symbol_at(0xFFF) is None


def test_labels_run_to_the_next_symbol_or_section_end() -> None:
    table = SymbolTable(
        [
            raw("_entry", 0x1000, kind="STT_NOTYPE"),
            raw("start", 0x1010, 0x20),
            raw("uservec", 0x1800, kind="STT_NOTYPE"),
            raw("userret", 0x1890, kind="STT_NOTYPE", bind="STB_LOCAL"),
        ]
    )
    assert table.symbol_at(0x100C) == (table.symbol("_entry"), 0xC)
    assert table.symbol_at(0x1012)[0].name == "start"
    assert table.symbol_at(0x1880) == (table.symbol("uservec"), 0x80)
    assert table.symbol_at(0x1FFE) == (table.symbol("userret"), 0x1FFE - 0x1890)
    assert table.symbol_at(0x2000) is None  # past the end of the code section


def test_data_labels_and_noise_are_not_functions() -> None:
    table = SymbolTable(
        [
            raw("f", 0x1000, 0x10),
            raw(
                "end", 0x1010, kind="STT_NOTYPE", code=None
            ),  # a label in no code section
            raw("proc", 0x1100, 0x40, kind="STT_OBJECT", code=None),
            raw("$xrv64i2p1_m2p0", 0x1000, kind="STT_NOTYPE"),  # RISC-V mapping symbol
            raw("kern.c", 0, kind="STT_FILE", bind="STB_LOCAL", code=None),
        ]
    )
    assert table.symbol_at(0x1010) is None
    assert table.symbol_at(0x1120) is None
    assert [s.name for s in table.symbols()] == ["f", "end", "proc"]
    assert (
        table.symbol("proc").type == "object"
        and table.symbol("$xrv64i2p1_m2p0") is None
    )


def test_labels_sharing_an_address() -> None:
    # xv6's trampoline page: two section markers and the entry point's label.
    table = SymbolTable(
        [
            raw("trampoline", 0x1800, kind="STT_NOTYPE"),
            raw("_trampoline", 0x1800, kind="STT_NOTYPE"),
            raw("uservec", 0x1800, kind="STT_NOTYPE"),
            raw("userret", 0x189C, kind="STT_NOTYPE"),
        ]
    )
    assert table.symbol_at(0x1804) == (table.symbol("uservec"), 4)
    assert table.symbol("trampoline").address == 0x1800  # still found by name


def test_name_and_address_preferences() -> None:
    table = SymbolTable(
        [
            raw("helper", 0x1000, 0x10, bind="STB_LOCAL"),
            raw("helper", 0x1100, 0x10, bind="STB_GLOBAL"),  # a global wins the name
            raw(
                "alias_label", 0x1100, kind="STT_NOTYPE"
            ),  # a function wins the address
        ]
    )
    assert table.symbol("helper").address == 0x1100
    assert table.symbol_at(0x1104)[0].type == "func"


@pytest.mark.toolchain
def test_sample_kernel_symbols(sample_path: Path) -> None:
    image = ElfImage.open(sample_path)
    facts = compiler_facts(sample_path)
    functions = {n: v for n, v in facts.symbols.items() if v[2] == "STT_FUNC"}
    assert {"kfree", "kalloc", "incref", "start", "fork_like", "allocproc"} <= set(
        functions
    )
    for name, (address, size, _) in functions.items():
        sym = image.symbol(name)
        assert sym is not None and (sym.address, sym.size, sym.type) == (
            address,
            size,
            "func",
        )
        assert image.symbol_at(address) == (sym, 0)
        assert image.symbol_at(address + size - 2) == (sym, size - 2)
    assert image.symbol("allocproc").binding == "local"
    assert image.symbol("kfree").binding == "global"
    entry = image.symbol("_entry")
    assert entry is not None and entry.type == "notype" and entry.address == image.entry
    assert image.symbol_at(image.entry + 6) == (entry, 6)
    refcnt = image.symbol("refcnt")
    assert (
        refcnt is not None
        and refcnt.type == "object"
        and refcnt.size == 4 * facts.lengths["refcnt"]
    )
    assert image.symbol_at(refcnt.address) is None
    assert image.symbol_at(image.entry - 4) is None
    addresses = [s.address for s in image.symbols()]
    assert addresses == sorted(addresses)
