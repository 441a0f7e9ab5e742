"""A small assembler for tests, derived from the declarations.

``asm("addi a0, zero, 5")`` returns the instruction words. Several lines
(separated by newlines or ';') may use labels (``loop:``) as branch/jump
targets; ``assemble(text, origin)`` returns the bytes to load at ``origin``.
It knows the operand syntax every declaration states, plus a few pseudo
instructions tests like to write (nop, mv, li, j, ret, beqz, bnez, csrr,
csrw, csrs, csrc) and the directives .word/.half/.dword. AMO/LR/SC take
their ordering bits as mnemonic suffixes (``amoswap.w.aq``), as the
disassembler prints them.
"""

from __future__ import annotations

import re

from .csr_names import CSR_NUMBERS
from .decoder import BY_NAME
from .disasm import ABI_NAMES, ordering_suffix
from .fields import FIELDS
from .spec import InstructionSpec

_REGISTERS = {name: i for i, name in enumerate(ABI_NAMES)}
_REGISTERS.update({f"x{i}": i for i in range(32)})
_REGISTERS["fp"] = 8
_LABEL = re.compile(r"^([A-Za-z_.][\w.]*):\s*(.*)$")


class AsmError(ValueError):
    pass


def _number(text: str, labels: dict[str, int], pc: int, relative: bool) -> int:
    text = text.strip()
    if text in labels:
        return labels[text] - pc if relative else labels[text]
    try:
        return int(text, 0)
    except ValueError:
        raise AsmError(f"not a number or known label: {text!r}") from None


def _register(text: str) -> int:
    try:
        return _REGISTERS[text.strip()]
    except KeyError:
        raise AsmError(f"not a register: {text!r}") from None


def _fence_bits(text: str) -> int:
    text = text.strip()
    if text == "0":
        return 0
    bits = 0
    for ch in text:
        if ch not in "iorw":
            raise AsmError(f"bad fence set {text!r}")
        bits |= 8 >> "iorw".index(ch)
    return bits


def _operand_value(field_name: str, text: str, labels: dict[str, int], pc: int,
                   relative: bool) -> int:
    field = FIELDS[field_name]
    if field.kind == "reg":
        return _register(text)
    if field.kind == "csr":
        return CSR_NUMBERS[text.strip()] if text.strip() in CSR_NUMBERS else int(text, 0)
    if field.kind == "fence":
        return _fence_bits(text)
    value = _number(text, labels, pc, relative)
    if field_name in ("imm_u", "c_lui_imm"):
        value = (value << 12) if value < (1 << 20) else value
        value = value - (1 << 32) if value >= (1 << 31) else value
    return value


def _resolve(mnemonic: str) -> tuple[InstructionSpec, dict[str, int]]:
    """The declaration a mnemonic names, with the aq/rl bits of a suffix
    (``amoadd.w.aqrl``, ``lr.d.aq``)."""
    if mnemonic in BY_NAME:
        return BY_NAME[mnemonic], {}
    for aq, rl in ((1, 1), (1, 0), (0, 1)):
        base = BY_NAME.get(mnemonic.removesuffix(ordering_suffix(aq, rl)))
        if base is not None and "aq" in base.field_names:
            return base, {"aq": aq, "rl": rl}
    raise AsmError(f"unknown instruction {mnemonic!r}")


def _encode(mnemonic: str, operand_texts: list[str], labels: dict[str, int],
            pc: int) -> int:
    spec, preset = _resolve(mnemonic)
    templates = spec.syntax
    if len(templates) != len(operand_texts):
        raise AsmError(f"{spec.name} takes {len(templates)} operands")
    values: dict[str, int] = {f.name: 0 for f in spec.fields} | preset
    for template, text in zip(templates, operand_texts):
        relative = template.startswith("@")
        template = template.lstrip("@")
        m = re.fullmatch(r"([a-z0-9_]*)\(([a-z0-9_]+)\)", template)
        if m:
            t = re.fullmatch(r"\s*([^()]*)\(\s*([\w]+)\s*\)\s*", text)
            if not t:
                raise AsmError(f"{spec.name}: expected offset(register), got {text!r}")
            pairs = [(m.group(1), t.group(1) or "0"), (m.group(2), t.group(2))]
        else:
            pairs = [(template, text)]
        for name, piece in pairs:
            if not name:
                continue
            if name in ("sp", "zero", "ra"):
                if _register(piece) != _REGISTERS[name]:
                    raise AsmError(f"{spec.name}: operand must be {name}")
                continue
            values[name] = _operand_value(name, piece, labels, pc, relative)
    word = spec.match
    for f in spec.fields:
        if not f.fits(values[f.name]):
            raise AsmError(f"{spec.name}: {f.name}={values[f.name]} does not fit")
        word |= f.encode(values[f.name])
    if not spec.accepts(word):
        raise AsmError(f"{spec.name}: operands form a reserved encoding")
    return word


def _split_operands(text: str) -> list[str]:
    return [p.strip() for p in text.split(",")] if text.strip() else []


def _expand_pseudo(mnemonic: str, ops: list[str]) -> list[tuple[str, list[str]]]:
    """Pseudo-instructions as the base instructions they stand for."""
    if mnemonic == "nop":
        return [("addi", ["zero", "zero", "0"])]
    if mnemonic == "mv":
        return [("addi", [ops[0], ops[1], "0"])]
    if mnemonic == "j":
        return [("jal", ["zero", ops[0]])]
    if mnemonic == "ret":
        return [("jalr", ["zero", "0(ra)"])]
    if mnemonic in ("beqz", "bnez"):
        return [(mnemonic[:3], [ops[0], "zero", ops[1]])]
    if mnemonic == "csrr":
        return [("csrrs", [ops[0], ops[1], "zero"])]
    if mnemonic in ("csrw", "csrs", "csrc"):
        return [("csrr" + mnemonic[3], ["zero", ops[0], ops[1]])]
    if mnemonic == "li":
        value = int(ops[1], 0)
        if -2048 <= value < 2048:
            return [("addi", [ops[0], "zero", str(value)])]
        if -(1 << 31) <= value < (1 << 31):
            low = ((value & 0xFFF) ^ 0x800) - 0x800
            high = ((value - low) >> 12) & 0xFFFFF
            return [("lui", [ops[0], hex(high)]), ("addiw", [ops[0], ops[0], str(low)])]
        raise AsmError(f"li: {value} needs more than 32 bits")
    return [(mnemonic, ops)]


def _lines(text: str) -> list[str]:
    out = []
    for line in text.replace(";", "\n").splitlines():
        line = line.split("#")[0].strip()
        if line:
            out.append(line)
    return out


def _statements(text: str) -> list[tuple[str | None, str, list[str]]]:
    result: list[tuple[str | None, str, list[str]]] = []
    for line in _lines(text):
        label = None
        m = _LABEL.match(line)
        if m:
            label, line = m.group(1), m.group(2)
        if not line:
            result.append((label, "", []))
            continue
        mnemonic, _, rest = line.partition(" ")
        for name, ops in _expand_pseudo(mnemonic.lower(), _split_operands(rest)):
            result.append((label, name, ops))
            label = None
    return result


_DIRECTIVES = {".half": 2, ".word": 4, ".dword": 8}


def _size(name: str) -> int:
    if name in _DIRECTIVES:
        return _DIRECTIVES[name]
    return _resolve(name)[0].length


def assemble(text: str, origin: int = 0) -> bytes:
    statements = _statements(text)
    labels: dict[str, int] = {}
    pc = origin
    for label, name, _ in statements:
        if label:
            labels[label] = pc
        if name:
            pc += _size(name)
    out = bytearray()
    pc = origin
    for _, name, ops in statements:
        if not name:
            continue
        size = _size(name)
        if name in _DIRECTIVES:
            value = _number(ops[0], labels, pc, False)
        else:
            value = _encode(name, ops, labels, pc)
        out += (value & ((1 << (8 * size)) - 1)).to_bytes(size, "little")
        pc += size
    return bytes(out)


def asm(text: str, origin: int = 0) -> list[int]:
    """The instruction words of ``text`` (16-bit ones for compressed forms)."""
    code = assemble(text, origin)
    words, i = [], 0
    while i < len(code):
        length = 4 if code[i] & 3 == 3 else 2
        words.append(int.from_bytes(code[i:i + length], "little"))
        i += length
    return words
