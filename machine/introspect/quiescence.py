"""When the whole machine is quiescent, for the rules over the whole state.

With one hart, a return to user mode is a quiescent point: no kernel
operation is half done. With several, another hart may be in the middle of
one (fork's uvmcopy has mapped a PTE in the child and not yet taken its
reference), so the frame rules wait until every other hart is in user mode,
or in the kernel with no process of its own (its scheduler loop, idle).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..trap import USER

if TYPE_CHECKING:
    from ..machine import Machine
    from .kernel_view import KernelView


def others_quiescent(machine: Machine, view: KernelView) -> bool:
    """True when no hart but the running one is inside a kernel operation."""
    if len(machine.harts) == 1:
        return True
    running = machine.hart
    for hart in machine.harts:
        if hart is running or hart.privilege == USER:
            continue
        if view.running_process(hart.hartid) is not None:
            return False
    return True
