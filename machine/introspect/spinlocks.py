"""Which spinlocks each hart holds, read from the kernel's memory by DWARF.

xv6's ``struct spinlock`` has ``locked`` (non-zero while held) and ``cpu``
(the holder's ``struct cpu``, set by acquire() right after it wins the
lock): a lock is held by hart h when ``locked`` is set and ``cpu`` is
``&cpus[h]``. The locks are every ``struct spinlock`` the globals contain,
inside structs and arrays (``kmem.lock``, ``proc[3].lock``,
``bcache.buf[5].lock.lk``). Reading them costs a few bytes of RAM each, and
only when someone asks (at a refcount store on a machine of several harts);
nothing is hooked into the run.

Locks in memory the kernel allocates at run time are not known: a kernel
that keeps its refcount lock there has it reported as not held.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from ..elf.typeinfo import TypeInfo

if TYPE_CHECKING:
    from ..machine import Machine

MAX_LOCKS = 4096        # enough for xv6 (proc[64], bcache's buffers, files...)
MAX_ELEMENTS = 1024     # array elements looked into per array


class Spinlocks:
    def __init__(self, machine: Machine) -> None:
        self.machine = machine
        kernel = machine.kernel
        spinlock = kernel.struct_type("spinlock")
        locked = spinlock.member("locked") if spinlock is not None else None
        holder = spinlock.member("cpu") if spinlock is not None else None
        cpus = kernel.variable("cpus")
        element = cpus.type.element if cpus is not None and cpus.type.kind == "array" else None
        self.problem: str | None = None
        if locked is None or holder is None:
            self.problem = "no `struct spinlock` with `locked` and `cpu` in the kernel's DWARF"
        elif element is None or cpus.address is None or not element.byte_size:
            self.problem = "no `struct cpu cpus[NCPU]` in the kernel's DWARF"
        self.locks: list[tuple[int, str]] = []   # (address of the struct spinlock, name)
        if self.problem is not None:
            return
        assert spinlock is not None and locked is not None and holder is not None
        assert cpus is not None and element is not None and cpus.address is not None
        self._locked, self._holder = locked.offset, holder.offset
        self._locked_size = locked.type.byte_size or 4
        self._free = bytes(self._locked_size)  # what `locked` holds while nobody does
        self._cpus, self._cpu_size = cpus.address, element.byte_size
        for name, var in kernel.global_variables():
            if var.address is None:
                continue
            for address, path in _spinlocks_in(var.type, var.address, name):
                self.locks.append((address, path))
                if len(self.locks) >= MAX_LOCKS:
                    break
        self.names = dict(self.locks)
        base = machine.bus.ram_base  # (address, offset of locked, offset of cpu) in RAM
        self._offsets = [(address, address - base + self._locked, address - base + self._holder)
                         for address, _ in self.locks if machine.bus.is_ram(address, 16)]

    @property
    def known(self) -> bool:
        return self.problem is None

    def held_by(self, hart: int) -> frozenset[int]:
        """The addresses of the spinlocks hart ``hart`` holds now."""
        if self.problem is not None:
            return frozenset()
        ram = self.machine.bus.ram
        mine = self._cpus + hart * self._cpu_size
        size, free = self._locked_size, self._free
        return frozenset(address for address, locked, holder in self._offsets
                         if ram[locked:locked + size] != free
                         and int.from_bytes(ram[holder:holder + 8], "little") == mine)

    def describe(self, locks: frozenset[int]) -> str:
        """``{kmem.lock}``, or ``no spinlock``."""
        if not locks:
            return "no spinlock"
        return "{" + ", ".join(sorted(self.names.get(a, f"{a:#x}") for a in locks)) + "}"


def _is_spinlock(t: TypeInfo) -> bool:
    return t.kind == "struct" and t.name == "spinlock"


def _spinlocks_in(t: TypeInfo, address: int, path: str, depth: int = 0
                  ) -> Iterator[tuple[int, str]]:
    """Every struct spinlock inside a variable of type ``t`` at ``address``."""
    if depth > 6:
        return
    if _is_spinlock(t):
        yield address, path
    elif t.kind == "struct":
        for name, member in t.members.items():
            if not member.is_bitfield:
                yield from _spinlocks_in(member.type, address + member.offset,
                                         f"{path}.{name}", depth + 1)
    elif t.kind == "array" and t.element is not None and t.element.byte_size:
        if not _holds_spinlock(t.element):
            return
        for index in range(min(t.length or 0, MAX_ELEMENTS)):
            yield from _spinlocks_in(t.element, address + index * t.element.byte_size,
                                     f"{path}[{index}]", depth + 1)


def _holds_spinlock(t: TypeInfo, depth: int = 0) -> bool:
    if depth > 6:
        return False
    if _is_spinlock(t):
        return True
    if t.kind == "struct":
        return any(_holds_spinlock(m.type, depth + 1) for m in t.members.values())
    if t.kind == "array" and t.element is not None:
        return _holds_spinlock(t.element, depth + 1)
    return False
