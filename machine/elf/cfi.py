"""Call-frame information (DWARF CFI) for unwinding: where, at a given pc, a
function's caller's registers are.

pyelftools decodes ``.debug_frame`` (``DWARFInfo.CFI_entries``) or, failing
that, ``.eh_frame`` (``EH_CFI_entries``) into FDEs, each with a table of rows
(``FDE.get_decoded().table``): from a row's pc on, the CFA (canonical frame
address: the caller's sp) is a register plus an offset, and each saved
register lives at CFA + offset. This module keeps the FDEs sorted by address
and turns the row holding a pc into an ``UnwindRule``; an FDE's table is
decoded only when a pc inside it is first asked for.

Rules we cannot evaluate (a CFA given as a DWARF expression, registers
restored by expressions) read as "unknown", never as an error: the unwinder
then falls back to frame pointers.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from typing import Any

from elftools.dwarf.callframe import FDE, RegisterRule
from elftools.dwarf.dwarfinfo import DWARFInfo

from .errors import PARSE_ERRORS


@dataclass(frozen=True, slots=True)
class UnwindRule:
    cfa_register: int  # the CFA is this register's value ...
    cfa_offset: int  # ... plus this
    saved: dict[int, int]  # register -> its save slot's offset from the CFA
    undefined: frozenset[int]  # registers the caller has no value for
    return_register: int  # the column holding the return address (ra, x1)

    @property
    def return_address_undefined(self) -> bool:
        """The outermost frame: nothing called this function."""
        return self.return_register in self.undefined


class CallFrameTable:
    """Every FDE of one image, looked up by pc."""

    def __init__(self, fdes: list[FDE]) -> None:
        spans = []
        for fde in fdes:
            start, size = fde["initial_location"], fde["address_range"]
            if size > 0:
                spans.append((start, start + size, fde))
        spans.sort(key=lambda s: s[0])
        self._starts = [s[0] for s in spans]
        self._spans = spans
        # FDE index -> (row pcs, row rules), or None if it cannot be decoded
        self._decoded: dict[int, tuple[list[int], list[UnwindRule | None]] | None] = {}

    @classmethod
    def build(cls, dwarf: DWARFInfo) -> CallFrameTable:
        """From ``.debug_frame`` if the image has one, else ``.eh_frame``; an
        empty table if neither can be read."""
        for present, entries in ((dwarf.has_CFI, dwarf.CFI_entries),
                                 (dwarf.has_EH_CFI, dwarf.EH_CFI_entries)):
            try:
                if present():
                    return cls([e for e in entries() if isinstance(e, FDE)])
            except PARSE_ERRORS:
                continue
        return cls([])

    def __len__(self) -> int:
        return len(self._spans)

    def rule_at(self, pc: int) -> UnwindRule | None:
        """The rule for the instruction at ``pc``; None if no FDE covers it
        (assembly without CFI) or its row cannot be evaluated."""
        i = bisect.bisect_right(self._starts, pc) - 1
        if i < 0 or pc >= self._spans[i][1]:
            return None
        rows = self._rows(i)
        if rows is None:
            return None
        pcs, rules = rows
        j = bisect.bisect_right(pcs, pc) - 1
        return rules[j] if j >= 0 else None

    def _rows(self, i: int) -> tuple[list[int], list[UnwindRule | None]] | None:
        if i not in self._decoded:
            fde = self._spans[i][2]
            try:
                table = fde.get_decoded().table
                return_register = fde.cie["return_address_register"]
                self._decoded[i] = ([line["pc"] for line in table],
                                    [_rule(line, return_register) for line in table])
            except PARSE_ERRORS:
                self._decoded[i] = None
        return self._decoded[i]


def _rule(line: dict[Any, Any], return_register: int) -> UnwindRule | None:
    cfa = line["cfa"]
    if cfa.expr is not None or cfa.reg is None:
        return None
    saved: dict[int, int] = {}
    undefined: set[int] = set()
    for register, rule in line.items():
        if not isinstance(register, int):
            continue  # 'pc', 'cfa'
        if rule.type == RegisterRule.OFFSET:
            saved[register] = rule.arg
        elif rule.type == RegisterRule.UNDEFINED:
            undefined.add(register)
        elif rule.type != RegisterRule.SAME_VALUE:
            return None  # VAL_OFFSET, REGISTER, expressions: GCC emits none for RISC-V C
    return UnwindRule(cfa.reg, cfa.offset or 0, saved, frozenset(undefined), return_register)
