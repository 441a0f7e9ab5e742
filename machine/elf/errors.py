"""The one error machine.elf raises, and what pyelftools may raise on a
damaged file (so the boundary catches exactly those and nothing of ours)."""

from __future__ import annotations

import struct

from elftools.common.exceptions import DWARFError, ELFError
from elftools.construct import ConstructError

# pyelftools reports bad input with its own exceptions, but a damaged file
# can also surface as a plain lookup, arithmetic or type error deep inside
# its parsers (an out-of-range index, a None where a struct was expected),
# or as runaway recursion on a reference cycle.
PARSE_ERRORS: tuple[type[BaseException], ...] = (
    ELFError,
    DWARFError,
    ConstructError,
    struct.error,
    ArithmeticError,
    AssertionError,
    AttributeError,
    EOFError,
    LookupError,
    NotImplementedError,
    RecursionError,
    TypeError,
    ValueError,
)


class ElfError(ValueError):
    """An image that cannot be used; ``str()`` is one line: ``path: reason``."""

    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        self.reason = one_line(reason)
        super().__init__(f"{path}: {self.reason}")


def one_line(text: object) -> str:
    return " ".join(str(text).split())


def describe(exc: BaseException) -> str:
    """An exception as one line: its message, or its type when it has none."""
    return one_line(exc) or type(exc).__name__
