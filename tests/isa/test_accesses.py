"""Memory accesses derived from the declarations: every load, store and AMO,
with its size, direction and address form; nothing else touches memory."""

from __future__ import annotations

from machine.isa.accesses import access_of, effective_address
from machine.isa.asm import assemble
from machine.isa.decoder import _BUCKETS, decode

SPECS = {spec.name: spec for bucket in _BUCKETS.values() for spec in bucket}


def base(name: str):
    spec = SPECS[name]
    return SPECS[spec.expands_to] if spec.expands_to else spec


def test_every_memory_instruction_and_only_those() -> None:
    touching = {name for name in SPECS if access_of(base(name)) is not None}
    for name in touching:
        assert base(name).kind & {"load", "store"}, name
    for name in SPECS:
        if base(name).kind & {"load", "store"}:
            assert name in touching, name
    sizes = {name: access_of(base(name)).size for name in ("lb", "lhu", "lw", "ld", "sb",
                                                           "sh", "sw", "sd", "c.ldsp")}
    assert sizes == {"lb": 1, "lhu": 2, "lw": 4, "ld": 8, "sb": 1, "sh": 2, "sw": 4,
                     "sd": 8, "c.ldsp": 8}
    amo = access_of(base("amoadd.w"))
    assert amo.reads and amo.writes and amo.aligned_only and not amo.offset
    sc = access_of(base("sc.d"))
    assert sc.writes and not sc.reads and sc.conditional
    lr = access_of(base("lr.w"))
    assert lr.reads and not lr.writes and lr.aligned_only


def test_effective_address_uses_rs1_and_the_immediate() -> None:
    registers = [0] * 32
    registers[10] = 0x8000_1000
    registers[2] = 0x8000_8000
    for source, address in (("ld a1, -8(a0)", 0x8000_0FF8), ("sw a1, 12(a0)", 0x8000_100C),
                            ("amoswap.w a1, a2, (a0)", 0x8000_1000),
                            ("c.ldsp a1, 16(sp)", 0x8000_8010)):
        words = assemble(source, 0x8000_0000)
        word = int.from_bytes(words[:4] if len(words) >= 4 else words, "little")
        found = effective_address(decode(word), registers)
        assert found is not None and found[0] == address, source
    assert effective_address(decode(int.from_bytes(assemble("addi a0, a0, 1", 0), "little")),
                             registers) is None
