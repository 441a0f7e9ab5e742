"""The QEMU ``virt`` board as cowtui runs it, and its public face.

``Machine(MachineConfig(kernel=..., disk=...))`` builds RAM, the devices at
QEMU virt's addresses, one hart, loads the kernel ELF (M-mode at its entry,
a0 = hart id) and wires interrupts, time and events. Everything outside the
emulator (introspection, the app) uses this class and the event bus, never
the hart's internals.

Threading: ``run`` executes on whichever thread calls it (the app's worker);
``pause()`` and ``feed_console()`` may be called from any other thread and
take effect at the next instruction boundary the loop looks at (within one
chunk of at most Hart.CHUNK instructions).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

from . import csr as C
from .bus import Bus
from .devices.clint import Clint
from .devices.plic import Plic
from .devices.test_finisher import TestFinisher
from .devices.uart16550 import Uart16550
from .devices.virtio_blk import VirtioBlk
from .elf import ElfImage
from .elf.harts import harts_built_for
from .events import (
    ConsoleOutput,
    EventBus,
    Halted,
    HostError,
    InstructionRetired,
    MemoryWrite,
    SatpWritten,
    SfenceVma,
    TrapReturn,
    TrapTaken,
)
from .hart import Hart, default_engine
from .mmu import walk
from .schedule import SeededDraws
from .scheduler import DEFAULT_QUANTUM, HartScheduler
from .trap import LOAD, MACHINE, STORE, Trap

RAM_BASE = 0x8000_0000
MAX_HARTS = 8  # QEMU virt's limit per socket
UART_IRQ = 10
VIRTIO_IRQ = 1
M64 = 0xFFFFFFFFFFFFFFFF


@dataclass
class MachineConfig:
    kernel: str | os.PathLike[str]
    disk: str | os.PathLike[str] | None = None
    ram_mib: int = 128
    # Several: round-robin, deterministic (machine/scheduler.py). None: as many
    # as the kernel was built for (machine/elf/harts.py).
    harts: int | None = 1
    quantum: int = DEFAULT_QUANTUM  # ticks per turn when several harts are awake
    schedule_seed: int | None = None  # seeded quanta and next hart (machine/schedule.py)
    # 'interp' (the reference), 'blocks', 'fast' (blocks + loop idioms), 'native' (the C core)
    engine: str = field(default_factory=default_engine)


@dataclass
class RunResult:
    reason: str                 # 'budget', 'paused', 'until', 'exit', 'idle', 'stopped'
    instructions: int           # ticks that passed (instructions plus idle time)


@dataclass
class _ScheduledInput:
    icount: int
    data: bytes


class Machine:
    UNTIL_SLICE = 20_000  # instructions between checks of a run's ``until``

    def __init__(self, config: MachineConfig) -> None:
        self.config = config
        self.events = EventBus()
        self.kernel = ElfImage.open(config.kernel)
        if config.harts is None:
            self.config = config = replace(config, harts=harts_built_for(self.kernel))
        self.bus = Bus(RAM_BASE, config.ram_mib << 20)
        if config.engine not in Hart.ENGINES:
            raise ValueError(f"unknown engine {config.engine!r}: one of {', '.join(Hart.ENGINES)}")
        if not 1 <= config.harts <= MAX_HARTS:
            raise ValueError(f"harts must be 1..{MAX_HARTS}, not {config.harts}")
        self.harts = [Hart(self.bus, hartid=index) for index in range(config.harts)]
        for hart in self.harts:
            hart.engine = config.engine
        self.hart = self.harts[0]  # the hart that runs now: the scheduler keeps it current
        draws = SeededDraws(config.schedule_seed) if config.schedule_seed is not None else None
        self.scheduler = HartScheduler(self.harts, config.quantum, on_switch=self._running,
                                       draws=draws)
        self.exit_status: int | None = None
        self.halt_reason: str | None = None
        self._pause = threading.Event()
        self._stop_requested = False
        self._lock = threading.Lock()  # guards _inputs against other threads
        self._inputs: list[_ScheduledInput] = []
        # Every input as delivered, with its instruction: what time travel replays.
        self.delivered_inputs: list[_ScheduledInput] = []
        self.console = bytearray()

        changed = self.scheduler.devices_changed if config.harts > 1 else None
        self.clint = Clint(self, num_harts=config.harts, on_change=changed)
        self.plic = Plic(num_harts=config.harts, on_change=changed)
        self.uart = Uart16550(self.plic.irq_line(UART_IRQ), on_output=self._console_byte)
        self.finisher = TestFinisher(on_exit=self._guest_exit, on_reset=self._guest_reset)
        for device in (self.clint, self.plic, self.uart, self.finisher):
            self.bus.attach(device)
        self.disk: VirtioBlk | None = None
        if config.disk is not None:
            self.disk = VirtioBlk(config.disk, self.bus, self.plic.irq_line(VIRTIO_IRQ),
                                  on_host_error=self._host_error)
            self.bus.attach(self.disk)

        for hart in self.harts:
            self._wire_hart(hart)
        self.bus.write_hooks.append(self._publish_write)
        self.kernel.load_into(self.bus.write_physical, RAM_BASE, self.bus.ram_size)

    def _running(self, hart: Hart) -> None:
        self.hart = hart

    def _wire_hart(self, hart: Hart) -> None:
        index = hart.hartid
        hart.csr.external_lines = lambda: self._external_lines(index)
        hart.deadline_sources.append(lambda: self.clint.next_deadline(index))
        hart.deadline_sources.append(self._next_input_time)
        hart.at_boundary = self._at_boundary
        self._wire_events(hart)
        hart.pc = self.kernel.entry
        hart.x[10] = hart.hartid  # a0 = hart id, as QEMU's reset vector
        hart.x[11] = 0  # a1 would point at the device tree; there is none

    def devices(self) -> dict:
        """The board's devices by name (for snapshots and inspection)."""
        found = {"clint": self.clint, "plic": self.plic, "uart": self.uart,
                 "finisher": self.finisher}
        if self.disk is not None:
            found["virtio_blk"] = self.disk
        return found

    def save_snapshot(self, path: str | os.PathLike[str]) -> None:
        from .snapshot import save
        save(self, path)

    def take_dirty_pages(self) -> set[int]:
        """RAM pages stored into since the last call, by any hart or device
        (Hart.take_dirty_pages; the union over harts)."""
        pages: set[int] = set()
        for hart in self.harts:
            pages |= hart.take_dirty_pages()
        return pages

    def load_snapshot(self, path: str | os.PathLike[str]) -> None:
        """Restore a snapshot of this machine; SnapshotError (one line) if unusable."""
        from .snapshot import load
        load(self, path)

    # --- Clock (for the CLINT): mtime is the instruction count ---------------
    def now(self) -> int:
        return self.hart.time()

    # --- wiring ----------------------------------------------------------------
    def _external_lines(self, hart: int) -> int:
        """Hart ``hart``'s interrupt lines: PLIC context 2*hart (M) and
        2*hart + 1 (S), as on QEMU virt, and its CLINT msip/mtimecmp."""
        lines = 0
        if self.plic.context_pending(2 * hart):
            lines |= C.MEIP
        if self.plic.context_pending(2 * hart + 1):
            lines |= C.SEIP
        if self.clint.mtip_pending(hart):
            lines |= C.MTIP
        if self.clint.msip_pending(hart):
            lines |= C.MSIP
        return lines

    def _console_byte(self, byte: int) -> None:
        self.console.append(byte)
        if self.events.wants(ConsoleOutput):
            self.events.publish(ConsoleOutput(self.hart.icount, chr(byte),
                                              hart=self.hart.hartid))

    def _host_error(self, message: str) -> None:
        self.events.publish(HostError(self.icount, message, hart=self.hart.hartid))
        self.request_stop()

    def _guest_exit(self, status: int) -> None:
        self.exit_status = status
        self.halt_reason = "exit"
        self.hart.stop_requested = True
        if self.events.wants(Halted):  # at the finisher store's instruction number
            self.events.publish(Halted(self.hart.icount, "exit", status, hart=self.hart.hartid))

    def _guest_reset(self) -> None:
        self.halt_reason = "reset"
        self.hart.stop_requested = True
        if self.events.wants(Halted):
            self.events.publish(Halted(self.hart.icount, "reset", hart=self.hart.hartid))

    def _wire_events(self, hart: Hart) -> None:
        events = self.events

        def on_trap(cause: int, tval: int, epc: int, source: int, target: int) -> None:
            if events.wants(TrapTaken):
                events.publish(TrapTaken(hart.icount, cause, tval, epc, source, target,
                                         hart=hart.hartid))

        def on_trap_return(source: int, target: int, pc: int) -> None:
            if events.wants(TrapReturn):
                events.publish(TrapReturn(hart.icount, source, target, pc, hart=hart.hartid))

        def on_satp(satp: int) -> None:
            if events.wants(SatpWritten):
                events.publish(SatpWritten(hart.icount, hart.pc, satp, hart=hart.hartid))

        def on_sfence() -> None:
            if events.wants(SfenceVma):
                events.publish(SfenceVma(hart.icount, hart.pc, hart=hart.hartid))

        def observed() -> set[str]:
            return {name for name, kind in (("trap", TrapTaken), ("return", TrapReturn),
                                            ("satp", SatpWritten), ("sfence", SfenceVma),
                                            ("write", MemoryWrite)) if events.wants(kind)}

        hart.observed = observed
        hart.observed_generation = lambda: events.generation
        hart.on_trap = on_trap
        hart.on_trap_return = on_trap_return
        hart.on_satp_write = on_satp
        hart.on_sfence = on_sfence

    def _publish_write(self, address: int, size: int, old: int, new: int) -> None:
        """The bus's store hook (one for every hart): the store is the running hart's."""
        if self.events.wants(MemoryWrite):
            running = self.hart
            self.events.publish(MemoryWrite(running.icount, running.pc, address, size, old, new,
                                            by_dma=self.bus.in_dma, hart=running.hartid))

    # --- console input -----------------------------------------------------------
    def feed_console(self, data: bytes | str, at_icount: int | None = None) -> None:
        """Queue console input: now (at the next boundary) or at an instruction
        count, so scripted input arrives at the same instruction every run."""
        if isinstance(data, str):
            data = data.encode()
        with self._lock:
            when = self.hart.icount if at_icount is None else at_icount
            scheduled = _ScheduledInput(when, bytes(data))
            if at_icount is not None and scheduled in self._inputs:
                return  # a replay (time travel) already scheduled this scripted input
            self._inputs.append(scheduled)
            self._inputs.sort(key=lambda item: item.icount)
        self.hart.stop_requested = self.hart.stop_requested or at_icount is None

    def _next_input_time(self) -> int | None:
        inputs = self._inputs
        return inputs[0].icount if inputs else None

    def _at_boundary(self, icount: int) -> None:
        """Called by the hart between instructions: deliver due input."""
        if not self._inputs:
            return
        with self._lock:
            while self._inputs and self._inputs[0].icount <= icount:
                scheduled = self._inputs.pop(0)
                self.uart.feed(scheduled.data)
                self.delivered_inputs.append(_ScheduledInput(icount, scheduled.data))

    # --- running ---------------------------------------------------------------
    def pause(self) -> None:
        """Thread-safe: stop the current ``run`` at the next boundary."""
        self._pause.set()
        self.hart.stop_requested = True

    def request_stop(self) -> None:
        """For event handlers on the emulator thread: stop after this instruction."""
        self._stop_requested = True
        self.hart.stop_requested = True

    def step(self) -> RunResult:
        return self.run(max_instructions=1)

    def run(self, max_instructions: int | None = None,
            until: Callable[[], bool] | None = None) -> RunResult:
        """Run until the budget is used, ``until()`` holds (checked after
        every stop of the loop: events that want an exact stop call
        ``request_stop``), the guest exits, it idles with nothing left to wake
        it, or ``pause()``."""
        start = self.hart.icount
        end = start + max_instructions if max_instructions is not None else None
        self._pause.clear()
        self._stop_requested = False
        single_step = self.events.wants(InstructionRetired)
        several = len(self.harts) > 1
        while True:
            hart = self.hart  # with several harts: the one whose turn it is
            if self.halt_reason is not None:
                return RunResult(self.halt_reason, hart.icount - start)
            if end is not None and hart.icount >= end:
                return RunResult("budget", hart.icount - start)
            hart.stop_requested = False
            if self._pause.is_set():  # checked after the clear: no pause is lost
                self._pause.clear()
                return RunResult("paused", hart.icount - start)
            self._at_boundary(hart.icount)
            budget = (end - hart.icount) if end is not None else 1 << 40
            if single_step:
                if several:
                    hart = self.scheduler.choose() or hart
                # Take a pending interrupt first, so the event names the
                # instruction that really runs (the handler's first), with its
                # own number (not the time a WFI fast-forwarded to).
                hart.pc = hart.take_interrupt_if_pending(hart.pc)
                pc, privilege, number = hart.pc, hart.privilege, hart.icount
                self.scheduler.run(1) if several else hart.run(1)
                if hart.icount != number:  # not a breakpoint stop or an idle WFI
                    self.events.publish(InstructionRetired(number, pc, privilege,
                                                           hart=hart.hartid))
            else:
                # With an ``until`` to check, look up every slice of instructions.
                ticks = min(budget, self.UNTIL_SLICE if until is not None else 1 << 40)
                self.scheduler.run(ticks) if several else hart.run(ticks)
            hart = self.hart
            if self._pause.is_set():
                self._pause.clear()
                return RunResult("paused", hart.icount - start)
            if hart.breakpoint_hit is not None:
                return RunResult("breakpoint", hart.icount - start)
            if self._stop_requested:
                return RunResult("stopped", hart.icount - start)
            if until is not None and until():
                return RunResult("until", hart.icount - start)
            if hart.idle_forever and not self._inputs:
                if self.events.wants(Halted):
                    self.events.publish(Halted(hart.icount, "idle", hart=hart.hartid))
                return RunResult("idle", hart.icount - start)

    # --- one hart of several, for a debugger (only while nothing runs) -------------
    @contextmanager
    def hart_in_view(self, index: int | None) -> Iterator[None]:
        """Inside the block the methods below (registers, CSRs, pc, memory as
        it translates) read and write hart ``index``, not the running one;
        None: the running one. Only while nothing runs (gdb's threads)."""
        if index is None or self.harts[index] is self.hart:
            yield
            return
        running = self.hart
        self.hart = self.harts[index]
        try:
            yield
        finally:
            self.hart = running

    def run_hart_next(self, index: int) -> None:
        """Make hart ``index`` the one that runs next (stepping a chosen hart);
        it starts a fresh turn. Changes the schedule from there on."""
        if 0 <= index < len(self.harts) and len(self.harts) > 1:
            self.scheduler.switch_to(index)

    # --- reading state -------------------------------------------------------------
    @property
    def pc(self) -> int:
        return self.hart.pc

    @property
    def privilege(self) -> int:
        return self.hart.privilege

    @property
    def icount(self) -> int:
        return self.hart.icount

    def registers(self) -> list[int]:
        return list(self.hart.x[:32])

    def sync_state(self) -> None:
        """Make registers, CSRs and privilege readable from an event hook
        that runs mid-run (the native core keeps them while it runs); pc and
        icount stay the event's."""
        native = getattr(self.hart, "native", None)
        if native is not None:
            native.refresh_python_state()

    def unwind_registers(self) -> tuple[int, int, int, int]:
        """(privilege, sp, ra, s0) of the running hart, from an event hook
        too: what memoises a store's call stack (see introspect/blame.py)."""
        hart = self.hart
        native = getattr(hart, "native", None)
        if native is not None:
            return native.unwind_registers()
        return hart.privilege, hart.x[2], hart.x[1], hart.x[8]

    def read_csr(self, name_or_number: str | int) -> int | None:
        """A CSR's value as M-mode software would read it, or None if it does not exist."""
        from .csr import _READERS
        from .isa.csr_names import CSR_NUMBERS
        number = CSR_NUMBERS.get(name_or_number) if isinstance(name_or_number, str) \
            else name_or_number
        reader = _READERS.get(number) if number is not None else None
        return reader(self.hart.csr) if reader else None

    def read_physical(self, address: int, length: int) -> bytes | None:
        if not self.bus.is_ram(address, length):
            return None
        offset = address - RAM_BASE
        return bytes(self.bus.ram[offset:offset + length])

    def read_u64(self, address: int) -> int | None:
        data = self.read_physical(address, 8)
        return int.from_bytes(data, "little") if data is not None else None

    def translate(self, va: int, satp: int, user: bool = True) -> int | None:
        """The physical address of ``va`` under ``satp`` (None if unmapped),
        without side effects (no A/D update)."""
        if satp >> 60 == 0:
            return va
        return self._walk_quietly(va, LOAD, 0 if user else 1, satp, True, True)

    def _walk_quietly(self, va: int, access: int, privilege: int, satp: int, sum_: bool,
                      mxr: bool) -> int | None:
        """The page walk a hart would do, but None where it would trap, and
        without touching the PTEs (no A/D update)."""

        def read_pte(address: int) -> int:
            value = self.read_u64(address)
            if value is None:
                raise Trap(5, va)
            return value

        try:
            return walk(va, access, privilege, satp, sum_, mxr, read_pte,
                        lambda address, value: None)
        except Trap:
            return None

    def read_virtual(self, va: int, length: int, satp: int) -> bytes | None:
        out = bytearray()
        while length > 0:
            pa = self.translate(va, satp, user=False) if satp >> 60 else va
            if pa is None:
                return None
            chunk = min(length, 4096 - (va & 4095))
            data = self.read_physical(pa, chunk)
            if data is None:
                return None
            out += data
            va, length = va + chunk, length - chunk
        return bytes(out)

    def instruction_at_pc(self) -> int | None:
        """The instruction bits at pc (16 or 32), fetched as the hart would, or None."""
        satp = self.hart.csr.satp
        paging = self.hart.privilege != MACHINE and satp >> 60
        low = self.read_virtual(self.pc, 2, satp) if paging else self.read_physical(self.pc, 2)
        if low is None:
            return None
        word = int.from_bytes(low, "little")
        if word & 3 != 3:
            return word
        high = self.read_virtual(self.pc + 2, 2, satp) if paging else \
            self.read_physical(self.pc + 2, 2)
        return None if high is None else word | int.from_bytes(high, "little") << 16

    def data_address(self, va: int, store: bool) -> int | None:
        """The physical address a load (or store) at ``va`` would use now, with
        the hart's privilege, MPRV, SUM and MXR; None if it would fault. No
        side effects (A/D are not set)."""
        hart = self.hart
        privilege = hart.memory.data_privilege()
        satp, status = hart.csr.satp, hart.csr.mstatus
        if privilege == MACHINE or satp >> 60 == 0:
            return va & M64
        return self._walk_quietly(va, STORE if store else LOAD, privilege, satp,
                                  bool(status >> 18 & 1), bool(status >> 19 & 1))

    def take_pending_interrupt(self) -> None:
        """Enter the trap of an interrupt pending and enabled now, as the next
        instruction would first (single-step mode does the same)."""
        self.hart.pc = self.hart.take_interrupt_if_pending(self.hart.pc)

    # --- changing state (a debugger's writes; only while nothing runs) ------------
    def write_register(self, index: int, value: int) -> None:
        if 0 < index < 32:  # x0 stays zero
            self.hart.x[index] = value & M64

    def set_pc(self, value: int) -> None:
        self.hart.pc = value & M64 & ~1

    def write_csr(self, name_or_number: str | int, value: int) -> bool:
        """Write a CSR as M-mode software would; False if it does not exist."""
        from .csr import _READERS, _WRITERS
        from .isa.csr_names import CSR_NUMBERS
        number = CSR_NUMBERS.get(name_or_number) if isinstance(name_or_number, str) \
            else name_or_number
        writer = _WRITERS.get(number) if number in _READERS else None
        if writer is None:
            return False
        writer(self.hart.csr, value & M64)
        self.hart.recheck_needed = True
        return True

    def set_privilege(self, privilege: int) -> bool:
        if privilege not in (0, 1, 3):
            return False
        self.hart.set_privilege(privilege)
        return True

    def write_physical(self, address: int, data: bytes) -> bool:
        """Write RAM (decoded code there is dropped); False outside RAM."""
        if not self.bus.is_ram(address, len(data)):
            return False
        self.bus.write_physical(address, data)
        return True

    def add_breakpoint(self, address: int) -> None:
        """A breakpoint at a kernel address (the kernel maps itself 1:1), on
        every hart: whichever reaches it stops the run."""
        for hart in self.harts:
            hart.set_breakpoint(address)

    def remove_breakpoint(self, address: int) -> None:
        for hart in self.harts:
            hart.clear_breakpoint(address)

    def watch_physical_page(self, page_number: int) -> None:
        self.bus.watch_physical_page(page_number)

    def unwatch_physical_page(self, page_number: int) -> None:
        self.bus.unwatch_physical_page(page_number)

    def watch_physical_range(self, start: int, end: int) -> None:
        """Stores into the bytes [start, end) become MemoryWrite events."""
        self.bus.watch_physical_range(start, end)

    def unwatch_physical_range(self, start: int, end: int) -> None:
        self.bus.unwatch_physical_range(start, end)

    # --- symbols ---------------------------------------------------------------------
    def symbol(self, name: str) -> int | None:
        sym = self.kernel.symbol(name)
        return sym.address if sym else None

    def symbol_at(self, address: int) -> str | None:
        found = self.kernel.symbol_at(address)
        if found is None:
            return None
        sym, offset = found
        return f"{sym.name}+{offset:#x}" if offset else sym.name

    def source_line(self, address: int) -> tuple[str, int] | None:
        return self.kernel.source_line(address)

    def console_text(self) -> str:
        return self.console.decode("utf-8", errors="replace")


def default_kernel_path(name: str = "kernel.elf") -> Path:
    return Path(__file__).parent / "guest" / "prebuilt" / name


__all__ = ["Machine", "MachineConfig", "RunResult"]
