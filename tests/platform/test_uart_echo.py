"""UART echo through the PLIC: a guest of our own takes receive and
transmit-empty interrupts (M-mode, PLIC context 0) and, like xv6's write(),
sends each byte only when a THR-empty interrupt has said the transmitter is
free. Input is scripted at instruction counts, so the run is reproducible."""

from __future__ import annotations

from machine.events import ConsoleOutput, TrapTaken
from machine.trap import MEI

from .guest import (
    DATA,
    HANDLER,
    INTERRUPT,
    MAIN,
    PLIC,
    PLIC_CLAIM_M,
    PLIC_ENABLE_M,
    PLIC_THRESHOLD_M,
    UART,
    UART_IRQ,
    li64,
    make_machine,
    read_u64,
)

# DATA layout: +0 tx_idle, +8 received, +16 sent, +24 THRE interrupts,
# +32 claims, +256 ring of received bytes (uppercased)
MAIN_CODE = f"""
    {li64('t0', HANDLER)}
    csrw mtvec, t0
    {li64('a5', DATA)}
    {li64('s0', UART)}
    {li64('s1', PLIC_CLAIM_M)}
    sb zero, 1(s0)          # IER = 0
    li t1, 128
    sb t1, 3(s0)            # LCR: DLAB
    li t1, 3
    sb t1, 0(s0)            # DLL
    sb zero, 1(s0)          # DLM
    sb t1, 3(s0)            # LCR: 8N1
    li t1, 7
    sb t1, 2(s0)            # FCR: enable and reset the FIFOs
    {li64('t2', PLIC + 4 * UART_IRQ)}
    li t1, 1
    sw t1, 0(t2)            # priority of IRQ 10
    {li64('t2', PLIC_ENABLE_M)}
    li t1, {1 << UART_IRQ}
    sw t1, 0(t2)
    {li64('t2', PLIC_THRESHOLD_M)}
    sw zero, 0(t2)
    li t1, 2048
    csrs mie, t1            # MEIE
    li t1, 3
    sb t1, 1(s0)            # IER: RX data and THR empty
    li t1, 8
    csrs mstatus, t1        # MIE
idle:
    wfi
    j idle
"""

HANDLER_CODE = """
    lw t0, 0(s1)            # claim
    ld t1, 32(a5)
    addi t1, t1, 1
    sd t1, 32(a5)
    li t2, 10
    bne t0, t2, done
    lbu t1, 2(s0)           # IIR
    andi t1, t1, 15
    li t2, 2
    bne t1, t2, rx
    li t3, 1
    sd t3, 0(a5)            # THR empty: the transmitter is free
    ld t3, 24(a5)
    addi t3, t3, 1
    sd t3, 24(a5)
rx:
    lbu t1, 5(s0)           # LSR
    andi t1, t1, 1
    beqz t1, tx
    lbu t1, 0(s0)           # RHR
    li t2, 97
    blt t1, t2, keep
    li t2, 122
    blt t2, t1, keep
    addi t1, t1, -32        # uppercase, so the echo is visibly the guest's
keep:
    ld t3, 8(a5)
    andi t4, t3, 255
    add t4, t4, a5
    sb t1, 256(t4)
    addi t3, t3, 1
    sd t3, 8(a5)
    j rx
tx:
    ld t1, 0(a5)
    beqz t1, done           # wait for the THR-empty interrupt
    ld t3, 16(a5)
    ld t4, 8(a5)
    beq t3, t4, done        # nothing to send
    andi t4, t3, 255
    add t4, t4, a5
    lbu t2, 256(t4)
    sb t2, 0(s0)            # THR
    addi t3, t3, 1
    sd t3, 16(a5)
    sd zero, 0(a5)          # busy until the next THR-empty interrupt
done:
    sw t0, 0(s1)            # complete
    mret
"""

INPUT = ((5_000, "ab"), (300_000, "cd!\n"))


def run_echo(tmp_path, engine: str | None = None):
    machine = make_machine(tmp_path, {MAIN: MAIN_CODE, HANDLER: HANDLER_CODE}, engine=engine)
    traps: list[TrapTaken] = []
    output: list[ConsoleOutput] = []
    machine.events.subscribe(TrapTaken, traps.append)
    machine.events.subscribe(ConsoleOutput, output.append)
    for at, text in INPUT:
        machine.feed_console(text, at_icount=at)
    result = machine.run(max_instructions=10_000_000)
    return machine, result, traps, output


def test_echo_with_rx_and_thr_empty_interrupts(tmp_path, engine) -> None:
    machine, result, traps, output = run_echo(tmp_path, engine)
    # everything typed was echoed, then the guest waits for input forever
    assert result.reason == "idle"
    assert machine.console_text() == "ABCD!\n"
    assert "".join(event.text for event in output) == "ABCD!\n"
    received, sent = read_u64(machine, DATA + 8), read_u64(machine, DATA + 16)
    assert received == sent == 6
    # one THR-empty interrupt when IER enabled it, then one after each byte sent
    assert read_u64(machine, DATA + 24) == sent + 1
    assert all(trap.cause == INTERRUPT | MEI for trap in traps)
    assert read_u64(machine, DATA + 32) == len(traps)  # every interrupt was claimed
    # the input arrived exactly when scripted (the guest slept in wfi till then)
    numbers = [trap.icount for trap in traps]
    assert INPUT[0][0] in numbers and INPUT[1][0] in numbers
    # each byte went out only after the interrupt that freed the transmitter
    assert all(event.icount > INPUT[0][0] for event in output)
    assert machine.hart.retired() < 2_000
    assert machine.plic.claimed == 0

    # the same run again, and on the reference interpreter: the same trace
    for other in (engine, "interp"):
        again, result_again, traps_again, output_again = run_echo(tmp_path, other)
        assert result_again == result
        assert traps_again == traps and output_again == output
        assert again.icount == machine.icount and again.hart.retired() == machine.hart.retired()
