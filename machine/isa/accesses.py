"""Which memory an instruction reads or writes, derived from its declaration.

Every load, store and AMO names its access in its snippet as
``mem.<kind>_<sign><bits>(RS1[ + imm], ...)``: the kind says whether it
reads, writes or both, the bits its size, the argument its address. A
debugger's read and access watchpoints use this to see, before an
instruction runs, which bytes it is about to touch.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from .decoder import Decoded
from .fields import SNIPPET_NAME
from .spec import InstructionSpec

M64 = 0xFFFFFFFFFFFFFFFF
_ACCESS = re.compile(r"mem\.(load_reserved|store_conditional|load|store|amo)_[su]?(\d+)"
                     r"\(RS1( \+ imm)?[,)]")
_READS = {"load": True, "load_reserved": True, "amo": True, "store": False,
          "store_conditional": False}


@dataclass(frozen=True)
class MemoryAccess:
    size: int              # bytes
    reads: bool
    writes: bool
    offset: bool           # the address is RS1 + imm (else RS1)
    aligned_only: bool     # misaligned traps (AMO, LR, SC); plain loads/stores need not be
    conditional: bool      # SC: writes only when the reservation holds (rd = 0)


@cache
def access_of(spec: InstructionSpec) -> MemoryAccess | None:
    """The access of a base instruction, or None if it touches no memory."""
    match = _ACCESS.search(spec.semantics or "")
    if match is None:
        return None
    kind, bits, offset = match.groups()
    return MemoryAccess(int(bits) // 8, _READS[kind], kind != "load" and kind != "load_reserved",
                        offset is not None, kind in ("amo", "load_reserved", "store_conditional"),
                        kind == "store_conditional")


def effective_address(decoded: Decoded, registers: list[int]) -> tuple[int, MemoryAccess] | None:
    """(virtual address, access) of ``decoded`` with these register values."""
    access = access_of(decoded.base)
    if access is None:
        return None
    # the snippet's names (every immediate field is ``imm`` there)
    operands = {SNIPPET_NAME.get(k, k): v for k, v in decoded.base_operands.items()}
    address = registers[operands["rs1"]]
    if access.offset:
        address += operands["imm"]
    return address & M64, access
