"""The disassembler: objdump-style text from the declarations' syntax.

``addi a0,a0,1``, ``lw a5,8(sp)``, ``c.addi a0,1``, ``amoadd.w.aqrl t0,a1,(a0)``
(the ordering bits as mnemonic suffixes, as objdump shows them); a branch or
jump target is shown as an absolute address when the instruction's pc is
known, else as the signed offset. CSRs are shown by name when they have one,
else in hex; FENCE sets as ``iorw`` letters (``0`` for the empty set).
"""

from __future__ import annotations

import re

from .csr_names import CSR_NAMES
from .decoder import Decoded, decode

ABI_NAMES = ("zero", "ra", "sp", "gp", "tp", "t0", "t1", "t2", "s0", "s1", "a0", "a1",
             "a2", "a3", "a4", "a5", "a6", "a7", "s2", "s3", "s4", "s5", "s6", "s7",
             "s8", "s9", "s10", "s11", "t3", "t4", "t5", "t6")
_FENCE_BITS = "iorw"
_OPERAND = re.compile(r"^(@?)([a-z0-9_]*)(?:\(([a-z0-9_]+)\))?$")


def fence_set(bits: int) -> str:
    return "".join(ch for i, ch in enumerate(_FENCE_BITS) if bits & (8 >> i)) or "0"


def _format(decoded: Decoded, name: str, pc: int | None, relative: bool) -> str:
    if name in ("sp", "zero", "ra"):  # a fixed register spelled in the syntax
        return name
    field = next(f for f in decoded.spec.fields if f.name == name)
    value = decoded.operands[name]
    if relative:
        return f"0x{(pc + value) & 0xFFFFFFFFFFFFFFFF:x}" if pc is not None else str(value)
    if field.kind == "reg":
        return ABI_NAMES[value]
    if field.kind == "csr":
        return CSR_NAMES.get(value, f"0x{value:x}")
    if field.kind == "fence":
        return fence_set(value)
    if name in ("imm_u", "c_lui_imm"):
        return f"0x{(value >> 12) & 0xFFFFF:x}"  # objdump shows the upper 20 bits
    return str(value)


def ordering_suffix(aq: int, rl: int) -> str:
    """``.aq``, ``.rl``, ``.aqrl`` or nothing, for an AMO/LR/SC's aq and rl bits."""
    return "." + "aq" * aq + "rl" * rl if aq or rl else ""


def format_decoded(decoded: Decoded, pc: int | None = None) -> str:
    name = decoded.spec.name
    if "aq" in decoded.operands:
        name += ordering_suffix(decoded.operands["aq"], decoded.operands["rl"])
    parts = []
    for template in decoded.spec.syntax:
        m = _OPERAND.match(template)
        assert m, template
        at, outer, inner = m.groups()
        text = _format(decoded, outer, pc, bool(at)) if outer else ""
        if inner:
            text += f"({_format(decoded, inner, pc, False)})"
        parts.append(text)
    return f"{name} {','.join(parts)}" if parts else name


def disassemble(word: int, pc: int | None = None) -> str:
    decoded = decode(word)
    if decoded is None:
        width = 4 if word & 3 == 3 else 2
        return f".insn 0x{word & ((1 << (8 * width)) - 1):0{2 * width}x}  # illegal"
    return format_decoded(decoded, pc)
