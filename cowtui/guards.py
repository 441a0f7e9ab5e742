"""Stopping a run that cannot get anywhere, with a message that says why.

Two cases, both seen in the traps the kernel takes (so they cost nothing
between traps):

- the kernel touches memory past the end of RAM: its PHYSTOP and the RAM
  size disagree (xv6 frees every frame up to PHYSTOP at boot). That is bad
  input, not a kernel bug;
- the same exception at the same pc and address, many times in a row: a
  fault storm, the kernel handles the fault without fixing its cause.
"""

from __future__ import annotations

from dataclasses import dataclass

from machine.events import TrapTaken
from machine.machine import RAM_BASE, Machine
from machine.trap import INTERRUPT_BIT, USER, cause_name

from .scenario import Scenario

ACCESS_FAULTS = (1, 5, 7)                # instruction, load, store/AMO access fault
ENVIRONMENT_CALLS = (8, 9, 11)           # a loop of system calls is progress
PAST_RAM_WINDOW = 1 << 32                # addresses this far past RAM count as "RAM the kernel expected"


@dataclass(frozen=True)
class GuardStop:
    end: str          # 'ram-mismatch' or 'fault-storm', the summary's end=
    message: str      # one line
    bad_input: bool   # exit 2 (the user's settings) rather than 1 (the kernel)


class RunGuard:
    STORM = 10_000    # identical exceptions in a row that make a storm

    def __init__(self, machine: Machine, scenario: Scenario) -> None:
        self.machine = machine
        self.scenario = scenario
        self.ram_end = RAM_BASE + machine.bus.ram_size
        self.stop: GuardStop | None = None
        self._last: tuple[int, int, int] | None = None
        self._repeats = 0
        machine.events.subscribe(TrapTaken, self._on_trap)

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
                f"row at pc {event.epc:#x} (address {event.tval:#x}); the kernel handles the "
                "fault without fixing it", False))

    def _ram_message(self, event: TrapTaken) -> str:
        ram = self.scenario.ram_mib
        where = self.scenario.origins.get("ram_mib", "the default RAM size")
        return (f"the kernel touched {event.tval:#x} (pc {event.epc:#x}), past the end of RAM: "
                f"{where} is {ram} MiB (RAM ends at {self.ram_end:#x}) but the kernel's "
                f"PHYSTOP is above {event.tval:#x}; give it the RAM its PHYSTOP says "
                "(xv6: 128 MiB)")

    def _stop(self, stop: GuardStop) -> None:
        self.stop = stop
        self.machine.request_stop()
