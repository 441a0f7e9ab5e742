"""Observers' state frozen into compact bytes, for time travel's checkpoints.

A checkpoint keeps what the observers (tracker, session, PTE history, ...)
had learnt at its instruction. Deep copies of those object graphs cost
~0.75 MiB of Python objects and ~40 ms each; pickled and zlib-compressed
they take ~10 KiB, and unpickling is a C loop. Objects that are no state of
a moment (the machine, the observers themselves, their locks: "pinned")
are written as a reference and come back as the same live object, as a
deepcopy memo would keep them.
"""

from __future__ import annotations

import io
import pickle
import zlib
from collections.abc import Sequence
from typing import Any


class _Pickler(pickle.Pickler):
    def __init__(self, file: io.BytesIO, pinned: dict[int, int]) -> None:
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self._pinned = pinned

    def persistent_id(self, obj: Any) -> int | None:
        return self._pinned.get(id(obj))


class _Unpickler(pickle.Unpickler):
    def __init__(self, file: io.BytesIO, pinned: Sequence[object]) -> None:
        super().__init__(file)
        self._pinned = pinned

    def persistent_load(self, pid: Any) -> object:
        return self._pinned[pid]


def freeze(value: Any, pinned: Sequence[object]) -> bytes:
    """``value`` as bytes; the ``pinned`` objects it refers to are kept by reference."""
    buffer = io.BytesIO()
    _Pickler(buffer, {id(obj): number for number, obj in enumerate(pinned)}).dump(value)
    return zlib.compress(buffer.getvalue(), 1)


def thaw(frozen: bytes, pinned: Sequence[object]) -> Any:
    """A fresh copy of what ``freeze`` was given, with the same ``pinned`` objects."""
    return _Unpickler(io.BytesIO(zlib.decompress(frozen)), pinned).load()
