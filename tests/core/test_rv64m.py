"""RV64M: products, and the division results the specification tabulates
(division by zero and signed overflow never trap)."""

from __future__ import annotations

import pytest

from .harness import run

NEG1 = (1 << 64) - 1
MIN64 = 1 << 63
MAX64 = MIN64 - 1
SX32_MIN = 0xFFFFFFFF80000000


@pytest.mark.parametrize("op, a1, a2, expected", [
    ("mul", NEG1, NEG1, 1),
    ("mul", MIN64, NEG1, MIN64),
    ("mul", 0x123456789ABCDEF0, 0xFEDCBA9876543210, 0x236D88FE5618CF00),
    ("mulh", MIN64, MIN64, 0x4000000000000000),
    ("mulh", MIN64, MAX64, 0xC000000000000000),
    ("mulh", NEG1, 1, NEG1),
    ("mulh", NEG1, NEG1, 0),
    ("mulh", 2, NEG1, NEG1),
    ("mulh", 0x123456789ABCDEF0, 0xFEDCBA9876543210, 0xFFEB49923CC09532),
    ("mulhsu", NEG1, NEG1, NEG1),           # -1 * (2**64 - 1)
    ("mulhsu", 2, NEG1, 1),
    ("mulhsu", MIN64, MIN64, 0xC000000000000000),
    ("mulhsu", NEG1, 1, NEG1),
    ("mulhu", NEG1, NEG1, 0xFFFFFFFFFFFFFFFE),
    ("mulhu", MIN64, MAX64, 0x3FFFFFFFFFFFFFFF),
    ("mulhu", NEG1, 1, 0),
    ("mulw", 0x7FFFFFFF, 2, 0xFFFFFFFFFFFFFFFE),
    ("mulw", 0xFFFFFFFF00010000, 0x123400010000, 0),        # low 32 bits of the product
    ("mulw", 0x10000, 0x8000, SX32_MIN),
])
def test_multiplication(op: str, a1: int, a2: int, expected: int) -> None:
    m = run(f"{op} a0, a1, a2", a1=a1, a2=a2)
    assert m["a0"] == expected


@pytest.mark.parametrize("op, a1, a2, expected", [
    # division by zero: quotient all ones, remainder the dividend
    ("div", 7, 0, NEG1), ("div", MIN64, 0, NEG1),
    ("divu", 7, 0, NEG1),
    ("rem", 7, 0, 7), ("rem", NEG1 - 6, 0, NEG1 - 6),
    ("remu", 0xDEADBEEF, 0, 0xDEADBEEF),
    # signed overflow: quotient = dividend, remainder 0
    ("div", MIN64, NEG1, MIN64), ("rem", MIN64, NEG1, 0),
    # rounding toward zero, remainder takes the dividend's sign
    ("div", NEG1 - 6, 2, NEG1 - 2),          # -7 / 2 = -3
    ("div", 7, NEG1 - 1, NEG1 - 2),          # 7 / -2 = -3
    ("rem", NEG1 - 6, 2, NEG1),              # -7 % 2 = -1
    ("rem", 7, NEG1 - 1, 1),                 # 7 % -2 = 1
    ("divu", NEG1, 2, MAX64),
    ("remu", NEG1, 10, 5),
    ("divu", MIN64, NEG1, 0),
    # W forms: 32-bit operands, sign-extended 32-bit results
    ("divw", 0x80000000, NEG1, SX32_MIN), ("remw", 0x80000000, NEG1, 0),
    ("divw", 0x80000000, 0xFFFFFFFF, SX32_MIN),          # rs2 low word = -1
    ("divw", 5, 0, NEG1), ("remw", 5, 0, 5),
    ("remw", 0x80000000, 0, SX32_MIN),                   # the dividend, sign-extended
    ("divw", 0x100000006, 0xFFFFFFFF00000003, 2),        # upper halves ignored
    ("divw", 0xFFFFFFF9, 2, NEG1 - 2),                   # -7 / 2
    ("remw", 0xFFFFFFF9, 2, NEG1),
    ("divuw", 5, 0, NEG1),                               # 0xffffffff sign-extended
    ("divuw", 0x80000000, 1, SX32_MIN),
    ("divuw", 0xFFFFFFFF, 2, 0x7FFFFFFF),
    ("divuw", 0x1FFFFFFFF, 0x100000001, 0xFFFFFFFFFFFFFFFF),  # 0xffffffff / 1
    ("remuw", 0x180000001, 0, 0xFFFFFFFF80000001),
    ("remuw", 0xFFFFFFFF, 0x10, 0xF),
])
def test_division(op: str, a1: int, a2: int, expected: int) -> None:
    m = run(f"{op} a0, a1, a2", a1=a1, a2=a2)
    assert not m.traps
    assert m["a0"] == expected
