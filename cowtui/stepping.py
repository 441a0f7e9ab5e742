"""Step over and finish: where the machine must get to, as a return point.

Both become "run until pc == P with sp >= SP in the same address space": a
temporary breakpoint at P stops the run, and a recursive call that reaches P
deeper in the stack (a smaller sp) runs on.

Step over: on a call (jal/jalr that links ra or t0) or an ecall from user
mode, P is the next instruction and SP the current sp; anything else is one
step. Finish: P is the caller's return address. Where the call stack is known
(machine.introspect.callstack) it gives it; otherwise it is read from the
function's prologue (``addi sp,sp,-N`` then ``sd ra,off(sp)``, as gcc emits
it), scanned from the function's start to pc: ra is still in its register
before the prologue saved it, and at sp+off after. (An early exit that gcc
shrink-wrapped past the prologue is misread; the call stack knows better.)
"""

from __future__ import annotations

from dataclasses import dataclass

from machine.isa.decoder import Decoded, decode
from machine.machine import Machine

RA, SP, T0 = 1, 2, 5
PROLOGUE_LIMIT = 32        # instructions scanned from a function's start
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


def is_return(d: Decoded) -> bool:
    ops = d.base_operands
    return d.base.name == "jalr" and ops.get("rd") == 0 and ops.get("rs1") in (RA, T0)


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


def read_u64(machine: Machine, address: int) -> int | None:
    satp = machine.read_csr("satp") or 0
    data = machine.read_physical(address, 8) if machine.privilege == 3 or satp >> 60 == 0 \
        else machine.read_virtual(address, 8, satp)
    return int.from_bytes(data, "little") if data else None


def finish(machine: Machine, function_start: int | None) -> ReturnPoint | str:
    """Where the current function returns to, or why that cannot be told."""
    pc, regs = machine.pc, machine.registers()
    here = fetch(machine, pc)
    if here is not None and is_return(here):
        return ReturnPoint(regs[here.base_operands["rs1"]], regs[SP],
                           address_space(machine), "finish")
    if function_start is None:
        return "finish needs the function's start: no symbol for this pc"
    frame, ra_slot = 0, None       # bytes the prologue took off sp; where it saved ra
    address = function_start
    for _ in range(PROLOGUE_LIMIT):
        if address >= pc:
            break
        d = fetch(machine, address)
        if d is None:
            break
        ops = d.base_operands
        if d.base.name == "addi" and ops.get("rd") == SP and ops.get("rs1") == SP:
            frame -= ops["imm_i"]
        elif d.base.name == "sd" and ops.get("rs2") == RA and ops.get("rs1") == SP:
            ra_slot = ops["imm_s"]
        elif is_call(d) or is_return(d):
            break                  # past the prologue (branches may come before it:
            #                        gcc shrink-wraps early exits)
        address += d.length
    sp = regs[SP]
    if ra_slot is None:
        return_pc = regs[RA]
    else:
        saved = read_u64(machine, sp + ra_slot)
        if saved is None:
            return "finish: the saved return address is not readable"
        return_pc = saved
    return ReturnPoint(return_pc, sp + frame, address_space(machine), "finish")
