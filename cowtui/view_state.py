"""What the panes show, as plain data: one ViewState per UI refresh.

The worker thread that runs the machine builds a ViewState between slices
(the machine is still then, so the picture is consistent) and hands it to the
UI, which never touches the machine while it runs. Everything here is
immutable: a ViewState can cross threads and be dropped when a newer one
arrives.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

from machine.introspect import trampoline
from machine.introspect.callstack import StackFrame, call_stack
from machine.introspect.kernel_view import KernelView, ProcessInfo
from machine.introspect.pagetable import TablePage
from machine.introspect.profiles import KERNBASE
from machine.introspect.pte import is_user_leaf, pte_frame
from machine.isa.disasm import disassemble
from machine.trap import USER

from .history import PteHistory
from .locations import Locator
from .session import Session

# Frame kinds, one byte per frame in FrameMap.kinds.
FREE, KERNEL, TABLE, USER_FRAME, OTHER = range(5)
KIND_NAMES = {FREE: "free", KERNEL: "kernel image", TABLE: "page table",
              USER_FRAME: "user", OTHER: "kernel-allocated"}
# refcount low byte 0 -> free, anything else -> allocated by the kernel
_FREE_OR_OTHER = bytes([FREE] + [OTHER] * 255)
VA_MASK = (1 << 39) - 1


@dataclass(frozen=True, slots=True)
class ProcessRow:
    pid: int
    name: str
    state: str
    size: int
    faults: int
    root: int


@dataclass(frozen=True, slots=True)
class PteRow:
    va: int
    pte: int
    level: int
    pte_address: int
    refcount: int | None
    changed: bool           # written since the last stop

    @property
    def frame(self) -> int:
        return pte_frame(self.pte)


@dataclass(frozen=True, slots=True)
class AddressSpace:
    pid: int
    root: int
    tables: tuple[TablePage, ...]
    leaves: tuple[PteRow, ...]

    def leaf(self, va: int) -> PteRow | None:
        """The leaf whose page contains ``va``."""
        va &= VA_MASK
        for row in self.leaves:
            span = 1 << (12 + 9 * row.level)
            if row.va & VA_MASK <= va < (row.va & VA_MASK) + span:
                return row
        return None


@dataclass(frozen=True)
class FrameMap:
    base: int                    # physical address of frame 0
    counts: bytes                # refcount per frame (low byte; 0xff.. for negative)
    kinds: bytes                 # FREE, KERNEL, TABLE, USER_FRAME, OTHER per frame
    mappings: dict[int, tuple[tuple[int, int, int], ...]]  # frame -> ((pid, va, pte), ...)
    exact: bool                  # False: no refcount array, kinds guessed

    def index(self, frame: int) -> int | None:
        i = (frame - self.base) >> 12
        return i if 0 <= i < len(self.kinds) else None

    def refcount(self, frame: int) -> int | None:
        i = self.index(frame)
        if i is None or not self.exact:
            return None
        count = self.counts[i]
        return count - 256 if count >= 0x80 else count


@dataclass(frozen=True, slots=True)
class DisasmLine:
    address: int
    text: str
    is_pc: bool
    label: str | None           # symbol name when a symbol starts here


@dataclass(frozen=True)
class CpuState:
    icount: int
    pc: int
    privilege: int
    registers: tuple[int, ...]
    satp: int
    disasm: tuple[DisasmLine, ...]
    where: str | None            # symbol+offset of pc (kernel code)
    source: tuple[str, int] | None
    source_text: str | None
    hart: int | None = None      # the hart shown, on a machine of several (else None)
    runs: bool = True            # whether the hart shown is the one that runs now


@dataclass(frozen=True)
class ViewState:
    icount: int
    running: bool
    idle: bool                   # running, but the guest waits for input
    cpu: CpuState
    processes: tuple[ProcessRow, ...]
    spaces: dict[int, AddressSpace]
    frames: FrameMap
    current_pid: int | None
    trace_len: int               # session.trace[:trace_len] is covered
    console_len: int
    mips: float | None = None
    notes: tuple[str, ...] = field(default=())
    stack: tuple[StackFrame, ...] = ()  # the call stack at pc, innermost first


def address_spaces(view: KernelView, processes: list[ProcessInfo], changed: frozenset[int],
                   counts: bytes | None) -> dict[int, AddressSpace]:
    """Every process's page table, walked once. Refcounts only for frames the
    allocator hands out (not the kernel image, e.g. the trampoline)."""
    first = (view.kernel_end - KERNBASE) >> 12
    spaces: dict[int, AddressSpace] = {}
    for p in processes:
        if not p.pagetable:
            continue
        tables, leaves = view.page_table(p.pagetable)
        rows = []
        for leaf in leaves:
            index = (leaf.frame - KERNBASE) >> 12
            count = None
            if counts is not None and first <= index < len(counts):
                count = counts[index] - 256 if counts[index] >= 0x80 else counts[index]
            rows.append(PteRow(leaf.va, leaf.pte, leaf.level, leaf.pte_address, count,
                               leaf.pte_address in changed))
        spaces[p.pid] = AddressSpace(p.pid, p.pagetable, tuple(tables), tuple(rows))
    return spaces


class ViewStateBuilder:
    """Reads the machine (on whichever thread owns it at the moment) into a ViewState."""

    DISASM_BEFORE, DISASM_AFTER = 3, 6
    STACK_FRAMES = 16

    def __init__(self, session: Session, history: PteHistory) -> None:
        self.session = session
        self.history = history
        self.machine = session.machine
        self.locator = Locator(session.machine, session.scenario.kernel)
        self.view = session.view
        self.frame_count = (self.view.phystop - KERNBASE) >> 12
        self._kernel_frames = max(0, (self.view.kernel_end - KERNBASE) >> 12)
        self._sources: dict[str, list[str] | None] = {}
        self._free_cache: tuple[int, bytes] | None = None  # (icount, kinds) without refcounts
        self.viewed_hart: int | None = None  # the CPU pane's hart while paused (None: running)

    # --- the parts ----------------------------------------------------------------
    def refcount_bytes(self) -> bytes | None:
        """One byte per frame: the low byte of each refcount (C speed: a slice)."""
        array = self.view.refcounts
        if array is None or not array.address:
            return None
        raw = self.machine.read_physical(array.address, array.length * array.stride)
        if raw is None:
            return None
        low = raw[array.field_offset::array.stride]  # counters may be fields of structs
        if len(low) < self.frame_count:
            low += bytes(self.frame_count - len(low))
        return low[:self.frame_count]

    def frames(self, counts: bytes | None, spaces: dict[int, AddressSpace]) -> FrameMap:
        n = self.frame_count
        if counts is not None:
            kinds = bytearray(counts.translate(_FREE_OR_OTHER))
        else:
            kinds = bytearray(self._kinds_from_free_list())
        kinds[:self._kernel_frames] = bytes([KERNEL]) * min(self._kernel_frames, n)
        mappings: dict[int, list[tuple[int, int, int]]] = {}
        for space in spaces.values():
            for table in space.tables:
                i = (table.address - KERNBASE) >> 12
                if 0 <= i < n:
                    kinds[i] = TABLE
            for row in space.leaves:
                if is_user_leaf(row.pte):
                    mappings.setdefault(row.frame, []).append((space.pid, row.va, row.pte))
        for frame in mappings:
            i = (frame - KERNBASE) >> 12
            if 0 <= i < n:
                kinds[i] = USER_FRAME
        return FrameMap(KERNBASE, counts if counts is not None else bytes(n), bytes(kinds),
                        {f: tuple(m) for f, m in mappings.items()}, counts is not None)

    def _kinds_from_free_list(self) -> bytes:
        """Without a refcount array the free list says what is free; walking
        it is slow (one read per free frame), so at most once per 50 M instructions."""
        icount = self.machine.icount
        if self._free_cache is None or icount - self._free_cache[0] > 50_000_000:
            kinds = bytearray([OTHER]) * self.frame_count
            for frame in self.view.free_frames():
                i = (frame - KERNBASE) >> 12
                if 0 <= i < self.frame_count:
                    kinds[i] = FREE
            self._free_cache = (icount, bytes(kinds))
        return self._free_cache[1]

    def cpu(self, hart: int | None = None) -> CpuState:
        """The CPU pane's state: of hart ``hart`` (only while paused), else of
        the running hart."""
        m = self.machine
        if hart is None:
            return self._cpu(True)
        with self.session.lock:  # never while a gdb client runs the machine
            runs = m.harts[hart] is m.hart
            with m.hart_in_view(hart):
                return self._cpu(runs)

    def _cpu(self, runs: bool) -> CpuState:
        m = self.machine
        pc, privilege = m.pc, m.privilege
        satp = m.read_csr("satp") or 0
        kernel_code = privilege != USER
        alias = trampoline.kernel_address(m.kernel, pc)   # the trampoline page: its code
        where = trampoline.name(m.kernel, pc) or (m.symbol_at(pc) if kernel_code else None)
        source = m.source_line(alias if alias is not None else pc) if kernel_code else None
        return CpuState(m.icount, pc, privilege, tuple(m.registers()), satp,
                        self.disassembly(pc, privilege, satp), where, source,
                        self.source_text(source),
                        m.hart.hartid if len(m.harts) > 1 else None, runs)

    def _fetch(self, address: int, privilege: int, satp: int) -> int | None:
        if privilege == 3 or satp >> 60 == 0:
            data = self.machine.read_physical(address, 4) or self.machine.read_physical(address, 2)
        else:
            data = self.machine.read_virtual(address, 4, satp) or \
                self.machine.read_virtual(address, 2, satp)
        return int.from_bytes(data, "little") if data else None

    def _decode_from(self, start: int, count: int, privilege: int, satp: int) \
            -> list[tuple[int, int]]:
        out = []
        address = start
        for _ in range(count):
            word = self._fetch(address, privilege, satp)
            if word is None:
                break
            out.append((address, word))
            address += 2 if word & 3 != 3 else 4
        return out

    def disassembly(self, pc: int, privilege: int, satp: int) -> tuple[DisasmLine, ...]:
        # Compressed code cannot be decoded backwards: try start points before
        # pc until one decodes in step onto pc.
        before: list[tuple[int, int]] = []
        for back in range(4 * self.DISASM_BEFORE, 0, -2):
            decoded = self._decode_from(pc - back, 2 * self.DISASM_BEFORE + 1, privilege, satp)
            addresses = [a for a, _ in decoded]
            if pc in addresses:
                before = decoded[:addresses.index(pc)][-self.DISASM_BEFORE:]
                while before and before[0][1] & 0xFFFF == 0:  # zeros: not code
                    before.pop(0)
                break
        after = self._decode_from(pc, self.DISASM_AFTER, privilege, satp)
        kernel_code = privilege != USER
        lines = []
        for address, word in before + after:
            try:
                text = disassemble(word & (0xFFFF if word & 3 != 3 else 0xFFFFFFFF), address)
            except Exception:  # noqa: BLE001 - data bytes are not instructions; say so
                text = f".word {word:#x}"
            label = None
            if kernel_code:
                alias = trampoline.kernel_address(self.machine.kernel, address)
                found = self.machine.kernel.symbol_at(alias if alias is not None else address)
                if found is not None and found[1] == 0:
                    label = found[0].name
            lines.append(DisasmLine(address, text, address == pc, label))
        return tuple(lines)

    def named(self, frame: StackFrame) -> StackFrame:
        """A frame in the trampoline page, named after the kernel's trampoline."""
        name = trampoline.name(self.machine.kernel, frame.pc) if frame.symbol is None else None
        return frame if name is None else replace(frame, symbol=name)

    def source_text(self, source: tuple[str, int] | None) -> str | None:
        """The C line itself, when the source tree is next to the kernel ELF."""
        if source is None:
            return None
        file, line = source
        if file not in self._sources:
            self._sources[file] = None
            kernel = Path(self.machine.config.kernel).resolve()
            for base in (kernel.parent, kernel.parent.parent, kernel.parent.parent.parent):
                candidate = base / file
                if candidate.is_file():
                    self._sources[file] = candidate.read_text(errors="replace").splitlines()
                    break
        lines = self._sources[file]
        if lines is None or not 0 < line <= len(lines):
            return None
        return lines[line - 1].strip()

    # --- all of it ----------------------------------------------------------------
    def build(self, running: bool, idle: bool = False, mips: float | None = None) -> ViewState:
        view, tracker = self.view, self.session.tracker
        counts = self.refcount_bytes()
        infos = view.processes()
        spaces = address_spaces(view, infos, self.history.changed_addresses(), counts)
        satp = self.machine.read_csr("satp") or 0
        root = (satp & ((1 << 44) - 1)) << 12 if satp >> 60 else 0
        # In the kernel satp is the kernel's: then the process xv6 calls RUNNING.
        current = next((p.pid for p in infos if p.pagetable == root and root), None) or \
            next((p.pid for p in infos if p.state == "RUNNING"), None)
        rows = tuple(ProcessRow(p.pid, p.name, p.state, p.size, tracker.fault_counts.get(p.pid, 0),
                                p.pagetable) for p in infos)
        name = next((p.name for p in infos if p.pid == current), None)
        image = self.locator.code_image(self.machine.privilege, name)
        stack = tuple(self.named(frame) for frame in
                      call_stack(self.machine, image, max_frames=self.STACK_FRAMES))
        return ViewState(self.machine.icount, running, idle,
                         self.cpu(None if running else self.viewed_hart), rows, spaces,
                        self.frames(counts, spaces), current, len(self.session.trace),
                        len(self.machine.console), mips, stack=stack)
