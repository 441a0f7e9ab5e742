"""The native core: the hart in C (core.c), its instructions generated from
machine/isa/ (generate.py), driven by engine.py.

``NativeEngine`` is None when the extension was not built (no C compiler at
install time); ``unavailable_reason()`` then says why in one line.
"""

from __future__ import annotations

import importlib.util

_reason: str | None = None
if importlib.util.find_spec(f"{__name__}._core") is None:
    NativeEngine = None  # type: ignore[assignment,misc]
    _reason = ("the native core was not built (no working C compiler when cowtui was "
               "installed; install one and reinstall cowtui to get it)")
else:
    try:
        from .engine import NativeEngine
    except ImportError as error:  # a broken build
        NativeEngine = None  # type: ignore[assignment,misc]
        _reason = f"the native core does not load: {error}"


def unavailable_reason() -> str | None:
    return _reason


__all__ = ["NativeEngine", "unavailable_reason"]
