"""What every memory-mapped device of the virt board looks like to the bus.

A device answers reads and writes at an offset inside its window. It never
raises for a guest access: an offset it does not implement reads as zero and
ignores writes (as QEMU's virt devices do), so whatever the guest does stays
architectural behaviour.

Interrupts: a device is given an ``IrqLine`` (a callable taking the new level)
by whoever wires the board; the PLIC hands them out with ``plic.irq_line(n)``.
Anything that changes interrupt state calls its ``on_change`` hook so the hart
re-evaluates pending interrupts before the next instruction.

Time: devices that need the time read ``clock.now()``, the deterministic mtime
(derived from the instruction count, never the wall clock).
"""

from __future__ import annotations

from typing import Callable, Protocol

IrqLine = Callable[[bool], None]


class Clock(Protocol):
    def now(self) -> int:
        """Current mtime in ticks of the 10 MHz timebase."""


class PhysicalMemory(Protocol):
    """DMA access for devices (virtio): guest-physical reads and writes.

    Writes go through the bus so stores into watched pages emit events."""

    def read_physical(self, address: int, length: int) -> bytes: ...
    def write_physical(self, address: int, data: bytes) -> None: ...


class MmioDevice(Protocol):
    name: str
    base: int
    size: int

    def read(self, offset: int, size: int) -> int: ...
    def write(self, offset: int, size: int, value: int) -> None: ...
