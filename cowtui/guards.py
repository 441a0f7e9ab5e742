"""Stopping a run that cannot get anywhere, with a message that says why.

Three cases, all seen in the traps the kernel takes (so they cost nothing
between traps):

- the kernel touches memory past the end of RAM: its PHYSTOP is above the
  RAM's end (xv6 frees every frame up to PHYSTOP at boot);
- at the first return to user mode, the highest free frame lies far below
  the RAM's end: its PHYSTOP is below it (the frames above are never used,
  and refcount arrays sized for the RAM are not found). Both are bad input,
  not a kernel bug;
- the same exception at the same pc and address, many times in a row: a
  fault storm, the kernel handles the fault without fixing its cause.

And one from the host: the disk image changed while the run read it
(``HostError``, published by the machine).
"""

from __future__ import annotations

from dataclasses import dataclass

from machine.events import HostError, TrapReturn, TrapTaken
from machine.introspect.kernel_view import KernelView
from machine.machine import RAM_BASE, Machine
from machine.trap import INTERRUPT_BIT, USER, cause_name

from .scenario import Scenario

ACCESS_FAULTS = (1, 5, 7)                # instruction, load, store/AMO access fault
ENVIRONMENT_CALLS = (8, 9, 11)           # a loop of system calls is progress
PAST_RAM_WINDOW = 1 << 32                # addresses this far past RAM count as "RAM the kernel expected"
UNUSED_RAM_SLACK = 16 << 20              # boot allocations (kernel stacks, init, ...) come off the top


@dataclass(frozen=True)
class GuardStop:
    end: str          # 'ram-mismatch', 'fault-storm' or 'host-error', the summary's end=
    message: str      # one line
    bad_input: bool   # exit 2 (the user's settings) rather than 1 (the kernel)


class RunGuard:
    STORM = 10_000    # identical exceptions in a row that make a storm

    def __init__(self, machine: Machine, scenario: Scenario, view: KernelView) -> None:
        self.machine = machine
        self.scenario = scenario
        self.view = view
        self.ram_end = RAM_BASE + machine.bus.ram_size
        self.stop: GuardStop | None = None
        self._last: tuple[int, int, int] | None = None
        self._repeats = 0
        machine.events.subscribe(TrapTaken, self._on_trap)
        machine.events.subscribe(HostError, self._on_host_error)
        if view.freelist_address is not None:
            machine.events.subscribe(TrapReturn, self._on_first_user_return)

    def _on_first_user_return(self, event: TrapReturn) -> None:
        if event.to_privilege != USER:
            return
        self.machine.events.unsubscribe(TrapReturn, self._on_first_user_return)
        free = self.view.free_frames(self.machine.bus.ram_size // 4096)  # all of it, once
        if not free or self.stop:
            return
        top = max(free) + 4096
        if top < self.ram_end - UNUSED_RAM_SLACK and top > RAM_BASE:
            self._stop(GuardStop("ram-mismatch", (
                f"{self._where()} is {self.scenario.ram_mib} MiB (RAM ends at "
                f"{self.ram_end:#x}) but the kernel frees frames only up to {top:#x}: its "
                f"PHYSTOP is about {-(-(top - RAM_BASE) >> 20)} MiB; give it that RAM"), True))

    def _on_host_error(self, event: HostError) -> None:
        if not self.stop:
            self._stop(GuardStop("host-error", event.message, True))

    def _on_trap(self, event: TrapTaken) -> None:
        if event.cause & INTERRUPT_BIT or event.cause in ENVIRONMENT_CALLS or self.stop:
            return
        if event.cause in ACCESS_FAULTS and event.from_privilege != USER \
                and self.ram_end <= event.tval < self.ram_end + PAST_RAM_WINDOW:
            self._stop(GuardStop("ram-mismatch", self._ram_message(event), True))
            return
        key = (event.cause, event.epc, event.tval)
        self._repeats = self._repeats + 1 if key == self._last else 1
        self._last = key
        if self._repeats >= self.STORM:
            self._stop(GuardStop(
                "fault-storm", f"fault storm: {self.STORM:,} {cause_name(event.cause)}s in a "
                f"row at pc {self._pc(event.epc)} (address {event.tval:#x}); the kernel handles "
                "the fault without fixing it", False))

    def _pc(self, pc: int) -> str:
        """A pc, with the kernel function it lies in when known."""
        symbol = self.machine.symbol_at(pc)
        return f"{pc:#x} ({symbol})" if symbol else f"{pc:#x}"

    def _where(self) -> str:
        return self.scenario.origins.get("ram_mib", "the default RAM size")

    def _ram_message(self, event: TrapTaken) -> str:
        ram = self.scenario.ram_mib
        return (f"the kernel touched {event.tval:#x} at pc {self._pc(event.epc)}, past the end of RAM: "
                f"{self._where()} is {ram} MiB (RAM ends at {self.ram_end:#x}) but the kernel's "
                f"PHYSTOP is above {event.tval:#x}; give it the RAM its PHYSTOP says "
                "(xv6: 128 MiB)")

    def _stop(self, stop: GuardStop) -> None:
        self.stop = stop
        self.machine.request_stop()
