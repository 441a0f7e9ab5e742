"""A RISC-V hart: registers, privilege, trap entry and return, interrupts.

Counting: ``icount`` is the hart's clock, in instructions: it grows by one for
every instruction executed (also one that traps) and jumps forward when WFI
idles; ``time`` is derived from it (1 instruction = 1 tick of the 10 MHz
timebase), so a run depends on nothing but its inputs. ``retired()`` (the
instret counter) leaves out trapped instructions and idle time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

from . import csr as C
from .csr import CsrFile
from .engine.interpreter import Interpreter
from .engine.memory import MemorySystem
from .trap import (BREAKPOINT, ECALL_FROM_U, ILLEGAL_INSTRUCTION, INTERRUPT_BIT,
                   INTERRUPT_PRIORITY, MACHINE, SUPERVISOR, USER, Trap)

if TYPE_CHECKING:
    from .bus import Bus

M64 = 0xFFFFFFFFFFFFFFFF


def default_engine() -> str:
    """The native core where it was built, else the Python 'fast' engine."""
    from .native import NativeEngine
    return "native" if NativeEngine is not None else "fast"


class Hart:
    CHUNK = 4096  # instructions between looks at pause requests and new input

    def __init__(self, bus: "Bus", hartid: int = 0) -> None:
        self.bus = bus
        self.hartid = hartid
        self.x: list[int] = [0] * 33  # x0..x31, and a sink for writes to x0
        self.pc = 0
        self.privilege = MACHINE
        self.icount = 0
        self.not_retired = 0  # trapped instructions and idle ticks
        self.csr = CsrFile(self, hartid)
        self.memory = MemorySystem(self, bus)
        self.fetch_map: dict = {}
        self.stop_requested = False
        self.recheck_needed = False  # set by CSR writes that matter to interrupts
        self.idle_forever = False
        # With several harts: the end of this hart's quantum, which a WFI
        # waiting for a timer must not jump past (None: no limit). A WFI that
        # would have jumped further sets waits_in_wfi: the scheduler lets the
        # hart sleep until its next deadline or a pending interrupt.
        self.time_limit: int | None = None
        self.waits_in_wfi = False
        self.breakpoints: set[int] = set()  # physical addresses (change them by the methods)
        self.breakpoint_generation = 0  # grows at every change of ``breakpoints``
        self.breakpoint_hit: int | None = None  # pc of the breakpoint that stopped the loop
        self.resume_breakpoint: int | None = None  # let this pc's breakpoint pass once
        # Extra deadlines (icount values) the board wants the loop to stop at:
        # device timers, scripted console input.
        self.deadline_sources: list[Callable[[], int | None]] = []
        # Called with the instruction count between instructions whenever the
        # loop stops to look around (deadlines, synced instructions, traps).
        self.at_boundary: Callable[[int], None] | None = None
        # Observers of traps (set by the Machine to publish events).
        self.on_trap: Callable[[int, int, int, int, int], None] | None = None
        self.on_trap_return: Callable[[int, int, int], None] | None = None
        self.on_satp_write: Callable[[int], None] | None = None
        self.on_sfence: Callable[[], None] | None = None
        # Which of those observers want calls now ('trap', 'return', 'satp',
        # 'sfence', 'write'); None: every hook that is set. The native core
        # leaves C only for observed events; ``observed_generation()`` changes
        # whenever the answer may have changed.
        self.observed: Callable[[], set[str]] | None = None
        self.observed_generation: Callable[[], int] = lambda: 0
        self.interpreter = Interpreter(self)
        # Set by the native core's runs: the Python memory caches (decoded code,
        # translations) may be stale until the next run of a Python engine.
        self.python_caches_stale = False
        self._engines: dict[str, Callable[[int], None]] = {"interp": self.interpreter.run}
        self.engine = default_engine()
        self.translation_changed()

    # --- time ---------------------------------------------------------------
    def time(self) -> int:
        return self.icount

    def retired(self) -> int:
        return self.icount - self.not_retired

    # Time this far ahead is never reached (2**63 ticks of 10 MHz: 29,000
    # years); a compare register set near 2**64 - 1 means "no timer".
    NEVER = 1 << 63

    def next_deadline(self, now: int) -> int:
        """The first future instruction count at which a timer fires
        (``NEVER`` and beyond: none)."""
        best = 1 << 64
        csr = self.csr
        if csr.menvcfg & C.MENVCFG_STCE and now < csr.stimecmp < self.NEVER:
            best = csr.stimecmp
        for source in self.deadline_sources:
            when = source()
            if when is not None and now < when < best and when < self.NEVER:
                best = when
        return best

    # --- translation context -------------------------------------------------
    def address_space_changed(self) -> None:
        """satp changed: the maps of that address space (kept per satp)."""
        self.select_maps()

    def translation_changed(self) -> None:
        """Permissions changed (mstatus SUM/MXR/MPRV/MPP): drop the maps."""
        self.memory.flush()
        self.select_maps()

    def select_maps(self) -> None:
        maps = self.memory.maps_for(self.memory.data_privilege(), self.privilege)
        self.memory.switch(maps)
        self.fetch_map = maps[2]

    def set_privilege(self, privilege: int) -> None:
        self.privilege = privilege
        self.select_maps()

    # --- execution ------------------------------------------------------------
    def run(self, max_instructions: int) -> int:
        """Run up to ``max_instructions``; returns how many ticks passed."""
        start = self.icount
        self.idle_forever = False
        if self.breakpoint_hit is not None:  # continuing from a breakpoint stop
            self.resume_breakpoint, self.breakpoint_hit = self.breakpoint_hit, None
        run = self._engine_run()
        if self.python_caches_stale and self.engine != "native":
            self.native.python_caches_stale()  # it wrote RAM behind the Python caches
        run(start + max_instructions)
        return self.icount - start

    ENGINES = ("interp", "blocks", "fast", "native")

    def _engine_run(self) -> Callable[[int], None]:
        """The chosen engine: the interpreter (the reference), blocks, blocks
        with loop idioms ('fast'), or the C core ('native'). Built on first use."""
        run = self._engines.get(self.engine)
        if run is None:
            if self.engine not in self.ENGINES:
                raise ValueError(f"unknown engine {self.engine!r}: one of {self.ENGINES}")
            if self.engine == "native":
                from .native import NativeEngine, unavailable_reason
                if NativeEngine is None:
                    raise ValueError(f"the native engine is not available: {unavailable_reason()}")
                self.native = NativeEngine(self)
                run = self.native.run
            else:
                from .engine.blocks import BlockEngine
                run = BlockEngine(self, self.interpreter, idioms=self.engine == "fast").run
            self._engines[self.engine] = run
        return run

    def take_dirty_pages(self) -> set[int]:
        """RAM pages (numbered from RAM's start) stored into since the last
        call, by any engine or device: a superset (a page can be marked and
        keep its bytes). The first call starts the tracking. Stores through
        the fast paths write without marking, so those are emptied: each page's
        next store takes a slow path, which marks it."""
        bus = self.bus
        pages, bus.dirty_pages = bus.dirty_pages or set(), set()
        self.memory.flush_writes()
        native = getattr(self, "native", None)
        if native is not None:
            pages.update(native.core.take_dirty())
        return pages

    def take_stored_pages(self) -> set[int]:
        """Physical page numbers this hart stored into since the last call
        (the bus's stores count as the running hart's), without touching
        take_dirty_pages' marks. As there, fast paths are emptied so that
        each page's next store marks it again."""
        bus = self.bus
        pages, bus.stored_pages = bus.stored_pages or set(), set()
        self.memory.flush_writes()
        native = getattr(self, "native", None)
        if native is not None:
            first = bus.ram_base >> 12
            pages.update(first + page for page in native.core.take_stored())
        return pages

    def pages_stored_elsewhere(self, pages: set[int]) -> None:
        """Other harts stored into these physical pages: drop the code
        decoded there, and the translations if one of them is a page table."""
        memory = self.memory
        for page in pages & memory.code_pages.keys():
            memory.invalidate_code(page)
        if not pages.isdisjoint(memory.table_pages_seen):
            memory.flush()
        native = getattr(self, "native", None)
        if native is not None:  # in runs of pages: kinit alone stores into every frame
            ordered = sorted(pages)
            first = previous = ordered[0]
            for page in ordered[1:] + [None]:
                if page != previous + 1:
                    native.core.ram_changed(first << 12, (previous - first + 1) << 12)
                    first = page
                previous = page

    def memory_replaced(self) -> None:
        """RAM and the translation state were replaced wholesale (a snapshot
        load): every engine drops what it decoded and translated."""
        for page in list(self.memory.code_pages):
            self.memory.invalidate_code(page)
        self.translation_changed()
        native = getattr(self, "native", None)
        if native is not None:
            native.invalidate()

    def step(self) -> None:
        self.run(1)

    def set_breakpoint(self, physical: int) -> None:
        self.breakpoints.add(physical)
        self.breakpoint_generation += 1
        self.memory.invalidate_code(physical >> 12)  # re-decode it wrapped

    def clear_breakpoint(self, physical: int) -> None:
        self.breakpoints.discard(physical)
        self.breakpoint_generation += 1
        self.memory.invalidate_code(physical >> 12)

    # --- traps ------------------------------------------------------------
    def take_exception(self, trap: Trap, pc: int) -> int:
        self.not_retired += 1
        return self.enter_trap(trap.cause, trap.tval, pc, interrupt=False)

    def enter_trap(self, cause: int, tval: int, epc: int, interrupt: bool) -> int:
        """Trap entry (privileged spec 3.1.6.1 / 4.1.1): returns the new pc."""
        csr = self.csr
        from_privilege = self.privilege
        self.memory.reservation = None
        delegated = csr.mideleg if interrupt else csr.medeleg
        code = cause | (INTERRUPT_BIT if interrupt else 0)
        if from_privilege <= SUPERVISOR and delegated >> cause & 1:
            csr.scause, csr.sepc, csr.stval = code, epc, tval
            status = csr.mstatus
            status = (status & ~C.SPIE) | (C.SPIE if status & C.SIE else 0)
            status = (status & ~C.SPP) | (C.SPP if from_privilege == SUPERVISOR else 0)
            csr.mstatus = status & ~C.SIE
            to_privilege, vector = SUPERVISOR, csr.stvec
        else:
            csr.mcause, csr.mepc, csr.mtval = code, epc, tval
            status = csr.mstatus
            status = (status & ~C.MPIE) | (C.MPIE if status & C.MIE else 0)
            status = (status & ~C.MPP) | (from_privilege << C.MPP_SHIFT)
            csr.mstatus = status & ~C.MIE
            to_privilege, vector = MACHINE, csr.mtvec
        self.set_privilege(to_privilege)
        if self.on_trap is not None:
            self.on_trap(code, tval, epc, from_privilege, to_privilege)
        return csr.trap_vector(vector, cause, interrupt)

    def pending_interrupt(self) -> int | None:
        """The interrupt to take now, by the spec's enable and priority rules."""
        csr = self.csr
        pending = csr.mip & csr.mie
        if not pending:
            return None
        status, privilege = csr.mstatus, self.privilege
        m_enabled = privilege < MACHINE or status & C.MIE
        s_enabled = privilege < SUPERVISOR or (privilege == SUPERVISOR and status & C.SIE)
        machine_level = pending & ~csr.mideleg if m_enabled else 0
        supervisor_level = pending & csr.mideleg if s_enabled and privilege <= SUPERVISOR else 0
        for candidates in (machine_level, supervisor_level):
            if candidates:
                for number in INTERRUPT_PRIORITY:
                    if candidates >> number & 1:
                        return number
        return None

    def take_interrupt_if_pending(self, pc: int) -> int:
        number = self.pending_interrupt()
        if number is None:
            return pc
        return self.enter_trap(number, 0, pc, interrupt=True)

    # --- privileged instructions (called synced by their snippets) ----------
    def ecall(self) -> None:
        raise Trap(ECALL_FROM_U + self.privilege, 0)

    def ebreak(self) -> None:
        raise Trap(BREAKPOINT, 0)  # tval 0, as QEMU 7.2 (the spec allows 0 or pc)

    def mret(self, instruction: int) -> int:
        if self.privilege < MACHINE:
            raise Trap(ILLEGAL_INSTRUCTION, instruction)
        csr = self.csr
        status = csr.mstatus
        target = (status & C.MPP) >> C.MPP_SHIFT
        status = (status & ~C.MIE) | (C.MIE if status & C.MPIE else 0)
        status = (status | C.MPIE) & ~C.MPP  # MPP <- U (the least privileged mode)
        if target != MACHINE:
            status &= ~C.MPRV
        csr.mstatus = status
        return self._return_to(target, csr.mepc)

    def sret(self, instruction: int) -> int:
        csr = self.csr
        if self.privilege < SUPERVISOR or (self.privilege == SUPERVISOR and csr.mstatus & C.TSR):
            raise Trap(ILLEGAL_INSTRUCTION, instruction)
        status = csr.mstatus
        target = SUPERVISOR if status & C.SPP else USER
        status = (status & ~C.SIE) | (C.SIE if status & C.SPIE else 0)
        status = (status | C.SPIE) & ~C.SPP & ~C.MPRV
        csr.mstatus = status
        return self._return_to(target, csr.sepc)

    def _return_to(self, privilege: int, pc: int) -> int:
        from_privilege = self.privilege
        self.memory.reservation = None
        self.set_privilege(privilege)  # picks the maps for the new privilege and MPRV
        if self.on_trap_return is not None:
            self.on_trap_return(from_privilege, privilege, pc)
        return pc

    def wfi(self, instruction: int) -> None:
        csr = self.csr
        if self.privilege == USER or (self.privilege == SUPERVISOR and csr.mstatus & C.TW):
            raise Trap(ILLEGAL_INSTRUCTION, instruction)
        if csr.mip & csr.mie:
            return  # something is pending: WFI completes at once
        deadline = self.next_deadline(self.icount + 1)
        if deadline >= self.NEVER:
            self.idle_forever = True  # only outside input can wake it
            return
        if self.time_limit is not None and deadline > self.time_limit:
            self.waits_in_wfi = True
            deadline = self.time_limit
        # Idle fast-forward: time jumps to the deadline, where the timer fires.
        skipped = deadline - (self.icount + 1)
        self.icount += skipped
        self.not_retired += skipped

    def sfence_vma(self, address: int | None, asid: int | None, instruction: int) -> None:
        if self.privilege == USER or (self.privilege == SUPERVISOR and self.csr.mstatus & C.TVM):
            raise Trap(ILLEGAL_INSTRUCTION, instruction)
        # Nothing to drop: the soft TLBs follow every store into a page-table
        # page (engine/memory.py), which a hardware TLB needs this for.
        if self.on_sfence is not None:
            self.on_sfence()

    def fence_i(self) -> None:
        for page in list(self.memory.code_pages):
            self.memory.invalidate_code(page)
        self.memory.flush()

    def csr_access(self, number: int, op: str, operand: int, reads: bool, writes: bool,
                   instruction: int) -> int:
        value = self.csr.access(number, op, operand, reads, writes, instruction)
        if writes and number == 0x180 and self.on_satp_write is not None:
            self.on_satp_write(self.csr.satp)
        return value
