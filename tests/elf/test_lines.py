"""Source lines from DWARF 2, 4, 5 and mixed line programs."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from machine.elf import ElfImage

from .support import SAMPLE_DIR, marker_line, readelf_line_rows

pytestmark = pytest.mark.toolchain

KERN_C = SAMPLE_DIR / "kern.c"
SAMPLE_H = SAMPLE_DIR / "sample.h"
ENTRY_S = SAMPLE_DIR / "entry.S"


def expected_rows(path: Path) -> dict[int, tuple[str, int]]:
    """Per address, the row gdb reports, from binutils' decoding of the line
    table: the last statement row at that address, or the last row."""
    expected: dict[int, tuple[str, int]] = {}
    for sequence in readelf_line_rows(path):
        by_address: dict[int, list] = {}
        for row in sequence:
            if row.line is not None:
                by_address.setdefault(row.address, []).append(row)
        for address, rows in by_address.items():
            stmts = [r for r in rows if r.is_stmt]
            chosen = (stmts or rows)[-1]
            expected[address] = (chosen.file, chosen.line)
    return expected


def test_every_row_matches_binutils(sample_path: Path) -> None:
    image = ElfImage.open(sample_path)
    expected = expected_rows(sample_path)
    assert len(expected) > 50
    for address, (file, line) in expected.items():
        found = image.source_line(address)
        assert found is not None, hex(address)
        assert (Path(found[0]).name, found[1]) == (file, line), hex(address)


def test_paths_are_relative_to_the_build_directory(sample_path: Path) -> None:
    image = ElfImage.open(sample_path)
    assert {"kernel/kern.c", "kernel/fork.c", "kernel/entry.S"} <= set(
        image.source_files()
    )
    assert image.source_line(image.symbol("kalloc").address)[0] == "kernel/kern.c"
    assert image.source_line(image.symbol("fork_like").address)[0] == "kernel/fork.c"


def test_first_instruction_of_a_function(sample_path: Path) -> None:
    image = ElfImage.open(sample_path)
    # kalloc begins with its first statement (the `{` row shares its address).
    assert image.source_line(image.symbol("kalloc").address) == (
        "kernel/kern.c",
        marker_line(KERN_C, "kalloc-first"),
    )
    # kfree begins inside the inlined pa2index().
    assert image.source_line(image.symbol("kfree").address) == (
        "kernel/sample.h",
        marker_line(SAMPLE_H, "pa2index"),
    )


def test_lines_in_an_inlined_header_function(sample_path: Path) -> None:
    """Rows naming a file other than the unit's primary one: this is where
    DWARF 5's 0-based and DWARF 2-4's 1-based file numbers part ways."""
    image = ElfImage.open(sample_path)
    line = marker_line(SAMPLE_H, "pa2index")
    address = image.address_of_line("sample.h", line)
    assert address is not None
    assert image.source_line(address) == ("kernel/sample.h", line)
    assert image.symbol_at(address)[0].name in ("kfree", "kalloc", "incref")
    assert "kernel/sample.h" in image.source_files()


def test_assembly_unit(sample_path: Path) -> None:
    # In the dwarf2 build this unit is DWARF 5 while the C units are DWARF 2.
    image = ElfImage.open(sample_path)
    assert image.source_line(image.entry) == (
        "kernel/entry.S",
        marker_line(ENTRY_S, "entry-first"),
    )


def test_lines_inside_a_function_and_outside_code(sample_path: Path) -> None:
    image = ElfImage.open(sample_path)
    kalloc = image.symbol("kalloc")
    first = image.source_line(kalloc.address)
    last = image.source_line(kalloc.address + kalloc.size - 2)
    assert first is not None and last is not None
    assert first[0] == last[0] == "kernel/kern.c"
    assert first[1] <= last[1]
    refcnt = image.symbol("refcnt")
    assert image.source_line(refcnt.address) is None  # data, not code
    assert image.source_line(0x1000) is None


def test_address_of_line(sample_path: Path) -> None:
    image = ElfImage.open(sample_path)
    line = marker_line(KERN_C, "kfree-decrement")
    address = image.address_of_line("kern.c", line)
    assert address is not None
    assert image.symbol_at(address)[0].name == "kfree"
    assert image.source_line(address) == ("kernel/kern.c", line)
    for spelling in (
        "kernel/kern.c",
        "./kernel/kern.c",
        str(sample_path.parent / "kern.c"),
    ):
        assert image.address_of_line(spelling, line) == address, spelling
    assert image.address_of_line("other/kern.c", line) is None
    assert (
        image.address_of_line("ern.c", line) is None
    )  # a suffix of path components, not of text
    assert image.address_of_line("nosuchfile.c", 10) is None

    first = marker_line(KERN_C, "kalloc-first")
    assert image.source_line(image.address_of_line("kern.c", first)) == (
        "kernel/kern.c",
        first,
    )


def test_a_line_without_code_moves_to_the_next_line_with_code(
    sample_path: Path,
) -> None:
    image = ElfImage.open(sample_path)
    # The blank line before `__attribute__((noinline)) void *\nkalloc(void)`:
    # a breakpoint there lands on kalloc's first instruction.
    lines = KERN_C.read_text().splitlines()
    kalloc_decl = lines.index("kalloc(void)") + 1  # 1-based line of the declarator
    assert lines[kalloc_decl - 3] == ""
    assert (
        image.address_of_line("kern.c", kalloc_decl - 2)
        == image.symbol("kalloc").address
    )
    assert image.address_of_line("kern.c", 100000) is None


@pytest.mark.skipif(shutil.which("gdb") is None, reason="gdb not installed")
def test_agrees_with_gdb(sample_path: Path) -> None:
    image = ElfImage.open(sample_path)
    queries = [
        f"*{image.symbol(f).address:#x}"
        for f in ("kfree", "kalloc", "incref", "start", "fork_like")
    ]
    queries += [
        f"kern.c:{marker_line(KERN_C, m)}" for m in ("kfree-decrement", "kalloc-first")
    ]
    args = ["gdb", "-nx", "-batch"]
    for q in queries:
        args += ["-ex", f"info line {q}"]
    gdb = subprocess.run(
        [*args, str(sample_path)], capture_output=True, text=True, check=False
    )
    out = gdb.stdout.splitlines()
    out = [o for o in out if o.startswith("Line ")]
    if len(out) != len(queries):
        pytest.skip(f"gdb cannot read this ELF: {out}")
    for query, answer in zip(queries, out, strict=True):
        # 'Line 32 of "kernel/kern.c" starts at address 0x80000012 <kfree> and ends at ...'
        words = answer.split()
        gdb_line = int(words[1])
        gdb_address = int(next(w for w in words if w.startswith("0x")), 16)
        if query.startswith("*"):
            assert image.source_line(int(query[1:], 16))[1] == gdb_line, (query, answer)
        else:
            assert (
                image.address_of_line("kern.c", int(query.split(":")[1])) == gdb_address
            ), (query, answer)


def test_no_dwarf(nodebug_path: Path) -> None:
    image = ElfImage.open(nodebug_path)
    assert image.symbol("kfree") is not None and image.symbol_at(
        image.symbol("kfree").address
    )
    assert image.source_line(image.entry) is None
    assert image.address_of_line("kern.c", 33) is None
    assert image.source_files() == []
    assert image.variable("proc") is None and image.struct_type("proc") is None
    assert list(image.global_variables()) == []
    assert not image.has_dwarf
    assert (
        image.dwarf_error
        == f"{nodebug_path}: no DWARF debug information (build with -g)"
    )
