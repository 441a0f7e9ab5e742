"""Who changed what: the store behind a finding, with its call stack.

The tracker keeps, per PTE and per frame, the last ``Change`` (instruction
count, pc, privilege, hart, call stack at the store), so a rule checked at a
quiescent point names the store that made the state wrong, not the return to
user mode where the check ran.

Unwinding at every watched store would cost a stack walk each; instead the
stack is memoised per kernel entry by (pc, sp, ra, s0): the frames above a
function do not change while it runs, and the loops that store most (uvmcopy
over every PTE, a memset over a page) store from one pc with one sp.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from .callstack import StackFrame, call_stack, format_call_stack

if TYPE_CHECKING:
    from ..machine import Machine

USER, SUPERVISOR, MACHINE = 0, 1, 3
DMA = -1  # the privilege of a device's store
_CACHE_LIMIT = 4096


@dataclass(frozen=True, slots=True)
class Change:
    icount: int
    pc: int
    privilege: int  # of the store: 0 user, 1 supervisor, 3 machine, DMA (-1) a device
    hart: int
    stack: tuple[StackFrame, ...] = ()

    @property
    def by_user(self) -> bool:
        return self.privilege == USER

    def who(self) -> str:
        """Who stored, for messages: 'the kernel', 'user code', 'a device (DMA)'."""
        if self.privilege == DMA:
            return "a device (DMA)"
        return "user code" if self.privilege == USER else "the kernel"

    def where(self) -> str:
        """``memmove+0x60 (kernel/string.c:34) ← copyout (kernel/vm.c:412)``, or the pc."""
        return format_call_stack(list(self.stack), limit=8) if self.stack else f"{self.pc:#x}"


class StoreWitness:
    """Makes the ``Change`` of a store, from inside the store's event hook."""

    def __init__(self, machine: Machine) -> None:
        self.machine = machine
        self._stacks: dict[tuple[int, int, int, int], tuple[StackFrame, ...]] = {}

    def new_entry(self) -> None:
        """A trap or a return: stacks seen before may be gone."""
        self._stacks.clear()

    def change(self, icount: int, pc: int, by_dma: bool = False) -> Change:
        m = self.machine
        hart = m.hart.hartid
        if by_dma:
            return Change(icount, pc, DMA, hart)
        privilege, sp, ra, s0 = m.unwind_registers()
        if privilege == USER:  # user stacks need the program's ELF: the pc only
            return Change(icount, pc, privilege, hart, (StackFrame(pc, None, 0, None, None),))
        key = (pc, sp, ra, s0)
        stack = self._stacks.get(key)
        if stack is None:
            if len(self._stacks) >= _CACHE_LIMIT:
                self._stacks.clear()
            m.sync_state()  # the unwinder reads every register
            stack = self._stacks[key] = tuple(call_stack(m, m.kernel, max_frames=16))
        return Change(icount, pc, privilege, hart, stack)
