"""The decoder: every RV64C form and its expansion, reserved and illegal
encodings, hand-checked 32-bit words, and (when the RISC-V toolchain is
installed) every declaration against ``objdump -M no-aliases``.

Expected values come from the specification, not from our tables: each
compressed word is paired with the 32-bit instruction the unprivileged spec's
RVC chapter says it expands to; the toolchain test re-checks all the words
here with objdump.
"""

from __future__ import annotations

import random
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from machine.isa.csr_names import CSR_NUMBERS
from machine.isa.decoder import ALL_SPECS, decode
from machine.isa.disasm import disassemble

from .canonical import canonical, instance, ours, same

# (compressed word, its disassembly, the 32-bit word it expands to, that one's
# disassembly). Immediates at the edges of their ranges; shifts use all 6 bits.
RVC_EXPANSIONS = [
    # Quadrant 0
    (0x1FE8, "c.addi4spn a0,sp,1020", 0x3FC10513, "addi a0,sp,1020"),
    (0x0040, "c.addi4spn s0,sp,4", 0x00410413, "addi s0,sp,4"),
    (0x5F7C, "c.lw a5,124(a4)", 0x07C72783, "lw a5,124(a4)"),
    (0x7FE4, "c.ld s1,248(a5)", 0x0F87B483, "ld s1,248(a5)"),
    (0xDF7C, "c.sw a5,124(a4)", 0x06F72E23, "sw a5,124(a4)"),
    (0xFFE4, "c.sd s1,248(a5)", 0x0E97BC23, "sd s1,248(a5)"),
    # Quadrant 1
    (0x0001, "c.nop", 0x00000013, "addi zero,zero,0"),
    (0x1501, "c.addi a0,-32", 0xFE050513, "addi a0,a0,-32"),
    (0x017D, "c.addi sp,31", 0x01F10113, "addi sp,sp,31"),
    (0x001D, "c.addi zero,7", 0x00700013, "addi zero,zero,7"),   # C.NOP HINT
    (0x0505, "c.addi a0,1", 0x00150513, "addi a0,a0,1"),
    (0x0501, "c.addi a0,0", 0x00050513, "addi a0,a0,0"),         # HINT: nzimm=0
    # 001 is C.ADDIW on RV64 (C.JAL exists only on RV32)
    (0x357D, "c.addiw a0,-1", 0xFFF5051B, "addiw a0,a0,-1"),
    (0x2081, "c.addiw ra,0", 0x0000809B, "addiw ra,ra,0"),       # sext.w ra
    (0x5781, "c.li a5,-32", 0xFE000793, "addi a5,zero,-32"),
    (0x4015, "c.li zero,5", 0x00500013, "addi zero,zero,5"),     # HINT
    (0x7101, "c.addi16sp sp,-512", 0xE0010113, "addi sp,sp,-512"),
    (0x617D, "c.addi16sp sp,496", 0x1F010113, "addi sp,sp,496"),
    (0x6141, "c.addi16sp sp,16", 0x01010113, "addi sp,sp,16"),
    (0x7501, "c.lui a0,0xfffe0", 0xFFFE0537, "lui a0,0xfffe0"),
    (0x637D, "c.lui t1,0x1f", 0x0001F337, "lui t1,0x1f"),
    (0x6005, "c.lui zero,0x1", 0x00001037, "lui zero,0x1"),      # HINT
    (0x917D, "c.srli a0,63", 0x03F55513, "srli a0,a0,63"),
    (0x9001, "c.srli s0,32", 0x02045413, "srli s0,s0,32"),
    (0x8001, "c.srli s0,0", 0x00045413, "srli s0,s0,0"),         # HINT (C.SRLI64)
    (0x9481, "c.srai s1,32", 0x4204D493, "srai s1,s1,32"),
    (0x8785, "c.srai a5,1", 0x4017D793, "srai a5,a5,1"),
    (0x9B81, "c.andi a5,-32", 0xFE07F793, "andi a5,a5,-32"),
    (0x8C1D, "c.sub s0,a5", 0x40F40433, "sub s0,s0,a5"),
    (0x8D2D, "c.xor a0,a1", 0x00B54533, "xor a0,a0,a1"),
    (0x8E55, "c.or a2,a3", 0x00D66633, "or a2,a2,a3"),
    (0x8F7D, "c.and a4,a5", 0x00F77733, "and a4,a4,a5"),
    (0x9C81, "c.subw s1,s0", 0x408484BB, "subw s1,s1,s0"),
    (0x9D3D, "c.addw a0,a5", 0x00F5053B, "addw a0,a0,a5"),
    (0xB001, "c.j -2048", 0x801FF06F, "jal zero,-2048"),
    (0xAFFD, "c.j 2046", 0x7FE0006F, "jal zero,2046"),
    (0xD101, "c.beqz a0,-256", 0xF00500E3, "beq a0,zero,-256"),
    (0xECFD, "c.bnez s1,254", 0x0E049F63, "bne s1,zero,254"),
    # Quadrant 2
    (0x157E, "c.slli a0,63", 0x03F51513, "slli a0,a0,63"),
    (0x1F82, "c.slli t6,32", 0x020F9F93, "slli t6,t6,32"),
    (0x0502, "c.slli a0,0", 0x00051513, "slli a0,a0,0"),         # HINT (C.SLLI64)
    (0x0006, "c.slli zero,1", 0x00101013, "slli zero,zero,1"),   # HINT
    (0x50FE, "c.lwsp ra,252(sp)", 0x0FC12083, "lw ra,252(sp)"),
    (0x747E, "c.ldsp s0,504(sp)", 0x1F813403, "ld s0,504(sp)"),
    (0x8082, "c.jr ra", 0x00008067, "jalr zero,0(ra)"),
    (0x852E, "c.mv a0,a1", 0x00B00533, "add a0,zero,a1"),
    (0x8006, "c.mv zero,ra", 0x00100033, "add zero,zero,ra"),    # HINT
    (0x9002, "c.ebreak", 0x00100073, "ebreak"),
    (0x9502, "c.jalr a0", 0x000500E7, "jalr ra,0(a0)"),
    (0x952E, "c.add a0,a1", 0x00B50533, "add a0,a0,a1"),
    (0x9006, "c.add zero,ra", 0x00100033, "add zero,zero,ra"),   # HINT
    (0xDFAA, "c.swsp a0,252(sp)", 0x0EA12E23, "sw a0,252(sp)"),
    (0xFFFE, "c.sdsp t6,504(sp)", 0x1FF13C23, "sd t6,504(sp)"),
]


@pytest.mark.parametrize("cword, ctext, word, text", RVC_EXPANSIONS,
                         ids=[c[1] for c in RVC_EXPANSIONS])
def test_compressed_form_expands_as_the_spec_says(cword, ctext, word, text):
    compressed, full = decode(cword), decode(word)
    assert compressed is not None and full is not None
    assert compressed.length == 2 and full.length == 4
    assert disassemble(cword) == ctext
    assert disassemble(word) == text
    assert compressed.spec.name == ctext.split()[0]
    assert compressed.base is full.spec
    assert compressed.base_operands == full.operands


def test_every_compressed_declaration_is_tested():
    declared = {s.name for s in ALL_SPECS if s.length == 2}
    assert declared == {c[1].split()[0] for c in RVC_EXPANSIONS}
    assert "c.jal" not in declared  # RV32 only; its encoding is c.addiw here


# Reserved and illegal compressed encodings (unprivileged spec, RVC chapter).
ILLEGAL_16 = [
    (0x0000, "the all-zero halfword is defined illegal"),
    (0x0004, "c.addi4spn with nzuimm=0"),
    (0x001C, "c.addi4spn with nzuimm=0, rd'=a5"),
    (0x6101, "c.addi16sp with nzimm=0"),
    (0x6081, "c.lui with nzimm=0 (rd=ra)"),
    (0x6501, "c.lui with nzimm=0 (rd=a0)"),
    (0x6001, "c.lui with nzimm=0 and rd=x0"),
    (0x4002, "c.lwsp with rd=x0"),
    (0x507E, "c.lwsp with rd=x0, offset 252"),
    (0x6002, "c.ldsp with rd=x0"),
    (0x8002, "c.jr with rs1=x0"),
    (0x2001, "c.addiw with rd=x0"),
    (0x2005, "c.addiw with rd=x0 (would be c.jal on RV32)"),
    (0x8000, "quadrant 0, funct3=100: reserved"),
    (0x9C41, "c.subw/c.addw row, funct2=10: reserved"),
    (0x9C61, "c.subw/c.addw row, funct2=11: reserved"),
    (0x2000, "c.fld: no D extension"),
    (0xA000, "c.fsd: no D extension"),
    (0x2002, "c.fldsp: no D extension"),
    (0xA002, "c.fsdsp: no D extension"),
]


@pytest.mark.parametrize("word, why", ILLEGAL_16, ids=[w[1] for w in ILLEGAL_16])
def test_reserved_compressed_encodings_are_illegal(word, why):
    assert decode(word) is None


def test_only_the_low_halfword_of_a_compressed_word_counts():
    assert decode(0xFFFF0001).spec.name == "c.nop"
    assert decode(0x12340000) is None


def _r(f7: int, rs2: int, rs1: int, f3: int, rd: int, opcode: int) -> int:
    return f7 << 25 | rs2 << 20 | rs1 << 15 | f3 << 12 | rd << 7 | opcode


# 32-bit words that are no RV64IMAC+Zicsr+Zifencei+privileged instruction.
ILLEGAL_32 = [
    (0xFFFFFFFF, "all ones (a >= 192-bit encoding)"),
    (0x0000001F, "48-bit instruction prefix"),
    (0x0000000B, "custom-0 opcode"),
    (0x0000006B, "reserved opcode 11010"),
    (0x00000007, "LOAD-FP: no F/D"),
    (_r(0x02, 12, 11, 0, 10, 0x33), "add/mul row with funct7=0000010"),
    (_r(0x20, 12, 11, 4, 10, 0x33), "xor with funct7=0100000 (xnor is Zbb)"),
    (_r(0x20, 12, 11, 1, 10, 0x3B), "sllw with funct7=0100000"),
    (_r(0x01, 12, 11, 2, 10, 0x3B), "OP-32 M row funct3=010 (no mulhsuw)"),
    (_r(0x01, 1, 11, 1, 10, 0x1B), "slliw with shamt[5]=1 (reserved)"),
    (_r(0x01, 1, 11, 5, 10, 0x1B), "srliw with shamt[5]=1 (reserved)"),
    (_r(0x21, 1, 11, 5, 10, 0x1B), "sraiw with shamt[5]=1 (reserved)"),
    (_r(0x02, 1, 11, 1, 10, 0x13), "slli with imm[11:6]=000001"),
    (_r(0x22, 1, 11, 5, 10, 0x13), "srai with imm[11:6]=010001"),
    (_r(0, 0, 11, 2, 10, 0x1B), "OP-IMM-32 funct3=010"),
    (_r(0, 0, 11, 7, 10, 0x03), "load funct3=111 (ldu is RV128)"),
    (_r(0, 0, 11, 4, 10, 0x23), "store funct3=100"),
    (_r(0, 0, 11, 2, 10, 0x63), "branch funct3=010"),
    (_r(0, 0, 11, 1, 10, 0x67), "jalr funct3=001"),
    (_r(0x08, 1, 11, 2, 10, 0x2F), "lr.w with rs2 != x0"),
    (_r(0x00, 12, 11, 0, 10, 0x2F), "AMO funct3=000"),
    (_r(0x00, 12, 11, 4, 10, 0x2F), "AMO funct3=100"),
    (_r(0x38, 12, 11, 2, 10, 0x2F), "AMO funct5=11100"),
    (_r(0, 0, 11, 4, 10, 0x73), "SYSTEM funct3=100"),
    (_r(0, 0, 0, 0, 1, 0x73), "ecall with rd != x0"),
    (_r(0, 0, 1, 0, 0, 0x73), "ecall with rs1 != x0"),
    (_r(0x18, 2, 0, 0, 1, 0x73), "mret with rd != x0"),
    (_r(0x08, 5, 1, 0, 0, 0x73), "wfi with rs1 != x0"),
    (_r(0x09, 12, 11, 0, 1, 0x73), "sfence.vma with rd != x0"),
    (0x00200073, "uret: N extension, not implemented"),
    (0x7B200073, "dret: debug mode only"),
    (_r(0, 0, 11, 2, 0, 0x0F), "MISC-MEM funct3=010 (Zicbom/Zicboz cbo.*)"),
]


@pytest.mark.parametrize("word, why", ILLEGAL_32, ids=[w[1] for w in ILLEGAL_32])
def test_illegal_32_bit_words(word, why):
    assert decode(word) is None
    assert disassemble(word) == f".insn 0x{word:08x}  # illegal"


# Hand-checked 32-bit words and their disassembly at pc 0x1000.
KNOWN_32 = [
    (0x00A50513, "addi a0,a0,10"),
    (0xFFF00513, "addi a0,zero,-1"),
    (0x800005B7, "lui a1,0x80000"),
    (0xFFFFF517, "auipc a0,0xfffff"),
    (0x0080006F, "jal zero,0x1008"),
    (0xFFDFF0EF, "jal ra,0xffc"),
    (0x000780E7, "jalr ra,0(a5)"),
    (0x00008067, "jalr zero,0(ra)"),
    (0xFE0A0EE3, "beq s4,zero,0xffc"),
    (0x00B57463, "bgeu a0,a1,0x1008"),
    (0x0105B503, "ld a0,16(a1)"),
    (0xFEA43C23, "sd a0,-8(s0)"),
    (0x03F59593, "slli a1,a1,63"),
    (0x4205D593, "srai a1,a1,32"),
    (0x01F5959B, "slliw a1,a1,31"),
    (0x41F5D59B, "sraiw a1,a1,31"),
    (0x02B50533, "mul a0,a0,a1"),
    (0x02B54533, "div a0,a0,a1"),
    (0x02B5053B, "mulw a0,a0,a1"),
    (0x02B5753B, "remuw a0,a0,a1"),
    (0x1005A52F, "lr.w a0,(a1)"),
    (0x1805B5AF, "sc.d a1,zero,(a1)"),
    (0x0CB5352F, "amoswap.d.aq a0,a1,(a0)"),
    (0x4605262F, "amoor.w.aqrl a2,zero,(a0)"),
    (0xE2B5B52F, "amomaxu.d.rl a0,a1,(a1)"),
    (0x0FF0000F, "fence iorw,iorw"),
    (0x0100000F, "fence w,0"),
    (0x8330000F, "fence.tso"),
    (0x0000100F, "fence.i"),
    (0x12000073, "sfence.vma zero,zero"),
    (0x12B50073, "sfence.vma a0,a1"),
    (0x00000073, "ecall"),
    (0x00100073, "ebreak"),
    (0x10200073, "sret"),
    (0x30200073, "mret"),
    (0x10500073, "wfi"),
    (0x34011173, "csrrw sp,mscratch,sp"),
    (0x30047073, "csrrci zero,mstatus,8"),
    (0xC0102573, "csrrs a0,time,zero"),
    (0x7C0025F3, "csrrs a1,0x7c0,zero"),
    (0x3B002573, "csrrs a0,pmpaddr0,zero"),
    (0x14D51073, "csrrw zero,stimecmp,a0"),
]


@pytest.mark.parametrize("word, text", KNOWN_32, ids=[k[1] for k in KNOWN_32])
def test_known_32_bit_words(word, text):
    assert disassemble(word, pc=0x1000) == text


def test_reserved_fence_fields_are_ignored():
    """FENCE's rd, rs1 and fm, and FENCE.I's imm, rs1 and rd, are ignored by
    base implementations (unprivileged spec, FENCE and Zifencei)."""
    assert decode(0x0FF0000F | 10 << 7 | 11 << 15 | 0x9 << 28).spec.name == "fence"
    assert decode(0x8330000F | 10 << 7).spec.name == "fence.tso"
    assert decode(0x8320000F).spec.name == "fence"  # fm=1000 but not rw,rw: a fence
    assert decode(0x0000100F | 0xFFF << 20 | 31 << 15 | 31 << 7).spec.name == "fence.i"


def test_every_declaration_decodes_to_itself():
    """No declaration is shadowed by another: each has a word that decodes to it."""
    for spec in ALL_SPECS:
        words = (instance(spec, bits) for bits in (0, (1 << 32) - 1, 0x5555_5555,
                                                   0xAAAA_AAAA, 0x0000_0F80))
        assert any(w is not None for w in words), spec.name


# --- against the GNU toolchain -----------------------------------------------
AS = "riscv64-unknown-elf-as"
OBJDUMP = "riscv64-unknown-elf-objdump"
_LINE = re.compile(r"^\s*([0-9a-f]+):\s+([0-9a-f]+)\s+(.*)$")
# objdump -M no-aliases spellings that differ from ours.
OBJDUMP_ALIASES = {
    ("unimp", 0): "csrrw zero,cycle,zero",  # printed even with no-aliases
    ("c.slli64", 1): "c.slli {0},0",        # shamt=0 HINTs, named by their RV128 meaning
    ("c.srli64", 1): "c.srli {0},0",
    ("c.srai64", 1): "c.srai {0},0",
}
OBJDUMP_TOKENS = {"unknown": 0}  # an empty FENCE set; we print 0


class Objdump:
    """Disassembles words with the toolchain, at consecutive addresses from 0."""

    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.runs = 0
        words = [n << 20 | 11 << 15 | 3 << 12 | 10 << 7 | 0x73 for n in range(4096)]
        self.csr_numbers: dict[str, int] = {}  # objdump's own CSR names
        for (_, text), number in zip(self(words), range(4096)):
            name = text.split(",")[1]
            if not name.startswith("0x"):
                self.csr_numbers[name] = number

    def __call__(self, words: list[int]) -> list[tuple[int, str]]:
        self.runs += 1
        source = self.workdir / f"words{self.runs}.s"
        source.write_text("".join(f".insn {2 if w & 3 != 3 else 4}, {w:#x}\n" for w in words))
        obj = source.with_suffix(".o")
        subprocess.run([AS, "-march=rv64imac_zicsr_zifencei", "-o", obj, source], check=True)
        out = subprocess.run([OBJDUMP, "-d", "-M", "no-aliases", obj], check=True,
                             capture_output=True, text=True).stdout
        lines = []
        for line in out.splitlines():
            m = _LINE.match(line)
            if m:
                text = m.group(3).split("#")[0].replace("\t", " ").strip()
                text = re.sub(r"\b([0-9a-f]+) <[^>]*>", r"0x\1", text)  # branch target
                lines.append((int(m.group(1), 16), text))
        assert len(lines) == len(words)
        return lines

    def canonical(self, text: str):
        if text.startswith((".2byte", ".4byte", "c.unimp")):  # c.unimp: the all-zero word
            return None
        return canonical(text, self.csr_numbers | OBJDUMP_TOKENS, OBJDUMP_ALIASES)


@pytest.fixture(scope="module")
def objdump(tmp_path_factory) -> Objdump:
    if not (shutil.which(AS) and shutil.which(OBJDUMP)):
        pytest.skip("RISC-V binutils not installed")
    return Objdump(tmp_path_factory.mktemp("objdump"))


@pytest.mark.toolchain
def test_against_objdump(objdump: Objdump):
    """The hand-written tables above and 40 random instances of every
    declaration disassemble as objdump disassembles them."""
    rng = random.Random(3)
    words = [w for c in RVC_EXPANSIONS for w in (c[0], c[2])] + [k[0] for k in KNOWN_32]
    for spec in ALL_SPECS:
        words += filter(None, (instance(spec, rng.getrandbits(32)) for _ in range(40)))
    compared = 0
    for (address, text), word in zip(objdump(words), words):
        theirs = objdump.canonical(text)
        assert same(ours(word, CSR_NUMBERS, address), theirs), \
            f"{word:#x} at {address:#x}: objdump {text!r}, ours {disassemble(word, address)!r}"
        compared += 1
    assert compared > 3000


# Where objdump (binutils 2.40) contradicts the specification: it decodes
# c.addi16sp with nzimm=0, which "is reserved" (unprivileged spec, C.ADDI16SP).
OBJDUMP_WRONG = {0x6101: "c.addi16sp sp,0"}


@pytest.mark.toolchain
def test_illegal_words_are_illegal_to_objdump(objdump: Objdump):
    """The illegal words above are illegal to objdump too (it takes the
    architecture, rv64imac, from the object file), except uret and dret, which
    it always knows, the 48-bit and longer encodings `.insn` cannot give, and
    OBJDUMP_WRONG."""
    skip = {0x00200073, 0x7B200073, 0xFFFFFFFF, 0x0000001F}
    words = [w for w, _ in ILLEGAL_16 + ILLEGAL_32 if w not in skip]
    for (_, text), word in zip(objdump(words), words):
        if word in OBJDUMP_WRONG:
            assert text == OBJDUMP_WRONG[word]  # else drop the exception
        else:
            assert objdump.canonical(text) is None, f"{word:#x}: {text}"
