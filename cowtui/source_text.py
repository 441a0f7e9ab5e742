"""The text of a source line a finding blames, read from the kernel's tree.

DWARF names files relative to the compilation directory (``kernel/vm.c``);
xv6 and our teaching kernel build from the directory above ``kernel/``, so
the file lies beside the kernel ELF's directory (``xv6/kernel/kernel`` ->
``xv6/kernel/vm.c``). Missing files (a kernel copied elsewhere) give None.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path


def source_text(kernel: str | Path, file: str | None, line: int | None) -> str | None:
    if not file or not line or line < 1:
        return None
    base = Path(kernel).resolve().parent
    for root in (base.parent, base, base.parent.parent):
        lines = _lines(root / file)
        if lines is not None:
            return lines[line - 1].strip() if line <= len(lines) else None
    return None


@lru_cache(maxsize=64)
def _lines(path: Path) -> list[str] | None:
    try:
        return path.read_text(errors="replace").splitlines()
    except OSError:
        return None


def blamed_line(kernel: str | Path, violation) -> tuple[str, str | None] | None:
    """(``file:line``, its text) of the store a violation blames, if known."""
    blame = violation.blame
    if blame is None or not blame.stack:
        return None
    frame = blame.stack[0]
    if frame.file is None or frame.line is None:
        return None
    return f"{frame.file}:{frame.line}", source_text(kernel, frame.file, frame.line)
