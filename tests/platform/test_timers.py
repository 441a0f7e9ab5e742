"""Deterministic time: timer interrupts fire at exactly the instruction count
the guest asked for (1 tick of the 10 MHz timebase = 1 instruction), a
sleeping guest is fast-forwarded instead of executed, and msip raises MSI."""

from __future__ import annotations

from machine.events import InstructionRetired, TrapTaken
from machine.trap import MACHINE, MSI, MTI, STI, SUPERVISOR

from .guest import (
    DATA,
    HANDLER,
    INTERRUPT,
    MAIN,
    MSIP,
    MTIME,
    MTIMECMP,
    S_CODE,
    finish,
    icount_of,
    label_address,
    li64,
    make_machine,
    read_u64,
)

DELAY = 1000

M_PROLOGUE = f"""
    {li64('t0', HANDLER)}
    csrw mtvec, t0
    {li64('a5', DATA)}
"""

# The handler records time (first, so it reads the trap's own instruction
# count), the cause, epc and mtime through the CLINT, then ends the run.
M_HANDLER = f"""
    csrr t0, time
    sd t0, 8(a5)
    csrr t0, mcause
    sd t0, 16(a5)
    csrr t0, mepc
    sd t0, 24(a5)
    {li64('t1', MTIME)}
    ld t0, 0(t1)
    sd t0, 32(a5)
    {finish()}
"""


def traps(machine) -> list[TrapTaken]:
    seen: list[TrapTaken] = []
    machine.events.subscribe(TrapTaken, seen.append)
    return seen


def test_clint_mtimecmp_fires_at_the_expected_instruction(tmp_path, engine) -> None:
    main = f"""
        {M_PROLOGUE}
        li t0, 128
        csrs mie, t0          # MTIE
        li t0, 8
        csrs mstatus, t0      # MIE
        csrr t1, time
        sd t1, 0(a5)
        addi t1, t1, {DELAY}
        {li64('t3', MTIMECMP)}
        sd t1, 0(t3)
    spin: addi s2, s2, 1
        j spin
    """
    machine = make_machine(tmp_path, {MAIN: main, HANDLER: M_HANDLER}, engine=engine)
    seen = traps(machine)
    result = machine.run(max_instructions=100_000)
    assert result.reason == "exit"
    armed = read_u64(machine, DATA)  # the time the guest read before arming
    assert len(seen) == 1
    trap = seen[0]
    assert (trap.cause, trap.from_privilege, trap.to_privilege) == (INTERRUPT | MTI, MACHINE,
                                                                    MACHINE)
    assert trap.icount == armed + DELAY
    assert read_u64(machine, DATA + 8) == armed + DELAY  # time as the handler sees it
    assert read_u64(machine, DATA + 16) == INTERRUPT | MTI
    assert read_u64(machine, DATA + 24) == trap.epc
    # mtime read through the CLINT agrees with the time CSR (8 instructions later)
    assert read_u64(machine, DATA + 32) == armed + DELAY + 8
    # the spin loop ran until the deadline, not a chunk more: its addi ran once
    # per two instructions from the loop's first one to the deadline
    spin = icount_of(label_address(main, "spin", MAIN))
    assert machine.registers()[18] == (armed + DELAY - spin + 1) // 2
    assert MAIN < trap.epc < HANDLER


def test_sstc_stimecmp_fires_in_s_mode(tmp_path, engine) -> None:
    main = f"""
        {li64('t0', 1 << 63)}
        csrs menvcfg, t0       # STCE: stimecmp drives STIP
        li t0, 2
        csrs mcounteren, t0    # TM: S-mode may read time
        li t0, 32
        csrs mideleg, t0       # STI goes to S-mode
        li t0, -1
        srli t0, t0, 10
        csrw pmpaddr0, t0
        li t0, 31
        csrw pmpcfg0, t0
        {li64('t0', HANDLER)}
        csrw stvec, t0
        {li64('t0', S_CODE)}
        csrw mepc, t0
        li t0, 6144
        csrc mstatus, t0
        li t0, 2048
        csrs mstatus, t0       # MPP = S
        {li64('a5', DATA)}
        mret
    """
    s_code = f"""
        li t0, 32
        csrs sie, t0           # STIE
        li t0, 2
        csrs sstatus, t0       # SIE
        csrr t1, time
        sd t1, 0(a5)
        addi t1, t1, {DELAY}
        csrw stimecmp, t1
    spin: addi s2, s2, 1
        j spin
    """
    handler = f"""
        csrr t0, time
        sd t0, 8(a5)
        csrr t0, scause
        sd t0, 16(a5)
        csrr t0, sepc
        sd t0, 24(a5)
        {finish()}
    """
    machine = make_machine(tmp_path, {MAIN: main, HANDLER: handler, S_CODE: s_code},
                           engine=engine)
    seen = traps(machine)
    assert machine.run(max_instructions=100_000).reason == "exit"
    armed = read_u64(machine, DATA)
    assert len(seen) == 1
    trap = seen[0]
    assert (trap.cause, trap.from_privilege, trap.to_privilege) == (INTERRUPT | STI,
                                                                    SUPERVISOR, SUPERVISOR)
    assert trap.icount == armed + DELAY
    assert read_u64(machine, DATA + 8) == armed + DELAY
    assert read_u64(machine, DATA + 16) == INTERRUPT | STI
    assert S_CODE <= read_u64(machine, DATA + 24) == trap.epc < S_CODE + 0x100


def test_msip_raises_a_machine_software_interrupt(tmp_path, engine) -> None:
    main = f"""
        {M_PROLOGUE}
        li t0, 8
        csrs mie, t0          # MSIE
        csrs mstatus, t0      # MIE
        {li64('t3', MSIP)}
        li t1, 1
    raise: sw t1, 0(t3)
        addi s2, s2, 1
        j raise
    """
    handler = f"""
        {li64('t3', MSIP)}
        sw zero, 0(t3)        # clear msip before ending
        csrr t0, mcause
        sd t0, 16(a5)
        csrr t0, mip
        sd t0, 40(a5)
        {finish()}
    """
    machine = make_machine(tmp_path, {MAIN: main, HANDLER: handler}, engine=engine)
    seen = traps(machine)
    assert machine.run(max_instructions=100_000).reason == "exit"
    store = label_address(main, "raise", MAIN)
    assert len(seen) == 1
    trap = seen[0]
    # taken right after the msip store, before the instruction that follows it
    assert (trap.cause, trap.icount, trap.epc) == (INTERRUPT | MSI, icount_of(store) + 1,
                                                   store + 4)
    assert machine.registers()[18] == 0
    assert read_u64(machine, DATA + 16) == INTERRUPT | MSI
    assert read_u64(machine, DATA + 40) & 8 == 0  # cleared through the CLINT


TICK = 1_000_000
TICKS = 10

# Sleep TICKS timer ticks: arm mtimecmp one tick ahead, wfi until the handler
# has counted the tick (it disarms the timer), log when each was armed.
SLEEPER = f"""
    {M_PROLOGUE}
    li t0, 128
    csrs mie, t0
    li t0, 8
    csrs mstatus, t0
    li s3, {TICKS}
    {li64('t3', MTIMECMP)}
    {li64('t1', TICK)}
loop:
    csrr t0, time
    slli t4, s2, 3
    add t4, t4, a5
    sd t0, 0(t4)           # armed[s2]
    add t0, t0, t1
    sd t0, 0(t3)
    mv s4, s2
wait:
    wfi
    beq s2, s4, wait
    blt s2, s3, loop
    {finish()}
"""
SLEEPER_HANDLER = """
    csrr t0, time
    slli t4, s2, 3
    add t4, t4, a5
    sd t0, 256(t4)         # woken[s2]
    li t0, -1
    sd t0, 0(t3)           # disarm
    addi s2, s2, 1
    mret
"""


def run_sleeper(tmp_path, engine: str | None = None, single_step: bool = False):
    machine = make_machine(tmp_path, {MAIN: SLEEPER, HANDLER: SLEEPER_HANDLER}, engine=engine)
    seen = traps(machine)
    host_steps = []
    if single_step:  # one event per instruction the host actually executes
        machine.events.subscribe(InstructionRetired, host_steps.append)
    result = machine.run(max_instructions=50 * TICK)
    return machine, result, seen, host_steps


def test_wfi_sleep_is_fast_forwarded_and_deterministic(tmp_path, engine) -> None:
    machine, result, seen, _ = run_sleeper(tmp_path, engine)
    assert result.reason == "exit"
    armed = [read_u64(machine, DATA + 8 * i) for i in range(TICKS)]
    woken = [read_u64(machine, DATA + 256 + 8 * i) for i in range(TICKS)]
    assert [t.cause for t in seen] == [INTERRUPT | MTI] * TICKS
    assert [t.icount for t in seen] == [a + TICK for a in armed] == woken
    # ~10 M ticks of guest time passed, yet only a few hundred instructions ran
    assert TICKS * TICK <= machine.icount < TICKS * TICK + 1000
    assert machine.hart.retired() < 300
    print(f"\nsleeper: {machine.icount} ticks, {machine.hart.retired()} instructions retired")

    again, _, seen_again, _ = run_sleeper(tmp_path, engine)
    assert seen_again == seen
    assert again.icount == machine.icount and again.hart.retired() == machine.hart.retired()

    # Counting the instructions the host executes (one event each, single-step):
    # a few hundred, and the same trace again.
    stepped, result, seen_stepped, host_steps = run_sleeper(tmp_path, engine,
                                                              single_step=True)
    assert result.reason == "exit"
    assert len(host_steps) < 300
    # each event names the instruction that ran, with its own number: after a
    # timer interrupt, the handler's first instruction at the trap's count
    numbers = [step.icount for step in host_steps]
    assert numbers == sorted(set(numbers))
    by_number = {step.icount: step for step in host_steps}
    assert all(by_number[trap.icount].pc == HANDLER for trap in seen)
    assert len(host_steps) == stepped.hart.retired()
    assert seen_stepped == seen
    assert stepped.icount == machine.icount
