"""Test doubles for device tests: a settable clock, bytearray-backed guest
memory and interrupt lines that record every level they are driven to."""

from __future__ import annotations


class FakeClock:
    def __init__(self, now: int = 0) -> None:
        self.time = now

    def now(self) -> int:
        return self.time


class FakeMemory:
    """``PhysicalMemory`` over a bytearray mapped at ``base``.

    Accesses outside it raise IndexError (a bus would refuse them)."""

    def __init__(self, size: int = 0x20000, base: int = 0x8000_0000) -> None:
        self.base = base
        self.data = bytearray(size)
        self.writes: list[tuple[int, bytes]] = []

    def _offset(self, address: int, length: int) -> int:
        offset = address - self.base
        if offset < 0 or offset + length > len(self.data):
            raise IndexError(f"no memory at {address:#x}+{length}")
        return offset

    def read_physical(self, address: int, length: int) -> bytes:
        offset = self._offset(address, length)
        return bytes(self.data[offset : offset + length])

    def write_physical(self, address: int, data: bytes) -> None:
        offset = self._offset(address, len(data))
        self.data[offset : offset + len(data)] = data
        self.writes.append((address, bytes(data)))

    # helpers for tests
    def put(self, address: int, data: bytes) -> None:
        offset = self._offset(address, len(data))
        self.data[offset : offset + len(data)] = data

    def get(self, address: int, length: int) -> bytes:
        return self.read_physical(address, length)

    def u16(self, address: int) -> int:
        return int.from_bytes(self.get(address, 2), "little")

    def u32(self, address: int) -> int:
        return int.from_bytes(self.get(address, 4), "little")


class IrqRecorder:
    """An IRQ line: remembers its level and every call."""

    def __init__(self) -> None:
        self.level = False
        self.calls: list[bool] = []

    def __call__(self, level: bool) -> None:
        self.level = level
        self.calls.append(level)


class Counter:
    """A no-argument hook that counts its calls."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self) -> None:
        self.count += 1
