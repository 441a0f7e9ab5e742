"""How an instruction is declared: once, with encoding, syntax and meaning.

``declare`` takes an encoding in the notation of the riscv-opcodes tables
(operand fields by name, fixed bit ranges as ``hi..lo=value``), an assembly
syntax and a Python snippet. Everything else (decoder, disassembler, test
assembler, interpreter, block compiler) is derived from the resulting
``InstructionSpec`` objects.

Snippet vocabulary (see machine/engine/codegen.py for how it is compiled):
  RS1, RS2        source register values, unsigned 64-bit ints
  RD = e          write the destination register (masked to 64 bits; x0 ignored)
  imm, shamt, csr, zimm, aq, rl, pred, succ, fm
                  decoded operand values (every immediate is called ``imm``)
  rd, rs1, rs2    register numbers (for rules such as "csrrs with rs1=x0 does
                  not write")
  PC, NEXT        this instruction's address, and PC + its length
  NPC = e         jump: the next pc
  S(e), SX32(e)   signed view of a 64-bit value / sign-extension of 32 bits
  INSN            the instruction bits (for an illegal-instruction tval)
  hart, mem       the hart (CSRs, traps, privileged operations) and the memory
                  access functions (load_u8 ... store_64, amo_32 ...)
A compressed instruction has no snippet: it ``expands`` to a base instruction
with its operands mapped, exactly as the specification defines it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .fields import FIELDS, Field


@dataclass(frozen=True)
class InstructionSpec:
    name: str
    extension: str
    match: int
    mask: int
    length: int
    fields: tuple[Field, ...]
    syntax: tuple[str, ...]  # operand templates, e.g. ("rd", "imm_i(rs1)", "@imm_b")
    semantics: str | None = None
    expands_to: str | None = None  # compressed: name of the base instruction
    expansion: tuple[tuple[str, int | str], ...] = ()  # base field -> c field / constant
    where: str | None = None  # decode-time validity rule over field values
    kind: frozenset[str] = field(default_factory=frozenset)

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    def decode_fields(self, word: int) -> dict[str, int]:
        return {f.name: f.decode(word) for f in self.fields}

    def accepts(self, word: int) -> bool:
        if word & self.mask != self.match:
            return False
        if self.where is None:
            return True
        return bool(eval(self.where, {}, self.decode_fields(word)))  # our own table's rule


def _parse_encoding(encoding: str) -> tuple[int, int, tuple[Field, ...]]:
    match = mask = 0
    fields: list[Field] = []
    for token in encoding.split():
        if "=" not in token:
            fields.append(FIELDS[token])
            continue
        bits, value = token.split("=")
        hi, lo = (int(b) for b in bits.split("..")) if ".." in bits else (int(bits),) * 2
        width_mask = (1 << (hi - lo + 1)) - 1
        v = int(value, 0)
        assert v <= width_mask, token
        mask |= width_mask << lo
        match |= v << lo
    return match, mask, tuple(fields)


def declare(table: list[InstructionSpec], name: str, encoding: str, syntax: str,
            semantics: str | None = None, *, ext: str, kind: str = "",
            expands: str | None = None, where: str | None = None) -> None:
    """Append one declaration to ``table`` (a module's list of specs)."""
    match, mask, fields = _parse_encoding(encoding)
    length = 2 if (match & 3) != 3 else 4
    covered = mask
    for f in fields:
        assert covered & f.word_bits == 0 or f.name in {"c_rd"}, (name, f.name)
        covered |= f.word_bits
    assert covered == (1 << (8 * length)) - 1, f"{name}: encoding leaves bits free"
    expands_to = None
    expansion: tuple[tuple[str, int | str], ...] = ()
    if expands:
        base, *pairs = expands.split()
        expands_to = base
        mapped: list[tuple[str, int | str]] = []
        for pair in pairs:
            key, value = pair.split("=")
            mapped.append((key, int(value) if value.isdigit() else value))
        expansion = tuple(mapped)
    table.append(InstructionSpec(
        name=name, extension=ext, match=match, mask=mask, length=length,
        fields=fields, syntax=tuple(s for s in syntax.split(",") if s),
        semantics=semantics, expands_to=expands_to, expansion=expansion,
        where=where, kind=frozenset(kind.split())))
