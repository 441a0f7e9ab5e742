"""Live tracking: the kernel's page tables, refcounts and faults as events,
and the COW invariants checked as the kernel runs.

The tracker watches the physical pages that matter (the page-table pages of
every live address space, the refcount array, frames shared copy-on-write)
and turns the machine's MemoryWrite/TrapTaken/TrapReturn events into
PteChanged, RefcountChanged, PageFault, FaultResolved, ProcessForked,
ProcessExited and Violation events on the same bus. Whole-state checks run at
quiescent points: every return to U-mode.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..events import ConsoleOutput, MemoryWrite, SfenceVma, TrapReturn, TrapTaken
from ..mmu import PTE_V, PTE_W, PTE_X
from ..trap import INTERRUPT_BIT, USER
from .blame import Change, StoreWitness
from .callstack import call_address
from .events import (FaultResolved, PageFault, ProcessExited, ProcessForked, PteChanged,
                     RefcountChanged, Violation)
from .freed import FreedFrames
from .invariants import Finding, check_frames, check_pte_change, shared_cow_frames
from .journaled import JournaledDict, JournaledSet
from .kernel_view import KernelView, ProcessInfo
from .mappings import MappingIndex
from .pagetable import leaf_at
from .profiles import KERNBASE
from .pte import has_cow, is_leaf, pte_frame
from .quiescence import others_quiescent
from .rules import RULES

if TYPE_CHECKING:
    from ..machine import Machine

PAGE_FAULTS = (12, 13, 15)
# Findings of one rule blamed at one instruction shown in full; later ones are
# only counted (a long run repeats one mistake at every fork) and summed up
# at the run's end.
SHOWN_PER_PLACE = 3
LIVE_STATES = ("USED", "SLEEPING", "RUNNABLE", "RUNNING")


@dataclass
class OpenFault:
    event: PageFault
    root: int


class Tracker:
    def __init__(self, machine: "Machine", view: KernelView) -> None:
        self.machine = machine
        self.view = view
        self.cow_bit = view.cow_bit
        self.events = machine.events
        self.processes: dict[int, ProcessInfo] = {}  # live and zombie, by pid
        self.running: set[int] = set()               # pids not yet exited
        # The per-frame and per-PTE tables are journaled: time travel keeps
        # only what changed between checkpoints (journaled.py).
        self.table_pages: JournaledDict[int, tuple[int, int, int]] = \
            JournaledDict()  # page -> (pid, level, va_base)
        self.cow_watched: JournaledSet[int] = JournaledSet()
        self.index = MappingIndex()
        self.roots: dict[int, int] = {}  # pid -> the root its table pages were read from
        self.open_faults: dict[int, OpenFault] = {}  # pid -> fault
        self.fault_counts: Counter[int] = Counter()
        self.violations: list[Violation] = []
        self.reported: set[tuple] = set()
        self.shown_at: Counter[tuple[str, int]] = Counter()  # (rule, blamed pc) -> findings shown
        self.more_at: dict[tuple[str, int], list] = {}  # ... -> [findings only counted, a blame]
        self.pending_sfence = False
        self.changed_since_sfence: JournaledSet[tuple[int, int]] = JournaledSet()
        self.ever_user: JournaledSet[int] = JournaledSet()  # frames seen mapped by a user PTE
        self.unmapped_held: dict[int, int] = {}  # frame -> refcount when first seen orphaned
        # Frames kfree pushed on the free list (and kalloc has not popped since),
        # and the pushes not yet checked at a quiescent point.
        self.free_frames: JournaledSet[int] = JournaledSet()
        self.pushed: JournaledDict[int, Change] = JournaledDict()
        self.freed = FreedFrames(machine)  # the newest of them, watched for stores
        # Processes inside the kernel (trapped from user mode, not yet back),
        # each with the number of that entry; the entries open at each frame's
        # last change; the frames whose check waits for them to end.
        self.in_kernel: dict[int, int] = {}
        self._entries = 0
        self._in_kernel_now: frozenset[tuple[int, int]] = frozenset()
        self.touched_in: JournaledDict[int, frozenset[tuple[int, int]]] = JournaledDict()
        self.in_flight: set[int] = set()
        self._console_line = ""
        self._panic_change: Change | None = None  # where panic() was called, once seen
        self._panic_from: int | None = None  # where in the console line panic's text begins
        # The last store that changed each leaf PTE, and per frame the last
        # store to its refcount, of a PTE now mapping it, of a PTE no longer.
        self.witness = StoreWitness(machine)
        self.pte_changes: JournaledDict[tuple[int, int], Change] = JournaledDict()
        self.frame_changes: dict[str, JournaledDict[int, Change]] = {
            kind: JournaledDict() for kind in ("refcount", "mapped", "unmapped")}
        # Findings made at stores, held until the kernel operation ends so
        # that repeats (every store of one memset) make one finding with a count.
        self.held: dict[tuple, list] = {}
        self.cow_bit_seen = False
        # A frame just taken off the free list, until its refcount is set.
        self.pending_alloc: tuple[int, Change] | None = None
        # Frames kalloc popped that no PTE has mapped since: PTEs still naming
        # them are stale (xv6's uvmunmap frees before it clears the PTE, and on
        # several harts another hart may reuse the frame in between).
        self.reallocated: JournaledSet[int] = JournaledSet()
        self._freelist = view.freelist_address
        if self._freelist is not None:
            machine.watch_physical_range(self._freelist, self._freelist + 8)
        self._refcount_pages: set[int] = set()
        self._refcount_ranges: list[tuple[int, int]] = []
        self._watch_refcounts()
        self.events.subscribe(MemoryWrite, self._on_write)
        self.events.subscribe(TrapTaken, self._on_trap)
        self.events.subscribe(TrapReturn, self._on_return)
        self.events.subscribe(SfenceVma, self._on_sfence)
        self.events.subscribe(ConsoleOutput, self._on_console)
        self.rescan(initial=True)

    # --- helpers --------------------------------------------------------------
    def _publish(self, event) -> None:
        self.events.publish(event)

    def violate(self, rule: str, message: str, frames: tuple[int, ...] = (),
                ptes: tuple[tuple[int, int], ...] = (), key: tuple = (),
                blame: Change | None = None, repeats: int = 1) -> None:
        """Report a broken rule once per (rule, key), at the store to blame
        when there is one."""
        identity = (rule,) + (key or frames or ptes)
        if identity in self.reported:
            return
        self.reported.add(identity)
        m = self.machine
        pc = blame.pc if blame is not None else m.pc
        if self._only_counted(rule, pc, blame):
            return
        violation = Violation(m.icount, rule, message, pc, frames, ptes, blame, repeats,
                              hart=blame.hart if blame is not None else m.hart.hartid)
        self.violations.append(violation)
        self._publish(violation)

    def _only_counted(self, rule: str, pc: int, blame: Change | None) -> bool:
        """Whether enough findings of ``rule`` were shown at ``pc``: then this
        one is only counted."""
        place = (rule, pc)
        if self.shown_at[place] < SHOWN_PER_PLACE:
            self.shown_at[place] += 1
            return False
        more = self.more_at.setdefault(place, [0, blame])
        more[0] += 1
        return True

    def report_counted(self) -> None:
        """One line per place whose findings were only counted."""
        more_at, self.more_at = self.more_at, {}
        for (rule, pc), (count, blame) in more_at.items():
            where = blame.where() if blame is not None else f"{pc:#x}"
            findings = "findings" if count > 1 else "finding"
            violation = Violation(self.machine.icount, rule,
                                  f"×{count:,} more {rule} {findings} at the same place as the "
                                  f"{SHOWN_PER_PLACE} above: {where}", pc, blame=blame,
                                  repeats=count)
            self.violations.append(violation)
            self._publish(violation)

    def hold(self, rule: str, message: str, frames: tuple[int, ...],
             ptes: tuple[tuple[int, int], ...], key: tuple, blame: Change,
             unit: str = "stores") -> None:
        """A finding made at a store: counted, and reported once when the
        kernel operation ends (``release_held``)."""
        held = self.held.get((rule,) + key)
        if held is None:
            self.held[(rule,) + key] = [rule, message, frames, ptes, blame, 1, unit]
        else:
            held[5] += 1

    def release_held(self) -> None:
        held, self.held = self.held, {}
        for (rule, *key), (_, message, frames, ptes, blame, count, unit) in held.items():
            if count > 1:
                message += f" (×{count:,} {unit})"
            self.violate(rule, message, frames, ptes, key=tuple(key) + (blame.icount,),
                         blame=blame, repeats=count)

    def finish(self) -> None:
        """The run ends, whatever ended it: report what is still held, and a
        panic whose line the stop cut short."""
        self.check_pending_alloc()
        self.release_held()
        if self._panic_from is not None:
            self._report_panic(self._console_line[self._panic_from:])
        self.report_counted()

    # Which stores to a frame can make each whole-state rule fail: a PTE that
    # stops mapping a frame cannot make it mapped-while-free or shared-writable.
    _CAUSES = {"maps-free-frame": ("refcount", "mapped"),
               "shared-frame-writable": ("mapped",)}

    def blame_for(self, rule: str, frames: tuple[int, ...], ptes: tuple[tuple[int, int], ...]
                  ) -> Change | None:
        """The latest recorded store that can have made ``rule`` fail for
        these frames and PTEs."""
        kinds = self._CAUSES.get(rule, ("refcount", "mapped", "unmapped"))
        changes = [self.frame_changes[kind].get(f) for kind in kinds for f in frames] + \
            [self.pte_changes.get(p) for p in ptes]
        known = [c for c in changes if c is not None]
        if not known and rule in self._CAUSES:
            # stores into address spaces not yet watched (a child's, during fork) are
            # unseen: the frame's other stores (kref in uvmcopy) still say where
            return self.blame_for("", frames, ptes)
        return max(known, key=lambda c: c.icount) if known else None

    def current_root(self) -> int:
        satp = self.machine.hart.csr.satp
        return (satp & ((1 << 44) - 1)) << 12 if satp >> 60 else 0

    def process_for_root(self, root: int) -> ProcessInfo | None:
        for process in self.processes.values():
            if process.pagetable == root:
                return process
        return None

    def _watch_refcounts(self) -> None:
        """Watch the refcount fields (again, if the array moved): only their
        bytes, so a lock beside them or inside each element is no event."""
        array = self.view.refcounts
        ranges: list[tuple[int, int]] = []
        if array is not None and array.address:
            if array.stride == array.element_size:
                ranges = [(array.address, array.end)]
            else:
                ranges = [(array.element_address(i), array.element_address(i) + array.element_size)
                          for i in range(array.length)]
        for start, end in self._refcount_ranges:
            self.machine.unwatch_physical_range(start, end)
        for start, end in ranges:
            self.machine.watch_physical_range(start, end)
        self._refcount_ranges = ranges
        self._refcount_pages = {page for start, end in ranges
                                for page in range(start >> 12, ((end - 1) >> 12) + 1)}

    # --- rescans at quiescent points -----------------------------------------
    def rescan(self, initial: bool = False) -> None:
        """Re-read the process table: forks, exits, new address spaces."""
        view = self.view
        if view.refresh_refcounts():  # a boot-time allocated array got its address
            self._watch_refcounts()
        # Zombies keep their page tables (and frame references) until reaped.
        current = {p.pid: p for p in view.processes()
                   if p.state in LIVE_STATES or p.state == "ZOMBIE"}
        running = {pid for pid, p in current.items() if p.state in LIVE_STATES}
        if not initial:
            for pid in running - self.running:
                if pid not in self.processes:
                    parent = self._parent_of(current[pid])
                    self._publish(ProcessForked(self.machine.icount, parent, pid,
                                                current[pid].name, hart=self.machine.hart.hartid))
            for pid in self.running - running:
                process = current.get(pid) or self.processes[pid]
                self._publish(ProcessExited(self.machine.icount, pid, process.name,
                                            hart=self.machine.hart.hartid))
                self._close_killed(pid)
        self.processes = current
        self.running = running
        for pid in set(self.roots) - set(current):  # reaped: its tables are gone
            self._forget_address_space(pid)
        for pid, process in current.items():
            if process.pagetable and self.roots.get(pid) != process.pagetable:
                self._read_address_space(pid, process.pagetable)

    def _forget_address_space(self, pid: int) -> None:
        self.roots.pop(pid, None)
        for key in [k for k in self.pte_changes if k[0] == pid]:
            del self.pte_changes[key]
        self.index.remove_process(pid)
        for page, (owner, _, _) in list(self.table_pages.items()):
            if owner == pid:
                del self.table_pages[page]
                if page >> 12 not in self._refcount_pages and page not in self.freed:
                    self.machine.unwatch_physical_page(page >> 12)

    def _read_address_space(self, pid: int, root: int) -> None:
        """A new (or exec's new) address space: walk it once; its stores come
        as events from now on."""
        self._forget_address_space(pid)
        self.roots[pid] = root
        tables, leaves = self.view.page_table(root)
        for table in tables:
            self.table_pages[table.address] = (pid, table.level, table.va_base)
            self.machine.watch_physical_page(table.address >> 12)
        self.index.replace_process(pid, [(leaf.va, leaf.pte) for leaf in leaves])

    def _parent_of(self, process: ProcessInfo) -> int:
        layout = self.view.procs
        if layout is None:
            return 0
        parent_member = None
        kernel_proc = self.view.kernel.struct_type("proc")
        if kernel_proc is not None:
            parent_member = kernel_proc.member("parent")
        if parent_member is None:
            return 0
        pointer = self.machine.read_u64(layout.address + process.slot * layout.stride +
                                        parent_member.offset) or 0
        if not pointer:
            return 0
        slot = (pointer - layout.address) // layout.stride
        for p in self.view.processes():
            if p.slot == slot:
                return p.pid
        return 0

    # --- stores into watched pages -------------------------------------------
    def _on_write(self, event: MemoryWrite) -> None:
        page = event.address & ~4095
        if self._freelist is not None and event.address < self._freelist + 8 \
                and self._freelist < event.address + event.size:
            self._freelist_write(event)
        if page in self.table_pages:
            self._pte_write(event, page)
        if event.address >> 12 in self._refcount_pages:
            self._refcount_write(event)
        if page in self.cow_watched:
            self._cow_frame_write(event, page)
        if page in self.freed:
            self._freed_frame_write(event, page)

    def _freelist_write(self, event: MemoryWrite) -> None:
        """A push (kfree) or a pop (kalloc) of the free list's head. A popped
        frame must have its refcount set before the kernel does anything else
        we see (kalloc sets it to 1 before it returns)."""
        self.check_pending_alloc()
        values = self._old_new(event, self._freelist, 8)
        if values is None:
            return
        old, new = values
        pushed = new and self.machine.read_u64(new + self.view.run_next_offset) == old
        if pushed:
            frame = new & ~0xFFF
            self.free_frames.add(frame)
            self.pushed[frame] = self.witness.change(event.icount, event.pc, event.by_dma)
            self.touched_in[frame] = self._in_kernel_now
            self.freed.pushed(frame, self.pushed[frame], self._watched_otherwise)
        elif old and old != new:
            change = self.witness.change(event.icount, event.pc, event.by_dma)
            self.pending_alloc = (old & ~0xFFF, change)
            self.free_frames.discard(old & ~0xFFF)
            self.pushed.pop(old & ~0xFFF, None)
            self.freed.popped(old & ~0xFFF, change, self._watched_otherwise)
            # allocated afresh (it was free, so not leaked), perhaps as a kernel page now
            self.ever_user.discard(old & ~0xFFF)
            self.unmapped_held.pop(old & ~0xFFF, None)
            self.reallocated.add(old & ~0xFFF)

    def _watched_otherwise(self, frame: int) -> bool:
        """Whether a rule other than free-frame-written needs the frame's page watched."""
        return frame in self.table_pages or frame in self.cow_watched \
            or frame >> 12 in self._refcount_pages

    def _freed_frame_write(self, event: MemoryWrite, page: int) -> None:
        """free-frame-written: the kernel, outside the allocator, stored into
        a frame on the free list (a use after free: copyout through the pa it
        looked up before the COW fault handler freed that frame)."""
        key = ("free-frame-written", page)
        if key in self.held:  # a repeat: only counted
            self.held[key][5] += 1
            return
        if event.by_dma:
            return
        change = self.witness.change(event.icount, event.pc)
        if change.by_user or self.freed.by_allocator(change):
            return  # a user store is maps-free-frame's; the allocator's own, no finding
        self.hold("free-frame-written",
                  f"{change.who()} stored into frame {page:#x}, which is on the free list "
                  f"(freed at {self.freed.freed_at(page).where()}), at {change.where()}",
                  (page,), (), (page,), change)

    def check_pending_alloc(self) -> None:
        pending = self.pending_alloc
        if pending is None or pending[1].hart != self.machine.hart.hartid:
            return  # (several harts: another hart's kalloc is judged by that hart's next step)
        self.pending_alloc = None
        frame, change = pending
        if self.view.refcount(frame) == 0:  # one finding per kernel operation, frames counted
            self.hold("allocated-without-count",
                      f"frame {frame:#x} left the free list with refcount 0, taken at "
                      f"{change.where()}", (frame,), (), (), change, unit="frames")

    def _slots(self, event: MemoryWrite, width: int, base: int):
        """Each ``width``-byte slot (aligned to ``base``) the write touched:
        (address, old, new)."""
        first = base + ((event.address - base) // width) * width
        for slot in range(first, event.address + event.size, width):
            values = self._old_new(event, slot, width)
            if values is not None:
                yield slot, values[0], values[1]

    def _old_new(self, event: MemoryWrite, slot: int, width: int) -> tuple[int, int] | None:
        """The value of the ``width`` bytes at ``slot`` before and after the write."""
        if slot == event.address and width == event.size:  # most stores: the event says it
            return event.old, event.new
        data = self.machine.read_physical(slot, width)
        if data is None:
            return None
        new = int.from_bytes(data, "little")
        first = max(event.address, slot)  # the bytes of the slot that the write covered
        end = min(event.address + event.size, slot + width)
        if first >= end:
            return new, new
        mask = (1 << (8 * (end - first))) - 1
        covered = (event.old >> (8 * (first - event.address))) & mask
        shift = 8 * (first - slot)
        return (new & ~(mask << shift)) | (covered << shift), new

    def _pte_write(self, event: MemoryWrite, page: int) -> None:
        self.check_pending_alloc()
        if event.size < 8:
            return  # byte stores into a table page: a page being freed and junk-filled
        pid, level, va_base = self.table_pages[page]
        change: Change | None = None
        for slot, old, new in self._slots(event, 8, page):
            if old == new:
                continue
            index = (slot - page) >> 3
            va = va_base + (index << (12 + 9 * level))
            self._publish(PteChanged(event.icount, pid, va, old, new, event.pc, slot,
                                     hart=event.hart))
            self.changed_since_sfence.add((pid, va))
            if new & PTE_V and not is_leaf(new) and level > 0:
                child = pte_frame(new)
                self.table_pages[child] = (pid, level - 1, va)
                self.machine.watch_physical_page(child >> 12)
            if is_leaf(new) or is_leaf(old):
                self.index.set_leaf(pid, va, new if is_leaf(new) else 0)
                if change is None:
                    change = self.witness.change(event.icount, event.pc, event.by_dma)
                self.pte_changes[(pid, va)] = change
                if is_leaf(new):
                    self.frame_changes["mapped"][pte_frame(new)] = change
                    self.touched_in[pte_frame(new)] = self._in_kernel_now
                    self.reallocated.discard(pte_frame(new))
                if is_leaf(old) and (not is_leaf(new) or pte_frame(old) != pte_frame(new)):
                    self.frame_changes["unmapped"][pte_frame(old)] = change
                    self.touched_in[pte_frame(old)] = self._in_kernel_now
            if is_leaf(new):
                assert change is not None
                # a kernel that never sets our COW bit uses the other one: no COW page is known
                self.cow_bit_seen = self.cow_bit_seen or has_cow(new, self.cow_bit)
                self._check_pte_change(pid, va, old, new, change)

    def _check_pte_change(self, pid: int, va: int, old: int, new: int, change: Change) -> None:
        for finding in check_pte_change(pid, va, old, new, self.cow_bit):
            self.report(finding, blame=change)

    def report(self, finding: Finding, key: tuple = (), blame: Change | None = None) -> None:
        if blame is None:
            blame = self.blame_for(finding.rule, finding.frames, finding.ptes)
        message = finding.message
        if blame is not None:
            message += f"; {blame.who()} stored at {blame.where()}"
        self.violate(finding.rule, message, finding.frames, finding.ptes, key, blame)

    def _refcount_write(self, event: MemoryWrite) -> None:
        array = self.view.refcounts
        assert array is not None
        indexes = array.elements_in(event.address, event.address + event.size)
        if not indexes:
            return  # beside the counts in their page (kmem.freelist, a lock)
        if self.pending_alloc is not None and \
                self.pending_alloc[0] in {array.frame_at(i) for i in indexes}:
            self.pending_alloc = None  # the count of the frame just allocated: set
        self.check_pending_alloc()
        width = array.element_size
        for index in indexes:
            values = self._old_new(event, array.element_address(index), width)
            if values is None:
                continue
            old, new = values
            if array.signed:
                sign = 1 << (8 * width - 1)
                old, new = (old ^ sign) - sign, (new ^ sign) - sign
            if old == new:
                continue
            frame = array.frame_at(index)
            self.index.dirty.add(frame)
            self.touched_in[frame] = self._in_kernel_now
            change = self.witness.change(event.icount, event.pc, event.by_dma)
            self.frame_changes["refcount"][frame] = change
            self._publish(RefcountChanged(event.icount, frame, old, new, event.pc,
                                          hart=event.hart))
            if new < 0:
                self.violate("double-free", f"frame {frame:#x}: refcount dropped to {new} "
                             f"at {change.where()}", (frame,), blame=change)
            if new == 0 and frame in self.table_pages:
                # a page-table page being freed: stop watching before its junk fill
                self.table_pages.pop(frame)
                self.machine.unwatch_physical_page(frame >> 12)

    def _cow_frame_write(self, event: MemoryWrite, page: int) -> None:
        if self._foreign_store(event, page):
            return
        mappers = [(pid, va) for pid, va, pte in self._mappings_of(page)
                   if has_cow(pte, self.cow_bit) and not pte & PTE_W]
        if len(mappers) >= 2 or (mappers and (self.view.refcount(page) or 0) > 1):
            key = ("shared-frame-written", page)
            if key in self.held:  # a repeat: only counted
                self.held[key][5] += 1
                return
            change = self.witness.change(event.icount, event.pc, event.by_dma)
            self.hold("shared-frame-written",
                      f"{change.who()} stored into frame {page:#x}, shared copy-on-write by "
                      + ", ".join(f"pid {p} va {v:#x}" for p, v in mappers)
                      + f", at {change.where()}",
                      (page,), tuple(mappers), (page,), change)

    def _foreign_store(self, event: MemoryWrite, page: int) -> bool:
        """The kernel, running for process P, stored into a user frame that P
        does not map but another process does: copyout through a physical
        address looked up before the COW copy, or any cross-process write."""
        key = ("foreign-frame-written", page)
        if key in self.held:
            self.held[key][5] += 1
            return True
        if event.by_dma:
            return False
        users = self._mappings_of(page)
        if not users or self.view.refcount(page) == 0 or self._mappers_unmapping(page, users):
            return False  # a frame being freed (kfree links it in), or reused: stale PTEs
        self.machine.sync_state()  # the privilege at the store
        if self.machine.privilege == USER:
            return False
        process = self.view.running_process(self.machine.hart.hartid)
        if not users or process is None or any(pid == process.pid for pid, _, _ in users):
            return False
        change = self.witness.change(event.icount, event.pc)
        others = ", ".join(f"pid {p} va {v:#x}" for p, v, _ in users[:3])
        self.hold("foreign-frame-written",
                  f"{change.who()}, running for pid {process.pid} ({process.name}), stored into "
                  f"frame {page:#x}, which pid {process.pid} does not map (it is {others}'s), "
                  f"at {change.where()}",
                  (page,), tuple((p, v) for p, v, _ in users), (page,), change)
        return True

    def _mappers_unmapping(self, page: int, users: list) -> bool:
        """The frame was freed and allocated again since its PTEs were made,
        and each process still mapping it is being torn down (a zombie being
        reaped, or in the kernel on another hart): xv6 frees a frame before it
        clears the PTE, so on several harts the frame may be reused meanwhile."""
        if page not in self.reallocated:
            return False
        states = {p.pid: p.state for p in self.view.processes()}
        elsewhere = {p.pid for h in self.machine.harts if h is not self.machine.hart
                     and (p := self.view.running_process(h.hartid)) is not None}
        return all(states.get(pid) in (None, "ZOMBIE") or pid in elsewhere
                   for pid, _, _ in users)

    # --- traps and returns ---------------------------------------------------
    def _on_trap(self, event: TrapTaken) -> None:
        self.check_pending_alloc()
        self.witness.new_entry()
        if event.from_privilege != USER:
            return
        root = self.current_root()
        process = self.process_for_root(root)
        pid = process.pid if process else -1
        self._set_in_kernel(pid, True)
        if event.cause & INTERRUPT_BIT:
            return
        if event.cause in PAGE_FAULTS:
            leaf = leaf_at(self.view.read_page, root, event.tval) if root else None
            pte = leaf.pte if leaf else 0
            fault = PageFault(event.icount, pid, process.name if process else "?",
                              event.cause, event.tval, event.epc, pte, hart=event.hart)
            self.open_faults[pid] = OpenFault(fault, root)
            self.fault_counts[pid] += 1
            self._publish(fault)

    def _on_return(self, event: TrapReturn) -> None:
        self.check_pending_alloc()
        self.witness.new_entry()
        if event.to_privilege != USER:
            return
        self.freed.active = True
        self.release_held()
        self.rescan()
        root = self.current_root()
        process = self.process_for_root(root)
        self._set_in_kernel(process.pid if process else -1, False)
        if process is not None and process.pid in self.open_faults:
            self._resolve(process.pid, root)
        for pid in list(self.open_faults):
            if pid not in self.running:
                self._close_killed(pid)
        if others_quiescent(self.machine, self.view):  # several harts: none mid-operation
            self.check_invariants()
        if process is not None and self.changed_since_sfence:
            stale = [(p, va) for p, va in self.changed_since_sfence if p == process.pid]
            if stale and self.pending_sfence is False:
                self.report(Finding("stale-translation",
                                    f"pid {process.pid}: PTE of va {stale[0][1]:#x} changed "
                                    "with no sfence.vma before returning to user mode",
                                    ptes=tuple(stale[:4])),
                            key=(process.pid, stale[0][1], event.icount))
        self.changed_since_sfence.clear()
        self.pending_sfence = False

    # --- operations still under way in other processes ----------------------
    def _set_in_kernel(self, pid: int, inside: bool) -> None:
        if (pid in self.in_kernel) != inside:
            if inside:
                self._entries += 1
                self.in_kernel[pid] = self._entries
            else:
                del self.in_kernel[pid]
            for gone in [p for p in self.in_kernel if p not in self.processes and p != pid]:
                del self.in_kernel[gone]
            self._in_kernel_now = frozenset(self.in_kernel.items())

    def _settled(self, frames: set[int]) -> set[int]:
        """The frames whose last change no other process may still be in the
        middle of: one preempted in the kernel between kfree and clearing the
        PTE (uvmunmap), or between mapping a page and counting it (uvmcopy),
        leaves a frame half changed while others return to user mode. The
        rest wait in ``in_flight`` for a later quiescent point."""
        returning = self.process_for_root(self.current_root())
        busy = {(pid, entry) for pid, entry in self.in_kernel.items()
                if pid in self.processes and self.processes[pid].state in ("RUNNABLE", "RUNNING")
                and (returning is None or pid != returning.pid)}
        if not busy:
            return frames
        waiting = {f for f in frames if self.touched_in.get(f, frozenset()) & busy}
        self.in_flight |= waiting
        return frames - waiting

    def _on_sfence(self, event: SfenceVma) -> None:
        self.changed_since_sfence.clear()
        self.pending_sfence = True

    def _resolve(self, pid: int, root: int) -> None:
        fault = self.open_faults.pop(pid).event
        leaf = leaf_at(self.view.read_page, root, fault.stval)
        after = leaf.pte if leaf else 0
        before = fault.pte_before
        new_frame = None
        if not before & PTE_V and after & PTE_V:
            outcome = "mapped"
        elif before & PTE_V and after & PTE_V and after & PTE_W and not before & PTE_W:
            if pte_frame(after) != pte_frame(before):
                outcome, new_frame = "copied", pte_frame(after)
            else:
                outcome = "made-writable"
        else:
            outcome = "not-cow"
        if outcome in ("copied", "made-writable") and self.cow_bit_seen \
                and not has_cow(before, self.cow_bit):
            self._write_granted_without_cow(pid, fault, before, after)
        self._publish(FaultResolved(self.machine.icount, pid, fault.icount, fault.stval,
                                    outcome, after, new_frame, hart=self.machine.hart.hartid))

    def _write_granted_without_cow(self, pid: int, fault: PageFault, before: int,
                                   after: int) -> None:
        """A fault made writable a page that was present, read-only and not
        COW: text, or a page the kernel meant to stay read-only."""
        va = fault.stval & ~0xFFF
        kind = "an executable" if before & PTE_X else "a read-only"
        cause = "load" if fault.scause == 13 else "store" if fault.scause == 15 else "fetch"
        self.report(Finding("write-granted-without-cow",
                            f"pid {pid} va {va:#x}: a {cause} fault made {kind} page that was "
                            f"not COW writable (PTE {before:#x} -> {after:#x})",
                            (pte_frame(after),), ((pid, va),)),
                    blame=self.pte_changes.get((pid, va)))

    def _close_killed(self, pid: int) -> None:
        open_fault = self.open_faults.pop(pid, None)
        if open_fault is not None:
            fault = open_fault.event
            self._publish(FaultResolved(self.machine.icount, pid, fault.icount, fault.stval,
                                        "killed", 0, hart=self.machine.hart.hartid))

    def _on_console(self, event: ConsoleOutput) -> None:
        if event.text == "\n":
            line, self._console_line = self._console_line, ""
            if self._panic_from is not None:
                self._report_panic(line[self._panic_from:])
            self._panic_change = self._panic_from = None
            return
        before = len(self._console_line)
        self._console_line += event.text
        if self._panic_from is not None:
            return
        # A panic's text may follow what a user program printed on the same
        # line (usertests prints "test MAXVAplus: " first): it counts where
        # panic() is printing it, or at a line's start as before.
        start = self._console_line.find("panic", max(0, before - 4))
        if start < 0:
            return
        change, in_panic = self._panic_caller(event.icount)
        if start == 0 or in_panic:
            self._panic_from, self._panic_change = start, change

    def _panic_caller(self, icount: int) -> tuple[Change, bool]:
        """Where panic() was called from (its caller's frame, when panic is on
        the call stack now), and whether it is."""
        change = self.witness.change(icount, self.machine.pc)
        names = [frame.symbol for frame in change.stack]
        if "panic" not in names or names.index("panic") + 1 >= len(names):
            return change, "panic" in names
        caller = change.stack[names.index("panic") + 1:]
        return Change(icount, call_address(self.machine.kernel, caller[0].pc),
                      change.privilege, change.hart, caller), True

    def _report_panic(self, line: str) -> None:
        self.check_pending_alloc()
        self.release_held()  # what led to the panic comes first
        change = self._panic_change
        where = f" — called from {change.where()}" if change is not None else ""
        self.violate("kernel-panic", f"the kernel panicked: {line.strip()}{where}",
                     key=(line,), blame=change)

    # --- whole-state checks ----------------------------------------------------
    def _mappings_of(self, frame: int) -> list[tuple[int, int, int]]:
        return self.index.users(frame)

    def check_invariants(self) -> None:
        """The frame rules, over the frames whose mappings or refcount
        changed since the last check (and the ones still under suspicion)."""
        frames = self.index.take_dirty() | set(self.unmapped_held) | self.in_flight
        self.in_flight = set()
        view = self.view
        mappings = {frame: self.index.users(frame) for frame in frames}
        settled = self._settled({f for f, m in mappings.items() if m})
        for finding in check_frames({f: mappings[f] for f in settled},
                                    view.refcount, self.cow_bit):
            self.report(finding)
        shared_cow = shared_cow_frames(mappings, self.cow_bit)
        for frame in frames:
            if frame in shared_cow and frame not in self.cow_watched:
                self.cow_watched.add(frame)
                self.machine.watch_physical_page(frame >> 12)
            elif frame not in shared_cow and frame in self.cow_watched:
                self.cow_watched.discard(frame)
                if frame not in self.table_pages and frame >> 12 not in self._refcount_pages \
                        and frame not in self.freed:
                    self.machine.unwatch_physical_page(frame >> 12)
        self._check_freed_while_mapped()
        self._check_leak(mappings)

    def _check_freed_while_mapped(self) -> None:
        """A frame on the free list that a user PTE still maps, blamed at the
        push: kfree freed it whatever its count said (a kfree that ignores or
        never drops the count). Checked at a quiescent point, not at the push,
        because uvmunmap frees a frame before it clears the PTE."""
        pushed = dict(self.pushed)
        self.pushed.clear()
        settled = self._settled(set(pushed))
        for frame, change in sorted(pushed.items()):
            if frame not in settled:
                self.pushed[frame] = change  # checked again later
                continue
            users = self._mappings_of(frame)
            if users:
                ptes = tuple((pid, va) for pid, va, _ in users)
                where = ", ".join(f"pid {p} va {v:#x}" for p, v in ptes[:3])
                self.violate("maps-free-frame",
                             f"frame {frame:#x} was put on the free list at {change.where()} "
                             f"but is still mapped by {where}", (frame,), ptes, blame=change)

    def _check_leak(self, mappings: dict[int, list]) -> None:
        """A frame that user PTEs mapped, that no PTE maps any more, yet whose
        refcount stays above zero, is lost: nothing will ever free it. Seen
        at two quiescent points in a row with the same count, so a process
        preempted half-way through unmapping is not blamed."""
        if self.view.refcounts is None:
            return
        held: dict[int, int] = {}
        for frame, users in mappings.items():
            if users:
                self.ever_user.add(frame)
                continue
            if frame not in self.ever_user:
                continue
            count = self.view.refcount(frame) or 0
            if count <= 0 or frame in self.free_frames:   # freed, whatever its count says
                self.ever_user.discard(frame)
                continue
            held[frame] = count
            if self.unmapped_held.get(frame) == count:
                self.report(Finding("frame-leak",
                                    f"frame {frame:#x} is mapped by no PTE but its refcount "
                                    f"stays {count}: it can never be freed", (frame,)))
        self.unmapped_held = held


__all__ = ["Tracker", "RULES"]
