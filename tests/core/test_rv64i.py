"""RV64I: results the unprivileged specification defines, edge case by edge case."""

from __future__ import annotations

import pytest

from .harness import CODE, DATA, Machine, run, u64

NEG1 = (1 << 64) - 1
MIN64 = 1 << 63
MAX64 = (1 << 63) - 1


def one(text: str, **regs: int) -> int:
    """Run one instruction writing a0 from a1/a2 and return a0."""
    m = run(text, **regs)
    assert not m.traps, m.traps
    return m["a0"]


# --- W forms: operate on the low 32 bits, sign-extend bit 31 into 63..32 -------
@pytest.mark.parametrize("text, a1, a2, expected", [
    ("addw a0, a1, a2", 0x7FFFFFFF, 1, 0xFFFFFFFF80000000),
    ("addw a0, a1, a2", 0x1234567800000001, 0xFFFFFFFF00000002, 3),
    ("addw a0, a1, a2", 0xFFFFFFFF, 1, 0),
    ("subw a0, a1, a2", 0, 1, NEG1),
    ("subw a0, a1, a2", 0xFFFFFFFF80000000, 1, 0x7FFFFFFF),
    ("subw a0, a1, a2", 0x5555555500000000, 0, 0),
    ("sllw a0, a1, a2", 1, 31, 0xFFFFFFFF80000000),
    ("sllw a0, a1, a2", 1, 63, 0xFFFFFFFF80000000),        # only rs2[4:0] counts
    ("sllw a0, a1, a2", 3, 0xFFFFFFFFFFFFFFE1, 6),          # shift by 1
    ("sllw a0, a1, a2", 0xFFFFFFFF00000001, 32, 1),          # 32 & 31 = 0
    ("srlw a0, a1, a2", 0xFFFFFFFF80000000, 31, 1),
    ("srlw a0, a1, a2", 0x80000000, 0, 0xFFFFFFFF80000000),  # by 0: still sign-extends
    ("srlw a0, a1, a2", 0xFFFFFFFF80000000, 1, 0x40000000),
    ("srlw a0, a1, a2", 0x80000000, 0xFFFFFFFFFFFFFFFF, 1),  # by 31
    ("sraw a0, a1, a2", 0x80000000, 31, NEG1),
    ("sraw a0, a1, a2", 0x80000000, 4, 0xFFFFFFFFF8000000),
    ("sraw a0, a1, a2", 0xFFFFFFFF7FFFFFFF, 0, 0x7FFFFFFF),
    ("sraw a0, a1, a2", 0x40000000, 0x21, 0x20000000),       # 0x21 & 31 = 1
])
def test_w_register_forms(text: str, a1: int, a2: int, expected: int) -> None:
    assert one(text, a1=a1, a2=a2) == expected


@pytest.mark.parametrize("text, a1, expected", [
    ("addiw a0, a1, 0", 0x00000000FFFFFFFF, NEG1),           # sext.w
    ("addiw a0, a1, 0", 0xFFFFFFFF7FFFFFFF, 0x7FFFFFFF),
    ("addiw a0, a1, 1", 0x7FFFFFFF, 0xFFFFFFFF80000000),
    ("addiw a0, a1, -1", 0, NEG1),
    ("addiw a0, a1, -2048", 0x80000000 + 2047, 0x7FFFFFFF),
    ("addiw a0, a1, -2048", 0x80000000 + 2048, 0xFFFFFFFF80000000),
    ("slliw a0, a1, 31", 1, 0xFFFFFFFF80000000),
    ("slliw a0, a1, 0", 0x100000001, 1),
    ("slliw a0, a1, 4", 0x0FFFFFFF, 0xFFFFFFFFFFFFFFF0),
    ("srliw a0, a1, 0", 0x80000000, 0xFFFFFFFF80000000),
    ("srliw a0, a1, 1", 0xFFFFFFFF80000000, 0x40000000),
    ("srliw a0, a1, 31", 0x80000000, 1),
    ("sraiw a0, a1, 31", 0x80000000, NEG1),
    ("sraiw a0, a1, 0", 0x123456787FFFFFFF, 0x7FFFFFFF),
    ("sraiw a0, a1, 8", 0xF0000000, 0xFFFFFFFFFFF00000),
])
def test_w_immediate_forms(text: str, a1: int, expected: int) -> None:
    assert one(text, a1=a1) == expected


# --- shifts: 6-bit amounts on RV64 ---------------------------------------------
@pytest.mark.parametrize("text, a1, a2, expected", [
    ("slli a0, a1, 63", 1, 0, MIN64),
    ("slli a0, a1, 31", 1, 0, 0x80000000),                    # no sign extension
    ("slli a0, a1, 32", 0xFFFFFFFF, 0, 0xFFFFFFFF00000000),
    ("srli a0, a1, 63", NEG1, 0, 1),
    ("srli a0, a1, 31", NEG1, 0, 0x1FFFFFFFF),
    ("srai a0, a1, 63", MIN64, 0, NEG1),
    ("srai a0, a1, 31", MIN64, 0, 0xFFFFFFFF00000000),
    ("srai a0, a1, 0", MIN64, 0, MIN64),
    ("sll a0, a1, a2", 1, 63, MIN64),
    ("sll a0, a1, a2", 1, 0xFFFFFFFFFFFFFF41, 2),              # rs2[5:0] = 1
    ("sll a0, a1, a2", 5, 64, 5),                              # 64 & 63 = 0
    ("srl a0, a1, a2", NEG1, 63, 1),
    ("srl a0, a1, a2", MIN64, 0xFFFFFFFFFFFFFFFF, 1),          # by 63
    ("srl a0, a1, a2", 0x80, 0x8000000000000007, 1),           # by 7
    ("sra a0, a1, a2", MIN64, 63, NEG1),
    ("sra a0, a1, a2", MIN64, 0xFFFFFFFFFFFFFFC4, 0xF800000000000000),  # by 4
    ("sra a0, a1, a2", 0x4000000000000000, 62, 1),
])
def test_shifts(text: str, a1: int, a2: int, expected: int) -> None:
    assert one(text, a1=a1, a2=a2) == expected


# --- comparisons ---------------------------------------------------------------
@pytest.mark.parametrize("text, a1, a2, expected", [
    ("slt a0, a1, a2", NEG1, 0, 1),
    ("slt a0, a1, a2", 0, NEG1, 0),
    ("slt a0, a1, a2", MIN64, MAX64, 1),
    ("slt a0, a1, a2", 5, 5, 0),
    ("sltu a0, a1, a2", NEG1, 0, 0),
    ("sltu a0, a1, a2", 0, NEG1, 1),
    ("sltu a0, a1, a2", MIN64, MAX64, 0),
    ("sltu a0, zero, a2", 0, 7, 1),                            # snez
    ("slti a0, a1, -1", NEG1, 0, 0),
    ("slti a0, a1, -1", MIN64, 0, 1),
    ("slti a0, a1, 0", NEG1, 0, 1),
    ("slti a0, a1, 2047", 2046, 0, 1),
    ("sltiu a0, a1, -1", 0, 0, 1),                             # imm is 2**64 - 1 unsigned
    ("sltiu a0, a1, -1", NEG1 - 1, 0, 1),
    ("sltiu a0, a1, -1", NEG1, 0, 0),
    ("sltiu a0, a1, 1", 0, 0, 1),                              # seqz
    ("sltiu a0, a1, 1", MIN64, 0, 0),
    ("sltiu a0, a1, -2048", 0xFFFFFFFFFFFFF7FF, 0, 1),          # imm = 0xffff...f800
])
def test_comparisons(text: str, a1: int, a2: int, expected: int) -> None:
    assert one(text, a1=a1, a2=a2) == expected


@pytest.mark.parametrize("text, a1, expected", [
    ("addi a0, a1, -1", 0, NEG1),
    ("addi a0, a1, 1", NEG1, 0),
    ("addi a0, a1, 1", MAX64, MIN64),
    ("xori a0, a1, -1", 0x0F0F, u64(~0x0F0F)),                  # not
    ("ori a0, a1, -2048", 0, 0xFFFFFFFFFFFFF800),
    ("andi a0, a1, -1", 0x123456789ABCDEF0, 0x123456789ABCDEF0),
    ("andi a0, a1, 0x7ff", NEG1, 0x7FF),
])
def test_immediate_alu(text: str, a1: int, expected: int) -> None:
    assert one(text, a1=a1) == expected


@pytest.mark.parametrize("text, a1, a2, expected", [
    ("add a0, a1, a2", NEG1, 2, 1),
    ("sub a0, a1, a2", 0, 1, NEG1),
    ("sub a0, a1, a2", MIN64, 1, MAX64),
    ("xor a0, a1, a2", NEG1, 0xFF, 0xFFFFFFFFFFFFFF00),
    ("or a0, a1, a2", 0xF0, 0x0F, 0xFF),
    ("and a0, a1, a2", 0xF0F0, 0xFF00, 0xF000),
])
def test_register_alu(text: str, a1: int, a2: int, expected: int) -> None:
    assert one(text, a1=a1, a2=a2) == expected


def test_writes_to_x0_are_discarded() -> None:
    m = run("addi zero, zero, 5; lui zero, 0x12345; add a0, zero, zero", a0=99)
    assert m.hart.x[0] == 0
    assert m["a0"] == 0


# --- upper immediates ------------------------------------------------------------
@pytest.mark.parametrize("text, expected", [
    ("lui a0, 0x80000", 0xFFFFFFFF80000000),
    ("lui a0, 0xfffff", 0xFFFFFFFFFFFFF000),
    ("lui a0, 0x7ffff", 0x7FFFF000),
    ("lui a0, 0x1", 0x1000),
])
def test_lui_sign_extends(text: str, expected: int) -> None:
    assert one(text) == expected


def test_auipc_adds_sign_extended_immediate_to_pc() -> None:
    m = run("auipc a0, 0; auipc a1, 0x80000; auipc a2, 0xfffff; auipc a3, 1")
    assert m["a0"] == CODE
    assert m["a1"] == u64(CODE + 4 - 0x80000000)
    assert m["a2"] == CODE + 8 - 0x1000
    assert m["a3"] == CODE + 12 + 0x1000


# --- jumps --------------------------------------------------------------------
def test_jal_links_next_pc_and_jumps() -> None:
    m = run("jal ra, target; addi a0, zero, 1; target: addi a1, zero, 2")
    assert m["ra"] == CODE + 4
    assert m["a0"] == 0 and m["a1"] == 2


def test_jal_backwards() -> None:
    m = Machine()
    m.load_code("back: addi a1, a1, 1; j out; start: jal ra, back; out: nop")
    m.hart.pc = CODE + 8
    m.run_to_end()
    assert m["a1"] == 1 and m["ra"] == CODE + 12


def test_jalr_clears_bit_zero_and_links() -> None:
    m = Machine()
    m.load_code("jalr ra, 1(a0); addi a1, zero, 1; target: addi a2, zero, 2")
    m["a0"] = CODE + 8       # CODE + 9 is odd: bit 0 is cleared, landing on target

    m.hart.pc = CODE
    m.run_to_end()
    assert m["ra"] == CODE + 4
    assert m["a1"] == 0 and m["a2"] == 2
    assert m.hart.pc == m.end


def test_jalr_with_rd_equal_rs1_uses_old_value() -> None:
    m = Machine()
    m.load_code("jalr a0, 0(a0); addi a1, zero, 1; target: addi a2, zero, 2")
    m["a0"] = CODE + 8
    m.run_to_end()
    assert m["a0"] == CODE + 4 and m["a1"] == 0 and m["a2"] == 2


def test_jalr_negative_offset() -> None:
    m = Machine()
    m.load_code("j start; target: addi a2, zero, 2; j done; start: jalr zero, -8(a0); done: nop")
    m["a0"] = CODE + 12
    m.run_to_end()
    assert m["a2"] == 2


# --- branches --------------------------------------------------------------------
@pytest.mark.parametrize("branch, a1, a2, taken", [
    ("beq", NEG1, NEG1, True), ("beq", 0, NEG1, False),
    ("bne", 1, 1 | (1 << 32), True), ("bne", 7, 7, False),
    ("blt", NEG1, 0, True), ("blt", 0, NEG1, False), ("blt", MIN64, MAX64, True),
    ("blt", 5, 5, False),
    ("bge", 0, NEG1, True), ("bge", NEG1, 0, False), ("bge", 5, 5, True),
    ("bge", MAX64, MIN64, True),
    ("bltu", 0, NEG1, True), ("bltu", NEG1, 0, False), ("bltu", MAX64, MIN64, True),
    ("bltu", 3, 3, False),
    ("bgeu", NEG1, 0, True), ("bgeu", 0, NEG1, False), ("bgeu", 3, 3, True),
    ("bgeu", MAX64, MIN64, False),
])
def test_branches(branch: str, a1: int, a2: int, taken: bool) -> None:
    m = run(f"{branch} a1, a2, over; addi a0, zero, 1; over: nop", a1=a1, a2=a2)
    assert m["a0"] == (0 if taken else 1)


def test_backward_branch_loop() -> None:
    m = run("li a0, 0; li a1, 10; loop: addi a0, a0, 3; addi a1, a1, -1; bnez a1, loop")
    assert m["a0"] == 30


# --- loads and stores ---------------------------------------------------------------
@pytest.mark.parametrize("load, memory, expected", [
    ("lb", 0x80, 0xFFFFFFFFFFFFFF80), ("lb", 0x7F, 0x7F),
    ("lbu", 0x80, 0x80),
    ("lh", 0x8000, 0xFFFFFFFFFFFF8000), ("lh", 0x7FFF, 0x7FFF),
    ("lhu", 0x8000, 0x8000),
    ("lw", 0x80000000, 0xFFFFFFFF80000000), ("lw", 0x7FFFFFFF, 0x7FFFFFFF),
    ("lwu", 0x80000000, 0x80000000),
    ("ld", 0x8000000000000001, 0x8000000000000001),
])
def test_load_extension(load: str, memory: int, expected: int) -> None:
    m = Machine()
    m.poke(DATA + 16, 8, memory)
    m.run_code(f"{load} a0, 16(a1)", a1=DATA)
    assert m["a0"] == expected


def test_load_ignores_neighbouring_bytes() -> None:
    m = Machine()
    m.poke(DATA, 8, 0xFFEEDDCCBBAA9980)
    m.run_code("lb a0, 0(a1); lhu a2, 2(a1); lw a3, 4(a1); lbu a4, 7(a1)", a1=DATA)
    assert m["a0"] == 0xFFFFFFFFFFFFFF80
    assert m["a2"] == 0xBBAA
    assert m["a3"] == 0xFFFFFFFFFFEEDDCC
    assert m["a4"] == 0xFF


def test_stores_write_only_their_bytes() -> None:
    m = Machine()
    m.poke(DATA, 16, (1 << 128) - 1)
    m.run_code("sb a2, 0(a1); sh a2, 2(a1); sw a2, 4(a1); sd a2, 8(a1)",
               a1=DATA, a2=0x0123456789ABCDEF)
    assert m.read(DATA, 8) == 0x89ABCDEFCDEFFFEF
    assert m.read(DATA + 8, 8) == 0x0123456789ABCDEF


def test_negative_offsets() -> None:
    m = Machine()
    m.poke(DATA - 8, 8, 0x1122334455667788)
    m.run_code("ld a0, -8(a1); sw a0, -2048(a1)", a1=DATA)
    assert m["a0"] == 0x1122334455667788
    assert m.read(DATA - 2048, 4) == 0x55667788


@pytest.mark.parametrize("offset", [1, 2, 3, 5, 7])
def test_misaligned_loads_and_stores_are_performed(offset: int) -> None:
    m = Machine()
    m.write(DATA, bytes(range(0x10, 0x30)))
    m.run_code(f"ld a0, {offset}(a1); lw a2, {offset}(a1); lh a3, {offset}(a1); "
               f"lwu a4, {offset}(a1)", a1=DATA)
    raw = bytes(range(0x10, 0x30))
    assert not m.traps
    assert m["a0"] == int.from_bytes(raw[offset:offset + 8], "little")
    assert m["a2"] == int.from_bytes(raw[offset:offset + 4], "little")
    assert m["a3"] == int.from_bytes(raw[offset:offset + 2], "little")
    m = Machine()
    m.run_code(f"sd a2, {offset}(a1); sw a3, {offset + 8}(a1); sh a3, {offset + 13}(a1)",
               a1=DATA, a2=0x8877665544332211, a3=0xDDCCBBAA)
    assert not m.traps
    assert m.read(DATA + offset, 8) == 0x8877665544332211
    assert m.read(DATA + offset + 8, 4) == 0xDDCCBBAA
    assert m.read(DATA + offset + 13, 2) == 0xBBAA


def test_misaligned_negative_value_sign_extends() -> None:
    m = Machine()
    m.write(DATA, bytes([0, 0x00, 0x00, 0x00, 0x80, 0x00]))
    m.run_code("lw a0, 1(a1); lh a2, 3(a1)", a1=DATA)
    assert m["a0"] == 0xFFFFFFFF80000000
    assert m["a2"] == 0xFFFFFFFFFFFF8000


def test_misaligned_across_physical_page_in_machine_mode() -> None:
    m = Machine()
    page_end = DATA + 0x1000
    m.write(page_end - 3, bytes([1, 2, 3, 4, 5, 6, 7, 8]))
    m.run_code("ld a0, -3(a1); sd a2, -5(a1)", a1=page_end, a2=0xA1A2A3A4A5A6A7A8)
    assert m["a0"] == 0x0807060504030201
    assert m.read(page_end - 5, 8) == 0xA1A2A3A4A5A6A7A8


def test_fence_and_fence_i_are_no_ops_for_registers() -> None:
    m = run("fence rw, rw; fence.i; fence 0, 0; addi a0, zero, 1")
    assert m["a0"] == 1 and not m.traps
