"""Helpers for the ELF tests: build the sample kernel with the RISC-V
toolchain, read the compiler's own answers back from it (through pyelftools
directly, not through machine.elf), and build tiny ELF files by hand."""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from elftools.elf.elffile import ELFFile

SAMPLE_DIR = Path(__file__).parent / "sample"
GCC = "riscv64-unknown-elf-gcc"
READELF = "riscv64-unknown-elf-readelf"
BASE_FLAGS = [
    "-march=rv64imac_zicsr_zifencei",
    "-mabi=lp64",
    "-mcmodel=medany",
    "-ffreestanding",
    "-nostdlib",
    "-O2",
    "-g",
    "-Wall",
    "-Werror",
]

# variant -> (DWARF flag for the C files, DWARF flag for entry.S).
# "dwarf2" mixes versions the way the cow-lab kernel does: C units are
# DWARF 2 (-gdwarf-2), the assembly unit comes out as DWARF 5.
VARIANTS: dict[str, tuple[list[str], list[str]]] = {
    "dwarf2": (["-gdwarf-2"], ["-gdwarf-5"]),
    "dwarf4": (["-gdwarf-4"], ["-gdwarf-4"]),
    "dwarf5": (["-gdwarf-5"], ["-gdwarf-5"]),
    "nodebug": (["-g0"], ["-g0"]),
}


def have_toolchain() -> bool:
    return shutil.which(GCC) is not None


def build_sample(out: Path, variant: str) -> Path:
    """Compile the sample kernel the way xv6's Makefile does: from the build
    directory, with relative paths (kernel/kern.c), so DWARF file names come
    out relative to the compilation directory. Returns the ELF's path."""
    c_flags, asm_flags = VARIANTS[variant]
    src = out / "kernel"
    src.mkdir(parents=True)
    for f in SAMPLE_DIR.iterdir():
        shutil.copy(f, src / f.name)
    objects = []
    for name, flags in (
        ("entry.S", asm_flags),
        ("kern.c", c_flags),
        ("fork.c", c_flags),
    ):
        obj = f"kernel/{Path(name).stem}.o"
        run([GCC, *BASE_FLAGS, *flags, "-c", "-o", obj, f"kernel/{name}"], out)
        objects.append(obj)
    run(
        [GCC, *BASE_FLAGS, "-T", "kernel/kernel.ld", "-o", "kernel/kernel", *objects],
        out,
    )
    return out / "kernel" / "kernel"


def run(cmd: list[str], cwd: Path) -> str:
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{proc.stderr}")
    return proc.stdout


@dataclass
class CompilerFacts:
    """The tables layout.inc compiles into the sample kernel."""

    offsets: dict[str, int] = field(default_factory=dict)  # "proc.state" -> offsetof
    sizes: dict[str, int] = field(default_factory=dict)  # "proc" -> sizeof
    lengths: dict[str, int] = field(default_factory=dict)  # "refcnt" -> element count
    procstate: dict[int, str] = field(default_factory=dict)
    odd: dict[int, str] = field(default_factory=dict)
    symbols: dict[str, tuple[int, int, str]] = field(
        default_factory=dict
    )  # name -> (value, size, type)
    sample_flags: bytes = b""


def compiler_facts(path: Path) -> CompilerFacts:
    with open(path, "rb") as f:
        elf = ELFFile(f)
        symtab = elf.get_section_by_name(".symtab")
        symbols = {
            s.name: (s["st_value"], s["st_size"], s["st_info"]["type"])
            for s in symtab.iter_symbols()
            if s.name
        }

        def read(name: str) -> bytes:
            value, size, _ = symbols[name]
            (offset,) = list(elf.address_offsets(value, size))
            f.seek(offset)
            return f.read(size)

        def names(symbol: str) -> list[str]:
            return read(symbol).rstrip(b"\0").decode().strip("\n").split("\n")

        def longs(symbol: str) -> list[int]:
            data = read(symbol)
            return list(struct.unpack(f"<{len(data) // 8}Q", data))

        def ints(symbol: str) -> list[int]:
            data = read(symbol)
            return list(struct.unpack(f"<{len(data) // 4}i", data))

        facts = CompilerFacts(symbols=symbols)
        facts.offsets = dict(
            zip(names("layout_offset_names"), longs("layout_offsets"), strict=True)
        )
        facts.sizes = dict(
            zip(names("layout_size_names"), longs("layout_sizes"), strict=True)
        )
        facts.lengths = dict(
            zip(names("array_length_names"), longs("array_lengths"), strict=True)
        )
        facts.procstate = dict(
            zip(ints("procstate_values"), names("procstate_names"), strict=True)
        )
        facts.odd = dict(zip(ints("odd_values"), names("odd_names"), strict=True))
        facts.sample_flags = read("sample_flags")
        return facts


def marker_line(path: Path, marker: str) -> int:
    """The 1-based line holding ``LINE:<marker>``."""
    for n, text in enumerate(path.read_text().splitlines(), 1):
        if f"LINE:{marker}" in text:
            return n
    raise KeyError(marker)


@dataclass(frozen=True)
class LineRow:
    file: str  # basename, as readelf prints it
    line: int | None  # None: end of sequence
    address: int
    is_stmt: bool


def readelf_line_rows(path: Path) -> list[list[LineRow]]:
    """binutils' decoding of the line table (``readelf -wL``), one list per
    sequence: an oracle independent of pyelftools."""
    text = subprocess.run(
        [READELF, "--debug-dump=decodedline", "-W", str(path)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    sequences: list[list[LineRow]] = []
    current: list[LineRow] = []
    row = re.compile(r"^(\S+)\s+(\d+|-)\s+(0x[0-9a-f]+)(?:\s+(\d+))?(\s+x)?\s*$")
    for raw in text.splitlines():
        m = row.match(raw.strip())
        if not m:
            continue
        file, line, address, _view, stmt = m.groups()
        if line == "-":
            current.append(LineRow(file, None, int(address, 16), False))
            sequences.append(current)
            current = []
        else:
            current.append(LineRow(file, int(line), int(address, 16), bool(stmt)))
    return sequences


# -- hand-made ELF files -----------------------------------------------------

PT_LOAD = 1
PT_NOTE = 4
PT_RISCV_ATTRIBUTES = 0x70000003


@dataclass
class Seg:
    vaddr: int
    data: bytes
    memsz: int | None = None
    paddr: int | None = None
    type: int = PT_LOAD
    flags: int = 7


def make_elf(
    segments: list[Seg],
    entry: int,
    machine: int = 243,
    elfclass: int = 2,
    endian: int = 1,
    e_type: int = 2,
) -> bytes:
    """A minimal ELF64 executable: header, program headers, segment data; no
    sections (so no symbols and no DWARF)."""
    order = "<" if endian == 1 else ">"
    phoff = 64
    data_off = phoff + 56 * len(segments)
    body = b""
    phdrs = b""
    for seg in segments:
        offset = data_off + len(body)
        memsz = len(seg.data) if seg.memsz is None else seg.memsz
        paddr = seg.vaddr if seg.paddr is None else seg.paddr
        phdrs += struct.pack(
            order + "IIQQQQQQ",
            seg.type,
            seg.flags,
            offset,
            seg.vaddr,
            paddr,
            len(seg.data),
            memsz,
            0x1000,
        )
        body += seg.data
    ident = b"\x7fELF" + bytes([elfclass, endian, 1, 0]) + bytes(8)
    header = ident + struct.pack(
        order + "HHIQQQIHHHHHH",
        e_type,
        machine,
        1,
        entry,
        phoff,
        0,
        0x5,
        64,
        56,
        len(segments),
        64,
        0,
        0,
    )
    return header + phdrs + body
