"""The native engine: runs the hart in the C core, the reference beside it.

``NativeEngine.run(stop_at)`` has the interpreter's contract (machine/engine/
interpreter.py ``Interpreter.run``) and the same loop shape: look around
(deliver due input, take a pending interrupt, find the next deadline), run to
the limit, handle what stopped the run, repeat. The C core runs everything it
can; what it hands back is handled here exactly as the interpreter would:
  - a fallback (a device access, WFI, a store split over watched pages) is
    executed by the interpreter, synced, with the Python memory caches
    dropped first (the core wrote RAM behind them);
  - an observed event (trap, trap return, satp write, sfence, a store into a
    watched page) happened in C; its hook is called here with the hart's
    count and pc at that instruction, as the interpreter calls it.
The Python Hart object keeps the state between runs (snapshots, the app and
introspection read it there); it is pushed into C and pulled back around
each stretch of C execution.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING

from ..isa.decoder import decode
from ..trap import Trap
from . import _core
from .loops import LoopFinder

if TYPE_CHECKING:
    from ..hart import Hart

# Instructions between looks at pause requests: the core runs ~400 MIPS, so
# this keeps a pause within a few milliseconds.
CHUNK = 1 << 20
NO_DEADLINE = (1 << 64) - 1


class NativeEngine:
    def __init__(self, hart: Hart) -> None:
        self.hart = hart
        bus = hart.bus
        self.core = _core.Core(bus.ram, bus.ram_base)
        self._watch_generation = self._range_generation = -1
        self._watched: set[int] = set()
        self._breakpoint_generation = -1
        self._wants_key: tuple | None = None
        self._wants_cached = 0
        bus.ram_changed_hooks.append(self._ram_changed)
        self.loops = LoopFinder(hart)
        self.idiom_loops = 0  # loops installed to run in bulk (tests check one ran)
        self.idioms = True    # False: run every loop instruction by instruction (benches)
        self.running = False  # inside run(): the core, not the Python hart, holds the state

    def _ram_changed(self, address: int, length: int) -> None:
        self.core.ram_changed(address, length)

    def invalidate(self) -> None:
        """RAM or translation state was replaced wholesale (a snapshot load)."""
        self.core.invalidate()

    # --- what the core must know before it runs ------------------------------
    def _wants(self) -> int:
        hart = self.hart
        observed = hart.observed() if hart.observed is not None else None
        wants = 0
        for flag, hook, kind in ((_core.WANT_TRAP, hart.on_trap, "trap"),
                                 (_core.WANT_RETURN, hart.on_trap_return, "return"),
                                 (_core.WANT_SATP, hart.on_satp_write, "satp"),
                                 (_core.WANT_SFENCE, hart.on_sfence, "sfence")):
            if hook is not None and (observed is None or kind in observed):
                wants |= flag
        if hart.bus.write_hooks and (observed is None or "write" in observed):
            wants |= _core.WANT_WRITE
        return wants

    def _sync_sets(self) -> None:
        """Tell the core what changed in the watched pages and ranges and the
        breakpoints (handlers change watches often: only the difference goes)."""
        bus, hart = self.hart.bus, self.hart
        if bus.watch_generation != self._watch_generation:
            changes = bus.watch_changes_since(self._watch_generation)
            self._watch_generation = bus.watch_generation
            if changes is None:  # unknown: compare whole sets
                now = set(bus.watched_pages)
                self._watch_pages(self._watched - now, now - self._watched)
                self._watched = now
            else:
                last = {page: watched for page, watched in changes if page >= 0}
                self._watch_pages([p for p, w in last.items() if not w and p in self._watched],
                                  [p for p, w in last.items() if w and p not in self._watched])
        if bus.range_generation != self._range_generation:
            self._range_generation = bus.range_generation
            merged: list[list[int]] = []  # sorted and disjoint, as the core's search needs
            for start, end in sorted(r for rs in bus.partial_watches.values() for r in rs):
                if merged and start <= merged[-1][1]:
                    merged[-1][1] = max(merged[-1][1], end)
                else:
                    merged.append([start, end])
            self.core.set_ranges([v for r in merged for v in r])
        if hart.breakpoint_generation != self._breakpoint_generation:
            self._breakpoint_generation = hart.breakpoint_generation
            self.core.set_breakpoints(sorted(hart.breakpoints))

    def _watch_pages(self, off: Collection[int], on: Collection[int]) -> None:
        if off:
            self.core.watch_pages(off, False)
            self._watched.difference_update(off)
        if on:  # the core flushes its store translations: only when needed
            self.core.watch_pages(on, True)
            self._watched.update(on)

    def _push(self, with_pmp: bool = False) -> None:
        hart = self.hart
        self.core.push(hart, hart.csr, hart.memory.reservation, with_pmp)

    def _pull(self) -> None:
        hart = self.hart
        hart.memory.reservation = self.core.pull(hart, hart.csr)

    def refresh_python_state(self) -> None:
        """Bring the Python hart's registers and CSRs up to date from inside
        a watched store's hook (they are stale while the core runs); its pc
        and icount stay the store's. Does nothing outside a run, where the
        Python hart is the one that is current."""
        if self.running:
            hart = self.hart
            pc, icount = hart.pc, hart.icount
            self._pull()
            hart.pc, hart.icount = pc, icount

    def unwind_registers(self) -> tuple[int, int, int, int]:
        """(privilege, sp, ra, s0) now, from a watched store's hook: cheaper
        than ``refresh_python_state`` when only a stack's memo key is needed."""
        if self.running:
            return self.core.unwind_registers()
        hart = self.hart
        return hart.privilege, hart.x[2], hart.x[1], hart.x[8]

    def python_caches_stale(self) -> None:
        """The core wrote RAM the Python memory system has cached views of:
        drop them before Python executes an instruction."""
        memory = self.hart.memory
        for page in list(memory.code_pages):
            memory.invalidate_code(page)
        memory.flush()
        self.hart.python_caches_stale = False

    # --- the loop ---------------------------------------------------------
    def run(self, stop_at: int) -> None:
        """While it runs, the C core holds the hart's state; the Python Hart
        is brought up to date (pulled) before any Python code that may read it
        runs, and pushed back after Python code changed it. Only the hooks of
        watched stores run without a pull: they see icount and pc, which is
        what a MemoryWrite carries."""
        hart = self.hart
        core = self.core
        generation = hart.observed_generation()
        key = (generation, len(hart.bus.write_hooks), id(hart.on_trap), id(hart.on_trap_return),
               id(hart.on_satp_write), id(hart.on_sfence))
        if key != self._wants_key:  # who observes what changes rarely: ask only then
            self._wants_key, self._wants_cached = key, self._wants()
        wants = self._wants_cached
        self._sync_sets()
        self._push(with_pmp=True)
        n = hart.icount
        pulled = True
        self.running = True
        try:
            while n < stop_at and not hart.stop_requested:
                if hart.at_boundary is not None:
                    hart.at_boundary(n)
                deadline = NO_DEADLINE
                for source in hart.deadline_sources:
                    when = source()
                    if when is not None and n < when < deadline and when < hart.NEVER:
                        deadline = when
                lines = hart.csr.external_lines()
                chunk_end = n + CHUNK
                while True:
                    kind, event_icount, event_pc, args, resume_pending, stored, n = core.run(
                        stop_at, deadline, chunk_end, wants, hart.resume_breakpoint, lines)
                    pulled = False
                    if not resume_pending:
                        hart.resume_breakpoint = None
                    if kind != _core.EXIT_WRITE:
                        break
                    # Watched stores come in streams: their hooks change no
                    # deadline, input or device line, so the core goes on at once.
                    self._publish_write(event_icount, event_pc, args, n)
                    if hart.stop_requested or hart.bus.watch_generation != self._watch_generation \
                            or hart.observed_generation() != generation:
                        break
                if kind == _core.EXIT_LIMIT:
                    hart.icount = n  # for the devices' clock (the CLINT reads it)
                elif kind != _core.EXIT_WRITE:  # watched stores were published above
                    self._pull()
                    pulled = True
                    if kind == _core.EXIT_IDIOM:
                        self.python_caches_stale()
                        encoded = self.loops.shape_at(args[0]) if self.idioms else None
                        if encoded is not None and core.install_idiom(args[1], encoded):
                            self.idiom_loops += 1
                    elif kind == _core.EXIT_BREAKPOINT:
                        hart.breakpoint_hit = hart.pc
                        break
                    elif kind == _core.EXIT_FALLBACK:
                        if not self._fallback(stored):
                            break
                        self._push()
                    else:
                        self._publish(kind, event_icount, event_pc, args)
                    n = hart.icount
                if hart.observed_generation() != generation:  # a handler subscribed
                    generation = hart.observed_generation()
                    wants = self._wants()
                self._sync_sets()  # a handler may have watched a page or set a breakpoint
        finally:
            self.running = False
            if not pulled:
                self._pull()
            hart.python_caches_stale = True  # flushed when a Python engine runs next

    def _publish_write(self, icount: int, pc: int, args: tuple, after: int) -> None:
        """A store into a watched page: its hooks, with the store's count and pc."""
        hart = self.hart
        address, size, old, new = args[:4]
        hart.icount, hart.pc = icount, pc
        for hook in hart.bus.write_hooks:
            hook(address, size, old, new)
        hart.icount = after

    def _fallback(self, stored: bool) -> bool:
        """The interpreter executes the instruction at hart.pc, synced.
        False if it was a WFI that nothing can wake."""
        hart = self.hart
        self.python_caches_stale()
        memory = hart.memory
        pc, n = hart.pc, hart.icount
        interpreter = hart.interpreter
        try:
            word = memory.fetch_halfword(pc, hart.privilege)
            if word & 3 == 3:
                word |= memory.fetch_halfword(pc + 2, hart.privilege) << 16
        except Trap as trap:  # as the interpreter's fetch would
            hart.icount = n
            hart.pc = hart.take_exception(trap, pc)
            hart.icount = n + 1
            return True
        decoded = decode(word)
        op = interpreter.op_for(decoded) if decoded is not None else interpreter.illegal_op(word)
        synced = interpreter.run_synced(op, n, pc)
        if synced is None:
            hart.icount = n
            hart.pc = pc
            return False
        hart.icount, hart.pc = synced[0], synced[1] & 0xFFFFFFFFFFFFFFFF
        if stored:  # it may have stored into RAM the core has decoded or walked
            self.core.invalidate()
        return True

    def _publish(self, kind: int, icount: int, pc: int, args: tuple) -> None:
        """Call the hook of an event the core observed, with the count and pc
        of its instruction, as the interpreter does."""
        hart = self.hart
        after_icount, after_pc = hart.icount, hart.pc
        hart.icount, hart.pc = icount, pc
        try:
            if kind == _core.EXIT_TRAP:
                if hart.on_trap is not None:
                    hart.on_trap(*args)
            elif kind == _core.EXIT_RETURN:
                if hart.on_trap_return is not None:
                    hart.on_trap_return(args[0], args[1], args[2])
            elif kind == _core.EXIT_SATP:
                if hart.on_satp_write is not None:
                    hart.on_satp_write(args[0])
            elif kind == _core.EXIT_SFENCE and hart.on_sfence is not None:
                hart.on_sfence()
        finally:
            hart.icount, hart.pc = after_icount, after_pc
