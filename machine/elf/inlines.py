"""Which functions the compiler inlined at an address, from the DWARF DIEs,
so that a call stack can show them as gdb does:
``r_stval (kernel/riscv.h:260) ← usertrap (kernel/trap.c:73)``.

Each DW_TAG_inlined_subroutine has the address ranges of its inlined copy,
the function it is a copy of (DW_AT_abstract_origin, or DW_AT_specification
of it) and where it was called from (DW_AT_call_file, DW_AT_call_line). An
address inside such ranges is in that function for the line it is at, and
in the enclosing function at the call's line.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from typing import Any

from elftools.dwarf.dwarfinfo import DWARFInfo
from elftools.dwarf.ranges import BaseAddressEntry

from .errors import PARSE_ERRORS
from .lines import unit_comp_dir, unit_files


@dataclass(frozen=True)
class InlinedCall:
    function: str        # the inlined function
    file: str | None     # its source file (DW_AT_decl_file), a display path
    call_file: str | None  # where it was called from
    call_line: int | None
    depth: int           # nesting below the real function: 1 is called by it


@dataclass(frozen=True)
class Enclosing:
    """The real (out-of-line) function around an address, and the inlined
    calls that hold that address, innermost first."""
    file: str | None  # the real function's source file
    inlined: tuple[InlinedCall, ...]


class InlineTable:
    def __init__(self) -> None:
        # per real function: (low, high, file, [(low, high, InlinedCall)])
        self._starts: list[int] = []
        self._functions: list[tuple[int, int, str | None, list[tuple[int, int, InlinedCall]]]] = []
        self.skipped_units: list[str] = []

    @classmethod
    def build(cls, dwarf: DWARFInfo) -> InlineTable:
        table = cls()
        functions = []
        for cu in dwarf.iter_CUs():
            try:
                functions.extend(_read_unit(dwarf, cu))
            except PARSE_ERRORS as exc:
                table.skipped_units.append(f"CU at {cu.cu_offset:#x}: {exc}")
        functions.sort(key=lambda f: f[0])
        table._functions = functions
        table._starts = [f[0] for f in functions]
        return table

    def at(self, address: int) -> Enclosing | None:
        """The function around ``address`` and what is inlined there, or None
        when no DWARF subprogram covers it."""
        i = bisect.bisect_right(self._starts, address) - 1
        while i >= 0:
            low, high, file, inlined = self._functions[i]
            if low <= address < high:
                calls = sorted((call for lo, hi, call in inlined if lo <= address < hi),
                               key=lambda call: -call.depth)
                return Enclosing(file, tuple(calls))
            if i and self._starts[i - 1] == low:
                i -= 1  # several ranges may start at one address
                continue
            return None
        return None


def _read_unit(dwarf: DWARFInfo, cu: Any) -> list:
    program = dwarf.line_program_for_CU(cu)
    files = unit_files(program, unit_comp_dir(cu)) if program is not None else {}

    def display(number: int | None) -> str | None:
        found = files.get(number) if number is not None else None
        return found[1] if found else None

    out = []
    base = _base_address(cu)
    for die in cu.get_top_DIE().iter_children():
        if die.tag != "DW_TAG_subprogram":
            continue
        ranges = _ranges(dwarf, cu, die, base)
        if not ranges:
            continue
        inlined: list[tuple[int, int, InlinedCall]] = []
        _collect_inlined(dwarf, cu, die, base, 1, display, inlined)
        file = display(_attribute(die, "DW_AT_decl_file"))
        for low, high in ranges:
            out.append((low, high, file, inlined))
    return out


def _collect_inlined(dwarf, cu, parent, base, depth, display, out) -> None:
    for child in parent.iter_children():
        if child.tag == "DW_TAG_inlined_subroutine":
            origin = _origin(child)
            call = InlinedCall(_name(origin) or "??", display(_attribute(origin, "DW_AT_decl_file")),
                               display(_attribute(child, "DW_AT_call_file")),
                               _attribute(child, "DW_AT_call_line"), depth)
            for low, high in _ranges(dwarf, cu, child, base):
                out.append((low, high, call))
            _collect_inlined(dwarf, cu, child, base, depth + 1, display, out)
        elif child.tag == "DW_TAG_lexical_block":
            _collect_inlined(dwarf, cu, child, base, depth, display, out)


def _origin(die):
    """The DIE that names a function: through abstract_origin and specification."""
    for _ in range(4):
        for attribute in ("DW_AT_abstract_origin", "DW_AT_specification"):
            if attribute in die.attributes:
                die = die.get_DIE_from_attribute(attribute)
                break
        else:
            return die
    return die


def _name(die) -> str | None:
    value = _attribute(die, "DW_AT_name")
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value


def _attribute(die, name: str):
    found = die.attributes.get(name)
    return found.value if found is not None else None


def _base_address(cu) -> int:
    low = cu.get_top_DIE().attributes.get("DW_AT_low_pc")
    return low.value if low is not None else 0


def _ranges(dwarf: DWARFInfo, cu, die, base: int) -> list[tuple[int, int]]:
    attributes = die.attributes
    if "DW_AT_low_pc" in attributes:
        low = attributes["DW_AT_low_pc"].value
        high = attributes.get("DW_AT_high_pc")
        if high is None:
            return [(low, low + 1)]
        end = high.value if high.form == "DW_FORM_addr" else low + high.value
        return [(low, end)] if end > low else []
    if "DW_AT_ranges" not in attributes:
        return []
    lists = dwarf.range_lists()
    if lists is None:
        return []
    out = []
    for entry in lists.get_range_list_at_offset(attributes["DW_AT_ranges"].value, cu=cu):
        if isinstance(entry, BaseAddressEntry):
            base = entry.base_address
            continue
        low, high = entry.begin_offset, entry.end_offset
        if not getattr(entry, "is_absolute", False):
            low, high = low + base, high + base
        if high > low:
            out.append((low, high))
    return out
