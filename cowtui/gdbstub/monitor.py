"""``monitor`` commands: what no other stub knows about copy-on-write.

Each command reads the machine through the session's introspection (the
KernelView, the Tracker, the invariant functions) and formats with the text
the app's panes already use (PTE inspector, frames pane, trace lines), so
gdb and the app say the same thing the same way. Output is plain text.
"""

from __future__ import annotations

import shlex
from collections import Counter
from collections.abc import Callable

from machine.introspect.events import FaultResolved, PageFault
from machine.introspect.invariants import check_frames, check_pte_change
from machine.introspect.pagetable import vmprint
from machine.introspect.pte import is_user_leaf

from ..history import PteHistory
from ..pte_details import pte_details
from ..session import Session
from ..trace_text import fault_line
from ..view_state import KIND_NAMES, FrameMap, ViewStateBuilder, address_spaces
from ..widgets.frames import describe
from ..widgets.pte_inspector import history_text, sharers_text, summary_text

HELP = """\
cowtui monitor commands (monitor NAME ARGS; numbers in C syntax, 0x... or decimal):
  pte VA [PID]     the PTE mapping VA (default: the running process): flags, COW bit,
                   frame, refcount, every PTE sharing the frame, its history
  vmprint [PID]    the process's page table, as xv6's vmprint() prints it
  refcount PA      the frame holding PA: its kind, refcount, the PTEs mapping it, and
                   where its refcount lives (to watch it)
  frames           frames by kind and refcount; the shared ones listed
  faults [N]       the last N page faults (default 10) and how each was resolved
  check            every COW invariant over every process now: findings or "no violation"
  phys ADDR LEN    hex dump of physical memory (at most 4096 bytes)
  help             this list
"""

LIST_LIMIT = 64


class MonitorError(Exception):
    """Bad arguments: the message is shown to the user."""


def number(text: str, what: str) -> int:
    try:
        return int(text, 0)
    except ValueError:
        raise MonitorError(f"{what}: {text!r} is not a number") from None


class Monitor:
    def __init__(self, session: Session, history: PteHistory,
                 current_pid: Callable[[], int | None]) -> None:
        self.session = session
        self.view = session.view
        self.history = history
        self.current_pid = current_pid
        self.builder = ViewStateBuilder(session, history)
        self.commands: dict[str, Callable[[list[str]], str]] = {
            "help": lambda args: HELP, "pte": self.pte, "vmprint": self.vmprint,
            "refcount": self.refcount, "frames": self.frames, "faults": self.faults,
            "check": self.check, "phys": self.phys}

    def run(self, line: str) -> str:
        """The output of one command line (an error is output too)."""
        try:
            words = shlex.split(line)
        except ValueError as error:
            return f"monitor: {error}\n"
        if not words:
            return HELP
        command = self.commands.get(words[0])
        if command is None:
            return f"monitor: unknown command {words[0]!r} (monitor help lists them)\n"
        try:
            with self.session.lock:
                return command(words[1:])
        except MonitorError as error:
            return f"monitor {words[0]}: {error}\n"

    # --- helpers ---------------------------------------------------------------
    def _pid(self, args: list[str], index: int) -> int:
        if len(args) > index:
            return number(args[index], "PID")
        pid = self.current_pid()
        if pid is None:
            raise MonitorError("no process is running now: give a PID")
        return pid

    def _process(self, pid: int):
        process = next((p for p in self.view.processes() if p.pid == pid), None)
        if process is None or not process.pagetable:
            raise MonitorError(f"no process with pid {pid} and a page table")
        return process

    def _frames(self) -> FrameMap:
        counts = self.builder.refcount_bytes()
        spaces = address_spaces(self.view, self.view.processes(), frozenset(), counts)
        return self.builder.frames(counts, spaces)

    @staticmethod
    def _arity(args: list[str], low: int, high: int, usage: str) -> None:
        if not low <= len(args) <= high:
            raise MonitorError(f"usage: {usage}")

    # --- the commands ------------------------------------------------------------
    def pte(self, args: list[str]) -> str:
        self._arity(args, 1, 2, "pte VA [PID]")
        va = number(args[0], "VA")
        pid = self._pid(args, 1)
        self._process(pid)
        details = pte_details(self.session, self.history, self._frames(), pid, va)
        if details is None:
            raise MonitorError(f"pid {pid} has gone")
        parts = [summary_text(details).plain.rstrip("\n")]
        if details.pte & 1:
            parts.append(sharers_text(details).plain.rstrip("\n"))
        parts.append(history_text(details).plain.rstrip("\n"))
        return "\n".join(parts) + "\n"

    def vmprint(self, args: list[str]) -> str:
        self._arity(args, 0, 1, "vmprint [PID]")
        process = self._process(self._pid(args, 0))
        return f"pid {process.pid} ({process.name})\n" + vmprint(self.view.read_page,
                                                                 process.pagetable)

    def refcount(self, args: list[str]) -> str:
        self._arity(args, 1, 1, "refcount PA")
        frame = number(args[0], "PA") & ~0xFFF
        text = describe(self._frames(), frame, self.view.cow_bit).plain
        array = self.view.refcounts
        if array is None:
            text += "  (this kernel's refcount array was not found)"
        elif (address := array.address_of(frame)) is not None:
            # what to watch: watch *(int *)ADDR
            text += f"\n  {array.name}'s entry for it at {address:#x} ({array.element_size} bytes)"
        return text + "\n"

    def frames(self, args: list[str]) -> str:
        self._arity(args, 0, 0, "frames")
        frames = self._frames()
        kinds = Counter(KIND_NAMES[k] for k in frames.kinds)
        lines = [f"{len(frames.kinds)} frames from {frames.base:#x}: " +
                 ", ".join(f"{count} {kind}" for kind, count in kinds.most_common())]
        if frames.exact:
            counts = Counter(frames.refcount(frames.base + (i << 12))
                             for i, kind in enumerate(frames.kinds) if KIND_NAMES[kind] == "user")
            lines.append("user frames by refcount: " + ", ".join(
                f"{count} x {n}" for n, count in sorted(counts.items(), key=lambda c: c[0] or 0)))
        else:
            lines.append("no refcount array found: refcounts unknown")
        shared = sorted(f for f, users in frames.mappings.items() if len(users) > 1)
        lines.append(f"{len(shared)} frame(s) mapped by more than one PTE" +
                     (":" if shared else ""))
        lines += ["  " + describe(frames, f, self.view.cow_bit).plain for f in shared[:LIST_LIMIT]]
        if len(shared) > LIST_LIMIT:
            lines.append(f"  ... and {len(shared) - LIST_LIMIT} more")
        return "\n".join(lines) + "\n"

    def faults(self, args: list[str]) -> str:
        self._arity(args, 0, 1, "faults [N]")
        count = number(args[0], "N") if args else 10
        resolved = {e.fault_icount: e for e in self.session.trace if isinstance(e, FaultResolved)}
        faults = [e for e in self.session.trace if isinstance(e, PageFault)]
        if not faults:
            return "no page fault yet\n"
        shown = faults[-count:] if count > 0 else []
        lines = [fault_line(f, resolved.get(f.icount)) for f in shown]
        return f"{len(faults)} page fault(s), the last {len(shown)}:\n" + "\n".join(lines) + "\n"

    def check(self, args: list[str]) -> str:
        """Every process's page table walked afresh (not the tracker's
        incremental index), then the frame rules and the per-PTE rules."""
        self._arity(args, 0, 0, "check")
        view = self.view
        mappings: dict[int, list[tuple[int, int, int]]] = {}
        findings = []
        processes = [p for p in view.processes() if p.pagetable]
        for process in processes:
            for leaf in view.page_table(process.pagetable)[1]:
                if is_user_leaf(leaf.pte):
                    mappings.setdefault(leaf.frame, []).append((process.pid, leaf.va, leaf.pte))
                    findings += check_pte_change(process.pid, leaf.va, 0, leaf.pte, view.cow_bit)
        findings += check_frames(mappings, view.refcount, view.cow_bit)
        scope = (f"checked {len(processes)} process(es), {len(mappings)} user frame(s)"
                 + ("" if view.refcounts is not None else "; refcounts unknown (no array found)"))
        if not findings:
            return f"{scope}: no violation\n"
        return scope + f": {len(findings)} violation(s)\n" + "\n".join(
            f"  [{f.rule}] {f.message}" for f in findings) + "\n"

    def phys(self, args: list[str]) -> str:
        self._arity(args, 2, 2, "phys ADDR LEN")
        address, length = number(args[0], "ADDR"), number(args[1], "LEN")
        if not 0 < length <= 4096:
            raise MonitorError("LEN must be 1 to 4096")
        data = self.session.machine.read_physical(address, length)
        if data is None:
            raise MonitorError(f"{address:#x}+{length:#x} is not all RAM")
        lines = []
        for offset in range(0, length, 16):
            row = data[offset:offset + 16]
            text = "".join(chr(b) if 32 <= b < 127 else "." for b in row)
            lines.append(f"{address + offset:#012x}: {row.hex(' '):<47}  {text}")
        return "\n".join(lines) + "\n"
