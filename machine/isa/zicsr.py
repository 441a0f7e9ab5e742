"""Zicsr (the six CSR instructions) and Zifencei.

The rules on whether a CSR is read or written at all (csrrw with rd=x0 does
not read; csrrs/csrrc with rs1=x0, or a zero immediate, do not write) are
stated here; permissions and side effects live in machine/csr.py.
"""

from __future__ import annotations

from .spec import InstructionSpec, declare

SPECS: list[InstructionSpec] = []

for _name, _f3, _source, _op, _writes in (
        ("csrrw", 1, "RS1", "write", "True"), ("csrrs", 2, "RS1", "set", "rs1 != 0"),
        ("csrrc", 3, "RS1", "clear", "rs1 != 0"), ("csrrwi", 5, "zimm", "write", "True"),
        ("csrrsi", 6, "zimm", "set", "zimm != 0"), ("csrrci", 7, "zimm", "clear", "zimm != 0")):
    reads = "rd != 0" if _op == "write" else "True"
    operand = "rs1" if _source == "RS1" else "zimm"
    declare(SPECS, _name, f"rd {operand} csr 14..12={_f3} 6..0=0x73", f"rd,csr,{operand}",
            f"RD = hart.csr_access(csr, '{_op}', {_source}, {reads}, {_writes}, INSN)",
            ext="Zicsr", kind="csr")

declare(SPECS, "fence.i", "imm_i rs1 14..12=1 rd 6..0=0x0f", "",
        "hart.fence_i()", ext="Zifencei", kind="system")
