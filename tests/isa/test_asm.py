"""The test assembler: disassembly assembles back to the same word, and the
pseudo-instructions, labels and errors tests rely on.

Round trips disassemble without a pc, so branch and jump targets are printed
as offsets, which is what a number in the assembler's target position means.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from machine.isa.asm import AsmError, asm, assemble
from machine.isa.decoder import ALL_SPECS, decode
from machine.isa.disasm import disassemble

from .canonical import instance


def test_every_compressed_word_round_trips():
    compared = 0
    for word in range(0x10000):
        if word & 3 != 3 and decode(word) is not None:
            text = disassemble(word)
            assert asm(text) == [word], text
            compared += 1
    assert compared > 38_000  # 49152 halfwords less F/D and reserved


@settings(max_examples=5_000, deadline=None, derandomize=True)
@given(st.sampled_from(ALL_SPECS), st.integers(0, 0xFFFFFFFF))
def test_random_instructions_round_trip(spec, bits):
    """Any declaration with random operands (those its syntax shows; reserved
    fields zero): disassemble, assemble, same word."""
    word = instance(spec, bits)
    if word is None:  # a reserved operand combination: nothing to assemble
        return
    text = disassemble(word)
    assert asm(text) == [word], text


@pytest.mark.parametrize("text, words", [
    ("amoadd.w.aqrl t0, zero, (zero)", [0x060022AF]),
    ("lr.w.aq a0, (a1)", [0x1405A52F]),
    ("sc.d.rl a0, a1, (a2)", [0x1AB6352F]),
    ("amoswap.d a0, a1, (a2)", [0x08B6352F]),
    ("fence.tso", [0x8330000F]),
    ("fence iorw, iorw", [0x0FF0000F]),
    ("fence w, 0", [0x0100000F]),
    ("csrrs a0, time, zero", [0xC0102573]),
    ("csrrs a1, 0x7c0, zero", [0x7C0025F3]),
    ("c.lui a0, 0xfffe0", [0x7501]),
    ("lui a1, 0x80000", [0x800005B7]),
])
def test_spelling(text, words):
    assert asm(text) == words


@pytest.mark.parametrize("text, expected", [
    ("nop", "addi zero,zero,0"),
    ("mv a0, a1", "addi a0,a1,0"),
    ("li a0, -5", "addi a0,zero,-5"),
    ("li a0, 0x12345fff", "lui a0,0x12346; addiw a0,a0,-1"),
    ("ret", "jalr zero,0(ra)"),
    ("j 16", "jal zero,16"),
    ("beqz a0, -4", "beq a0,zero,-4"),
    ("bnez a0, 8", "bne a0,zero,8"),
    ("csrr a0, mstatus", "csrrs a0,mstatus,zero"),
    ("csrw mtvec, a0", "csrrw zero,mtvec,a0"),
    ("csrs mie, a0", "csrrs zero,mie,a0"),
    ("csrc sstatus, a0", "csrrc zero,sstatus,a0"),
])
def test_pseudo_instructions(text, expected):
    assert "; ".join(disassemble(w) for w in asm(text)) == expected


def test_labels_and_directives():
    code = assemble("""
        start: c.addi a0, 1
               beq a0, a1, done     # forward, across a 4-byte and a 2-byte insn
               c.j start
        done:  .word 0xdeadbeef
               .half 0x1234
    """, origin=0x8000_0000)
    assert code[:2] == (0x0505).to_bytes(2, "little")
    assert disassemble(int.from_bytes(code[2:6], "little"), pc=0x8000_0002) == \
        "beq a0,a1,0x80000008"
    assert disassemble(int.from_bytes(code[6:8], "little"), pc=0x8000_0006) == \
        "c.j 0x80000000"
    assert code[8:] == bytes.fromhex("efbeadde3412")


@pytest.mark.parametrize("text", [
    "c.addi4spn a0, sp, 0",      # reserved: nzuimm = 0
    "c.lui a0, 0",               # reserved: nzimm = 0
    "c.lwsp zero, 4(sp)",        # reserved: rd = x0
    "addi a0, a0, 2048",         # does not fit in 12 bits
    "c.lw a0, 2(s0)",            # not a multiple of 4
    "c.lw a0, 0(a6)",            # a6 is not one of x8..x15
    "beq a0, a1, 3",             # odd branch offset
    "c.addi16sp a0, 16",         # the syntax fixes sp
    "fence.i.aq",                # no ordering bits on fence.i
    "amoadd.w.acq a0, a1, (a2)",
    "frobnicate a0",
    "addi a0, a1",
    "addi q0, a1, 1",
])
def test_errors(text):
    with pytest.raises(AsmError):
        asm(text)
