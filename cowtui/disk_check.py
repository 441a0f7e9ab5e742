"""Sanity checks on a disk image before the machine reads it.

A file that is not a disk (a kernel, a tarball, an empty file) would look
like a kernel panic at boot, so it is bad input instead. Only the first
blocks are read here (the machine, too, reads the image on demand, so its
size costs no memory): the size, and a superblock the kernel will recognise:
xv6's (magic 0x10203040 in block 1, ``size`` in blocks of 1024 bytes) or the
teaching kernel's (``COW1`` at byte 0, ``nblocks`` at byte 8).
"""

from __future__ import annotations

import os
import struct
from pathlib import Path

BLOCK = 1024
XV6_MAGIC, XV6_AT = 0x10203040, BLOCK
TEACHING_MAGIC = 0x31574F43          # "COW1"


def _blocks_claimed(head: bytes) -> tuple[str, int] | None:
    """(file system name, size in blocks its superblock claims), or None."""
    if len(head) >= 16 and struct.unpack_from("<I", head, 0)[0] == TEACHING_MAGIC:
        return "teaching-kernel", struct.unpack_from("<I", head, 8)[0]
    if len(head) >= XV6_AT + 8 and struct.unpack_from("<I", head, XV6_AT)[0] == XV6_MAGIC:
        return "xv6", struct.unpack_from("<I", head, XV6_AT + 4)[0]
    return None


def disk_problem(path: Path) -> str | None:
    """Why this file cannot be the kernel's disk, in one line; None if it can."""
    try:
        size = os.path.getsize(path)
        with open(path, "rb") as image:
            head = image.read(2 * BLOCK)
    except OSError as error:
        return f"cannot read disk image: {error.strerror or error}"
    claimed = _blocks_claimed(head)
    if claimed is None:
        return (f"not a file system image: no xv6 superblock (magic {XV6_MAGIC:#x} at byte "
                f"{XV6_AT}) and no teaching-kernel one (COW1 at byte 0); xv6's is fs.img")
    kind, blocks = claimed
    if blocks * BLOCK > size:
        return (f"truncated {kind} file system image: its superblock says {blocks} blocks "
                f"({blocks * BLOCK} bytes), the file has {size} bytes")
    return None
