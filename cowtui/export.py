"""``e``: what the user can take away — an SVG of the screen, the selected
process's page table as xv6's vmprint prints it, and the trace as JSON lines
in the format ``--json`` prints (trace_format)."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from machine.introspect.pagetable import vmprint

from .locations import Locator
from .session import Session
from .trace_format import jsonl


def export_all(session: Session, directory: Path, pid: int | None,
               save_svg: Callable[[str, str], str]) -> list[Path]:
    """Write the three files into ``directory``; returns their paths."""
    directory = directory.expanduser()
    if not directory.is_dir():     # a typo must not leave a new directory behind
        raise NotADirectoryError(f"no such directory: {directory}")
    stem = f"cowtui-{re.sub(r'[^A-Za-z0-9_.-]', '_', session.scenario.name)}-" \
           f"{session.machine.icount}"
    written = [Path(save_svg(f"{stem}.svg", str(directory)))]
    process = next((p for p in session.view.processes() if p.pid == pid), None)
    if process is not None and process.pagetable:
        path = directory / f"{stem}-pid{pid}.vmprint.txt"
        path.write_text(vmprint(session.view.read_page, process.pagetable))
        written.append(path)
    path = directory / f"{stem}-trace.jsonl"
    path.write_text(jsonl(Locator(session.machine, session.scenario.kernel),
                          list(session.trace)))
    written.append(path)
    return written
