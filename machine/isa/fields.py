"""Operand fields of RISC-V instruction words.

A field knows where its bits sit in the instruction word (decode) and how to
put a value back there (encode, for the test assembler). Immediates scattered
over the word are written in the specification's own notation, e.g. the
compressed jump ``c.j``'s bits 12..2 hold ``imm[11|4|9:8|10|6|7|3:1|5]``.
"""

from __future__ import annotations

from dataclasses import dataclass


def _parse_bit_list(spec: str) -> list[int]:
    """'11|4|9:8|5' -> [11, 4, 9, 8, 5] (most significant word bit first)."""
    bits: list[int] = []
    for part in spec.split("|"):
        if ":" in part:
            hi, lo = (int(p) for p in part.split(":"))
            bits.extend(range(hi, lo - 1, -1))
        else:
            bits.append(int(part))
    return bits


@dataclass(frozen=True)
class Field:
    """A named operand: ``placement`` maps word bit -> value bit."""

    name: str
    kind: str  # 'reg' | 'imm' | 'uimm' | 'csr' | 'fence' | 'flag'
    placement: tuple[tuple[int, int], ...]  # (word bit, value bit)
    signed: bool = False
    offset: int = 0  # added after extraction (x8 for the compressed rd'/rs1'/rs2')

    @property
    def word_bits(self) -> int:
        mask = 0
        for word_bit, _ in self.placement:
            mask |= 1 << word_bit
        return mask

    @property
    def width(self) -> int:
        return max(v for _, v in self.placement) + 1

    def decode(self, word: int) -> int:
        value = 0
        for word_bit, value_bit in self.placement:
            value |= ((word >> word_bit) & 1) << value_bit
        if self.signed and value >> (self.width - 1):
            value -= 1 << self.width
        return value + self.offset

    def fits(self, value: int) -> bool:
        """Whether ``value`` can be encoded exactly by this field."""
        try:
            return self.decode(self.encode(value)) == value
        except ValueError:
            return False

    def encode(self, value: int) -> int:
        raw = value - self.offset
        if raw < 0 and not self.signed:
            raise ValueError(f"{self.name}: {value} is negative")
        word = 0
        for word_bit, value_bit in self.placement:
            word |= ((raw >> value_bit) & 1) << word_bit
        return word


def _contiguous(name: str, kind: str, hi: int, lo: int, *, value_lo: int = 0,
                signed: bool = False, offset: int = 0) -> Field:
    placement = tuple((lo + i, value_lo + i) for i in range(hi - lo + 1))
    return Field(name, kind, placement, signed, offset)


def _scattered(name: str, kind: str, word_hi: int, word_lo: int, value_bits: str,
               *, signed: bool = False) -> Field:
    value_list = _parse_bit_list(value_bits)
    word_list = list(range(word_hi, word_lo - 1, -1))
    assert len(value_list) == len(word_list), name
    return Field(name, kind, tuple(zip(word_list, value_list)), signed)


def _joined(name: str, kind: str, *parts: Field, signed: bool = False) -> Field:
    placement = tuple(p for part in parts for p in part.placement)
    return Field(name, kind, placement, signed)


# --- 32-bit formats -------------------------------------------------------
RD = _contiguous("rd", "reg", 11, 7)
RS1 = _contiguous("rs1", "reg", 19, 15)
RS2 = _contiguous("rs2", "reg", 24, 20)
IMM_I = _contiguous("imm_i", "imm", 31, 20, signed=True)
IMM_S = _joined("imm_s", "imm", _contiguous("", "", 31, 25, value_lo=5),
                _contiguous("", "", 11, 7), signed=True)
IMM_B = _joined("imm_b", "imm", _scattered("", "", 31, 25, "12|10:5"),
                _scattered("", "", 11, 7, "4:1|11"), signed=True)
IMM_U = _contiguous("imm_u", "imm", 31, 12, value_lo=12, signed=True)
IMM_J = _scattered("imm_j", "imm", 31, 12, "20|10:1|11|19:12", signed=True)
SHAMT = _contiguous("shamt", "uimm", 25, 20)   # RV64: 6-bit shift amount
SHAMTW = _contiguous("shamtw", "uimm", 24, 20)  # the W forms: 5 bits
CSR = _contiguous("csr", "csr", 31, 20)
ZIMM = _contiguous("zimm", "uimm", 19, 15)
AQ = _contiguous("aq", "flag", 26, 26)
RL = _contiguous("rl", "flag", 25, 25)
PRED = _contiguous("pred", "fence", 27, 24)
SUCC = _contiguous("succ", "fence", 23, 20)
FM = _contiguous("fm", "uimm", 31, 28)

# --- compressed formats (RVC) ---------------------------------------------
C_RD = _contiguous("c_rd", "reg", 11, 7)        # also rs1 of CI/CR forms
C_RS2 = _contiguous("c_rs2", "reg", 6, 2)
C_RDP = _contiguous("c_rdp", "reg", 4, 2, offset=8)    # rd' / rs2' at 4..2
C_RS1P = _contiguous("c_rs1p", "reg", 9, 7, offset=8)  # rs1' / rd' at 9..7
C_IMM6 = _joined("c_imm6", "imm", _scattered("", "", 12, 12, "5"),
                 _scattered("", "", 6, 2, "4:0"), signed=True)
C_UIMM6 = _joined("c_shamt", "uimm", _scattered("", "", 12, 12, "5"),
                  _scattered("", "", 6, 2, "4:0"))
C_LUI_IMM = _joined("c_lui_imm", "imm", _scattered("", "", 12, 12, "17"),
                    _scattered("", "", 6, 2, "16:12"), signed=True)
C_ADDI16SP_IMM = _joined("c_addi16sp_imm", "imm", _scattered("", "", 12, 12, "9"),
                         _scattered("", "", 6, 2, "4|6|8:7|5"), signed=True)
C_ADDI4SPN_IMM = _scattered("c_addi4spn_imm", "uimm", 12, 5, "5:4|9:6|2|3")
C_LW_IMM = _joined("c_lw_imm", "uimm", _scattered("", "", 12, 10, "5:3"),
                   _scattered("", "", 6, 5, "2|6"))
C_LD_IMM = _joined("c_ld_imm", "uimm", _scattered("", "", 12, 10, "5:3"),
                   _scattered("", "", 6, 5, "7:6"))
C_LWSP_IMM = _joined("c_lwsp_imm", "uimm", _scattered("", "", 12, 12, "5"),
                     _scattered("", "", 6, 2, "4:2|7:6"))
C_LDSP_IMM = _joined("c_ldsp_imm", "uimm", _scattered("", "", 12, 12, "5"),
                     _scattered("", "", 6, 2, "4:3|8:6"))
C_SWSP_IMM = _scattered("c_swsp_imm", "uimm", 12, 7, "5:2|7:6")
C_SDSP_IMM = _scattered("c_sdsp_imm", "uimm", 12, 7, "5:3|8:6")
C_J_IMM = _scattered("c_j_imm", "imm", 12, 2, "11|4|9:8|10|6|7|3:1|5", signed=True)
C_B_IMM = _joined("c_b_imm", "imm", _scattered("", "", 12, 10, "8|4:3"),
                  _scattered("", "", 6, 2, "7:6|2:1|5"), signed=True)

FIELDS: dict[str, Field] = {
    f.name: f
    for f in (RD, RS1, RS2, IMM_I, IMM_S, IMM_B, IMM_U, IMM_J, SHAMT, SHAMTW, CSR,
              ZIMM, AQ, RL, PRED, SUCC, FM, C_RD, C_RS2, C_RDP, C_RS1P, C_IMM6,
              C_UIMM6, C_LUI_IMM, C_ADDI16SP_IMM, C_ADDI4SPN_IMM, C_LW_IMM,
              C_LD_IMM, C_LWSP_IMM, C_LDSP_IMM, C_SWSP_IMM, C_SDSP_IMM, C_J_IMM,
              C_B_IMM)
}

# The name an operand has inside a semantics snippet: every immediate is `imm`.
SNIPPET_NAME = {"imm_i": "imm", "imm_s": "imm", "imm_b": "imm", "imm_u": "imm",
                "imm_j": "imm", "shamtw": "shamt"}
