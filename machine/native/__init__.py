"""The native core: the hart in C (core.c), its instructions generated from
machine/isa/ (generate.py), driven by engine.py.

``NativeEngine`` is None when the extension was not built (no C compiler at
install time); ``unavailable_reason()`` then says why in one line.
"""

from __future__ import annotations

_reason: str | None = None
try:
    from . import _core  # noqa: F401
    from .engine import NativeEngine
except ImportError as error:  # built without a compiler, or a broken build
    NativeEngine = None  # type: ignore[assignment,misc]
    _reason = f"the C extension machine.native._core is missing ({error})"


def unavailable_reason() -> str | None:
    return _reason


__all__ = ["NativeEngine", "unavailable_reason"]
