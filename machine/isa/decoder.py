"""The decoder, derived from the declarations.

``decode(word)`` returns a ``Decoded`` (the spec, its operand values, and for a
compressed instruction the base instruction it expands to) or None when the
word is no valid instruction (the hart then raises illegal instruction).
Only the low 16 bits are looked at when they say the instruction is compressed.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from . import rv64a, rv64c, rv64i, rv64m, zicsr
from .spec import InstructionSpec

ALL_SPECS: tuple[InstructionSpec, ...] = tuple(
    rv64i.SPECS + rv64m.SPECS + rv64a.SPECS + zicsr.SPECS + rv64c.SPECS)
BY_NAME: dict[str, InstructionSpec] = {s.name: s for s in ALL_SPECS}
assert len(BY_NAME) == len(ALL_SPECS), "duplicate instruction name"


@dataclass(frozen=True, slots=True)
class Decoded:
    spec: InstructionSpec          # as written (c.addi for a compressed word)
    operands: dict[str, int]       # the spec's own fields
    word: int                      # instruction bits (16 or 32)
    base: InstructionSpec          # what executes (addi for c.addi)
    base_operands: dict[str, int]  # its operand values

    @property
    def length(self) -> int:
        return self.spec.length


def _bucket_key(word: int) -> int:
    if word & 3 != 3:
        return (word & 3) | ((word >> 11) & 0x1C)  # quadrant and funct3
    return 0x100 | (word & 0x7F)                   # major opcode


_BUCKETS: dict[int, list[InstructionSpec]] = {}
for _spec in ALL_SPECS:
    _BUCKETS.setdefault(_bucket_key(_spec.match), []).append(_spec)


def _expand(spec: InstructionSpec, operands: dict[str, int]) -> tuple[InstructionSpec, dict]:
    base = BY_NAME[spec.expands_to]  # type: ignore[index]
    values = {f.name: 0 for f in base.fields}
    for base_field, source in spec.expansion:
        values[base_field] = source if isinstance(source, int) else operands[source]
    return base, values


@lru_cache(maxsize=65536)
def decode(word: int) -> Decoded | None:
    if word & 3 != 3:
        word &= 0xFFFF
    else:
        word &= 0xFFFFFFFF
    for spec in _BUCKETS.get(_bucket_key(word), ()):
        if not spec.accepts(word):
            continue
        operands = spec.decode_fields(word)
        if spec.expands_to:
            base, base_operands = _expand(spec, operands)
        else:
            base, base_operands = spec, operands
        return Decoded(spec, operands, word, base, base_operands)
    return None


def instruction_length(low_halfword: int) -> int:
    """Length in bytes from the first 16 bits (only 16- and 32-bit exist here)."""
    return 4 if low_halfword & 3 == 3 else 2
