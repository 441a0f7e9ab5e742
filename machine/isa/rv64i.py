"""RV64I base integer instructions, FENCE, and the privileged instructions."""

from __future__ import annotations

from .spec import InstructionSpec, declare

SPECS: list[InstructionSpec] = []


def _i(name: str, encoding: str, syntax: str, semantics: str, kind: str = "") -> None:
    declare(SPECS, name, encoding, syntax, semantics, ext="I", kind=kind)


# Upper immediates and jumps
_i("lui", "rd imm_u 6..0=0x37", "rd,imm_u", "RD = imm")
_i("auipc", "rd imm_u 6..0=0x17", "rd,imm_u", "RD = PC + imm")
_i("jal", "rd imm_j 6..0=0x6f", "rd,@imm_j", "RD = NEXT\nNPC = PC + imm", "jump")
_i("jalr", "rd rs1 imm_i 14..12=0 6..0=0x67", "rd,imm_i(rs1)",
   "target = (RS1 + imm) & ~1\nRD = NEXT\nNPC = target", "jump")

# Conditional branches: signed comparisons via S(), the two's-complement view.
for _name, _f3, _cond in (("beq", 0, "RS1 == RS2"), ("bne", 1, "RS1 != RS2"),
                          ("blt", 4, "S(RS1) < S(RS2)"), ("bge", 5, "S(RS1) >= S(RS2)"),
                          ("bltu", 6, "RS1 < RS2"), ("bgeu", 7, "RS1 >= RS2")):
    _i(_name, f"rs1 rs2 imm_b 14..12={_f3} 6..0=0x63", "rs1,rs2,@imm_b",
       f"if {_cond}:\n    NPC = PC + imm", "branch")

# Loads and stores
for _name, _f3, _fn in (("lb", 0, "load_s8"), ("lh", 1, "load_s16"), ("lw", 2, "load_s32"),
                        ("ld", 3, "load_u64"), ("lbu", 4, "load_u8"), ("lhu", 5, "load_u16"),
                        ("lwu", 6, "load_u32")):
    _i(_name, f"rd rs1 imm_i 14..12={_f3} 6..0=0x03", "rd,imm_i(rs1)",
       f"RD = mem.{_fn}(RS1 + imm)", "load")
for _name, _f3, _fn in (("sb", 0, "store_8"), ("sh", 1, "store_16"), ("sw", 2, "store_32"),
                        ("sd", 3, "store_64")):
    _i(_name, f"rs1 rs2 imm_s 14..12={_f3} 6..0=0x23", "rs2,imm_s(rs1)",
       f"mem.{_fn}(RS1 + imm, RS2)", "store")

# Register-immediate
_i("addi", "rd rs1 imm_i 14..12=0 6..0=0x13", "rd,rs1,imm_i", "RD = RS1 + imm")
_i("slti", "rd rs1 imm_i 14..12=2 6..0=0x13", "rd,rs1,imm_i", "RD = S(RS1) < imm")
_i("sltiu", "rd rs1 imm_i 14..12=3 6..0=0x13", "rd,rs1,imm_i",
   "RD = RS1 < (imm & 0xFFFFFFFFFFFFFFFF)")
_i("xori", "rd rs1 imm_i 14..12=4 6..0=0x13", "rd,rs1,imm_i", "RD = RS1 ^ imm")
_i("ori", "rd rs1 imm_i 14..12=6 6..0=0x13", "rd,rs1,imm_i", "RD = RS1 | imm")
_i("andi", "rd rs1 imm_i 14..12=7 6..0=0x13", "rd,rs1,imm_i", "RD = RS1 & imm")
_i("slli", "rd rs1 shamt 31..26=0 14..12=1 6..0=0x13", "rd,rs1,shamt", "RD = RS1 << shamt")
_i("srli", "rd rs1 shamt 31..26=0 14..12=5 6..0=0x13", "rd,rs1,shamt", "RD = RS1 >> shamt")
_i("srai", "rd rs1 shamt 31..26=0x10 14..12=5 6..0=0x13", "rd,rs1,shamt",
   "RD = S(RS1) >> shamt")

# Register-register
for _name, _f7, _f3, _expr in (
        ("add", 0, 0, "RS1 + RS2"), ("sub", 0x20, 0, "RS1 - RS2"),
        ("sll", 0, 1, "RS1 << (RS2 & 63)"), ("slt", 0, 2, "S(RS1) < S(RS2)"),
        ("sltu", 0, 3, "RS1 < RS2"), ("xor", 0, 4, "RS1 ^ RS2"),
        ("srl", 0, 5, "RS1 >> (RS2 & 63)"), ("sra", 0x20, 5, "S(RS1) >> (RS2 & 63)"),
        ("or", 0, 6, "RS1 | RS2"), ("and", 0, 7, "RS1 & RS2")):
    _i(_name, f"rd rs1 rs2 31..25={_f7} 14..12={_f3} 6..0=0x33", "rd,rs1,rs2", f"RD = {_expr}")

# 32-bit (W) forms: compute, then sign-extend bit 31.
_i("addiw", "rd rs1 imm_i 14..12=0 6..0=0x1b", "rd,rs1,imm_i", "RD = SX32(RS1 + imm)")
_i("slliw", "rd rs1 shamtw 31..25=0 14..12=1 6..0=0x1b", "rd,rs1,shamtw",
   "RD = SX32(RS1 << shamt)")
_i("srliw", "rd rs1 shamtw 31..25=0 14..12=5 6..0=0x1b", "rd,rs1,shamtw",
   "RD = SX32((RS1 & 0xFFFFFFFF) >> shamt)")
_i("sraiw", "rd rs1 shamtw 31..25=0x20 14..12=5 6..0=0x1b", "rd,rs1,shamtw",
   "RD = SX32(RS1) >> shamt")
for _name, _f7, _f3, _expr in (
        ("addw", 0, 0, "SX32(RS1 + RS2)"), ("subw", 0x20, 0, "SX32(RS1 - RS2)"),
        ("sllw", 0, 1, "SX32(RS1 << (RS2 & 31))"),
        ("srlw", 0, 5, "SX32((RS1 & 0xFFFFFFFF) >> (RS2 & 31))"),
        ("sraw", 0x20, 5, "SX32(RS1) >> (RS2 & 31)")):
    _i(_name, f"rd rs1 rs2 31..25={_f7} 14..12={_f3} 6..0=0x3b", "rd,rs1,rs2", f"RD = {_expr}")

# Memory ordering: one hart with in-order memory, so FENCE orders nothing.
# rd/rs1 and fm are reserved and ignored, as the specification asks (a reserved
# fm or pred/succ configuration is a normal fence). FENCE.TSO is the one defined
# fm (1000, with pred = succ = rw); declared first, it decodes and prints by name.
_i("fence.tso", "31..28=8 27..24=3 23..20=3 rs1 14..12=0 rd 6..0=0x0f", "", "pass")
_i("fence", "fm pred succ rs1 14..12=0 rd 6..0=0x0f", "pred,succ", "pass")

# System
declare(SPECS, "ecall", "31..20=0 19..15=0 14..12=0 11..7=0 6..0=0x73", "",
        "hart.ecall()", ext="I", kind="system")
declare(SPECS, "ebreak", "31..20=1 19..15=0 14..12=0 11..7=0 6..0=0x73", "",
        "hart.ebreak()", ext="I", kind="system")
declare(SPECS, "sret", "31..20=0x102 19..15=0 14..12=0 11..7=0 6..0=0x73", "",
        "NPC = hart.sret(INSN)", ext="priv", kind="system jump")
declare(SPECS, "mret", "31..20=0x302 19..15=0 14..12=0 11..7=0 6..0=0x73", "",
        "NPC = hart.mret(INSN)", ext="priv", kind="system jump")
declare(SPECS, "wfi", "31..20=0x105 19..15=0 14..12=0 11..7=0 6..0=0x73", "",
        "hart.wfi(INSN)", ext="priv", kind="system")
declare(SPECS, "sfence.vma", "31..25=0x09 rs2 rs1 14..12=0 11..7=0 6..0=0x73", "rs1,rs2",
        "hart.sfence_vma(RS1 if rs1 else None, RS2 if rs2 else None, INSN)",
        ext="priv", kind="system")
