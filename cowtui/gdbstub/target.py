"""Everything gdb does to the machine, in one place, serialised with runs.

Addresses from gdb are virtual, in the current address space (as QEMU's
stub sees them): translated through satp when paging is on and the hart is
below M-mode. Where QEMU would answer "cannot access" this stub looks
further: an address the current table does not map is looked up in the
running process's table (the kernel in usertrap works for that process, so
``x/4gx $stval`` shows the user's page) and then in the kernel's own table
(which maps all of RAM: a PTE or a refcount while the hart is in U-mode).
Breakpoints and watchpoints are set on the physical addresses they
translate to when gdb inserts them (gdb re-inserts them at every resume).

The session's lock is held for each access and each slice of a run, so the
app's runner (which runs slices under the same lock) and the stub never
touch the machine at once.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from machine.events import MemoryWrite
from machine.introspect.events import Violation
from machine.machine import RunResult
from machine.trap import MACHINE

from ..session import Session
from ..timetravel import TimeTravelError
from ..trace_text import violation_line
from . import registers as R
from .watchpoints import WATCH_KINDS, WRITE, Watchpoint, next_access_hit

SIGINT, SIGTRAP = 2, 5
PAGE = 4096
END_WORDS = {"exit": "powered off", "reset": "asked for a reset"}


@dataclass(frozen=True)
class StopReason:
    signal: int
    kind: str                    # 'step', 'breakpoint', 'watch', 'interrupt', 'violation',
    #                              'exit', 'reset', 'history-begin' (reverse, nothing earlier)
    watch_address: int | None = None
    watch_kind: str = "watch"    # 'watch', 'rwatch' or 'awatch' (the stop reply's name)
    exit_status: int | None = None
    message: str | None = None   # shown on gdb's console before the stop


class Target:
    SLICE_SECONDS = 0.02         # Ctrl-C is looked for between slices this long

    def __init__(self, session: Session) -> None:
        self.session = session
        self.machine = session.machine
        self.lock = session.lock
        self.breakpoints: dict[int, int] = {}        # va -> physical
        self.watchpoints: dict[tuple[int, int, int], Watchpoint] = {}
        self._hit: Watchpoint | None = None
        self._violations: list[Violation] = []
        self._running = False
        self.viewed: int | None = None  # the hart gdb's Hg selected (None: the running one)
        self.machine.events.subscribe(MemoryWrite, self._on_write)
        self.machine.events.subscribe(Violation, self._on_violation)

    def close(self) -> None:
        """The client left: its breakpoints and watchpoints go with it."""
        with self.lock:
            for va in list(self.breakpoints):
                self.remove_breakpoint(va)
            for key in list(self.watchpoints):
                self.remove_watchpoint(*key)

    # --- harts: gdb's threads (thread N + 1 is hart N) ------------------------------
    @property
    def hart_count(self) -> int:
        return len(self.machine.harts)

    @property
    def running_hart(self) -> int:
        return self.machine.hart.hartid

    def view_hart(self, hart: int | None) -> bool:
        """Registers and memory are hart ``hart``'s from now on (None: the
        running hart's); False if there is no such hart."""
        if hart is not None and not 0 <= hart < self.hart_count:
            return False
        self.viewed = hart
        return True

    def _in_view(self):
        return self.machine.hart_in_view(self.viewed)

    def run_hart_next(self, hart: int) -> None:
        with self.lock:
            self.machine.run_hart_next(hart)

    # --- registers -------------------------------------------------------------
    def core_registers(self) -> list[int]:
        with self.lock, self._in_view():
            return self.machine.registers() + [self.machine.pc]

    def read_register(self, regnum: int) -> int | None:
        with self.lock, self._in_view():
            m = self.machine
            if regnum < 32:
                return m.registers()[regnum]
            if regnum == R.PC:
                return m.pc
            if regnum == R.PRIV:
                return m.privilege
            csr = R.csr_of_regnum(regnum)
            return m.read_csr(csr) if csr is not None else None

    def write_register(self, regnum: int, value: int) -> bool:
        with self.lock, self._in_view():
            m = self.machine
            if regnum < 32:
                m.write_register(regnum, value)
                return True
            if regnum == R.PC:
                m.set_pc(value)
                return True
            if regnum == R.PRIV:
                return m.set_privilege(value & 3)
            csr = R.csr_of_regnum(regnum)
            return m.write_csr(csr, value) if csr is not None else False

    # --- memory ------------------------------------------------------------------
    def current_satp(self) -> int:
        """satp as the hart translates data now (0: addresses are physical)."""
        m = self.machine
        satp = m.read_csr("satp") or 0
        return 0 if m.privilege == MACHINE or satp >> 60 == 0 else satp

    def translate(self, va: int) -> int | None:
        """``va`` in the current address space, else in the running process's
        table, else in the kernel's (see the module's docstring)."""
        satp = self.current_satp()
        if not satp:
            return va
        m = self.machine
        pa = m.translate(va, satp, user=False)
        if pa is not None:
            return pa
        for root in self._fallback_roots():
            if root != (satp & ((1 << 44) - 1)) << 12:
                pa = m.translate(va, (8 << 60) | (root >> 12), user=False)
                if pa is not None:
                    return pa
        return None

    def current_pid(self) -> int | None:
        """The process whose address space the hart is in, else the running
        one (the kernel works on its behalf), else None."""
        with self.lock:
            view = self.session.view
            satp = self.current_satp()
            root = (satp & ((1 << 44) - 1)) << 12 if satp else 0
            process = view.process_by_root(root) if root else None
            if process is None:
                process = next((p for p in view.processes() if p.state == "RUNNING"), None)
            return process.pid if process is not None else None

    def _fallback_roots(self) -> list[int]:
        view = self.session.view
        roots = [p.pagetable for p in view.processes() if p.state == "RUNNING" and p.pagetable]
        table = self.machine.symbol("kernel_pagetable")
        kernel = self.machine.read_u64(table) if table is not None else None
        return roots + ([kernel] if kernel else [])

    def read_memory(self, va: int, length: int) -> bytes | None:
        """The bytes at ``va``; a readable prefix if the range runs into an
        unmapped page; None if the first byte cannot be read."""
        out = bytearray()
        with self.lock, self._in_view():
            while length > 0:
                chunk = min(length, PAGE - (va & (PAGE - 1)))
                pa = self.translate(va)
                data = self.machine.read_physical(pa, chunk) if pa is not None else None
                if data is None:
                    break
                out += data
                va, length = va + chunk, length - chunk
        return bytes(out) if out else None

    def write_memory(self, va: int, data: bytes) -> bool:
        with self.lock, self._in_view():
            pieces = []
            while data:
                chunk = min(len(data), PAGE - (va & (PAGE - 1)))
                pa = self.translate(va)
                if pa is None or not self.machine.bus.is_ram(pa, chunk):
                    return False
                pieces.append((pa, data[:chunk]))
                va, data = va + chunk, data[chunk:]
            for pa, piece in pieces:  # all or nothing
                self.machine.write_physical(pa, piece)
            return True

    # --- breakpoints and watchpoints ----------------------------------------------------
    def insert_breakpoint(self, va: int) -> bool:
        with self.lock:
            pa = self.translate(va)
            if pa is None or not self.machine.bus.is_ram(pa):
                return False
            if va in self.breakpoints:
                self.machine.remove_breakpoint(self.breakpoints[va])
            self.breakpoints[va] = pa
            self.machine.add_breakpoint(pa)
            return True

    def remove_breakpoint(self, va: int) -> bool:
        with self.lock:
            pa = self.breakpoints.pop(va, None)
            if pa is not None and pa not in self.breakpoints.values():
                self.machine.remove_breakpoint(pa)
            return True  # removing what is not there is no error (gdb retries)

    def insert_watchpoint(self, kind: int, va: int, length: int) -> bool:
        if kind not in WATCH_KINDS or not 0 < length <= PAGE:
            return False
        with self.lock:
            ranges = []
            end = va + length
            while va < end:
                chunk = min(end - va, PAGE - (va & (PAGE - 1)))
                pa = self.translate(va)
                if pa is None or not self.machine.bus.is_ram(pa, chunk):
                    return False
                ranges.append((pa, pa + chunk))
                va += chunk
            key = (kind, end - length, length)
            if key in self.watchpoints:
                self.remove_watchpoint(*key)
            if kind == WRITE:  # seen as MemoryWrite events; reads by stepping
                for start, stop in ranges:
                    self.machine.watch_physical_range(start, stop)
            self.watchpoints[key] = Watchpoint(kind, end - length, length, tuple(ranges))
            return True

    def remove_watchpoint(self, kind: int, va: int, length: int) -> bool:
        with self.lock:
            point = self.watchpoints.pop((kind, va, length), None)
            if point is not None and point.kind == WRITE:
                for start, stop in point.ranges:
                    self.machine.unwatch_physical_range(start, stop)
            return True

    def _rewatch(self) -> None:
        """The tracker may have unwatched a page a watchpoint lies in (a page
        table freed at exit): watch it again, so the store is still seen."""
        bus = self.machine.bus
        for point in self.watchpoints.values():
            for start, stop in point.ranges if point.kind == WRITE else ():
                if not bus.watches(start, stop - start):
                    self.machine.watch_physical_range(start, stop)

    def _on_write(self, event: MemoryWrite) -> None:
        if not self._running or self._hit is not None or event.by_dma:
            return
        end = event.address + event.size
        for point in self.watchpoints.values():
            if point.kind == WRITE and point.covers(event.address, end):
                self._hit = point
                self.machine.request_stop()
                return

    def _on_violation(self, event: Violation) -> None:
        if self._running:
            self._violations.append(event)
            self.machine.request_stop()

    # --- running -----------------------------------------------------------------------
    def step(self) -> StopReason:
        with self.lock:
            self._begin()
            try:
                start = self.machine.icount
                result, touched = self._step()
                if result.reason == "breakpoint" and self.machine.icount == start:
                    result, touched = self._step()  # step off the breakpoint
            finally:
                self._running = False
            return self._classify(result.reason, touched) or StopReason(SIGTRAP, "step")

    # --- backwards, through the session's time travel --------------------------------
    @property
    def can_reverse(self) -> bool:
        return self.session.timetravel is not None

    def reverse_step(self) -> StopReason:
        with self.lock:
            try:
                self.session.timetravel.step_back()
            except TimeTravelError:
                return self._history_begin()
        return StopReason(SIGTRAP, "step")

    def reverse_continue(self, interrupted: Callable[[], bool] = lambda: False) -> StopReason:
        """Back to the latest moment before now where ``continue`` would have
        stopped: a breakpoint, a watchpoint, a violation; Ctrl-C
        (``interrupted()``) stops the search; with nothing earlier, at the
        start of the history. A watchpoint stops just after the access, as
        going forward: gdb then steps back over it itself (it takes RISC-V
        watchpoints to fire before the access), to the state before it."""
        with self.lock:
            stops: dict[int, StopReason] = {}
            arrival = self.session.timetravel.back_to_stop(
                lambda budget: self._reverse_slice(budget, stops),
                "breakpoint, watchpoint or violation", interrupted)
        if arrival.exhausted:
            return self._history_begin()
        if arrival.interrupted:
            return StopReason(SIGINT, "interrupt", message=f"cowtui: {arrival.message}\n")
        return stops[arrival.icount]

    def _reverse_slice(self, budget: int,
                       stops: dict[int, StopReason]) -> tuple[RunResult, list[int]]:
        """A slice of a replay, run as ``resume`` runs one; each stop it makes
        is put in ``stops`` under its instruction count."""
        m = self.machine
        self._begin()
        try:
            if self._load_watching():
                result, stop = self._run_stepping(budget)
            else:
                result = self.session.run(max_instructions=budget)
                stop = self._classify(result.reason)
        finally:
            self._running = False
        if stop is None or stop.kind in ("interrupt", "exit", "reset"):
            return result, []
        stops[m.icount] = stop   # where a run forward stops, as ``resume`` does
        return result, [m.icount]

    def _history_begin(self) -> StopReason:
        timetravel = self.session.timetravel
        first = timetravel.checkpoints.points[0].icount
        timetravel.go_to(first)
        return StopReason(SIGTRAP, "history-begin",
                          message=f"cowtui: back at #{first:,}, the first instruction the "
                                  "history keeps\n")

    # --- read and access watchpoints: stepping, each access looked at first ------------
    def _load_watching(self) -> bool:
        return any(point.kind != WRITE for point in self.watchpoints.values())

    def _step(self) -> tuple[RunResult, tuple[Watchpoint, int] | None]:
        """One instruction; with read/access watchpoints set, also which one
        it touched (the access is worked out before it runs: the load may
        overwrite its own base register)."""
        if not self._load_watching():
            return self.session.run(max_instructions=1), None
        m = self.machine
        m.take_pending_interrupt()  # so the instruction looked at is the one that runs
        touched = next_access_hit(m, [p for p in self.watchpoints.values() if p.kind != WRITE])
        start = m.icount
        result = self.session.run(max_instructions=1)
        if touched is None or m.icount == start:  # a breakpoint stopped it before it ran
            return result, None
        point, sc_rd = touched
        if sc_rd and m.registers()[sc_rd] != 0:  # a store-conditional that failed
            return result, None
        return result, (point, point.va)

    def resume(self, interrupted: Callable[[], bool],
               notify: Callable[[str], None] = lambda text: None,
               running: Callable[[], None] = lambda: None,
               between_slices: Callable[[], None] = lambda: None) -> StopReason:
        """Run until a breakpoint, a watchpoint, a violation, the guest's end,
        a pause, or ``interrupted()`` (asked between slices: Ctrl-C).
        ``running()`` is called once, when the first slice did not stop;
        ``between_slices()`` after every slice that did not (the app's panes)."""
        budget = 100_000
        told_idle = told_running = False
        while True:
            if interrupted():
                return StopReason(SIGINT, "interrupt")
            with self.lock:
                self._begin()
                try:
                    started = time.perf_counter()
                    if self._load_watching():
                        result, stop = self._run_stepping(budget)
                    else:
                        result = self.session.run(max_instructions=budget)
                        stop = self._classify(result.reason)
                    elapsed = time.perf_counter() - started
                finally:
                    self._running = False
            if stop is not None:
                return stop
            if not told_running:
                told_running = True
                running()
            between_slices()
            if result.reason == "budget" and elapsed > 0:
                budget = int(min(5_000_000, max(10_000, budget * self.SLICE_SECONDS / elapsed)))
            if result.reason == "idle":
                if not told_idle:
                    told_idle = True
                    notify("cowtui: the guest is idle, waiting for console input "
                           "(Ctrl-C to stop)\n")
                time.sleep(0.05)

    def _run_stepping(self, budget: int) -> tuple[RunResult, StopReason | None]:
        """Up to ``budget`` instructions one at a time (read/access watchpoints),
        for at most a slice's time, so Ctrl-C is still looked for often."""
        start, began = self.machine.icount, time.perf_counter()
        steps = 0
        while True:
            result, touched = self._step()
            stop = self._classify(result.reason, touched)
            steps += 1
            if stop is not None or result.reason != "budget" or \
                    self.machine.icount - start >= budget or \
                    steps % 256 == 0 and time.perf_counter() - began > self.SLICE_SECONDS:
                return RunResult(result.reason, self.machine.icount - start), stop

    def _begin(self) -> None:
        self._hit = None
        self._violations = []
        self._rewatch()
        self._running = True

    def _classify(self, reason: str,
                  touched: tuple[Watchpoint, int] | None = None) -> StopReason | None:
        if self._violations:
            v = self._violations[0]
            return StopReason(SIGTRAP, "violation", message=violation_line(v) + "\n")
        if self._hit is not None:
            return StopReason(SIGTRAP, "watch", watch_address=self._hit.va)
        if touched is not None:
            point, address = touched
            return StopReason(SIGTRAP, "watch", watch_address=address,
                              watch_kind=WATCH_KINDS[point.kind])
        if reason == "breakpoint":
            return StopReason(SIGTRAP, "breakpoint")
        if reason == "paused":
            return StopReason(SIGINT, "interrupt")
        if reason in ("exit", "reset"):
            status = self.machine.exit_status
            return StopReason(SIGTRAP, reason, exit_status=status or 0,
                              message=f"cowtui: the guest {END_WORDS[reason]}\n")
        return None  # budget, a scenario's stop text, a boot snapshot: run on
