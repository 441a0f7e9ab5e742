"""Wrap raw RISC-V code in a minimal ELF64 executable (one PT_LOAD segment),
so test programs made with the test assembler load like real kernels, on our
Machine and on QEMU (-kernel) alike."""

from __future__ import annotations

import struct

EM_RISCV = 243
PT_LOAD = 1
EHDR_SIZE, PHDR_SIZE = 64, 56


def make_elf(code: bytes, address: int = 0x80000000, entry: int | None = None,
             memsz: int | None = None) -> bytes:
    entry = address if entry is None else entry
    offset = EHDR_SIZE + PHDR_SIZE
    ident = b"\x7fELF" + bytes([2, 1, 1, 0]) + bytes(8)  # 64-bit, little-endian, v1
    header = ident + struct.pack("<HHIQQQIHHHHHH", 2, EM_RISCV, 1, entry, EHDR_SIZE, 0,
                                 0x5, EHDR_SIZE, PHDR_SIZE, 1, 64, 0, 0)
    program = struct.pack("<IIQQQQQQ", PT_LOAD, 7, offset, address, address, len(code),
                          memsz if memsz is not None else len(code), 0x1000)
    return header + program + code
