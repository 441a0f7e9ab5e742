"""How many programs the differential tests compared (reported by conftest)."""

from __future__ import annotations

from collections import Counter

COMPARED: Counter[str] = Counter()
LAUNCHES = 0


def count(mode: str, programs: int) -> None:
    global LAUNCHES
    COMPARED[mode] += programs
    LAUNCHES += 1
