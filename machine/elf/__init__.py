"""ELF kernel images: loading (segments, entry), symbols, and DWARF (source
lines, struct layouts, global variables), all through pyelftools.

    image = ElfImage.open("kernel/kernel")     # ElfError: one line, names the file
    image.load_into(bus.write_physical, 0x8000_0000, 128 << 20)
    image.symbol_at(pc)                        # (Symbol('kfree'), 12)
    image.source_line(pc)                      # ('kernel/kalloc.c', 47)
    image.struct_type("proc").members["pagetable"].offset
"""

from .errors import ElfError
from .image import ElfImage, LoadSegment
from .symbols import Symbol
from .typeinfo import VOID, Member, TypeInfo, VariableInfo

__all__ = [
    "VOID",
    "ElfError",
    "ElfImage",
    "LoadSegment",
    "Member",
    "Symbol",
    "TypeInfo",
    "VariableInfo",
]
