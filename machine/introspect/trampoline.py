"""The trampoline: xv6 maps the kernel's ``trampoline`` page (uservec,
userret) at TRAMPOLINE = MAXVA - PGSIZE in every address space, kernel and
user, so the code the hart runs there has an address no symbol has. Its
symbol and source line are those of the same offset in the kernel's page."""

from __future__ import annotations

from machine.elf import ElfImage

from .profiles import MAXVA

PGSIZE = 4096
TRAMPOLINE = MAXVA - PGSIZE
SYMBOL = "trampoline"


def kernel_address(image: ElfImage, pc: int) -> int | None:
    """Where the code at ``pc`` lies in the kernel's ELF, if pc is in the
    trampoline page and the kernel has a ``trampoline`` symbol."""
    if not TRAMPOLINE <= pc < TRAMPOLINE + PGSIZE:
        return None
    symbol = image.symbol(SYMBOL)
    return symbol.address + (pc - TRAMPOLINE) if symbol is not None else None


def name(image: ElfImage, pc: int) -> str | None:
    """``trampoline+0x1c (uservec+0x1c)`` for a pc in the trampoline page."""
    address = kernel_address(image, pc)
    if address is None:
        return None
    offset = pc - TRAMPOLINE
    text = f"{SYMBOL}+{offset:#x}" if offset else SYMBOL
    found = image.symbol_at(address)
    if found is not None and found[0].name != SYMBOL:
        inner = f"{found[0].name}+{found[1]:#x}" if found[1] else found[0].name
        text += f" ({inner})"
    return text
