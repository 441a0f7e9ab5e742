"""A RISC-V RV64 ELF image: validated on open, loadable into RAM, with its
symbols and (parsed lazily, on first use) its DWARF line table, types and
global variables.

Everything wrong with the file becomes one ``ElfError`` whose text is a
single line naming the file and the reason, e.g.
``kernel/kernel: not a RISC-V ELF (machine is x86-64)``; no pyelftools
exception or traceback gets out. A kernel without DWARF (or with DWARF
pyelftools cannot read) still loads and has symbols: the DWARF queries then
return None and ``dwarf_error`` says why.
"""

from __future__ import annotations

import hashlib
import io
import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from elftools.dwarf.dwarfinfo import DWARFInfo
from elftools.elf.constants import SH_FLAGS
from elftools.elf.elffile import ELFFile

from .cfi import CallFrameTable, UnwindRule
from .errors import PARSE_ERRORS, ElfError, describe
from .inlines import Enclosing, InlineTable
from .lines import LineTable
from .symbols import RawSymbol, Symbol, SymbolTable
from .typeinfo import DwarfTypes, TypeInfo, VariableInfo

EM_RISCV = 243
_ELF64_EHDR_SIZE = 64
_ELF64_PHDR_SIZE = 56
_ELF64_SHDR_SIZE = 64
_MACHINES = {
    0: "none",
    3: "x86 (i386)",
    8: "MIPS",
    20: "PowerPC",
    21: "PowerPC64",
    22: "S/390",
    40: "ARM",
    62: "x86-64",
    183: "AArch64",
    258: "LoongArch",
}


@dataclass(frozen=True, slots=True)
class LoadSegment:
    paddr: int
    vaddr: int
    data: bytes  # the file bytes (p_filesz of them)
    memsz: int  # bytes in memory; those past len(data) are zero (BSS)
    flags: int = 0  # p_flags: PF_X 1, PF_W 2, PF_R 4

    @property
    def filesz(self) -> int:
        return len(self.data)

    def __repr__(self) -> str:
        return (
            f"LoadSegment(paddr={self.paddr:#x}, vaddr={self.vaddr:#x}, "
            f"filesz={self.filesz:#x}, memsz={self.memsz:#x})"
        )


class ElfImage:
    """Open with ``ElfImage.open(path)``."""

    path: str
    sha256: str  # of the file's bytes, hex
    entry: int
    segments: list[LoadSegment]
    e_flags: int  # RISC-V: RVC 0x1, float ABI 0x6
    _data: bytes
    _elf: ELFFile
    _symbols: SymbolTable

    def __init__(self) -> None:  # use open() / from_bytes()
        self._lock = threading.RLock()
        self._dwarf_state: str = "unread"  # unread, absent, ready, failed
        self._dwarf_error: str | None = None
        self._dwarf: DWARFInfo | None = None
        self._lines: LineTable | None = None
        self._types: DwarfTypes | None = None
        self._frames: CallFrameTable | None = None
        self._inlines: InlineTable | None = None

    # -- opening -----------------------------------------------------------

    @classmethod
    def open(cls, path: str | os.PathLike[str]) -> ElfImage:
        name = os.fspath(path)
        try:
            with open(name, "rb") as f:
                data = f.read()
        except FileNotFoundError:
            raise ElfError(name, "no such file") from None
        except IsADirectoryError:
            raise ElfError(name, "is a directory, not an ELF file") from None
        except PermissionError:
            raise ElfError(name, "permission denied") from None
        except OSError as exc:
            raise ElfError(name, f"cannot read ({exc.strerror or exc})") from None
        return cls.from_bytes(data, name)

    @classmethod
    def from_bytes(cls, data: bytes, name: str = "<memory>") -> ElfImage:
        image = cls()
        image.path = name
        image.sha256 = hashlib.sha256(data).hexdigest()
        image._data = bytes(data)
        _check_ident(name, image._data)
        try:
            image._parse()
        except ElfError:
            raise
        except PARSE_ERRORS as exc:  # pyelftools on a damaged file
            raise ElfError(name, f"malformed ELF ({describe(exc)})") from None
        return image

    def _parse(self) -> None:
        data = self._data
        name = self.path
        size = len(data)
        elf = ELFFile(io.BytesIO(data))
        self._elf = elf
        if elf["e_type"] == "ET_REL":
            raise ElfError(
                name, "a relocatable object file (.o), not a linked executable"
            )
        if elf["e_type"] == "ET_CORE":
            raise ElfError(name, "a core dump, not an executable")

        phoff, phnum, phentsize = elf["e_phoff"], elf["e_phnum"], elf["e_phentsize"]
        if phnum:
            if phentsize < _ELF64_PHDR_SIZE:
                raise ElfError(
                    name, f"malformed ELF (program header entry size {phentsize})"
                )
            if phoff + phnum * phentsize > size:
                raise ElfError(
                    name,
                    f"truncated (program headers end at byte {phoff + phnum * phentsize}, file has {size})",
                )
        segments: list[LoadSegment] = []
        for seg in elf.iter_segments():
            if seg["p_type"] != "PT_LOAD":
                continue  # RISCV_ATTRIBUTES, GNU_STACK, ...
            offset, filesz, memsz = seg["p_offset"], seg["p_filesz"], seg["p_memsz"]
            paddr, vaddr = seg["p_paddr"], seg["p_vaddr"]
            span = f"{paddr:#x}-{paddr + memsz:#x}"
            if offset + filesz > size:
                raise ElfError(
                    name,
                    f"truncated (segment {span} needs file bytes {offset}-{offset + filesz}, file has {size})",
                )
            if filesz > memsz:
                raise ElfError(
                    name,
                    f"malformed segment {span} (file size {filesz:#x} > memory size {memsz:#x})",
                )
            segments.append(
                LoadSegment(
                    paddr, vaddr, data[offset : offset + filesz], memsz, seg["p_flags"]
                )
            )
        if not segments:
            raise ElfError(name, "no loadable segment (no PT_LOAD program header)")
        self.segments = segments
        self.entry = elf["e_entry"]
        self.e_flags = elf["e_flags"]
        if not any(s.vaddr <= self.entry < s.vaddr + s.memsz for s in segments):
            raise ElfError(
                name, f"entry point {self.entry:#x} is outside every loadable segment"
            )

        shoff, shentsize = elf["e_shoff"], elf["e_shentsize"]
        if shoff:
            if shentsize < _ELF64_SHDR_SIZE:
                raise ElfError(
                    name, f"malformed ELF (section header entry size {shentsize})"
                )
            if shoff + _ELF64_SHDR_SIZE > size:
                raise ElfError(
                    name,
                    f"truncated (section headers start at byte {shoff}, file has {size})",
                )
            end = shoff + elf.num_sections() * shentsize
            if end > size:
                raise ElfError(
                    name,
                    f"truncated (section headers end at byte {end}, file has {size})",
                )

        sections = list(elf.iter_sections())
        for sec in sections:
            if (
                sec["sh_type"] != "SHT_NOBITS"
                and sec["sh_size"]
                and sec["sh_offset"] + sec["sh_size"] > size
            ):
                raise ElfError(
                    name,
                    f"truncated (section {sec.name or '?'} ends at byte {sec['sh_offset'] + sec['sh_size']}, "
                    f"file has {size})",
                )
        self._symbols = SymbolTable(self._raw_symbols(elf, sections))

    @staticmethod
    def _raw_symbols(elf: ELFFile, sections: list) -> Iterator[RawSymbol]:
        code_ranges: dict[int, tuple[int, int]] = {}
        for i, sec in enumerate(sections):
            if (
                sec["sh_flags"] & SH_FLAGS.SHF_EXECINSTR
                and sec["sh_flags"] & SH_FLAGS.SHF_ALLOC
            ):
                code_ranges[i] = (sec["sh_addr"], sec["sh_addr"] + sec["sh_size"])
        tables = [s for s in sections if s["sh_type"] == "SHT_SYMTAB"]
        if not tables:
            tables = [s for s in sections if s["sh_type"] == "SHT_DYNSYM"]
        for table in tables:
            for sym in table.iter_symbols():
                shndx = sym["st_shndx"]
                if shndx == "SHN_UNDEF":
                    continue
                yield RawSymbol(
                    name=sym.name,
                    address=sym["st_value"],
                    size=sym["st_size"],
                    elf_type=sym["st_info"]["type"],
                    elf_bind=sym["st_info"]["bind"],
                    executable_section=code_ranges.get(shndx)
                    if isinstance(shndx, int)
                    else None,
                )

    # -- memory ------------------------------------------------------------

    def load_into(
        self, write_physical: Callable[[int, bytes], None], ram_base: int, ram_size: int
    ) -> None:
        """Write every segment at its physical address, BSS zeroed. Checks all
        segments against RAM first, so a bad image writes nothing."""
        ram_end = ram_base + ram_size
        for seg in self.segments:
            if seg.memsz == 0:
                continue
            if seg.paddr < ram_base or seg.paddr + seg.memsz > ram_end:
                raise ElfError(
                    self.path,
                    f"segment {seg.paddr:#x}-{seg.paddr + seg.memsz:#x} lies outside RAM {ram_base:#x}-{ram_end:#x}",
                )
        for seg in self.segments:
            if seg.data:
                write_physical(seg.paddr, seg.data)
            if seg.memsz > seg.filesz:
                write_physical(seg.paddr + seg.filesz, bytes(seg.memsz - seg.filesz))

    def read(self, address: int, size: int) -> bytes | None:
        """The image's initial contents at a virtual address (BSS reads as
        zeros); None unless the whole range is inside one segment."""
        for seg in self.segments:
            if seg.vaddr <= address and address + size <= seg.vaddr + seg.memsz:
                start = address - seg.vaddr
                chunk = seg.data[start : start + size]
                return chunk + bytes(size - len(chunk))
        return None

    def contains(self, address: int) -> bool:
        """Whether a virtual address lies inside a loadable segment."""
        return any(s.vaddr <= address < s.vaddr + s.memsz for s in self.segments)

    # -- symbols -----------------------------------------------------------

    def symbol(self, name: str) -> Symbol | None:
        return self._symbols.symbol(name)

    def symbol_at(self, address: int) -> tuple[Symbol, int] | None:
        """The function (or code label) containing ``address``, and the offset into it."""
        return self._symbols.symbol_at(address)

    def symbols(self) -> list[Symbol]:
        """All named function, object and label symbols, sorted by address."""
        return self._symbols.symbols()

    # -- DWARF -------------------------------------------------------------

    @property
    def has_dwarf(self) -> bool:
        """Whether usable DWARF is present (reads it if not yet read)."""
        return self._dwarf_info() is not None

    @property
    def dwarf_error(self) -> str | None:
        """Why DWARF queries return None, once DWARF has been asked for: no
        debug information, or debug information that could not be read."""
        self._dwarf_info()
        return self._dwarf_error

    @property
    def dwarf_warnings(self) -> list[str]:
        """Compilation units skipped because pyelftools could not read them."""
        out: list[str] = []
        if self._lines is not None:
            out.extend(self._lines.skipped_units)
        if self._types is not None:
            out.extend(self._types.errors)
        if self._inlines is not None:
            out.extend(self._inlines.skipped_units)
        return out

    def source_line(self, address: int) -> tuple[str, int] | None:
        """(file, line) of the code at ``address``; the file as the compiler
        named it, relative to the compilation directory (``kernel/proc.c``)."""
        table = self._line_table()
        return table.source_line(address) if table else None

    def source_line_in(self, address: int, file: str) -> tuple[str, int] | None:
        """``source_line``, preferring ``file``'s rows where the compiler put
        rows of several files (an inlined helper's and its caller's) at one
        address: the line a call stack shows for a frame in ``file``."""
        table = self._line_table()
        return table.source_line_in(address, file) if table else None

    def inlined_at(self, address: int) -> Enclosing | None:
        """The real function's file around ``address`` and the calls the
        compiler inlined there (innermost first); None without DWARF."""
        if self._inlines is None:
            with self._lock:
                dwarf = self._dwarf_info()
                if dwarf is None:
                    return None
                if self._inlines is None:
                    try:
                        self._inlines = InlineTable.build(dwarf)
                    except PARSE_ERRORS:
                        self._inlines = InlineTable()
        return self._inlines.at(address)

    def address_of_line(self, file: str, line: int) -> int | None:
        """Where a ``file:line`` breakpoint goes; ``file`` may be a basename
        (``proc.c``) or any path suffix (``kernel/proc.c``)."""
        table = self._line_table()
        return table.address_of_line(file, line) if table else None

    def source_files(self) -> list[str]:
        table = self._line_table()
        return table.files() if table else []

    def unwind_rule(self, address: int) -> UnwindRule | None:
        """How to find the caller's registers at ``address`` (DWARF CFI from
        .debug_frame or .eh_frame); None where the image has none."""
        return self._call_frames().rule_at(address)

    def variable(self, name: str) -> VariableInfo | None:
        """A global (or file-scope static) variable: address and type."""
        types = self._type_index()
        if types is None:
            return None
        with self._lock:
            return types.variable(name)

    def global_variables(self) -> Iterator[tuple[str, VariableInfo]]:
        types = self._type_index()
        if types is None:
            return iter(())
        with self._lock:
            return iter(list(types.global_variables()))

    def struct_type(self, name: str) -> TypeInfo | None:
        """``struct name`` (the complete definition), e.g. ``struct_type('proc')``."""
        return self._named_type("struct", name)

    def union_type(self, name: str) -> TypeInfo | None:
        return self._named_type("union", name)

    def enum_type(self, name: str) -> TypeInfo | None:
        return self._named_type("enum", name)

    def find_type(self, name: str) -> TypeInfo | None:
        """A type by C name: ``struct proc``, ``enum procstate``, ``pagetable_t``, ``int``."""
        kind, _, rest = name.strip().partition(" ")
        if kind in ("struct", "union", "enum") and rest.strip():
            return self._named_type(kind, rest.strip())
        return self._named_type("typedef", name.strip()) or self._named_type(
            "base", name.strip()
        )

    def _named_type(self, kind: str, name: str) -> TypeInfo | None:
        types = self._type_index()
        if types is None:
            return None
        with self._lock:
            return types.named_type(kind, name)

    def _dwarf_info(self) -> DWARFInfo | None:
        with self._lock:
            if self._dwarf_state == "unread":
                try:
                    if not self._elf.has_dwarf_info(strict=True):
                        self._dwarf_state = "absent"
                        self._dwarf_error = (
                            f"{self.path}: no DWARF debug information (build with -g)"
                        )
                    else:
                        self._dwarf = self._elf.get_dwarf_info()
                        self._dwarf_state = "ready"
                except PARSE_ERRORS as exc:
                    self._dwarf_state = "failed"
                    self._dwarf_error = (
                        f"{self.path}: unreadable DWARF ({describe(exc)})"
                    )
            return self._dwarf

    def _line_table(self) -> LineTable | None:
        if self._lines is not None:
            return self._lines
        with self._lock:
            if self._lines is None:
                dwarf = self._dwarf_info()
                if dwarf is None:
                    return None
                try:
                    self._lines = LineTable.build(dwarf, self.contains)
                except PARSE_ERRORS as exc:
                    self._dwarf_state = "failed"
                    self._dwarf = None
                    self._dwarf_error = (
                        f"{self.path}: unreadable DWARF line table ({describe(exc)})"
                    )
                    return None
            return self._lines

    def _call_frames(self) -> CallFrameTable:
        if self._frames is not None:
            return self._frames
        with self._lock:
            if self._frames is None:
                # CFI survives in images without .debug_info (.eh_frame only).
                dwarf = self._dwarf_info()
                if dwarf is None:
                    try:
                        dwarf = self._elf.get_dwarf_info()
                    except PARSE_ERRORS:
                        dwarf = None
                self._frames = CallFrameTable.build(dwarf) if dwarf else CallFrameTable([])
            return self._frames

    def _type_index(self) -> DwarfTypes | None:
        if self._types is not None:
            return self._types
        with self._lock:
            if self._types is None:
                dwarf = self._dwarf_info()
                if dwarf is None:
                    return None
                try:
                    self._types = DwarfTypes(
                        dwarf,
                        self._symbol_address,
                        little_endian=self._elf.little_endian,
                    )
                except PARSE_ERRORS as exc:
                    self._dwarf_state = "failed"
                    self._dwarf = None
                    self._dwarf_error = (
                        f"{self.path}: unreadable DWARF types ({describe(exc)})"
                    )
                    return None
            return self._types

    def _symbol_address(self, name: str) -> int | None:
        sym = self._symbols.symbol(name)
        return sym.address if sym is not None else None

    def __repr__(self) -> str:
        return f"<ElfImage {self.path} entry={self.entry:#x} segments={len(self.segments)}>"


def _check_ident(name: str, data: bytes) -> None:
    """The checks that need no parser, in the order that gives the most
    useful message (a 32-bit ARM file is "not RISC-V" before "not 64-bit")."""
    if len(data) == 0:
        raise ElfError(name, "not an ELF file (it is empty)")
    if not data.startswith(b"\x7fELF"):
        if len(data) < 4 and b"\x7fELF".startswith(data):
            raise ElfError(
                name,
                f"truncated (the ELF header needs {_ELF64_EHDR_SIZE} bytes, file has {len(data)})",
            )
        raise ElfError(name, "not an ELF file")
    if len(data) < 20:
        raise ElfError(
            name,
            f"truncated (the ELF header needs {_ELF64_EHDR_SIZE} bytes, file has {len(data)})",
        )
    ei_class, ei_data = data[4], data[5]
    if ei_data not in (1, 2):
        raise ElfError(name, f"malformed ELF header (data encoding byte {ei_data})")
    machine = int.from_bytes(data[18:20], "little" if ei_data == 1 else "big")
    if machine != EM_RISCV:
        what = _MACHINES.get(machine, f"number {machine}")
        raise ElfError(name, f"not a RISC-V ELF (machine is {what})")
    if ei_class == 1:
        raise ElfError(
            name, "not a 64-bit ELF (ELFCLASS32, an RV32 image; cowtui runs RV64)"
        )
    if ei_class != 2:
        raise ElfError(name, f"malformed ELF header (class byte {ei_class})")
    if ei_data != 1:
        raise ElfError(name, "a big-endian ELF; RISC-V is little-endian")
    if len(data) < _ELF64_EHDR_SIZE:
        raise ElfError(
            name,
            f"truncated (the ELF header needs {_ELF64_EHDR_SIZE} bytes, file has {len(data)})",
        )
