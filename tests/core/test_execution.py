"""The execution loop itself: stepping vs running, code that changes under
the hart (stores and DMA), and the circular address space."""

from __future__ import annotations

from machine.isa.asm import asm, assemble

from .harness import CODE, DATA, PCODE, PTE_A, PTE_R, PTE_X, SUPERVISOR, Machine

PROGRAM = """
    li a0, 0; li a1, 100; li a2, 0
    loop:
    addi a0, a0, 3
    c.addi a2, 1
    sd a0, 0(s0); ld a3, 0(s0)
    andi a4, a0, 7; beqz a4, skip
    xor a5, a5, a0
    skip:
    addi a1, a1, -1
    bnez a1, loop
    ecall
"""


def prepared() -> Machine:
    m = Machine()
    m.load_code(PROGRAM)
    m["s0"] = DATA
    return m


def test_step_and_run_agree() -> None:
    stepped, ran = prepared(), prepared()
    for _ in range(1000):
        stepped.hart.step()
    ran.hart.run(1000)
    assert stepped.hart.x == ran.hart.x
    assert (stepped.hart.pc, stepped.hart.icount) == (ran.hart.pc, ran.hart.icount)
    assert stepped.traps == ran.traps
    assert ran["a0"] == 300 and ran.trap.cause == 11


def test_run_returns_ticks_and_counts_instructions() -> None:
    m = prepared()
    assert m.hart.run(10) == 10
    assert m.hart.icount == 10 and m.hart.retired() == 10


def test_store_into_code_is_seen_each_time() -> None:
    # Two stores rewrite the same instruction; each version must execute.
    m = Machine()
    m.load_code("""
        sw t1, 20(t0)
        jal ra, target
        sw t2, 20(t0)
        jal ra, target
        j end
        target: nop
        ret
        end: nop
    """)
    m["t0"], m["t1"], m["t2"] = CODE, asm("addi a0, a0, 1")[0], asm("addi a0, a0, 16")[0]
    m.hart.run(9)
    assert m["a0"] == 17
    m = Machine()
    m.load_code("sw t1, 20(t0); jal ra, target; sw t2, 20(t0); jal ra, target; j end; "
                "target: nop; ret; end: nop")
    m["t0"], m["t1"], m["t2"] = CODE, asm("addi a0, a0, 1")[0], asm("addi a0, a0, 16")[0]
    for _ in range(9):
        m.hart.step()
    assert m["a0"] == 17


def test_dma_into_code_is_seen_each_time() -> None:
    m = Machine()
    for value in (1, 2, 3):
        m.bus.write_physical(CODE, assemble(f"addi a0, a0, {value}"))
        m.hart.pc = CODE
        m.hart.step()
    assert m["a0"] == 6


def test_fence_i_after_store() -> None:
    m = Machine()
    m.load_code("jal ra, target; sw t1, 20(t0); fence.i; jal ra, target; j end; "
                "target: addi a0, a0, 1; ret; end: nop")
    m["t0"], m["t1"] = CODE, asm("addi a0, a0, 100")[0]
    m.run_to_end()
    assert m["a0"] == 101


def test_sequential_execution_wraps_at_the_top_of_the_address_space() -> None:
    m = Machine()
    tables = m.enable_sv39()
    tables.map(0xFFFF_FFFF_FFFF_F000, PCODE + 0x8000, PTE_R | PTE_X | PTE_A)
    tables.map(0, PCODE + 0x9000, PTE_R | PTE_X | PTE_A)
    m.hart.translation_changed()
    m.write(PCODE + 0x8FFC, assemble("addi a0, a0, 1"))
    m.write(PCODE + 0x9000, assemble("addi a0, a0, 2; ecall"))
    m.set_privilege(SUPERVISOR)
    m.hart.pc = 0xFFFF_FFFF_FFFF_FFFC
    m.hart.step()
    assert m.hart.pc == 0                      # not 2**64
    m.hart.run(2)
    assert m["a0"] == 3
    assert (m.trap.cause, m.trap.epc) == (9, 4)


def test_wrap_within_one_run() -> None:
    m = Machine()
    tables = m.enable_sv39()
    tables.map(0xFFFF_FFFF_FFFF_F000, PCODE + 0x8000, PTE_R | PTE_X | PTE_A)
    tables.map(0, PCODE + 0x9000, PTE_R | PTE_X | PTE_A)
    m.hart.translation_changed()
    m.write(PCODE + 0x8FFA, assemble("c.addi a0, 1; addi a0, a0, 1"))
    m.write(PCODE + 0x9000, assemble("auipc a1, 0; ebreak"))
    m.set_privilege(SUPERVISOR)
    m.hart.pc = 0xFFFF_FFFF_FFFF_FFFA
    m.hart.run(4)
    assert m["a0"] == 2 and m["a1"] == 0
    assert (m.trap.cause, m.trap.epc) == (3, 4)
