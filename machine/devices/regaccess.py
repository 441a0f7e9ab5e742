"""Splitting guest accesses over a file of fixed-width registers.

Devices whose registers are all ``width`` bytes wide (the CLINT and the PLIC:
32-bit words) answer an access of any size at any offset by cutting it into
the pieces that fall in each aligned register. A read reads every register it
touches (with that register's side effects, as a bus read strobe would) and
keeps the bytes asked for; a write to a whole register writes it, and a write
to part of a register merges the new bytes into the register's current value
(read without side effects through ``peek``).
"""

from __future__ import annotations

from collections.abc import Callable

ReadWord = Callable[[int], int]
WriteWord = Callable[[int, int], None]


def split_access(offset: int, size: int, width: int) -> list[tuple[int, int, int, int]]:
    """Pieces of the access ``[offset, offset + size)`` per aligned register.

    Each piece is ``(register_offset, value_shift, register_shift, nbytes)``:
    ``nbytes`` bytes of the access value starting at bit ``value_shift`` are
    bytes of the register at ``register_offset`` starting at bit
    ``register_shift``.
    """
    pieces = []
    position = offset
    end = offset + size
    while position < end:
        register = position - position % width
        take = min(end, register + width) - position
        pieces.append(
            (register, (position - offset) * 8, (position - register) * 8, take)
        )
        position += take
    return pieces


def read_split(offset: int, size: int, width: int, read_word: ReadWord) -> int:
    """Read ``size`` bytes at ``offset`` from ``width``-byte registers."""
    if size == width and offset % width == 0:
        return read_word(offset)
    value = 0
    for register, value_shift, register_shift, nbytes in split_access(
        offset, size, width
    ):
        part = (read_word(register) >> register_shift) & ((1 << (8 * nbytes)) - 1)
        value |= part << value_shift
    return value


def write_split(
    offset: int,
    size: int,
    value: int,
    width: int,
    peek_word: ReadWord,
    write_word: WriteWord,
) -> None:
    """Write ``size`` bytes of ``value`` at ``offset`` into ``width``-byte registers."""
    if size == width and offset % width == 0:
        write_word(offset, value & ((1 << (8 * width)) - 1))
        return
    for register, value_shift, register_shift, nbytes in split_access(
        offset, size, width
    ):
        mask = (1 << (8 * nbytes)) - 1
        part = (value >> value_shift) & mask
        if nbytes == width:
            write_word(register, part)
        else:
            merged = peek_word(register) & ~(mask << register_shift)
            write_word(register, merged | (part << register_shift))
