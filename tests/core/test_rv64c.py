"""RV64C: every compressed form executes as its 32-bit expansion.

The encodings are GNU as 2.4x output (``riscv64-unknown-elf-as -march=rv64imac``),
so a field declared with its bits in the wrong place cannot pass by agreeing
with our own assembler. Each case states the expansion's exact effect.
"""

from __future__ import annotations

import pytest

from machine.isa.asm import asm

from .harness import CODE, DATA, REG, Machine

NEG1 = (1 << 64) - 1
MIN64 = 1 << 63
SP = DATA + 0x800

# (GNU text, word, registers before, memory before {addr: (size, value)},
#  registers after, memory after)
CASES = [
    ("c.addi4spn s0, sp, 1020", 0x1FE0, {"sp": SP}, {}, {"s0": SP + 1020}, {}),
    ("c.addi4spn a5, sp, 4", 0x005C, {"sp": SP, "a5": 9}, {}, {"a5": SP + 4}, {}),
    ("c.lw a0, 124(a1)", 0x5DE8, {"a1": DATA}, {DATA + 124: (4, 0x80000001)},
     {"a0": 0xFFFFFFFF80000001}, {}),
    ("c.lw s1, 4(a5)", 0x43C4, {"a5": DATA}, {DATA + 4: (8, 0xAAAAAAAA7FFFFFFF)},
     {"s1": 0x7FFFFFFF}, {}),
    ("c.ld a2, 248(a3)", 0x7EF0, {"a3": DATA}, {DATA + 248: (8, MIN64 | 5)},
     {"a2": MIN64 | 5}, {}),
    ("c.ld s0, 8(s1)", 0x6480, {"s1": DATA}, {DATA + 8: (8, 0x1234)}, {"s0": 0x1234}, {}),
    ("c.sw a4, 64(a5)", 0xC3B8, {"a4": 0x1122334455667788, "a5": DATA},
     {DATA + 64: (8, NEG1)}, {}, {DATA + 64: (8, 0xFFFFFFFF55667788)}),
    ("c.sd a4, 128(a5)", 0xE3D8, {"a4": 0x1122334455667788, "a5": DATA}, {}, {},
     {DATA + 128: (8, 0x1122334455667788)}),
    ("c.nop", 0x0001, {"a0": 3}, {}, {"a0": 3}, {}),
    ("c.addi a0, -32", 0x1501, {"a0": 0}, {}, {"a0": NEG1 - 31}, {}),
    ("c.addi t6, 31", 0x0FFD, {"t6": NEG1}, {}, {"t6": 30}, {}),
    ("c.addiw a1, -1", 0x35FD, {"a1": 0x100000000}, {}, {"a1": NEG1}, {}),
    ("c.addiw a1, -1", 0x35FD, {"a1": 0x80000000}, {}, {"a1": 0x7FFFFFFF}, {}),
    ("c.addiw s11, 1", 0x2D85, {"s11": 0x7FFFFFFF}, {}, {"s11": 0xFFFFFFFF80000000}, {}),
    ("c.li a2, -32", 0x5601, {"a2": 5}, {}, {"a2": NEG1 - 31}, {}),
    ("c.li t0, 31", 0x42FD, {}, {}, {"t0": 31}, {}),
    ("c.addi16sp sp, -512", 0x7101, {"sp": SP}, {}, {"sp": SP - 512}, {}),
    ("c.addi16sp sp, 496", 0x617D, {"sp": SP}, {}, {"sp": SP + 496}, {}),
    ("c.lui a3, 0xfffe0", 0x7681, {}, {}, {"a3": 0xFFFFFFFFFFFE0000}, {}),
    ("c.lui s2, 0x1f", 0x697D, {}, {}, {"s2": 0x1F000}, {}),
    ("c.srli a4, 63", 0x937D, {"a4": NEG1}, {}, {"a4": 1}, {}),
    ("c.srli s1, 1", 0x8085, {"s1": MIN64}, {}, {"s1": MIN64 >> 1}, {}),
    ("c.srai a5, 63", 0x97FD, {"a5": MIN64}, {}, {"a5": NEG1}, {}),
    ("c.srai s0, 32", 0x9401, {"s0": MIN64}, {}, {"s0": 0xFFFFFFFF80000000}, {}),
    ("c.andi a0, -1", 0x997D, {"a0": 0x123456789}, {}, {"a0": 0x123456789}, {}),
    ("c.andi s1, 21", 0x88D5, {"s1": NEG1}, {}, {"s1": 21}, {}),
    ("c.sub a0, a1", 0x8D0D, {"a0": 0, "a1": 1}, {}, {"a0": NEG1}, {}),
    ("c.xor a2, a3", 0x8E35, {"a2": 0xFF, "a3": 0x0F}, {}, {"a2": 0xF0}, {}),
    ("c.or a4, a5", 0x8F5D, {"a4": 0xF0, "a5": 0x0F}, {}, {"a4": 0xFF}, {}),
    ("c.and s0, s1", 0x8C65, {"s0": 0xF0, "s1": 0x3C}, {}, {"s0": 0x30}, {}),
    ("c.subw a0, a5", 0x9D1D, {"a0": 0x80000000, "a5": 1}, {}, {"a0": 0x7FFFFFFF}, {}),
    ("c.subw a0, a5", 0x9D1D, {"a0": 0, "a5": 1}, {}, {"a0": NEG1}, {}),
    ("c.addw s1, a1", 0x9CAD, {"s1": 0x7FFFFFFF, "a1": 1}, {}, {"s1": 0xFFFFFFFF80000000}, {}),
    ("c.slli a6, 63", 0x187E, {"a6": 3}, {}, {"a6": MIN64}, {}),
    ("c.slli t1, 1", 0x0306, {"t1": MIN64 | 1}, {}, {"t1": 2}, {}),
    ("c.lwsp a7, 252(sp)", 0x58FE, {"sp": SP}, {SP + 252: (4, 0x80000000)},
     {"a7": 0xFFFFFFFF80000000}, {}),
    ("c.lwsp t2, 0(sp)", 0x4382, {"sp": SP}, {SP: (4, 0x7)}, {"t2": 7}, {}),
    ("c.ldsp ra, 504(sp)", 0x70FE, {"sp": SP}, {SP + 504: (8, NEG1)}, {"ra": NEG1}, {}),
    ("c.ldsp s3, 8(sp)", 0x69A2, {"sp": SP}, {SP + 8: (8, 0x42)}, {"s3": 0x42}, {}),
    ("c.mv a1, t6", 0x85FE, {"t6": 0xDEAD}, {}, {"a1": 0xDEAD, "t6": 0xDEAD}, {}),
    ("c.add a0, s4", 0x9552, {"a0": NEG1, "s4": 2}, {}, {"a0": 1}, {}),
    ("c.swsp t4, 252(sp)", 0xDFF6, {"sp": SP, "t4": 0x1_8765_4321}, {}, {},
     {SP + 252: (8, 0x87654321)}),
    ("c.sdsp t5, 504(sp)", 0xFFFA, {"sp": SP, "t5": 0x1122334455667788}, {}, {},
     {SP + 504: (8, 0x1122334455667788)}),
    # HINTs: they decode and do nothing
    ("c.li zero, 5", 0x4015, {}, {}, {"zero": 0}, {}),
    ("c.addi zero, 1", 0x0005, {}, {}, {"zero": 0}, {}),
    ("c.mv zero, a0", 0x802A, {"a0": 7}, {}, {"zero": 0}, {}),
    ("c.add zero, a0", 0x902A, {"a0": 7}, {}, {"zero": 0}, {}),
    ("c.slli zero, 1", 0x0006, {}, {}, {"zero": 0}, {}),
    ("c.lui zero, 1", 0x6005, {}, {}, {"zero": 0}, {}),
    ("c.slli a0, 0", 0x0502, {"a0": 9}, {}, {"a0": 9}, {}),
    ("c.srli a0, 0", 0x8101, {"a0": 9}, {}, {"a0": 9}, {}),
    ("c.srai a0, 0", 0x8501, {"a0": MIN64}, {}, {"a0": MIN64}, {}),
]


@pytest.mark.parametrize("text, word, before, memory, after, written", CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_compressed_executes_as_expansion(text: str, word: int, before: dict, memory: dict,
                                          after: dict, written: dict) -> None:
    m = Machine()
    for address, (size, value) in memory.items():
        m.poke(address, size, value)
    m.load_code(f".half {word}")
    for name, value in before.items():
        m[name] = value
    snapshot = list(m.hart.x[:32])
    m.hart.step()
    assert not m.traps, m.traps
    assert m.hart.pc == CODE + 2
    expected = dict(enumerate(snapshot))
    for name, value in after.items():
        expected[REG[name]] = value
    assert {i: m.hart.x[i] for i in range(32)} == expected
    for address, (size, value) in written.items():
        assert m.read(address, size) == value


@pytest.mark.parametrize("text, word", [(c[0], c[1]) for c in CASES])
def test_our_assembler_agrees_with_gnu_as(text: str, word: int) -> None:
    assert asm(text) == [word]


# --- control transfer ----------------------------------------------------------------------
@pytest.mark.parametrize("word, regs, offset", [
    (0xB001, {}, -2048),                         # c.j .-2048
    (0xAFFD, {}, 2046),                          # c.j .+2046
    (0xA009, {}, 2),                             # c.j .+2
    (0xCD7D, {"a0": 0}, 254),                    # c.beqz a0, .+254: taken
    (0xCD7D, {"a0": 1 << 40}, 2),                #   not taken
    (0xD081, {"s1": 0}, -256),                   # c.beqz s1, .-256
    (0xE389, {"a5": NEG1}, 2),                   # c.bnez a5, .+2 (taken; same place)
    (0xFC7D, {"s0": MIN64}, -2),                 # c.bnez s0, .-2
    (0xFC7D, {"s0": 0}, 2),                      #   not taken
    (0xEA39, {"a2": 1}, 0x56),                   # c.bnez a2, .+0x56
])
def test_compressed_jumps_and_branches(word: int, regs: dict, offset: int) -> None:
    m = Machine()
    at = CODE + 0x1000
    m.load_code(f".half {word}", at=at)
    for name, value in regs.items():
        m[name] = value
    m.hart.pc = at
    m.hart.step()
    assert not m.traps
    assert m.hart.pc == at + offset
    assert m["ra"] == 0                          # no link


def test_c_jr_and_c_jalr() -> None:
    m = Machine()
    m.load_code(".half 0x8502")                  # c.jr a0
    m["a0"] = CODE + 0x101                       # bit 0 cleared, as jalr does
    m.hart.step()
    assert m.hart.pc == CODE + 0x100 and m["ra"] == 0
    m = Machine()
    m.load_code(".half 0x9e02")                  # c.jalr t3
    m["t3"] = CODE + 0x200
    m.hart.step()
    assert m.hart.pc == CODE + 0x200 and m["ra"] == CODE + 2   # link = pc + 2
    m = Machine()
    m.load_code(".half 0x9082")                  # c.jalr ra: jumps to the old ra
    m["ra"] = CODE + 0x300
    m.hart.step()
    assert m.hart.pc == CODE + 0x300 and m["ra"] == CODE + 2
    m = Machine()
    m.load_code(".half 0x8082")                  # c.jr ra (ret)
    m["ra"] = CODE + 0x40
    m.hart.step()
    assert m.hart.pc == CODE + 0x40


def test_c_ebreak() -> None:
    m = Machine()
    m.run_code(".half 0x9002")
    assert (m.trap.cause, m.trap.epc) == (3, CODE)


def test_mixed_16_and_32_bit_stream() -> None:
    m = Machine()
    m.run_code("c.li a0, 1; addi a0, a0, 2; c.addi a0, 4; c.slli a0, 1; lui a1, 1; "
               "c.add a0, a1")
    assert m["a0"] == 0x1000 + 14
    assert m.hart.pc == CODE + 2 + 4 + 2 + 2 + 4 + 2
