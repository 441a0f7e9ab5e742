"""An access to a physical address where nothing answers is an access fault
the guest's trap handler sees (mcause 5 load, 7 store/AMO, 1 fetch), never a
Python error."""

from __future__ import annotations

from .guest import (
    DATA,
    HANDLER,
    MAIN,
    RAM,
    VIRTIO,
    finish,
    li64,
    make_machine,
    read_u64,
)

RAM_MIB = 16
RAM_END = RAM + (RAM_MIB << 20)
HOLE = 0x4000_0000          # between the devices and RAM: nothing is there
AFTER_VIRTIO = VIRTIO + 0x1000

# The handler logs (mcause, mtval) and resumes after the faulting instruction,
# or, for a fetch fault, at the return address of the jump that caused it.
HANDLER_CODE = """
    csrr t3, mcause
    csrr t4, mtval
    slli t5, s2, 4
    add t5, t5, s1
    sd t3, 0(t5)
    sd t4, 8(t5)
    addi s2, s2, 1
    li t6, 1
    beq t3, t6, fetch
    csrr t5, mepc
    addi t5, t5, 4
    csrw mepc, t5
    mret
fetch:
    csrw mepc, ra
    mret
"""


def program(accesses: str) -> dict[int, str]:
    main = f"""
        {li64('t0', HANDLER)}
        csrw mtvec, t0
        {li64('s1', DATA)}
        li s2, 0
        {accesses}
        {finish()}
    """
    return {MAIN: main, HANDLER: HANDLER_CODE}


def at(address: int, instruction: str) -> str:
    return f"{li64('t0', address)}\n{instruction}"


CASES = [
    (at(HOLE, "ld t1, 0(t0)"), 5, HOLE),
    (at(HOLE, "sd t1, 0(t0)"), 7, HOLE),
    (at(HOLE, "amoadd.w t1, t2, (t0)"), 7, HOLE),
    (at(HOLE, "lr.d t1, (t0)"), 5, HOLE),
    (at(HOLE, "jalr ra, 0(t0)"), 1, HOLE),
    (at(RAM_END, "lw t1, 0(t0)"), 5, RAM_END),
    (at(RAM_END, "sb t1, 0(t0)"), 7, RAM_END),
    # half in RAM, half beyond: mtval names the portion that faulted (as the
    # privileged spec allows for misaligned accesses)
    (at(RAM_END - 4, "ld t1, 0(t0)"), 5, RAM_END),
    (at(RAM_END - 2, "jalr ra, 0(t0)"), 1, RAM_END),     # a 32-bit fetch's second half
    (at(AFTER_VIRTIO, "lw t1, 0(t0)"), 5, AFTER_VIRTIO),
    (at(0x0, "lbu t1, 0(t0)"), 5, 0),
    (at((1 << 64) - 8, "sd t1, 0(t0)"), 7, (1 << 64) - 8),
]


def test_unmapped_physical_accesses_are_access_faults(tmp_path, engine) -> None:
    accesses = "\n".join(case for case, _, _ in CASES)
    # no disk configured: the virtio window is unmapped too
    accesses += "\n" + at(VIRTIO, "lw t1, 0(t0)")
    machine = make_machine(tmp_path, program(accesses), engine=engine, ram_mib=RAM_MIB)
    # the last halfword of RAM starts a 32-bit instruction (an addi's low half)
    machine.bus.ram[-2:] = bytes([0x13, 0x00])
    result = machine.run(max_instructions=100_000)
    assert (result.reason, machine.exit_status) == ("exit", 0)
    expected = [(cause, tval) for _, cause, tval in CASES] + [(5, VIRTIO)]
    logged = [(read_u64(machine, DATA + 16 * i), read_u64(machine, DATA + 16 * i + 8))
              for i in range(len(expected) + 1)]
    assert logged == expected + [(0, 0)]


def test_a_trap_vector_in_unmapped_space_loops_in_faults(tmp_path, engine) -> None:
    """mtvec points nowhere: every fetch faults again. The run simply uses its
    budget; mepc keeps the handler's own address."""
    main = f"{li64('t0', HOLE)}\ncsrw mtvec, t0\n{at(HOLE + 8, 'ld t1, 0(t0)')}"
    machine = make_machine(tmp_path, {MAIN: main}, engine=engine)
    result = machine.run(max_instructions=1000)
    assert (result.reason, result.instructions) == ("budget", 1000)
    assert (machine.read_csr("mcause"), machine.read_csr("mtval")) == (1, HOLE)
    assert machine.pc == HOLE
