#!/usr/bin/env python3
"""Build the cowtui guest disk image from user program ELFs.

Format (kernel/fs.h is the other half): 1024-byte blocks. Block 0 holds a
16-byte superblock (magic "COW1", number of files, number of blocks, 0)
followed by up to 31 directory entries of 32 bytes (name padded with NULs to
24 bytes, first block, size in bytes). Each file is one contiguous run of
blocks, in command-line order, starting at block 1. All integers are
little-endian. The output depends only on the inputs' names and contents.

Usage: mkdisk.py -o fs.img path/to/prog ...   (a file's name on the disk is
its base name, with any extension such as .elf removed)
"""

from __future__ import annotations

import argparse
import struct
import sys
from pathlib import Path

BSIZE = 1024
MAGIC = 0x31574F43  # "COW1"
DIRSIZ = 24
SUPERBLOCK = struct.Struct("<4I")
DIRENT = struct.Struct(f"<{DIRSIZ}sII")
NDIRENT = (BSIZE - SUPERBLOCK.size) // DIRENT.size


def build_image(files: list[tuple[str, bytes]]) -> bytes:
    """The image holding `files` (name, contents) in order."""
    if len(files) > NDIRENT:
        raise ValueError(f"too many files: {len(files)} (at most {NDIRENT})")
    names = [name for name, _ in files]
    if len(set(names)) != len(names):
        raise ValueError("duplicate file names")
    entries = []
    data = bytearray()
    block = 1
    for name, contents in files:
        encoded = name.encode("ascii")
        if not encoded or len(encoded) >= DIRSIZ or b"/" in encoded:
            raise ValueError(
                f"bad file name {name!r} (1 to {DIRSIZ - 1} characters, no '/')"
            )
        nblocks = -(-len(contents) // BSIZE)
        entries.append(DIRENT.pack(encoded, block, len(contents)))
        data += contents + bytes(nblocks * BSIZE - len(contents))
        block += nblocks
    header = SUPERBLOCK.pack(MAGIC, len(files), block, 0) + b"".join(entries)
    return header + bytes(BSIZE - len(header)) + bytes(data)


def disk_name(path: Path) -> str:
    return path.name.removesuffix(".elf")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build a cowtui guest disk image.")
    parser.add_argument(
        "-o", "--output", required=True, type=Path, help="image to write"
    )
    parser.add_argument(
        "files", nargs="+", type=Path, help="programs to put on the disk"
    )
    args = parser.parse_args(argv)
    try:
        files = [(disk_name(p), p.read_bytes()) for p in args.files]
        image = build_image(files)
    except (OSError, ValueError) as e:
        print(f"mkdisk: {e}", file=sys.stderr)
        return 1
    args.output.write_bytes(image)
    return 0


if __name__ == "__main__":
    sys.exit(main())
