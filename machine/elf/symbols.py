"""The ELF symbol table: look symbols up by name, and addresses up by function.

``symbol_at`` answers "which function is this pc in?" with a sorted list and
``bisect``: a sized ``FUNC`` symbol contains ``[address, address + size)``;
an assembly label (``NOTYPE`` in an executable section, like xv6's
``_entry``, ``uservec`` or ``kernelvec``) has no size and is taken to run up
to the next function symbol or the end of its section.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

SymbolType = Literal["func", "object", "notype", "tls", "other"]
SymbolBinding = Literal["global", "weak", "local"]

_TYPES: dict[str, SymbolType] = {
    "STT_FUNC": "func",
    "STT_OBJECT": "object",
    "STT_NOTYPE": "notype",
    "STT_TLS": "tls",
}
_BINDINGS: dict[str, SymbolBinding] = {
    "STB_GLOBAL": "global",
    "STB_WEAK": "weak",
    "STB_LOCAL": "local",
}
# Preference when several symbols share a name or an address.
_BINDING_RANK = {"global": 0, "weak": 1, "local": 2}
_TYPE_RANK = {"func": 0, "object": 1, "tls": 2, "notype": 3, "other": 4}


@dataclass(frozen=True, slots=True)
class Symbol:
    name: str
    address: int
    size: int
    type: SymbolType
    binding: SymbolBinding

    @property
    def is_function(self) -> bool:
        return self.type == "func"

    def __str__(self) -> str:
        return f"{self.name} @ {self.address:#x} ({self.type}, {self.size} bytes)"


@dataclass(frozen=True, slots=True)
class RawSymbol:
    """What the image reader extracts from one ``.symtab`` entry."""

    name: str
    address: int
    size: int
    elf_type: str  # 'STT_FUNC', ...
    elf_bind: str  # 'STB_GLOBAL', ...
    executable_section: tuple[int, int] | None  # its section's [start, end) if code


def _is_noise(name: str) -> bool:
    # RISC-V mapping symbols ($x, $d, $xrv64i2p1_...) and assembler locals.
    return not name or name.startswith(("$", ".L"))


class SymbolTable:
    def __init__(self, raw: Iterable[RawSymbol]) -> None:
        symbols: list[Symbol] = []
        by_name: dict[str, Symbol] = {}
        code: list[tuple[Symbol, tuple[int, int] | None]] = []
        for r in raw:
            if _is_noise(r.name) or r.elf_type in ("STT_SECTION", "STT_FILE"):
                continue
            sym = Symbol(
                name=r.name,
                address=r.address,
                size=r.size,
                type=_TYPES.get(r.elf_type, "other"),
                binding=_BINDINGS.get(r.elf_bind, "local"),
            )
            symbols.append(sym)
            old = by_name.get(sym.name)
            if old is None or _rank(sym) < _rank(old):
                by_name[sym.name] = sym
            if sym.type == "func" or (sym.type == "notype" and r.executable_section):
                code.append((sym, r.executable_section))

        symbols.sort(key=lambda s: (s.address, s.name))
        self._symbols = symbols
        self._by_name = by_name

        # One candidate per address (the best-ranked), sorted by address.
        # Ties between labels at one address (xv6: trampoline, _trampoline
        # and uservec): no leading underscore, then the last one defined.
        order = {id(sym): i for i, (sym, _) in enumerate(code)}
        code.sort(key=lambda c: (c[0].address, _code_rank(c[0]), -order[id(c[0])]))
        self._code: list[tuple[Symbol, tuple[int, int] | None]] = []
        for entry in code:
            if self._code and self._code[-1][0].address == entry[0].address:
                continue
            self._code.append(entry)
        self._code_starts = [s.address for s, _ in self._code]

    def symbol(self, name: str) -> Symbol | None:
        return self._by_name.get(name)

    def symbols(self) -> list[Symbol]:
        return list(self._symbols)

    def symbol_at(self, address: int) -> tuple[Symbol, int] | None:
        i = bisect.bisect_right(self._code_starts, address) - 1
        if i < 0:
            return None
        sym, section = self._code[i]
        if sym.size > 0:
            end = sym.address + sym.size
        else:
            end = self._code_starts[i + 1] if i + 1 < len(self._code_starts) else None
            if section is not None:
                end = section[1] if end is None else min(end, section[1])
            if end is None:
                return None
        if address < end:
            return sym, address - sym.address
        return None

    def __len__(self) -> int:
        return len(self._symbols)


def _rank(sym: Symbol) -> tuple[int, int]:
    return (_BINDING_RANK[sym.binding], _TYPE_RANK[sym.type])


def _code_rank(sym: Symbol) -> tuple[int, int, int, int]:
    return (
        0 if sym.type == "func" else 1,
        0 if sym.size else 1,
        _BINDING_RANK[sym.binding],
        1 if sym.name.startswith("_") else 0,
    )
