"""Trap causes and the exception that carries a synchronous trap in the core.

``Trap`` is how an instruction says "this raises an architectural exception";
the execution loop catches it and performs trap entry. It never leaves the
core: a guest can only cause traps, not Python errors.
"""

from __future__ import annotations

INTERRUPT_BIT = 1 << 63

# Exception causes (mcause/scause with the interrupt bit clear)
INSTRUCTION_MISALIGNED = 0
INSTRUCTION_ACCESS_FAULT = 1
ILLEGAL_INSTRUCTION = 2
BREAKPOINT = 3
LOAD_MISALIGNED = 4
LOAD_ACCESS_FAULT = 5
STORE_MISALIGNED = 6
STORE_ACCESS_FAULT = 7
ECALL_FROM_U = 8
ECALL_FROM_S = 9
ECALL_FROM_M = 11
INSTRUCTION_PAGE_FAULT = 12
LOAD_PAGE_FAULT = 13
STORE_PAGE_FAULT = 15

# Interrupt numbers (mcause with the interrupt bit set), and their mip bits
SSI, MSI, STI, MTI, SEI, MEI = 1, 3, 5, 7, 9, 11
# The order in which simultaneous pending interrupts are taken (privileged spec 3.1.9)
INTERRUPT_PRIORITY = (MEI, MSI, MTI, SEI, SSI, STI)

EXCEPTION_NAMES = {
    0: "instruction address misaligned", 1: "instruction access fault",
    2: "illegal instruction", 3: "breakpoint", 4: "load address misaligned",
    5: "load access fault", 6: "store/AMO address misaligned", 7: "store/AMO access fault",
    8: "environment call from U-mode", 9: "environment call from S-mode",
    11: "environment call from M-mode", 12: "instruction page fault",
    13: "load page fault", 15: "store/AMO page fault",
}
INTERRUPT_NAMES = {1: "supervisor software interrupt", 3: "machine software interrupt",
                   5: "supervisor timer interrupt", 7: "machine timer interrupt",
                   9: "supervisor external interrupt", 11: "machine external interrupt"}


def cause_name(cause: int) -> str:
    if cause & INTERRUPT_BIT:
        return INTERRUPT_NAMES.get(cause & ~INTERRUPT_BIT, f"interrupt {cause & 0xff}")
    return EXCEPTION_NAMES.get(cause, f"exception {cause}")


class Trap(Exception):
    """A synchronous exception raised by the instruction being executed."""

    __slots__ = ("cause", "tval")

    def __init__(self, cause: int, tval: int = 0) -> None:
        self.cause = cause
        self.tval = tval & 0xFFFFFFFFFFFFFFFF


# Access kinds, used by the MMU and the memory paths
FETCH, LOAD, STORE = 0, 1, 2
PAGE_FAULT_FOR = {FETCH: INSTRUCTION_PAGE_FAULT, LOAD: LOAD_PAGE_FAULT, STORE: STORE_PAGE_FAULT}
ACCESS_FAULT_FOR = {FETCH: INSTRUCTION_ACCESS_FAULT, LOAD: LOAD_ACCESS_FAULT,
                    STORE: STORE_ACCESS_FAULT}
MISALIGNED_FOR = {LOAD: LOAD_MISALIGNED, STORE: STORE_MISALIGNED}

# Privilege levels
USER, SUPERVISOR, MACHINE = 0, 1, 3
PRIVILEGE_NAMES = {USER: "U", SUPERVISOR: "S", MACHINE: "M"}
