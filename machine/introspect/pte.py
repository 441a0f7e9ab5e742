"""Sv39 PTE bits as a debugger shows them, with the cow lab's software bit."""

from __future__ import annotations

from dataclasses import dataclass

from ..mmu import PTE_A, PTE_D, PTE_G, PTE_PPN_MASK, PTE_PPN_SHIFT, PTE_R, PTE_U, PTE_V, PTE_W, PTE_X

DEFAULT_COW_BIT = 8  # RSW bit 8: PTE_COW in the cow lab (some students use 9)
FLAG_ORDER = "VRWXUGAD"
_FLAG_BITS = (PTE_V, PTE_R, PTE_W, PTE_X, PTE_U, PTE_G, PTE_A, PTE_D)


def pte_frame(pte: int) -> int:
    """The physical address the PTE points to."""
    return ((pte >> PTE_PPN_SHIFT) & PTE_PPN_MASK) << 12


def is_leaf(pte: int) -> bool:
    return bool(pte & PTE_V) and bool(pte & (PTE_R | PTE_W | PTE_X))


def is_user_leaf(pte: int) -> bool:
    return is_leaf(pte) and bool(pte & PTE_U)


@dataclass(frozen=True)
class PteFlags:
    """Every bit of a PTE decoded, COW read from the configured RSW bit."""

    value: int
    cow_bit: int = DEFAULT_COW_BIT

    @property
    def valid(self) -> bool:
        return bool(self.value & PTE_V)

    @property
    def writable(self) -> bool:
        return bool(self.value & PTE_W)

    @property
    def cow(self) -> bool:
        return bool(self.value >> self.cow_bit & 1)

    @property
    def frame(self) -> int:
        return pte_frame(self.value)

    @property
    def rsw(self) -> int:
        return (self.value >> 8) & 3

    def letters(self) -> str:
        """'VR-XU-A-' style, then ' COW' when the COW bit is set."""
        text = "".join(ch if self.value & bit else "-" for ch, bit in zip(FLAG_ORDER, _FLAG_BITS))
        return text + (" COW" if self.cow else "")

    def named(self) -> dict[str, bool]:
        flags = {ch: bool(self.value & bit) for ch, bit in zip(FLAG_ORDER, _FLAG_BITS)}
        flags["COW"] = self.cow
        return flags


def has_cow(pte: int, cow_bit: int = DEFAULT_COW_BIT) -> bool:
    return bool(pte >> cow_bit & 1)


__all__ = ["PteFlags", "pte_frame", "is_leaf", "is_user_leaf", "has_cow", "DEFAULT_COW_BIT",
           "PTE_V", "PTE_R", "PTE_W", "PTE_X", "PTE_U", "PTE_G", "PTE_A", "PTE_D"]
