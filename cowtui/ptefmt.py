"""How a PTE looks on screen: its flags as letters, W and COW highlighted."""

from __future__ import annotations

from rich.text import Text

from machine.introspect.pte import FLAG_ORDER, PteFlags

W_STYLE = "bold green"
COW_STYLE = "bold black on magenta"
CHANGED_STYLE = "bold yellow"
# a clear bit: dimmed relative to the row's own colour, so it stays visible on the
# highlighted row too (a fixed grey vanished on the blue cursor)
CLEAR_STYLE = "dim"
SIZE_NAMES = {0: "4K", 1: "2M", 2: "1G"}


def flags_text(pte: int, cow_bit: int) -> Text:
    """'VRWXUGAD COW' with clear bits as '-', W and COW standing out."""
    flags = PteFlags(pte, cow_bit).named()
    text = Text()
    for letter in FLAG_ORDER:
        if not flags[letter]:
            text.append("-", CLEAR_STYLE)
        elif letter == "W":
            text.append("W", W_STYLE)
        else:
            text.append(letter)
    text.append(" ")
    text.append("COW", COW_STYLE) if flags["COW"] else text.append("   ")
    return text


def flags_plain(pte: int, cow_bit: int) -> str:
    return flags_text(pte, cow_bit).plain.rstrip()
