"""Arithmetic the specification defines case by case (RV64M division).

Arguments are Python ints (signed where the name says so); results are
returned unmasked, the caller masks to the register width.
"""

from __future__ import annotations


def div64(a: int, b: int) -> int:
    """Signed division rounding toward zero; x/0 = -1. For 32-bit operands
    (divw) the overflow case -2**31 / -1 yields 2**31, which SX32 turns back
    into -2**31, as the specification asks."""
    if b == 0:
        return -1
    q = abs(a) // abs(b)
    q = -q if (a < 0) != (b < 0) else q
    return -(1 << 63) if q == 1 << 63 else q


def rem64(a: int, b: int) -> int:
    """Remainder with the sign of the dividend; x%0 = x."""
    if b == 0:
        return a
    r = abs(a) % abs(b)
    return -r if a < 0 else r


def divu64(a: int, b: int) -> int:
    return a // b if b else 0xFFFFFFFFFFFFFFFF


def remu64(a: int, b: int) -> int:
    return a % b if b else a
