"""Comparing disassembly text from different tools, and building test words.

Two disassemblers agree when their canonical forms do: the mnemonic, then the
operands as tokens, where a number is an int whatever its base, a name is
looked up in the tool's own table (CSR names -> numbers, other spellings) and
``off(reg)`` is the two tokens ``off`` and ``reg``. A tool's aliases are
rewritten into the instruction they stand for before that, by a table given
with ``{0}``, ``{1}``... for the alias's operands and ``{any}`` for an operand
the alias leaves out (matching any value).
"""

from __future__ import annotations

import re

from machine.isa.decoder import decode
from machine.isa.disasm import format_decoded
from machine.isa.spec import InstructionSpec

Canonical = tuple[str, tuple[object, ...]]
ANY = object()
_MEMORY = re.compile(r"^(.*)\((\w+)\)$")
_OPERAND_NAME = re.compile(r"[a-z][a-z0-9_]*")
_FIXED_REGISTERS = {"sp", "zero", "ra"}  # registers a syntax spells out

# Our spellings that other tools write differently for the same instruction:
# objdump -M no-aliases and capstone write the canonical NOP as c.addi zero,0.
OUR_SPELLINGS: dict[str, str] = {"c.nop": "c.addi zero,0"}


def split(text: str) -> tuple[str, list[str]]:
    mnemonic, _, rest = text.strip().partition(" ")
    return mnemonic, [o.strip() for o in rest.split(",") if o.strip()]


def canonical(text: str, names: dict[str, int],
              aliases: dict[tuple[str, int], str] | None = None) -> Canonical:
    mnemonic, operands = split(text)
    alias = (aliases or {}).get((mnemonic, len(operands)))
    if alias is not None:
        mnemonic, operands = split(alias.format(*operands, any="{any}"))
    tokens: list[object] = []
    for operand in operands:
        m = _MEMORY.match(operand)
        for piece in filter(None, m.groups() if m else (operand,)):
            if piece == "{any}":
                tokens.append(ANY)
                continue
            try:
                tokens.append(int(piece, 0))
            except ValueError:
                tokens.append(names.get(piece, piece))
    return mnemonic, tuple(tokens)


def same(a: Canonical | None, b: Canonical | None) -> bool:
    if a is None or b is None:
        return a is b
    return a[0] == b[0] and len(a[1]) == len(b[1]) and all(
        x is ANY or y is ANY or x == y for x, y in zip(a[1], b[1]))


def ours(word: int, names: dict[str, int], pc: int | None = None) -> Canonical | None:
    """Our disassembly of ``word`` in canonical form; None if it is illegal."""
    decoded = decode(word)
    if decoded is None:
        return None
    text = format_decoded(decoded, pc)
    mnemonic = split(text)[0]
    return canonical(OUR_SPELLINGS.get(mnemonic, text), names)


def shown_bits(spec: InstructionSpec) -> int:
    """The word bits of the operands the assembly syntax shows (and aq/rl,
    which show as mnemonic suffixes). The other fields (FENCE's fm/rd/rs1,
    FENCE.I's imm/rs1/rd) are reserved and written as zero."""
    names = {n for template in spec.syntax for n in _OPERAND_NAME.findall(template)}
    names = (names - _FIXED_REGISTERS) | ({"aq", "rl"} & set(spec.field_names))
    mask = 0
    for f in spec.fields:
        if f.name in names:
            mask |= f.word_bits
    return mask


def instance(spec: InstructionSpec, bits: int) -> int | None:
    """A word of ``spec`` with its shown operands taken from ``bits``; None
    when that is a reserved encoding or one another declaration claims first."""
    word = spec.match | (bits & shown_bits(spec))
    decoded = decode(word)
    return word if decoded is not None and decoded.spec is spec else None
