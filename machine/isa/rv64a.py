"""RV64A: load-reserved/store-conditional and the atomic memory operations.

``mem.amo_32/amo_64(address, update)`` reads the old value (with store
permission, as an AMO needs), writes ``update(old)`` and returns the old value;
misaligned addresses raise the store/AMO address-misaligned exception there.
aq/rl are accepted and need no action on one in-order hart.
"""

from __future__ import annotations

from .spec import InstructionSpec, declare

SPECS: list[InstructionSpec] = []

_W = "0xFFFFFFFF"
for _suffix, _f3, _bits in ((".w", 2, 32), (".d", 3, 64)):
    signed = "SX32" if _bits == 32 else "S"
    declare(SPECS, "lr" + _suffix, f"rd rs1 aq rl 31..27=0x02 24..20=0 14..12={_f3} 6..0=0x2f",
            "rd,(rs1)", f"RD = {signed}(mem.load_reserved_{_bits}(RS1))", ext="A", kind="load")
    declare(SPECS, "sc" + _suffix, f"rd rs1 rs2 aq rl 31..27=0x03 14..12={_f3} 6..0=0x2f",
            "rd,rs2,(rs1)", f"RD = mem.store_conditional_{_bits}(RS1, RS2)", ext="A",
            kind="store")
    value = "(RS2 & 0xFFFFFFFF)" if _bits == 32 else "RS2"
    for _name, _f5, _update in (
            ("amoswap", 0x01, f"lambda old: {value}"),
            ("amoadd", 0x00, f"lambda old: old + {value}"),
            ("amoxor", 0x04, f"lambda old: old ^ {value}"),
            ("amoand", 0x0C, f"lambda old: old & {value}"),
            ("amoor", 0x08, f"lambda old: old | {value}"),
            ("amomin", 0x10, f"lambda old: old if {signed}(old) <= {signed}(RS2) else {value}"),
            ("amomax", 0x14, f"lambda old: old if {signed}(old) >= {signed}(RS2) else {value}"),
            ("amominu", 0x18, f"lambda old: old if old <= {value} else {value}"),
            ("amomaxu", 0x1C, f"lambda old: old if old >= {value} else {value}")):
        declare(SPECS, _name + _suffix,
                f"rd rs1 rs2 aq rl 31..27={_f5} 14..12={_f3} 6..0=0x2f", "rd,rs2,(rs1)",
                f"RD = {signed}(mem.amo_{_bits}(RS1, {_update}))", ext="A", kind="store")
