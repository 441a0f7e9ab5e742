"""What the machine tells its observers, and the bus that carries it.

Events are small frozen dataclasses. Subscribers register per event type;
publishers ask ``wants(Type)`` first (one dict lookup), so an event nobody
listens to is never even built. Every event carries ``icount``: the number of
the instruction (the hart's clock) at which it happened, and ``hart``: the id
of the hart that ran it (0 on a one-hart machine; a keyword, after the rest).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, TypeVar


@dataclass(frozen=True, slots=True)
class Event:
    icount: int
    hart: int = field(default=0, kw_only=True)

    def __deepcopy__(self, memo: dict) -> Event:
        return self  # immutable: a copied observer state (time travel) shares its events


@dataclass(frozen=True, slots=True)
class InstructionRetired(Event):
    pc: int
    privilege: int


@dataclass(frozen=True, slots=True)
class TrapTaken(Event):
    cause: int          # mcause/scause value (bit 63 set for interrupts)
    tval: int
    epc: int
    from_privilege: int
    to_privilege: int


@dataclass(frozen=True, slots=True)
class TrapReturn(Event):
    from_privilege: int
    to_privilege: int
    pc: int


@dataclass(frozen=True, slots=True)
class SatpWritten(Event):
    pc: int
    satp: int


@dataclass(frozen=True, slots=True)
class SfenceVma(Event):
    pc: int


@dataclass(frozen=True, slots=True)
class MemoryWrite(Event):
    """A store into a watched physical page (by the CPU or by device DMA)."""

    pc: int             # the storing instruction's pc (for DMA: the pc at the time)
    address: int        # physical
    size: int
    old: int
    new: int
    by_dma: bool = False


@dataclass(frozen=True, slots=True)
class ConsoleOutput(Event):
    text: str


@dataclass(frozen=True, slots=True)
class Halted(Event):
    reason: str         # 'exit' (test finisher), 'reset', 'idle' (waits for input forever)
    exit_status: int | None = None


@dataclass(frozen=True, slots=True)
class HostError(Event):
    """Something on the host side failed the run (not the guest's doing):
    the disk image changed under it. The machine stops after publishing it."""
    message: str        # one line


E = TypeVar("E", bound=Event)


class EventBus:
    def __init__(self) -> None:
        self._subscribers: dict[type, list[Callable]] = {}
        self.generation = 0  # grows at every (un)subscription: cached wants() go stale

    def subscribe(self, kind: type[E], handler: Callable[[E], None]) -> None:
        self._subscribers.setdefault(kind, []).append(handler)
        self.generation += 1

    def unsubscribe(self, kind: type[E], handler: Callable[[E], None]) -> None:
        handlers = self._subscribers.get(kind, [])
        if handler in handlers:
            handlers.remove(handler)
            self.generation += 1
        if not handlers:
            self._subscribers.pop(kind, None)

    def wants(self, kind: type) -> bool:
        return kind in self._subscribers

    def publish(self, event: Event) -> None:
        for handler in tuple(self._subscribers.get(type(event), ())):
            handler(event)
