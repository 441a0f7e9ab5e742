"""Understanding an xv6-style kernel from its own symbols and DWARF.

Nothing here knows an offset: the process table, the members of ``struct
proc``, the ``procstate`` names, ``kmem.freelist`` and the refcount array are
found by name in the kernel's DWARF (profiles only list names to try). What
cannot be found is reported in ``problems`` with how to fix it, and every
feature that does not depend on it keeps working.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..elf import ElfImage
from ..elf.typeinfo import TypeInfo
from .pagetable import Leaf, TablePage, walk_tree
from .profiles import KERNBASE, REFCOUNT_NAMES

if TYPE_CHECKING:
    from ..machine import Machine

PAGE = 4096


@dataclass(frozen=True, slots=True)
class ProcessInfo:
    slot: int
    pid: int
    name: str
    state: str
    pagetable: int      # physical address of the root table (0: none)
    size: int           # p->sz
    killed: bool = False


@dataclass
class RefcountArray:
    """Where the refcounts live: ``length`` counters, one per RAM frame, indexed
    by (pa - base) >> 12, ``stride`` bytes apart (a field of an array of
    structs when it differs from ``element_size``). ``base`` is KERNBASE, or 0
    for an array big enough to be indexed by pa / PGSIZE (``int refcnt[PHYSTOP /
    PGSIZE]``, as many students write it). A kernel that allocates the array at
    boot (``struct refcnt *refcnts``) has ``pointer`` set: ``address`` then
    follows the pointer's value (0 until the kernel sets it)."""

    name: str           # as found, e.g. "refcnt", "kmem.ref", "refcnts->refcnt"
    address: int        # base of element 0 (not counting field_offset)
    element_size: int
    signed: bool
    length: int
    stride: int = 0
    field_offset: int = 0
    pointer: int | None = None
    base: int = KERNBASE

    def __post_init__(self) -> None:
        self.stride = self.stride or self.element_size

    def index_of(self, frame: int) -> int | None:
        index = (frame - self.base) >> 12
        return index if 0 <= index < self.length and self.address else None

    def address_of(self, frame: int) -> int | None:
        index = self.index_of(frame)
        return None if index is None else self.element_address(index)

    def element_address(self, index: int) -> int:
        return self.address + index * self.stride + self.field_offset

    def frame_of(self, address: int) -> int:
        return self.frame_at((address - self.address - self.field_offset) // self.stride)

    def frame_at(self, index: int) -> int:
        return self.base + (index << 12)

    @property
    def end(self) -> int:
        return self.address + self.length * self.stride

    def elements_in(self, start: int, end: int) -> range:
        """Indexes of the counters that bytes [start, end) touch."""
        if not self.address:
            return range(0)
        offset = start - self.address - self.field_offset
        if end - start == self.element_size and offset % self.stride == 0 \
                and 0 <= offset < self.length * self.stride:
            index = offset // self.stride  # a store of one whole counter: most of them
            return range(index, index + 1)
        first = max(0, (start - self.address - self.field_offset) // self.stride)
        last = min(self.length - 1, (end - 1 - self.address - self.field_offset) // self.stride)
        out = [i for i in range(first, last + 1)
               if self.element_address(i) < end and start < self.element_address(i)
               + self.element_size]
        return range(out[0], out[-1] + 1) if out else range(0)


@dataclass
class ProcLayout:
    address: int
    count: int
    stride: int
    offsets: dict[str, int]          # member -> offset (pid, state, pagetable, sz, name, killed)
    sizes: dict[str, int]
    states: dict[int, str]


@dataclass
class FrameInfo:
    frame: int
    kind: str                         # 'kernel', 'page-table', 'user', 'free', 'other'
    refcount: int | None
    mappings: list[tuple[int, int, int]] = field(default_factory=list)  # (pid, va, pte)


class KernelView:
    def __init__(self, machine: "Machine", refcount_symbol: str | None = None,
                 cow_bit: int = 8) -> None:
        self.machine = machine
        self.kernel: ElfImage = machine.kernel
        self.cow_bit = cow_bit
        self.problems: list[str] = []
        self.phystop = KERNBASE + machine.bus.ram_size
        end = self.kernel.symbol("end")
        self.kernel_end = ((end.address + PAGE - 1) & ~(PAGE - 1)) if end else KERNBASE
        self.procs = self._find_proc_table()
        self.freelist_address, self.run_next_offset = self._find_freelist()
        self.refcounts = self._find_refcounts(refcount_symbol)
        self.refresh_refcounts()

    # --- discovery --------------------------------------------------------
    def _find_proc_table(self) -> ProcLayout | None:
        var = self.kernel.variable("proc")
        if var is None or var.address is None or var.type.kind != "array" \
                or var.type.element is None or var.type.element.kind != "struct":
            self.problems.append("no process table: expected a global array `struct proc proc[NPROC]`"
                                 " with DWARF (build the kernel with -g)")
            return None
        element: TypeInfo = var.type.element
        offsets, sizes = {}, {}
        for member in ("pid", "state", "pagetable", "sz", "name", "killed"):
            m = element.member(member)
            if m is None:
                if member != "killed":
                    self.problems.append(f"struct proc has no member `{member}`")
                continue
            offsets[member] = m.offset
            sizes[member] = m.type.byte_size or 8
        states: dict[int, str] = {}
        state = element.member("state")
        if state is not None and state.type.kind == "enum":
            states = dict(state.type.enumerators)
        return ProcLayout(var.address, var.type.length or 0, element.byte_size or 0,
                          offsets, sizes, states)

    def _find_freelist(self) -> tuple[int | None, int]:
        var = self.kernel.variable("kmem")
        member = var.type.member("freelist") if var is not None else None
        if var is None or var.address is None or member is None:
            self.problems.append("no free list: expected `kmem.freelist` (free frames not shown)")
            return None, 0
        run = self.kernel.struct_type("run")
        next_member = run.member("next") if run is not None else None
        return var.address + member.offset, next_member.offset if next_member else 0

    def _array(self, name: str) -> RefcountArray | None:
        head, _, rest = name.partition(".")
        var = self.kernel.variable(head)
        if var is None or var.address is None:
            return None
        address, t = var.address, var.type
        if rest:
            m = var.type.member(rest)
            if m is None:
                return None
            address, t = address + m.offset, m.type
        if t.kind != "array" or t.element is None:
            return None
        element = t.element.scalar if t.element.kind == "array" else t.element
        if element.kind not in ("base", "enum") or element.byte_size not in (1, 2, 4, 8):
            return None
        length = t.length or 0
        base = 0 if length * PAGE >= self.phystop else KERNBASE  # indexed by pa / PGSIZE
        return RefcountArray(name, address, element.byte_size, element.signed, length, base=base)

    def _pointer_array(self, name: str) -> RefcountArray | None:
        """``T *name`` allocated at boot: an int array, or an array of structs
        with an integer counter field (``struct refcnt { int refcnt; ... } *refcnts``)."""
        var = self.kernel.variable(name)
        if var is None or var.address is None or var.type.kind != "pointer" \
                or var.type.target is None:
            return None
        target = var.type.target
        frames = (self.phystop - KERNBASE) // PAGE
        if target.kind == "base" and target.byte_size in (1, 2, 4, 8):
            return RefcountArray(f"*{name}", 0, target.byte_size, target.signed, frames,
                                 pointer=var.address)
        if target.kind == "struct" and target.byte_size:
            for member_name, member in target.members.items():
                t = member.type
                if t.kind == "base" and t.byte_size in (1, 2, 4, 8) and \
                        any(word in member_name.lower() for word in ("ref", "cnt", "count")):
                    return RefcountArray(f"{name}->{member_name}", 0, t.byte_size, t.signed,
                                         frames, target.byte_size, member.offset,
                                         pointer=var.address)
        return None

    def _find_refcounts(self, explicit: str | None) -> RefcountArray | None:
        frames = (self.phystop - KERNBASE) // PAGE
        if explicit:
            found = self._array(explicit) or self._pointer_array(explicit.lstrip("*"))
            if found is None:
                self.problems.append(f"--refcount-symbol {explicit}: no integer array (or "
                                     "pointer to one) by that name")
            return found
        for name in REFCOUNT_NAMES:
            found = self._array(name)
            if found is not None:
                return found
        # An integer array (or struct member array) with one entry per RAM frame,
        # or one per page of the physical address space (indexed by pa / PGSIZE);
        # a char array only when its name says it counts (stack0 is 32 KiB of char).
        lengths = (frames, self.phystop // PAGE)
        globals_ = list(self.kernel.global_variables())
        for name, var in globals_:
            candidates = [name] + [f"{name}.{m}" for m in var.type.members] \
                if var.type.kind == "struct" else [name]
            for candidate in candidates:
                found = self._array(candidate)
                if found is None or found.length not in lengths:
                    continue
                if found.element_size >= 2 or any(w in candidate.lower()
                                                  for w in ("ref", "cnt", "count")):
                    return found
        # A pointer to an array the kernel allocates at boot.
        for name, var in globals_:
            if "ref" in name.lower() or "cnt" in name.lower():
                found = self._pointer_array(name)
                if found is not None:
                    return found
        self.problems.append(
            "no refcount array found (tried " + ", ".join(REFCOUNT_NAMES[:6]) +
            ", ... and any int array with one entry per frame): name it with"
            " --refcount-symbol NAME (e.g. --refcount-symbol kmem.ref)")
        return None

    def refresh_refcounts(self) -> bool:
        """Follow a refcount pointer to where the array is now; True if it moved."""
        array = self.refcounts
        if array is None or array.pointer is None:
            return False
        base = self.machine.read_u64(array.pointer) or 0
        if not self.machine.bus.is_ram(base, 1):
            base = 0
        moved = base != array.address
        array.address = base
        return moved

    # --- reading state ----------------------------------------------------
    def read_page(self, address: int) -> bytes | None:
        return self.machine.read_physical(address, PAGE)

    def processes(self, include_unused: bool = False) -> list[ProcessInfo]:
        layout = self.procs
        if layout is None:
            return []
        data = self.machine.read_physical(layout.address, layout.count * layout.stride)
        if data is None:
            return []
        out = []
        o, s = layout.offsets, layout.sizes
        # (offset, size) of each member read, or None where the layout lacks it.
        fields = {m: (o[m], s[m]) if m in o else None
                  for m in ("state", "pid", "pagetable", "sz", "killed", "name")}

        def num(base: int, member: str, signed: bool = False) -> int:
            field = fields[member]
            if field is None:
                return 0
            start = base + field[0]
            return int.from_bytes(data[start:start + field[1]], "little", signed=signed)

        # Most slots are unused, and this runs at every return to user: skip
        # them by comparing bytes, without decoding.
        unused = self._unused_state_bytes(fields["state"]) if not include_unused else None
        for slot in range(layout.count):
            base = slot * layout.stride
            if unused is not None and data[base + unused[0]:base + unused[1]] == unused[2]:
                continue
            number = num(base, "state")
            state = layout.states.get(number) or str(number)
            if state == "UNUSED" and not include_unused:
                continue
            field = fields["name"]
            name_raw = data[base + field[0]:base + field[0] + field[1]] if field else b""
            name = name_raw.split(b"\0", 1)[0].decode("latin-1")
            out.append(ProcessInfo(slot, num(base, "pid", True), name, state,
                                   num(base, "pagetable"), num(base, "sz"),
                                   bool(num(base, "killed"))))
        return out

    def _unused_state_bytes(self, field: tuple[int, int] | None) -> tuple[int, int, bytes] | None:
        """(start, end, bytes) of the state member of a slot that is UNUSED."""
        numbers = [n for n, name in self.procs.states.items() if name == "UNUSED"]
        if field is None or len(numbers) != 1 or numbers[0] < 0:
            return None
        return field[0], field[0] + field[1], numbers[0].to_bytes(field[1], "little")

    def running_process(self, hart: int = 0) -> ProcessInfo | None:
        """The process a hart's kernel code runs for: xv6's ``cpus[hart].proc``
        (what myproc() returns); None without that array or when idle."""
        if self.procs is None:
            return None
        if not hasattr(self, "_cpu_proc"):
            var = self.kernel.variable("cpus")
            element = var.type.element if var is not None and var.type.kind == "array" else None
            member = element.member("proc") if element is not None else None
            self._cpu_proc = None if member is None or var.address is None else \
                (var.address + member.offset, element.byte_size or 0)
        if self._cpu_proc is None:
            return None
        address, stride = self._cpu_proc
        pointer = self.machine.read_u64(address + hart * stride) or 0
        layout = self.procs
        if not pointer or layout.stride <= 0 or (pointer - layout.address) % layout.stride:
            return None
        slot = (pointer - layout.address) // layout.stride
        return next((p for p in self.processes() if p.slot == slot), None)

    def process_by_root(self, root: int) -> ProcessInfo | None:
        for process in self.processes():
            if process.pagetable == root:
                return process
        return None

    def page_table(self, root: int) -> tuple[list[TablePage], list[Leaf]]:
        return walk_tree(self.read_page, root)

    def refcount(self, frame: int) -> int | None:
        array = self.refcounts
        if array is None:
            return None
        address = array.address_of(frame)
        if address is None:
            return None
        data = self.machine.read_physical(address, array.element_size)
        return int.from_bytes(data, "little", signed=array.signed) if data else None

    def all_refcounts(self) -> list[int] | None:
        """Every frame's refcount, index (pa - KERNBASE) >> 12."""
        array = self.refcounts
        if array is None or not array.address:
            return None
        skip = (KERNBASE - array.base) >> 12  # entries below RAM (an array indexed by pa)
        count = array.length - skip
        if count <= 0:
            return None
        data = self.machine.read_physical(array.address + skip * array.stride,
                                          count * array.stride)
        if data is None:
            return None
        code = {1: "b", 2: "h", 4: "i", 8: "q"}[array.element_size]
        code = code if array.signed else code.upper()
        if array.stride == array.element_size:
            return list(struct.unpack(f"<{count}{code}", data))
        tail = array.stride - array.field_offset - array.element_size
        layout = f"<{array.field_offset}x{code}{tail}x"
        return [value for (value,) in struct.iter_unpack(layout, data)]

    def free_frames(self, limit: int = 1 << 16) -> list[int]:
        """The free list, head first (bounded, so a corrupted list ends)."""
        if self.freelist_address is None:
            return []
        out = []
        node = self.machine.read_u64(self.freelist_address) or 0
        seen = set()
        while node and len(out) < limit and node not in seen:
            seen.add(node)
            out.append(node)
            node = self.machine.read_u64(node + self.run_next_offset) or 0
        return out

    def frame_kind(self, frame: int, table_pages: set[int], user_frames: set[int],
                   free: set[int]) -> str:
        if frame < self.kernel_end:
            return "kernel"
        if frame in table_pages:
            return "page-table"
        if frame in user_frames:
            return "user"
        if frame in free:
            return "free"
        return "other"
