"""Fuzz: random instruction words and sequences in every privilege mode.

Whatever the guest executes, only architectural behaviour may come out: no
Python exception escapes ``hart.run``, the pc stays an even 64-bit address,
registers and trap CSRs stay 64-bit values, the privilege stays M, S or U,
and the hart keeps counting instructions (unless WFI idles with nothing to
wake it). Words come raw (any 16/32-bit pattern) and shaped after the
declarations (a real instruction's fixed bits with random operand fields),
so CSR numbers, system instructions, loads/stores, AMOs and branches are all
hit; registers hold random and interesting addresses (RAM, device windows
with no device, non-canonical, page edges) so memory accesses fault or not.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from machine.isa.asm import assemble
from machine.isa.csr_names import CSR_NUMBERS
from machine.isa.decoder import ALL_SPECS

from .harness import (
    CODE,
    DATA,
    M_VECTOR,
    MACHINE,
    PCODE,
    PDATA,
    PTE_A,
    PTE_R,
    PTE_X,
    RAM,
    RAM_SIZE,
    S_VECTOR,
    SUPERVISOR,
    USER,
    VCODE,
    VDATA,
    Machine,
)

M64 = (1 << 64) - 1
S_HANDLER_VA = 0x2000_0000
MODES = ["M", "S", "S-sv39", "U", "U-sv39"]

# Trap handlers that step over the trapping instruction and return, so random
# code keeps running in its own mode (random code may of course clobber them).
M_HANDLER = "csrr t6, mepc; addi t6, t6, 4; csrw mepc, t6; mret"
S_HANDLER = "csrr t6, sepc; addi t6, t6, 4; csrw sepc, t6; sret"

raw32 = st.integers(0, (1 << 32) - 1).map(lambda w: w | 3)
raw16 = st.integers(0, 0xFFFF).filter(lambda w: w & 3 != 3)
shaped = st.sampled_from(ALL_SPECS).flatmap(
    lambda s: st.integers(0, (1 << (8 * s.length)) - 1).map(
        lambda r, s=s: (r & ~s.mask) | s.match))
words = st.one_of(raw32, raw16, shaped, shaped)

interesting = st.sampled_from([
    0, 1, 2, 3, 4, 7, 8, M64, M64 - 3, 1 << 63, (1 << 63) - 1, 0x8000_0000, 0xFFFF_FFFF,
    RAM, DATA, DATA + 0xFFD, DATA + 0x1000 - 2, RAM + RAM_SIZE - 4, RAM + RAM_SIZE,
    CODE, M_VECTOR, 0x1000_0000, 0x0200_0000, 0x0C00_0000, 0x0010_0000, 0x1000_1000,
    VDATA, VDATA + 0xFFC, VDATA + 0x10000 - 3, VCODE, 0x0000_0040_0000_0000,
    0xFFFF_FFC0_0000_0000, 0xFFFF_FFFF_FFFF_F000,
])
register_value = st.one_of(interesting, st.integers(0, M64),
                           st.integers(DATA, DATA + 0x2000), st.integers(0, 0x2000))

csr_setup = st.fixed_dictionaries({
    "mstatus": st.integers(0, M64),
    "medeleg": st.integers(0, 0xFFFF),
    "mideleg": st.integers(0, 0xFFF),
    "mie": st.one_of(st.just(0), st.integers(0, 0xFFF)),
    "mip": st.one_of(st.just(0), st.integers(0, 0xFFF)),
    "mcounteren": st.integers(0, 7),
    "scounteren": st.integers(0, 7),
    "menvcfg": st.sampled_from([0, 1 << 63]),
    "stimecmp": st.one_of(st.integers(0, 300), st.just(M64)),
})


def build(mode: str, program: list[int], registers: list[int], csrs: dict[str, int]
          ) -> Machine:
    m = Machine()
    m.load_code(M_HANDLER, at=M_VECTOR)
    m.load_code(S_HANDLER, at=S_VECTOR)
    privilege = {"M": MACHINE, "S": SUPERVISOR, "U": USER}[mode[0]]
    code = b"".join(w.to_bytes(2 if w & 3 != 3 else 4, "little") for w in program)
    code += assemble(f"jal zero, {-len(code)}")          # loop back to the start
    if mode.endswith("sv39"):
        tables = m.enable_sv39(user_code=privilege == USER)
        tables.map(S_HANDLER_VA, S_VECTOR, PTE_R | PTE_X | PTE_A)
        m.csr.stvec = S_HANDLER_VA
        m.write(PCODE, code)
        start = VCODE
        m.write(PDATA, bytes(range(256)) * 16)
    else:
        m.write(CODE, code)
        start = CODE
        m.write(DATA, bytes(range(256)) * 16)
    # CSRs go through their WARL writers, as an M-mode csrw would
    for name, value in csrs.items():
        m.csr.access(CSR_NUMBERS[name], "write", value, True, True, 0)
    m.hart.translation_changed()
    for i, value in enumerate(registers, start=1):
        m.hart.x[i] = value
    m.set_privilege(privilege)
    m.hart.pc = start
    return m


def check(m: Machine) -> None:
    hart = m.hart
    assert 0 <= hart.pc <= M64 and hart.pc % 2 == 0, hex(hart.pc)
    assert hart.x[0] == 0
    assert all(0 <= v <= M64 for v in hart.x[:32])
    assert hart.privilege in (USER, SUPERVISOR, MACHINE)
    csr = hart.csr
    for name in ("mstatus", "mepc", "sepc", "mtval", "stval", "mcause", "scause", "satp",
                 "mtvec", "stvec", "mscratch", "sscratch", "mie", "medeleg", "mideleg"):
        value = getattr(csr, name)
        assert 0 <= value <= M64, name
    assert (csr.mstatus >> 11) & 3 != 2
    assert csr.mepc % 2 == 0 and csr.sepc % 2 == 0
    for trap in m.traps:
        cause = trap.cause & ~(1 << 63)
        if trap.cause >> 63:
            assert cause in (1, 3, 5, 7, 9, 11)
        else:
            assert cause in (0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 13, 15)


def execute(m: Machine, budget: int) -> None:
    hart = m.hart
    for chunk in (1, 3, budget):
        start = hart.icount
        hart.run(chunk)
        check(m)
        assert hart.icount - start >= chunk or hart.idle_forever
    # and it keeps running, one step at a time
    for _ in range(5):
        start = hart.icount
        hart.step()
        check(m)
        assert hart.icount == start + 1 or hart.idle_forever or hart.icount > start


FUZZ = settings(max_examples=80, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def fuzz_mode(mode: str):
    @FUZZ
    @given(program=st.lists(words, min_size=1, max_size=24),
           registers=st.lists(register_value, min_size=31, max_size=31),
           csrs=csr_setup)
    def test(program: list[int], registers: list[int], csrs: dict[str, int]) -> None:
        m = build(mode, program, registers, csrs)
        execute(m, 300)
    test.__name__ = f"test_random_code_in_{mode.replace('-', '_')}"
    return test


test_random_code_in_M = fuzz_mode("M")
test_random_code_in_S = fuzz_mode("S")
test_random_code_in_S_sv39 = fuzz_mode("S-sv39")
test_random_code_in_U = fuzz_mode("U")
test_random_code_in_U_sv39 = fuzz_mode("U-sv39")


@FUZZ
@given(word=st.one_of(raw32, raw16, shaped), mode=st.sampled_from(MODES),
       registers=st.lists(register_value, min_size=31, max_size=31))
def test_single_random_word(word: int, mode: str, registers: list[int]) -> None:
    """One word, executed once: either it retires or exactly one trap is taken."""
    m = build(mode, [word], registers, {})
    before = m.hart.icount
    m.hart.step()
    check(m)
    assert m.hart.icount > before or m.hart.idle_forever
    assert len(m.traps) <= 1
    if m.traps and not m.traps[0].cause >> 63:
        start = VCODE if mode.endswith("sv39") else CODE
        assert m.traps[0].epc == start or m.traps[0].cause in (1, 12)


def test_fuzz_layout_sanity() -> None:
    # the handler really steps over a trapping instruction and returns
    m = build("U", [0xFFFFFFFF, 0x00150513], [0] * 31, {})   # illegal; addi a0, a0, 1
    m.hart.run(20)
    assert m.traps[0].cause == 2 and m["a0"] >= 2     # stepped over, and looped
