"""RV64C: every compressed form, as an expansion to its base instruction.

A compressed instruction has no meaning of its own: the specification defines
each as a 32-bit instruction with operands taken from its fields, and that is
how it is declared. ``where`` separates the forms sharing an encoding and
leaves the reserved ones (nzimm = 0, rd = x0 for loads, the all-zero word)
undecodable, so they raise illegal instruction. HINTs (e.g. c.li with rd=x0)
decode and execute as their expansion, which writes nothing.
Floating-point forms (c.fld, c.fsd, ...) are absent: no F/D extension.
"""

from __future__ import annotations

from .spec import InstructionSpec, declare

SPECS: list[InstructionSpec] = []


def _c(name: str, encoding: str, syntax: str, expands: str, where: str | None = None,
       kind: str = "") -> None:
    declare(SPECS, name, encoding, syntax, ext="C", expands=expands, where=where, kind=kind)


# Quadrant 0
_c("c.addi4spn", "15..13=0 c_addi4spn_imm c_rdp 1..0=0", "c_rdp,sp,c_addi4spn_imm",
   "addi rd=c_rdp rs1=2 imm_i=c_addi4spn_imm", where="c_addi4spn_imm != 0")
_c("c.lw", "15..13=2 c_lw_imm c_rs1p c_rdp 1..0=0", "c_rdp,c_lw_imm(c_rs1p)",
   "lw rd=c_rdp rs1=c_rs1p imm_i=c_lw_imm", kind="load")
_c("c.ld", "15..13=3 c_ld_imm c_rs1p c_rdp 1..0=0", "c_rdp,c_ld_imm(c_rs1p)",
   "ld rd=c_rdp rs1=c_rs1p imm_i=c_ld_imm", kind="load")
_c("c.sw", "15..13=6 c_lw_imm c_rs1p c_rdp 1..0=0", "c_rdp,c_lw_imm(c_rs1p)",
   "sw rs2=c_rdp rs1=c_rs1p imm_s=c_lw_imm", kind="store")
_c("c.sd", "15..13=7 c_ld_imm c_rs1p c_rdp 1..0=0", "c_rdp,c_ld_imm(c_rs1p)",
   "sd rs2=c_rdp rs1=c_rs1p imm_s=c_ld_imm", kind="store")

# Quadrant 1
_c("c.nop", "15..13=0 12=0 11..7=0 6..2=0 1..0=1", "", "addi rd=0 rs1=0 imm_i=0")
_c("c.addi", "15..13=0 c_rd c_imm6 1..0=1", "c_rd,c_imm6",
   "addi rd=c_rd rs1=c_rd imm_i=c_imm6", where="c_rd != 0 or c_imm6 != 0")
_c("c.addiw", "15..13=1 c_rd c_imm6 1..0=1", "c_rd,c_imm6",
   "addiw rd=c_rd rs1=c_rd imm_i=c_imm6", where="c_rd != 0")
_c("c.li", "15..13=2 c_rd c_imm6 1..0=1", "c_rd,c_imm6", "addi rd=c_rd rs1=0 imm_i=c_imm6")
_c("c.addi16sp", "15..13=3 11..7=2 c_addi16sp_imm 1..0=1", "sp,c_addi16sp_imm",
   "addi rd=2 rs1=2 imm_i=c_addi16sp_imm", where="c_addi16sp_imm != 0")
_c("c.lui", "15..13=3 c_rd c_lui_imm 1..0=1", "c_rd,c_lui_imm",
   "lui rd=c_rd imm_u=c_lui_imm", where="c_rd != 2 and c_lui_imm != 0")
_c("c.srli", "15..13=4 11..10=0 c_shamt c_rs1p 1..0=1", "c_rs1p,c_shamt",
   "srli rd=c_rs1p rs1=c_rs1p shamt=c_shamt")
_c("c.srai", "15..13=4 11..10=1 c_shamt c_rs1p 1..0=1", "c_rs1p,c_shamt",
   "srai rd=c_rs1p rs1=c_rs1p shamt=c_shamt")
_c("c.andi", "15..13=4 11..10=2 c_imm6 c_rs1p 1..0=1", "c_rs1p,c_imm6",
   "andi rd=c_rs1p rs1=c_rs1p imm_i=c_imm6")
for _name, _b12, _f2, _base in (("c.sub", 0, 0, "sub"), ("c.xor", 0, 1, "xor"),
                                ("c.or", 0, 2, "or"), ("c.and", 0, 3, "and"),
                                ("c.subw", 1, 0, "subw"), ("c.addw", 1, 1, "addw")):
    _c(_name, f"15..13=4 12={_b12} 11..10=3 c_rs1p 6..5={_f2} c_rdp 1..0=1", "c_rs1p,c_rdp",
       f"{_base} rd=c_rs1p rs1=c_rs1p rs2=c_rdp")
_c("c.j", "15..13=5 c_j_imm 1..0=1", "@c_j_imm", "jal rd=0 imm_j=c_j_imm", kind="jump")
_c("c.beqz", "15..13=6 c_b_imm c_rs1p 1..0=1", "c_rs1p,@c_b_imm",
   "beq rs1=c_rs1p rs2=0 imm_b=c_b_imm", kind="branch")
_c("c.bnez", "15..13=7 c_b_imm c_rs1p 1..0=1", "c_rs1p,@c_b_imm",
   "bne rs1=c_rs1p rs2=0 imm_b=c_b_imm", kind="branch")

# Quadrant 2
_c("c.slli", "15..13=0 c_rd c_shamt 1..0=2", "c_rd,c_shamt",
   "slli rd=c_rd rs1=c_rd shamt=c_shamt")
_c("c.lwsp", "15..13=2 c_rd c_lwsp_imm 1..0=2", "c_rd,c_lwsp_imm(sp)",
   "lw rd=c_rd rs1=2 imm_i=c_lwsp_imm", where="c_rd != 0", kind="load")
_c("c.ldsp", "15..13=3 c_rd c_ldsp_imm 1..0=2", "c_rd,c_ldsp_imm(sp)",
   "ld rd=c_rd rs1=2 imm_i=c_ldsp_imm", where="c_rd != 0", kind="load")
_c("c.jr", "15..13=4 12=0 c_rd 6..2=0 1..0=2", "c_rd", "jalr rd=0 rs1=c_rd imm_i=0",
   where="c_rd != 0", kind="jump")
_c("c.mv", "15..13=4 12=0 c_rd c_rs2 1..0=2", "c_rd,c_rs2", "add rd=c_rd rs1=0 rs2=c_rs2",
   where="c_rs2 != 0")
_c("c.ebreak", "15..13=4 12=1 11..7=0 6..2=0 1..0=2", "", "ebreak", kind="system")
_c("c.jalr", "15..13=4 12=1 c_rd 6..2=0 1..0=2", "c_rd", "jalr rd=1 rs1=c_rd imm_i=0",
   where="c_rd != 0", kind="jump")
_c("c.add", "15..13=4 12=1 c_rd c_rs2 1..0=2", "c_rd,c_rs2",
   "add rd=c_rd rs1=c_rd rs2=c_rs2", where="c_rs2 != 0")
_c("c.swsp", "15..13=6 c_swsp_imm c_rs2 1..0=2", "c_rs2,c_swsp_imm(sp)",
   "sw rs2=c_rs2 rs1=2 imm_s=c_swsp_imm", kind="store")
_c("c.sdsp", "15..13=7 c_sdsp_imm c_rs2 1..0=2", "c_rs2,c_sdsp_imm(sp)",
   "sd rs2=c_rs2 rs1=2 imm_s=c_sdsp_imm", kind="store")
