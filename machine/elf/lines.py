"""Source lines from the DWARF line programs (DWARF 2 to 5).

pyelftools decodes each compilation unit's line program into rows; this module
turns all of them into one sorted table, built once:

- ``source_line(pc)``: the row whose range holds ``pc``. When several rows
  share an address (GCC emits one per "view": the function's ``{`` line, then
  its first statements, all at the entry address), the last row that is a
  statement (``is_stmt``) wins, or the last row if none is, which is the row
  gdb reports.
- ``source_line_in(pc, file)``: the same, but among the rows at that address
  the last one in ``file`` when there is one. A caller frame needs it: GCC
  puts an inlined helper's last line (``riscv.h:260``, r_stval's return) and
  the caller's own line (``trap.c:73``) at one address, and the helper's row
  is the statement, yet the call after it is the caller's.
- ``address_of_line(file, line)``: the lowest address of a statement row for
  that line; a line without code moves on to the next line that has some, as
  a gdb breakpoint does. ``file`` matches a file by basename or path suffix.

File numbering differs by version: in DWARF 5 file 0 is valid (the primary
source file) and directory 0 is the compilation directory; in DWARF 2 to 4
files count from 1 and directory 0 means the compilation directory. The line
program's own version decides, and it can differ from its CU's version.
"""

from __future__ import annotations

import bisect
import posixpath
from collections.abc import Callable
from typing import Any

from elftools.dwarf.dwarfinfo import DWARFInfo

from .errors import PARSE_ERRORS, describe

# (address, file index into LineTable._paths, line, is_stmt)
_Row = tuple[int, int, int, bool]


class LineTable:
    def __init__(self) -> None:
        self._addresses: list[int] = []
        self._locations: list[tuple[str, int] | None] = []
        # address -> every row's location there, in order, with is_stmt, where
        # the rows at one address name more than one file
        self._mixed: dict[int, list[tuple[tuple[str, int], bool]]] = {}
        # full path -> display path; full path -> line -> (lowest stmt addr, lowest addr)
        self._display: dict[str, str] = {}
        self._lines: dict[str, dict[int, list[int | None]]] = {}
        self._sorted_lines: dict[str, list[int]] = {}
        self.skipped_units: list[str] = []  # CUs whose line program could not be read

    @classmethod
    def build(cls, dwarf: DWARFInfo, in_image: Callable[[int], bool]) -> LineTable:
        """Read every CU's line program. Sequences that start outside the
        image (functions the linker discarded keep rows at address 0) are
        dropped."""
        table = cls()
        sequences: list[tuple[int, int, list[tuple[int, tuple[str, int] | None]]]] = []
        paths: list[str] = []
        path_index: dict[str, int] = {}
        for cu in dwarf.iter_CUs():
            try:
                rows_by_seq = table._read_unit(dwarf, cu, paths, path_index)
            except PARSE_ERRORS as exc:  # a CU pyelftools cannot read: keep the rest
                table.skipped_units.append(f"CU at {cu.cu_offset:#x}: {describe(exc)}")
                continue
            for rows, end in rows_by_seq:
                if not rows or not in_image(rows[0][0]):
                    continue
                table._index_rows(rows, paths)
                sequences.append(
                    (rows[0][0], end, _collapse(rows, paths, table._display, table._mixed))
                )
        sequences.sort(key=lambda s: (s[0], s[1]))
        last_end = -1
        for start, end, collapsed in sequences:
            if start < last_end:  # overlaps an earlier sequence: keep the first
                continue
            for address, location in collapsed:
                table._addresses.append(address)
                table._locations.append(location)
            table._addresses.append(end)
            table._locations.append(None)
            last_end = end
        for full, lines in table._lines.items():
            table._sorted_lines[full] = sorted(lines)
        return table

    # -- queries -----------------------------------------------------------

    def source_line(self, address: int) -> tuple[str, int] | None:
        i = bisect.bisect_right(self._addresses, address) - 1
        if i < 0:
            return None
        return self._locations[i]

    def source_line_in(self, address: int, file: str) -> tuple[str, int] | None:
        """``source_line``, preferring the rows of ``file`` (a display path)."""
        i = bisect.bisect_right(self._addresses, address) - 1
        if i < 0:
            return None
        rows = self._mixed.get(self._addresses[i])
        if rows is None:
            return self._locations[i]
        in_file = [(location, stmt) for location, stmt in rows if location[0] == file]
        if not in_file:
            return self._locations[i]
        statements = [location for location, stmt in in_file if stmt]
        return statements[-1] if statements else in_file[-1][0]

    def address_of_line(self, file: str, line: int) -> int | None:
        candidates = [full for full in self._lines if _path_matches(file, full)]
        if not candidates:
            return None
        # Prefer a file that has code on exactly this line.
        for full in candidates:
            found = self._lines[full].get(line)
            if found is not None:
                return found[0] if found[0] is not None else found[1]
        best: tuple[int, int] | None = None  # (next line with code, address)
        for full in candidates:
            lines = self._sorted_lines[full]
            i = bisect.bisect_right(lines, line)
            if i < len(lines):
                found = self._lines[full][lines[i]]
                address = found[0] if found[0] is not None else found[1]
                assert address is not None
                if best is None or lines[i] < best[0]:
                    best = (lines[i], address)
        return best[1] if best else None

    def files(self) -> list[str]:
        """Display paths of every source file that has line rows."""
        return sorted({self._display[f] for f in self._lines})

    def __len__(self) -> int:
        return len(self._addresses)

    # -- building ----------------------------------------------------------

    def _read_unit(
        self, dwarf: DWARFInfo, cu: Any, paths: list[str], path_index: dict[str, int]
    ) -> list[tuple[list[_Row], int]]:
        program = dwarf.line_program_for_CU(cu)
        if program is None:
            return []
        entries = program.get_entries()  # decode first: DW_LNE_define_file adds files
        comp_dir = unit_comp_dir(cu)
        file_ids: dict[int, int] = {}
        for number, (full, display) in unit_files(program, comp_dir).items():
            if full not in path_index:
                path_index[full] = len(paths)
                paths.append(full)
                self._display[full] = display
            file_ids[number] = path_index[full]

        sequences: list[tuple[list[_Row], int]] = []
        rows: list[_Row] = []
        for entry in entries:
            state = entry.state
            if state is None:
                continue
            if state.end_sequence:
                sequences.append((rows, state.address))
                rows = []
                continue
            file_id = file_ids.get(state.file)
            if file_id is None:  # a file index the header does not define
                file_id = -1
            rows.append((state.address, file_id, state.line, bool(state.is_stmt)))
        return sequences

    def _index_rows(self, rows: list[_Row], paths: list[str]) -> None:
        for address, file_id, line, is_stmt in rows:
            if file_id < 0 or line == 0:
                continue
            per_line = self._lines.setdefault(paths[file_id], {})
            found = per_line.get(line)
            if found is None:
                found = per_line[line] = [None, None]
            if is_stmt and (found[0] is None or address < found[0]):
                found[0] = address
            if found[1] is None or address < found[1]:
                found[1] = address


def _collapse(
    rows: list[_Row], paths: list[str], display: dict[str, str],
    mixed: dict[int, list[tuple[tuple[str, int], bool]]],
) -> list[tuple[int, tuple[str, int] | None]]:
    """One location per address: the last statement row there, else the last
    row. Where the rows at an address name several files, all of them go
    into ``mixed``."""
    out: list[tuple[int, tuple[str, int] | None]] = []
    i = 0
    while i < len(rows):
        address = rows[i][0]
        chosen = rows[i]
        chosen_stmt = False
        here: list[tuple[tuple[str, int], bool]] = []
        while i < len(rows) and rows[i][0] == address:
            if rows[i][3] or not chosen_stmt:
                chosen = rows[i]
                chosen_stmt = rows[i][3]
            if rows[i][1] >= 0 and rows[i][2]:
                here.append(((display[paths[rows[i][1]]], rows[i][2]), rows[i][3]))
            i += 1
        if len({location[0] for location, _ in here}) > 1:
            mixed[address] = here
        _, file_id, line, _ = chosen
        location = None if file_id < 0 or line == 0 else (display[paths[file_id]], line)
        out.append((address, location))
    return out


def unit_comp_dir(cu: Any) -> str:
    top = cu.get_top_DIE()
    return _text(top.attributes["DW_AT_comp_dir"].value) \
        if "DW_AT_comp_dir" in top.attributes else ""


def unit_files(program: Any, comp_dir: str) -> dict[int, tuple[str, str]]:
    """A line program's file numbers (as DW_AT_decl_file and DW_AT_call_file
    use them too) -> (full path, display path)."""
    version = program["version"]
    dirs = [_text(d) for d in program["include_directory"]]
    first_file = 0 if version >= 5 else 1
    files: dict[int, tuple[str, str]] = {}
    for n, entry in enumerate(program["file_entry"]):
        name = _text(entry.name)
        d = entry.dir_index or 0
        if version >= 5:
            directory = dirs[d] if d < len(dirs) else comp_dir
        else:
            directory = comp_dir if d == 0 else (dirs[d - 1] if d - 1 < len(dirs) else "")
        files[n + first_file] = _paths(name, directory, comp_dir)
    return files


def _paths(name: str, directory: str, comp_dir: str) -> tuple[str, str]:
    """(full path, display path relative to the compilation directory)."""
    if posixpath.isabs(name):
        full = name
    elif posixpath.isabs(directory):
        full = posixpath.join(directory, name)
    else:
        full = posixpath.join(comp_dir, directory, name)
    full = posixpath.normpath(full)
    display = full
    if comp_dir:
        root = posixpath.normpath(comp_dir)
        if full.startswith(root.rstrip("/") + "/"):
            display = full[len(root.rstrip("/")) + 1 :]
    return full, display


def _path_matches(query: str, full: str) -> bool:
    query = query.strip()
    if posixpath.isabs(query):
        return posixpath.normpath(query) == full
    wanted = [p for p in query.split("/") if p not in ("", ".")]
    have = full.split("/")
    return bool(wanted) and have[-len(wanted) :] == wanted


def _text(value: object) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return "" if value is None else str(value)
