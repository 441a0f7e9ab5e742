"""RV64M: multiplication and division.

Division never traps: by zero it gives all ones (quotient) or the dividend
(remainder); the one signed overflow (most negative / -1) gives the dividend
and remainder zero. The helpers in machine/isa/arith.py spell those rules out.
"""

from __future__ import annotations

from .spec import InstructionSpec, declare

SPECS: list[InstructionSpec] = []

for _name, _f3, _expr in (
        ("mul", 0, "RS1 * RS2"),
        ("mulh", 1, "(S(RS1) * S(RS2)) >> 64"),
        ("mulhsu", 2, "(S(RS1) * RS2) >> 64"),
        ("mulhu", 3, "(RS1 * RS2) >> 64"),
        ("div", 4, "div64(S(RS1), S(RS2))"),
        ("divu", 5, "divu64(RS1, RS2)"),
        ("rem", 6, "rem64(S(RS1), S(RS2))"),
        ("remu", 7, "remu64(RS1, RS2)")):
    declare(SPECS, _name, f"rd rs1 rs2 31..25=1 14..12={_f3} 6..0=0x33", "rd,rs1,rs2",
            f"RD = {_expr}", ext="M")

for _name, _f3, _expr in (
        ("mulw", 0, "SX32(RS1 * RS2)"),
        ("divw", 4, "SX32(div64(SX32(RS1), SX32(RS2)))"),
        ("divuw", 5, "SX32(divu64(RS1 & 0xFFFFFFFF, RS2 & 0xFFFFFFFF))"),
        ("remw", 6, "SX32(rem64(SX32(RS1), SX32(RS2)))"),
        ("remuw", 7, "SX32(remu64(RS1 & 0xFFFFFFFF, RS2 & 0xFFFFFFFF))")):
    declare(SPECS, _name, f"rd rs1 rs2 31..25=1 14..12={_f3} 6..0=0x3b", "rd,rs1,rs2",
            f"RD = {_expr}", ext="M")
