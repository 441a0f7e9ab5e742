"""Time travel, the machine's half: checkpoints keyed by instruction count,
and deterministic replay from one of them to any later instruction.

A checkpoint is ``snapshot.capture_state`` (CPU, CSRs, devices, console)
plus the RAM pages that changed since the checkpoint before it; the first
one (the base) holds every page that is not zero. The RAM of checkpoint k is
the base with every later delta up to k laid over it: per page, the newest
version at or before k.

Changed pages: the engines and devices mark each RAM page they store into
(``Hart.take_dirty_pages``: the native core's byte map, the Python engines'
and DMA's set in the bus; fast store paths are emptied at every take, so a
page's next store marks it again). Of the marked pages, those whose bytes
differ from a shadow copy of RAM as at the latest checkpoint are kept,
zlib-compressed; identical contents are kept once. ``verify=True`` (tests)
also compares all of RAM with the shadow at every checkpoint and raises if
a page changed without a mark. The shadow costs the guest's RAM size once.

Replay is exact because nothing depends on the host: time is the
instruction count, and console input is replayed from the machine's log of
delivered input (``Machine.delivered_inputs``) at the instructions it was
delivered at.
"""

from __future__ import annotations

import bisect
import ctypes
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .snapshot import apply_state, capture_state

if TYPE_CHECKING:
    from .machine import Machine, RunResult

PAGE = 4096
BLOCK = 1 << 20
# Instructions between checkpoints: a step back replays half of it on average
# (bench/timetravel.py: 2 M gives a median step back of ~40 ms on the native core).
DEFAULT_EVERY = 2_000_000

_memcmp = ctypes.CDLL(None).memcmp
_memcmp.restype = ctypes.c_int
_memcmp.argtypes = (ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t)


def _address(buffer: bytearray) -> int:
    return ctypes.addressof((ctypes.c_char * len(buffer)).from_buffer(buffer))


@dataclass
class Checkpoint:
    icount: int
    state: dict[str, Any]             # snapshot.capture_state
    pages: dict[int, bytes]           # RAM page number -> its content (zlib), if it changed
    inputs_delivered: int             # len(machine.delivered_inputs) when taken
    halt_reason: str | None
    extra: Any = None                 # what the caller keeps with it (on_capture)


class Checkpoints:
    """Checkpoints of one machine, taken when ``maybe_capture`` finds one due."""

    def __init__(self, machine: Machine, every: int = DEFAULT_EVERY,
                 verify: bool = False) -> None:
        if every <= 0:
            raise ValueError("checkpoint interval must be a positive number of instructions")
        self.machine = machine
        self.every = every
        self.verify = verify
        ram = machine.bus.ram
        machine.take_dirty_pages()            # marks from now on
        self._shadow = bytearray(len(ram))         # RAM as at the latest checkpoint
        self._ram_address = _address(ram)
        self._shadow_address = _address(self._shadow)
        self._distinct: dict[bytes, bytes] = {}    # compressed page -> the one copy kept
        self._versions: dict[int, list[int]] = {}  # page -> indices of checkpoints holding it
        self.points: list[Checkpoint] = []
        # Called with each new checkpoint: a session keeps its observers' state in ``extra``.
        self.on_capture: Callable[[Checkpoint], None] | None = None
        self._append(self._keep_pages(self._scan()))  # the base: every page that is not zero

    # --- taking ------------------------------------------------------------------
    def _keep(self, page: memoryview) -> bytes:
        """A page as kept: compressed (xv6 junk-fills free pages and links them
        through their first word, so they differ yet compress to a few bytes)."""
        packed = zlib.compress(page, 1)
        return self._distinct.setdefault(packed, packed)

    def _keep_pages(self, numbers: list[int]) -> dict[int, bytes]:
        """These pages, kept; the shadow catches up."""
        ram, shadow = memoryview(self.machine.bus.ram), memoryview(self._shadow)
        pages = {}
        for page in numbers:
            span = slice(page * PAGE, (page + 1) * PAGE)
            pages[page] = self._keep(ram[span])
            shadow[span] = ram[span]
        return pages

    def _scan(self) -> list[int]:
        """Every RAM page that differs from the shadow: a pass over all of RAM."""
        ram, shadow, size = self._ram_address, self._shadow_address, len(self._shadow)
        changed = []
        for block in range(0, size, BLOCK):
            length = min(BLOCK, size - block)
            if _memcmp(ram + block, shadow + block, length):
                changed.extend(offset // PAGE for offset in range(block, block + length, PAGE)
                               if _memcmp(ram + offset, shadow + offset, PAGE))
        return changed

    def changed_pages(self) -> list[int]:
        """RAM pages that differ from the latest checkpoint. The marks are
        taken: the caller keeps or restores every page returned."""
        ram, shadow = self._ram_address, self._shadow_address
        changed = [page for page in sorted(self.machine.take_dirty_pages())
                   if _memcmp(ram + page * PAGE, shadow + page * PAGE, PAGE)]
        if self.verify:
            missed = set(self._scan()) - set(changed)
            if missed:
                raise AssertionError(f"RAM pages changed without a mark: {sorted(missed)[:8]}")
        return changed

    def _append(self, pages: dict[int, bytes]) -> Checkpoint:
        m = self.machine
        point = Checkpoint(m.icount, capture_state(m), pages, len(m.delivered_inputs),
                           m.halt_reason)
        index = len(self.points)
        for page in pages:
            self._versions.setdefault(page, []).append(index)
        self.points.append(point)
        if self.on_capture is not None:
            self.on_capture(point)
        return point

    def capture(self) -> Checkpoint:
        """A checkpoint now (the latest, if it is at this instruction already)."""
        if self.points[-1].icount == self.machine.icount:
            return self.points[-1]
        return self._append(self._keep_pages(self.changed_pages()))

    def due(self) -> bool:
        return self.machine.icount >= self.points[-1].icount + self.every

    def maybe_capture(self) -> Checkpoint | None:
        return self.capture() if self.due() else None

    # --- going back ----------------------------------------------------------------
    def index_at_or_before(self, icount: int) -> int:
        """The latest checkpoint at or before ``icount`` (the base if none)."""
        return max(0, bisect.bisect_right([p.icount for p in self.points], icount) - 1)

    def _content_at(self, page: int, index: int) -> bytes:
        versions = self._versions.get(page, ())
        at = bisect.bisect_right(versions, index) - 1
        return zlib.decompress(self.points[versions[at]].pages[page]) if at >= 0 else bytes(PAGE)

    def restore(self, index: int) -> None:
        """Put the machine back at checkpoint ``index``; later checkpoints are
        dropped (a replay takes them again)."""
        m = self.machine
        point = self.points[index]
        pages = set(self.changed_pages())
        for later in self.points[index + 1:]:
            pages.update(later.pages)
        ram, shadow = m.bus.ram, self._shadow
        for page in pages:
            content = self._content_at(page, index)
            ram[page * PAGE:(page + 1) * PAGE] = content
            shadow[page * PAGE:(page + 1) * PAGE] = content
        for later in self.points[index + 1:]:
            for page in later.pages:
                self._versions[page].pop()
        del self.points[index + 1:]
        apply_state(m, point.state)
        m.halt_reason = point.halt_reason
        m.exit_status = point.state["exit_status"]
        hart = m.hart
        hart.breakpoint_hit = None
        hart.resume_breakpoint = None
        if len(m.harts) == 1:  # with several, who sleeps is part of the schedule (restored)
            hart.idle_forever = False
        # Input delivered since the checkpoint is delivered again at the same
        # instructions; input still waiting stays scheduled after it.
        with m._lock:
            again = m.delivered_inputs[point.inputs_delivered:]
            del m.delivered_inputs[point.inputs_delivered:]
            m._inputs[:0] = again
            m._inputs.sort(key=lambda item: item.icount)

    # --- replay -------------------------------------------------------------------
    def run_to(self, target: int,
               run: Callable[[int], RunResult] | None = None) -> str:
        """Run forward to instruction ``target``, taking checkpoints on the way.
        ``run(max_instructions)`` runs the machine (default: ``machine.run``;
        a session passes its own). Breakpoints and stop requests do not end a
        replay; the guest exiting or idling for good does. Returns the reason."""
        m = self.machine
        run = run or (lambda budget: m.run(max_instructions=budget))
        while m.icount < target:
            next_due = self.points[-1].icount + self.every
            result = run(min(target, max(next_due, m.icount + 1)) - m.icount)
            self.maybe_capture()
            if result.reason in ("exit", "reset", "idle"):
                return result.reason
        return "budget"

    def go_to(self, target: int, run: Callable[[int], RunResult] | None = None) -> str:
        """The machine as it was (or will be) at instruction ``target``."""
        self.restore(self.index_at_or_before(target))
        return self.run_to(target, run)

    # --- cost -----------------------------------------------------------------------
    def memory_bytes(self) -> int:
        """Host memory held for time travel beyond the guest's RAM: the shadow,
        every kept page and the device states (the disk overlay's sectors are
        shared between checkpoints, so counted once)."""
        sectors = {id(data): len(data) for point in self.points
                   for data in point.state["devices"].get("virtio_blk", {}).get("overlay", {})
                   .values()}
        return len(self._shadow) + sum(map(len, self._distinct)) + sum(sectors.values()) + \
            sum(len(point.state["console"]) for point in self.points)
