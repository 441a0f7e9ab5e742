"""Step over and finish: where the machine must get to, as a return point.

Both become "run until pc == P with sp >= SP in the same address space": a
temporary breakpoint at P stops the run, and a recursive call that reaches P
deeper in the stack (a smaller sp) runs on.

Step over: on a call (jal/jalr that links ra or t0) or an ecall from user
mode, P is the next instruction and SP the current sp; anything else is one
step. Finish: P is the caller's return address, from the call stack
(machine.introspect.callstack: DWARF CFI, prologues, frame pointers).
"""

from __future__ import annotations

from dataclasses import dataclass

from machine.elf import ElfImage
from machine.introspect.callstack import call_stack
from machine.isa.decoder import Decoded, decode
from machine.machine import Machine

RA, SP, T0 = 1, 2, 5
USER = 0


@dataclass(frozen=True)
class ReturnPoint:
    pc: int
    sp: int                # the run stops at pc only with sp >= this
    satp: int              # ... in this address space (0: any)
    what: str              # 'step over' or 'finish'


def fetch(machine: Machine, address: int) -> Decoded | None:
    """The instruction at a virtual address, as the hart would fetch it now."""
    satp = machine.read_csr("satp") or 0
    if machine.privilege == 3 or satp >> 60 == 0:
        data = machine.read_physical(address, 4) or machine.read_physical(address, 2)
    else:
        data = machine.read_virtual(address, 4, satp) or machine.read_virtual(address, 2, satp)
    return decode(int.from_bytes(data, "little")) if data else None


def is_call(d: Decoded) -> bool:
    return d.base.name in ("jal", "jalr") and d.base_operands.get("rd") in (RA, T0)



def address_space(machine: Machine) -> int:
    """satp for user code (one process's); 0 for the kernel (mapped alike in all)."""
    return (machine.read_csr("satp") or 0) if machine.privilege == USER else 0


def step_over(machine: Machine) -> ReturnPoint | None:
    """Where a step over a call ends, or None when it is one plain step."""
    d = fetch(machine, machine.pc)
    if d is None:
        return None
    syscall = d.base.name == "ecall" and machine.privilege == USER
    if not (is_call(d) or syscall):
        return None
    sp = machine.registers()[SP]
    return ReturnPoint(machine.pc + d.length, sp, address_space(machine), "step over")


def finish(machine: Machine, image: ElfImage) -> ReturnPoint | str:
    """Where the current function returns to (its caller's frame in the call
    stack), or why that cannot be told. ``image``: the ELF of the code
    running (the kernel's, or the user program's)."""
    # inlined functions' frames share the real function's pc: skip them
    frames = [f for f in call_stack(machine, image, max_frames=8) if not f.inlined][:2]
    if len(frames) < 2:
        where = "no symbols for this code" if frames[0].symbol is None else \
            f"{frames[0].symbol} has no caller on the stack"
        return f"finish: {where}"
    # Back in the caller, sp is at least what it is now; a deeper (recursive)
    # call returning to the same pc has a smaller one.
    return ReturnPoint(frames[1].pc, machine.registers()[SP], address_space(machine), "finish")
