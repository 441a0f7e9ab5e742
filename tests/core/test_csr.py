"""Zicsr and the CSRs: permissions, read-only rules, views and WARL fields
(privileged specification 1.12, chapters 2-4, and the Sstc extension)."""

from __future__ import annotations

import pytest

from machine.isa.asm import asm

from .harness import CODE, MACHINE, SUPERVISOR, USER, Machine

NEG1 = (1 << 64) - 1
ILLEGAL = 2
SIE, MIE, SPIE, MPIE, SPP = 1 << 1, 1 << 3, 1 << 5, 1 << 7, 1 << 8
MPP = 3 << 11
MPRV, SUM, MXR, TVM, TW, TSR = (1 << i for i in (17, 18, 19, 20, 21, 22))
UXL64, SXL64 = 2 << 32, 2 << 34
SSIP, MSIP, STIP, MTIP, SEIP, MEIP = (1 << i for i in (1, 3, 5, 7, 9, 11))
STCE = 1 << 63


def csr_run(text: str, privilege: int = MACHINE, machine: Machine | None = None,
            **regs: int) -> Machine:
    m = machine or Machine()
    return m.run_code(text, privilege, **regs)


def assert_illegal(m: Machine, text: str) -> None:
    """The last trap is an illegal instruction whose tval is ``text``'s bits."""
    assert m.traps, f"{text} did not trap"
    assert m.trap.cause == ILLEGAL
    assert m.trap.tval == asm(text)[0]
    assert m.trap.epc == m.hart.csr.mepc and m.trap.to_privilege == MACHINE


# --- privilege: CSR number bits 9..8 -----------------------------------------------
M_CSRS = ["mstatus", "misa", "medeleg", "mideleg", "mie", "mtvec", "mscratch", "mepc",
          "mcause", "mtval", "mip", "mhartid", "mvendorid", "menvcfg", "mcounteren",
          "pmpcfg0", "pmpaddr0", "mcycle", "minstret"]
S_CSRS = ["sstatus", "sie", "stvec", "sscratch", "sepc", "scause", "stval", "sip", "satp",
          "scounteren", "senvcfg", "stimecmp"]


@pytest.mark.parametrize("name", M_CSRS)
@pytest.mark.parametrize("privilege", [SUPERVISOR, USER])
def test_machine_csrs_are_illegal_below_m(name: str, privilege: int) -> None:
    text = f"csrr a0, {name}"
    m = csr_run(text, privilege, a0=0x77)
    assert_illegal(m, text)
    assert m.trap.epc == m.end - 4
    assert m["a0"] == 0x77


@pytest.mark.parametrize("name", S_CSRS)
def test_supervisor_csrs_are_illegal_in_u(name: str) -> None:
    text = f"csrrs a0, {name}, zero"
    m = csr_run(text, USER)
    assert_illegal(m, text)


@pytest.mark.parametrize("name", [n for n in S_CSRS if n != "stimecmp"])
def test_supervisor_csrs_are_accessible_from_s_and_m(name: str) -> None:
    for privilege in (SUPERVISOR, MACHINE):
        m = csr_run(f"csrr a0, {name}; csrrs zero, {name}, zero", privilege)
        assert not m.traps, (name, privilege)


def test_write_to_read_only_csr_is_illegal() -> None:
    for text in ("csrw mhartid, a1", "csrrw zero, mvendorid, a1", "csrrwi a0, mimpid, 0",
                 "csrrw a0, cycle, a1", "csrw time, a1", "csrrwi zero, instret, 1",
                 "csrrs a0, mhartid, a1", "csrrc a0, marchid, a1", "csrrsi a0, cycle, 1",
                 "csrrci a0, mhartid, 31"):
        m = csr_run(text, a1=0)  # rs1 != x0 means a write is attempted, even of 0
        assert_illegal(m, text)


def test_reading_read_only_csrs_with_x0_source_is_legal() -> None:
    m = csr_run("csrr a0, mhartid; csrrs a1, mvendorid, zero; csrrc a2, marchid, zero; "
                "csrrsi a3, mimpid, 0; csrrci a4, cycle, 0; csrr a5, misa",
                a0=9, a1=9, a2=9, a3=9)
    assert not m.traps
    assert (m["a0"], m["a1"], m["a2"], m["a3"]) == (0, 0, 0, 0)
    assert m["a5"] == 0x8000000000141105  # MXL=2 (64-bit), extensions I M A C S U


@pytest.mark.parametrize("number", [0x3A1, 0x3A3, 0x600, 0x800, 0x5C0, 0x7FF, 0xFFF, 0x0])
def test_missing_csr_is_illegal(number: int) -> None:
    # pmpcfg1/3 do not exist on RV64; no H extension; nothing custom
    text = f"csrrs a0, {number:#x}, zero"
    m = csr_run(text)
    assert_illegal(m, text)


def test_csr_instruction_forms() -> None:
    m = csr_run("""
        csrrw a0, mscratch, a1
        csrrs a2, mscratch, a3
        csrrc a4, mscratch, a5
        csrrwi a6, mscratch, 0x1f
        csrrsi a7, mscratch, 0x0c
        csrrci s2, mscratch, 0x11
        csrr s3, mscratch
        csrrw s4, mscratch, s4
        csrr s5, mscratch
    """, a1=0xF0F0, a3=0x0F00, a5=0x00F0, s4=0x1234)
    assert not m.traps
    assert m["a0"] == 0
    assert m["a2"] == 0xF0F0
    assert m["a4"] == 0xFFF0
    assert m["a6"] == 0xFF00
    assert m["a7"] == 0x1F
    assert m["s2"] == 0x1F
    assert m["s3"] == 0x0E
    assert m["s4"] == 0x0E and m["s5"] == 0x1234


# --- mstatus and its sstatus view -----------------------------------------------------
def test_mstatus_writable_fields() -> None:
    m = csr_run("csrw mstatus, a1; csrr a0, mstatus", a1=NEG1)
    value = m["a0"]
    expected = SIE | MIE | SPIE | MPIE | SPP | MPP | MPRV | SUM | MXR | TVM | TW | TSR
    assert value & expected == expected
    assert value & (3 << 32) == UXL64 and value & (3 << 34) == SXL64  # XLENs fixed at 64
    m = csr_run("csrw mstatus, zero; csrr a0, mstatus")
    assert m["a0"] & ~(0xF << 32) == 0
    assert m["a0"] & (0xF << 32) == UXL64 | SXL64


def test_mstatus_mpp_rejects_hypervisor_mode() -> None:
    m = csr_run("csrw mstatus, a1; csrr a0, mstatus", a1=2 << 11)
    assert (m["a0"] >> 11) & 3 in (0, 1, 3)
    assert (m["a0"] >> 11) & 3 != 2


def test_sstatus_is_a_view_of_mstatus() -> None:
    m = Machine()
    m.run_code("csrw mstatus, a1; csrr a0, sstatus", a1=NEG1)
    sstatus = m["a0"]
    assert sstatus & (SIE | SPIE | SPP | SUM | MXR) == SIE | SPIE | SPP | SUM | MXR
    assert sstatus & (MIE | MPIE | MPP | MPRV | TVM | TW | TSR) == 0
    assert sstatus & (3 << 32) == UXL64
    assert sstatus & (3 << 34) == 0                      # SXL is not in sstatus
    # Writing sstatus changes only the S fields of mstatus
    m.run_code("csrw mstatus, a1; csrw sstatus, a2; csrr a0, mstatus",
               a1=MIE | MPIE | (1 << 11) | TSR | SUM, a2=SIE | SPP | MXR | MIE | TW | MPP)
    assert m["a0"] & ~(0xF << 32) == MIE | MPIE | (1 << 11) | TSR | SIE | SPP | MXR
    m.run_code("csrw mstatus, a1; csrc sstatus, a2; csrr a0, mstatus",
               a1=SIE | SUM | MIE, a2=NEG1)
    assert m["a0"] & ~(0xF << 32) == MIE


def test_sstatus_write_from_s_mode() -> None:
    m = Machine()
    m.csr.mstatus |= MIE | (3 << 11)
    m.run_code("csrs sstatus, a1; csrr a0, sstatus", SUPERVISOR, a1=SUM | SPIE | MIE | MPRV)
    assert not m.traps
    assert m["a0"] & (SUM | SPIE) == SUM | SPIE
    assert m.csr.mstatus & (MIE | MPP | MPRV) == MIE | MPP


# --- interrupt enable/pending and their views -------------------------------------------
def test_sie_is_mie_masked_by_mideleg() -> None:
    m = csr_run("csrw mideleg, a1; csrw mie, a2; csrr a0, sie; csrw sie, zero; csrr a3, mie",
                a1=SSIP | STIP, a2=0xAAA)
    assert m["a0"] == SSIP | STIP
    assert m["a3"] == 0xAAA & ~(SSIP | STIP)
    m = csr_run("csrw mideleg, zero; csrw mie, zero; csrw sie, a1; csrr a0, sie; "
                "csrr a2, mie", a1=NEG1)
    assert m["a0"] == 0 and m["a2"] == 0


def test_mideleg_and_medeleg_writable_bits() -> None:
    m = csr_run("csrw mideleg, a1; csrr a0, mideleg; csrw medeleg, a1; csrr a2, medeleg",
                a1=NEG1)
    assert m["a0"] & (SSIP | STIP | SEIP) == SSIP | STIP | SEIP
    assert m["a0"] & (MSIP | MTIP | MEIP) == 0
    medeleg = m["a2"]
    assert medeleg & (1 << 11) == 0            # ecall from M cannot be delegated
    for cause in (0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 13, 15):
        assert medeleg >> cause & 1, cause


def test_mip_writable_bits_without_sstc() -> None:
    m = csr_run("csrw mip, a1; csrr a0, mip", a1=NEG1)
    assert m["a0"] == SSIP | STIP | SEIP        # MSIP, MTIP, MEIP are read-only
    m = csr_run("csrw mip, a1; csrc mip, a2; csrr a0, mip", a1=NEG1, a2=STIP)
    assert m["a0"] == SSIP | SEIP


def test_mip_stip_read_only_with_sstc() -> None:
    m = Machine()
    m.csr.stimecmp = NEG1          # far in the future: STIP clear
    m.run_code("csrw menvcfg, a2; csrw mip, a1; csrr a0, mip", a1=NEG1, a2=STCE)
    assert m["a0"] == SSIP | SEIP


def test_sip_view_and_writable_ssip() -> None:
    m = Machine()
    m.run_code("csrw mip, a1; csrw mideleg, a2; csrr a0, sip", a1=SSIP | STIP | SEIP,
               a2=SSIP | STIP | SEIP)
    assert m["a0"] == SSIP | STIP | SEIP
    # from S: only SSIP can be written through sip (STIP, SEIP are read-only there)
    m.run_code("csrw sip, zero; csrr a0, sip", SUPERVISOR)
    assert not m.traps
    assert m["a0"] == STIP | SEIP
    m.run_code("csrs sip, a1; csrr a0, sip", SUPERVISOR, a1=SSIP)
    assert m["a0"] == SSIP | STIP | SEIP
    # not delegated: invisible in sip and not writable through it
    m.run_code("csrw mideleg, a2; csrw mip, zero; csrw sip, a1; csrr a0, sip; csrr a3, mip",
               a1=NEG1, a2=STIP)
    assert m["a0"] == 0 and m["a3"] == 0


# --- satp, tvec, epc -----------------------------------------------------------------------
@pytest.mark.parametrize("mode", [1, 2, 7, 9, 10, 15])
def test_satp_write_with_unsupported_mode_is_ignored(mode: int) -> None:
    sv39 = (8 << 60) | 0x80123
    m = csr_run("csrw satp, a1; csrw satp, a2; csrr a0, satp", a1=sv39,
                a2=(mode << 60) | 0x80456)
    assert m["a0"] == sv39


def test_satp_accepts_bare_and_sv39() -> None:
    m = csr_run("csrw satp, a1; csrr a0, satp; csrw satp, zero; csrr a2, satp",
                a1=(8 << 60) | 0x80321)
    assert m["a0"] & ~(0xFFFF << 44) == (8 << 60) | 0x80321
    assert m["a2"] == 0


def test_tvec_modes() -> None:
    m = csr_run("""
        csrw mtvec, a1; csrr a0, mtvec
        csrw mtvec, a2; csrr a3, mtvec
        csrw mtvec, a4; csrr a5, mtvec
        csrw stvec, a2; csrr a6, stvec
    """, a1=0x80000101, a2=0x80000202 | 2, a4=0x80000303)
    assert m["a0"] == 0x80000101           # vectored
    assert m["a3"] == 0x80000101           # mode 2: reserved, write ignored
    assert m["a5"] == 0x80000101           # mode 3: reserved, write ignored
    assert m["a6"] & 3 != 2


def test_epc_bit_zero_is_cleared() -> None:
    m = csr_run("csrw mepc, a1; csrr a0, mepc; csrw sepc, a1; csrr a2, sepc",
                a1=0x80001235)
    assert m["a0"] == 0x80001234 and m["a2"] == 0x80001234


def test_misa_writes_are_ignored() -> None:
    m = csr_run("csrw misa, zero; csrr a0, misa")
    assert not m.traps
    assert m["a0"] == 0x8000000000141105


def test_mhartid_is_the_hart_id() -> None:
    m = csr_run("csrr a0, mhartid", a0=5)
    assert m["a0"] == 0


# --- TVM, TSR, TW ------------------------------------------------------------------------
@pytest.mark.parametrize("text", ["csrr a0, satp", "csrw satp, zero", "sfence.vma zero, zero",
                                  "sfence.vma a1, a2"])
def test_tvm_traps_satp_and_sfence_in_s(text: str) -> None:
    m = Machine()
    m.set_mstatus(TVM)
    m.run_code(text, SUPERVISOR)
    assert_illegal(m, text)
    m = Machine()
    m.run_code(text, SUPERVISOR)
    assert not m.traps
    m = Machine()
    m.set_mstatus(TVM)
    m.run_code(text, MACHINE)   # TVM restricts S only
    assert not m.traps


def test_sfence_is_illegal_in_u() -> None:
    m = csr_run("sfence.vma zero, zero", USER)
    assert_illegal(m, "sfence.vma zero, zero")


def test_tsr_traps_sret_in_s_only() -> None:
    m = Machine()
    m.set_mstatus(TSR | SPP)
    m.run_code("sret", SUPERVISOR)
    assert_illegal(m, "sret")
    m = Machine()
    m.set_mstatus(TSR | SPP)
    m.csr.sepc = CODE + 4                    # returns to the end of the code
    m.run_code("sret", MACHINE)
    assert m.hart.pc == CODE + 4 and m.hart.privilege == SUPERVISOR and not m.traps


def test_sret_and_mret_illegal_in_lower_modes() -> None:
    m = csr_run("sret", USER)
    assert_illegal(m, "sret")
    for privilege in (USER, SUPERVISOR):
        m = csr_run("mret", privilege)
        assert_illegal(m, "mret")


def test_wfi_rules() -> None:
    def pending(m: Machine) -> None:  # something pending but disabled: WFI completes
        m.csr.mideleg = SSIP
        m.csr.mip_software = SSIP
        m.csr.mie = SSIP
    m = Machine()
    m.run_code("wfi", USER)
    assert_illegal(m, "wfi")                 # U-mode WFI always traps (S-mode exists)
    m = Machine()
    pending(m)
    m.set_mstatus(TW)
    m.run_code("wfi", SUPERVISOR)
    assert_illegal(m, "wfi")
    for privilege, status in ((SUPERVISOR, 0), (MACHINE, TW)):
        m = Machine()
        pending(m)
        m.set_mstatus(status)
        m.run_code("wfi; addi a0, zero, 1", privilege)
        assert not m.traps and m["a0"] == 1


# --- counters ---------------------------------------------------------------------------
@pytest.mark.parametrize("name, bit", [("cycle", 0), ("time", 1), ("instret", 2)])
def test_counter_enables(name: str, bit: int) -> None:
    text = f"csrr a0, {name}"
    for mcounteren, scounteren, privilege, legal in (
            (0, 0, MACHINE, True), (0, 0, SUPERVISOR, False),
            (1 << bit, 0, SUPERVISOR, True), (NEG1 & ~(1 << bit), NEG1, SUPERVISOR, False),
            (1 << bit, 0, USER, False), (0, 1 << bit, USER, False),
            (1 << bit, 1 << bit, USER, True), (NEG1 & ~(1 << bit), NEG1, USER, False)):
        m = Machine()
        m.csr.mcounteren, m.csr.scounteren = mcounteren, scounteren
        m.run_code(text, privilege)
        if legal:
            assert not m.traps, (mcounteren, scounteren, privilege)
        else:
            assert_illegal(m, text)


def test_instret_counts_retired_instructions() -> None:
    m = csr_run("csrr a0, instret; nop; nop; csrr a1, instret; csrr a2, cycle; "
                "csrr a3, time; csrr a4, time")
    assert m["a1"] - m["a0"] == 3
    assert m["a4"] >= m["a3"]


def test_minstret_and_mcycle_are_writable() -> None:
    m = csr_run("csrw minstret, a1; csrr a0, minstret; csrw mcycle, a1; csrr a2, mcycle",
                a1=1000)
    assert 1000 <= m["a0"] <= 1001
    assert 1000 <= m["a2"] <= 1001


def test_stimecmp_access_rules() -> None:
    text = "csrr a0, stimecmp"
    for menvcfg, mcounteren, privilege, legal in (
            (0, 0, MACHINE, True), (0, 2, SUPERVISOR, False), (STCE, 0, SUPERVISOR, False),
            (STCE, 2, SUPERVISOR, True), (STCE, NEG1, USER, False)):
        m = Machine()
        m.csr.menvcfg, m.csr.mcounteren, m.csr.scounteren = menvcfg, mcounteren, NEG1
        m.run_code(text, privilege)
        if legal:
            assert not m.traps, (menvcfg, mcounteren, privilege)
        else:
            assert_illegal(m, text)


def test_stimecmp_write_from_s() -> None:
    m = Machine()
    m.csr.menvcfg, m.csr.mcounteren = STCE, 2
    m.run_code("csrw stimecmp, a1; csrr a0, stimecmp", SUPERVISOR, a1=0x123456789)
    assert m["a0"] == 0x123456789


def test_menvcfg_stce_writable() -> None:
    m = csr_run("csrw menvcfg, a1; csrr a0, menvcfg", a1=STCE)
    assert m["a0"] & STCE


def test_pmp_csrs_are_stored() -> None:
    m = csr_run("csrw pmpaddr0, a1; csrr a0, pmpaddr0; csrw pmpcfg0, a2; csrr a3, pmpcfg0; "
                "csrr a4, pmpaddr63; csrr a5, pmpcfg14",
                a1=0x3FFFFFFFFFFFFF, a2=0x1F)
    assert not m.traps
    assert m["a0"] == 0x3FFFFFFFFFFFFF
    assert m["a3"] == 0x1F
