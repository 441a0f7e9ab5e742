"""The app's breakpoints: kernel addresses, each enabled or disabled.

Only enabled ones are set in the machine. ``enabled`` is one set object for
the life of the app: the runner and the CPU pane hold it by reference.
"""

from __future__ import annotations

from dataclasses import dataclass

from machine.machine import Machine


@dataclass(frozen=True)
class Entry:
    address: int
    enabled: bool
    name: str              # symbol+offset, or the address
    source: str | None     # file:line


class Breakpoints:
    def __init__(self, machine: Machine, addresses: list[int]) -> None:
        self.machine = machine
        self.enabled: set[int] = set(addresses)   # already set in the machine (the session)
        self.disabled: set[int] = set()

    def __contains__(self, address: int) -> bool:
        return address in self.enabled or address in self.disabled

    def add(self, address: int) -> None:
        self.disabled.discard(address)
        if address not in self.enabled:
            self.enabled.add(address)
            self.machine.add_breakpoint(address)

    def remove(self, address: int) -> None:
        if address in self.enabled:
            self.enabled.discard(address)
            self.machine.remove_breakpoint(address)
        self.disabled.discard(address)

    def toggle(self, address: int) -> bool:
        """Enable a disabled one, disable an enabled one; returns the new state."""
        if address in self.enabled:
            self.remove(address)
            self.disabled.add(address)
            return False
        self.add(address)
        return True

    def name(self, address: int) -> str:
        return self.machine.symbol_at(address) or f"{address:#x}"

    def entries(self) -> list[Entry]:
        out = []
        for address in sorted(self.enabled | self.disabled):
            source = self.machine.source_line(address)
            out.append(Entry(address, address in self.enabled, self.name(address),
                             f"{source[0]}:{source[1]}" if source else None))
        return out
