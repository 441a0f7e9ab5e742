"""A debugging session: a scenario's machine, its introspection, its script.

The session owns the Machine, the KernelView and the Tracker, plays the
scenario's console script (each input typed at the exact instruction its
prompt appeared, so runs repeat), records the trace, and decides when a run
is over. The headless runner and the app both drive a Session; neither
touches the hart.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field

from machine.elf import ElfError
from machine.events import ConsoleOutput
from machine.introspect.events import (
    FaultResolved,
    PageFault,
    ProcessExited,
    ProcessForked,
    Violation,
)
from machine.introspect.kernel_view import KernelView
from machine.introspect.tracker import Tracker
from machine.machine import Machine, MachineConfig, RunResult

from .coverage import CowBitWatch, Gap, gaps, page_tables_known, rules_off
from .scenario import DISK_DRIVER, NEEDS_DISK, Scenario, ScenarioError
from .schedules import attach_race_tools

TRACE_EVENTS = (PageFault, FaultResolved, ProcessForked, ProcessExited, Violation)


@dataclass(frozen=True)
class Expectation:
    check: str     # what was expected, as the summary and reports name it
    held: bool
    kind: str      # 'stop', 'console', 'violations' or 'faults'


@dataclass
class Summary:
    instructions: int
    faults: Counter
    frames_copied: int
    violations: list[str]
    expectations: list[Expectation]
    end: str
    rules_off: list[str] = field(default_factory=list)  # rules this kernel let nobody check
    error: str | None = None     # why the run could not finish (interrupted, a fault storm)

    @property
    def passed(self) -> bool:
        return self.error is None and all(e.held for e in self.expectations)


BOOT_PROMPT = "$ "  # a boot snapshot is taken when the shell first prompts


@dataclass
class Session:
    scenario: Scenario
    warm: bool = False  # restore (or record) a boot snapshot at the first shell prompt
    checkpoint_every: int | None = None  # time travel's interval (None: the default, or off)
    machine: Machine = field(init=False)
    view: KernelView = field(init=False)
    tracker: Tracker = field(init=False)

    def __post_init__(self) -> None:
        s = self.scenario
        try:
            self.machine = Machine(MachineConfig(kernel=s.kernel, disk=s.disk, ram_mib=s.ram_mib,
                                                 harts=s.harts, quantum=s.quantum,
                                                 schedule_seed=s.schedule_seed, engine=s.engine))
        except (ElfError, ValueError, OSError) as error:
            raise ScenarioError(str(error).splitlines()[0]) from None
        if s.disk is None and self.machine.kernel.symbol(DISK_DRIVER) is not None:
            where = s.origins.get("disk", "disk")
            fix = "add --disk fs.img" if where.startswith("--kernel") else \
                "add disk: fs.img to the scenario"
            raise ScenarioError(f"{where}: {NEEDS_DISK}: {fix}")
        # Held by every run and by the gdb stub's accesses: one thread at a time.
        self.lock = threading.RLock()
        self.restored_boot = False
        self.snapshot_notice: str | None = None
        self._snapshot_due = False
        if self.warm and s.stop_at is None and s.schedule_kind != "pct":
            # (stop: {at: N} may name a moment of the boot; pct preempts during it)
            self._restore_boot()
        self.view = KernelView(self.machine, s.refcount_symbol, s.cow_bit)
        if s.refcount_symbol and self.view.refcounts is None:
            where = s.origins.get("refcount_symbol", "refcount_symbol")
            raise ScenarioError(f"{where}: no integer array (or pointer to one) named "
                                f"{s.refcount_symbol!r} in {s.kernel.name}")
        self.tracker = Tracker(self.machine, self.view)
        self.race_tools = attach_race_tools(self.machine, self.tracker, s)  # several harts
        self.cow_bits = CowBitWatch(self.machine.events, s.cow_bit)
        self.trace: list = []
        self.outcomes: Counter = Counter()
        self.step_index = 0
        self.since_input = ""     # console text since the last scripted input
        self.script_done = not s.console
        self.finished = False
        self.timetravel = None  # cowtui.timetravel.TimeTravel, once one is made for this session
        self.breakpoint_addresses = [self.resolve_location(b) for b in s.breakpoints]
        for address in self.breakpoint_addresses:
            self.machine.add_breakpoint(address)
        events = self.machine.events
        events.subscribe(ConsoleOutput, self._on_console)
        for kind in TRACE_EVENTS:
            events.subscribe(kind, self._record)
        if self.restored_boot:
            # the prompt was printed by the instruction before the snapshot
            self._advance_script(self.machine.console_text(), self.machine.icount - 1)

    # --- boot snapshots ------------------------------------------------------------
    def _restore_boot(self) -> None:
        from machine.snapshot import BootCache
        self.boot_cache = BootCache()
        restored, notice = self.boot_cache.restore(self.machine, BOOT_PROMPT)
        self.snapshot_notice = notice
        if notice is not None:  # a refused snapshot: start again from a fresh machine
            s = self.scenario
            self.machine = Machine(MachineConfig(kernel=s.kernel, disk=s.disk, ram_mib=s.ram_mib,
                                                 harts=s.harts, quantum=s.quantum,
                                                 schedule_seed=s.schedule_seed, engine=s.engine))
        self.restored_boot = restored
        self._snapshot_due = not restored

    def run(self, max_instructions: int | None = None, until=None) -> RunResult:
        """``machine.run``, plus taking the boot snapshot when its moment comes."""
        with self.lock:
            return self._run(max_instructions, until)

    def _run(self, max_instructions: int | None, until) -> RunResult:
        result = self.machine.run(max_instructions=max_instructions, until=until)
        if self.timetravel is not None:
            self.timetravel.after_run()  # a checkpoint, if one is due
        if result.reason == "stopped" and self._snapshot_taking:
            self._snapshot_taking = False
            self.boot_cache.store(self.machine, BOOT_PROMPT)
            if not self.finished:
                more = None if max_instructions is None else max_instructions - result.instructions
                if more is None or more > 0:
                    again = self._run(more, until)
                    return RunResult(again.reason, result.instructions + again.instructions)
        return result

    # --- locations ---------------------------------------------------------------
    def resolve_location(self, text: str) -> int:
        """A symbol, ``file:line`` or address, as a kernel address."""
        kernel = self.machine.kernel
        text = text.strip()
        try:
            return int(text, 0)
        except ValueError:
            pass
        symbol = kernel.symbol(text)
        if symbol is not None:
            return symbol.address
        if ":" in text:
            file, _, line = text.rpartition(":")
            if line.isdigit():
                address = kernel.address_of_line(file, int(line))
                if address is not None:
                    return address
        raise ScenarioError(f"breakpoint {text!r}: no such symbol, file:line or address")

    # --- the script and the trace ------------------------------------------------------
    _snapshot_taking = False

    def _on_console(self, event: ConsoleOutput) -> None:
        if self._snapshot_due and (self.since_input + event.text).endswith(BOOT_PROMPT):
            # the first prompt: snapshot at the next instruction boundary, before any input
            self._snapshot_due = False
            self._snapshot_taking = True
            self.machine.request_stop()
        self._advance_script(event.text, event.icount)

    def _advance_script(self, text: str, icount: int) -> None:
        self.since_input += text
        steps = self.scenario.console
        if self.step_index < len(steps):
            step = steps[self.step_index]
            if step.wait in self.since_input:
                # typed at the next instruction: the same instruction in every run
                self.machine.feed_console(step.type, at_icount=icount + 1)
                self.since_input = ""
                self.step_index += 1
                if self.step_index == len(steps):
                    self.script_done = True
        elif any(text in self.since_input for text in self.scenario.stop_console):
            self.finished = True
            self.machine.request_stop()

    def _record(self, event) -> None:
        self.trace.append(event)
        if isinstance(event, FaultResolved):
            self.outcomes[event.outcome] += 1
        if isinstance(event, Violation) and event.rule == "kernel-panic":
            self.finished = True  # a panicked kernel spins: nothing more to see
            self.machine.request_stop()

    # --- running ------------------------------------------------------------------------
    def budget_left(self) -> int:
        s = self.scenario
        end = s.stop_instructions if s.stop_at is None else min(s.stop_at, s.stop_instructions)
        return max(0, end - self.machine.icount)

    def at_stop_instruction(self) -> bool:
        """Whether the run is at the scenario's ``stop: {at: N}``."""
        return self.scenario.stop_at is not None and self.machine.icount >= self.scenario.stop_at

    def run_to_end(self, progress=None, ended=None) -> str:
        """Run headless until the scenario says stop; returns why it ended.
        ``ended()``, asked after every slice, may end it early by returning a reason.
        Whatever ended it, the rules see everything up to the last instruction."""
        try:
            return self._run_to_end(progress, ended)
        finally:
            self.tracker.finish()

    def _run_to_end(self, progress, ended) -> str:
        while True:
            budget = self.budget_left()
            if budget == 0:
                return "at" if self.at_stop_instruction() else "budget"
            budget = min(budget, 2_000_000)
            if self.timetravel is not None:  # end the slice where a checkpoint is due
                budget = min(budget, self.timetravel.due_in())
            result: RunResult = self.run(max_instructions=budget)
            if progress is not None:
                progress(self.machine.icount, self.scenario.stop_instructions)
            early = ended() if ended is not None else None
            if early is not None:
                return early
            if self.finished:
                return "stop"
            if result.reason in ("exit", "reset", "idle"):
                return result.reason
            # breakpoints only stop the app; headless runs straight through them

    def gaps(self) -> list[Gap]:
        """What this run cannot check, so far (see coverage)."""
        return gaps(self.view, self.cow_bits)

    def summary(self, end: str, error: str | None = None) -> Summary:
        s = self.scenario
        console = self.machine.console_text()
        rules = sorted({v.rule for v in self.tracker.violations})
        checks: list[Expectation] = []
        if s.stop_console and end not in ("stop", "at") and error is None:
            # the script or its stop text never came: what ran proves nothing about the rest
            checks.append(Expectation(f"the run reaches its stop text (it ended: {end})", False,
                                      "stop"))
        for line in s.expect_console:
            checks.append(Expectation(f"console shows {line!r}", line in console, "console"))
        if s.expect_violations is not None:
            wanted = set(s.expect_violations)
            checks.append(Expectation(f"violations == {sorted(wanted)}", set(rules) == wanted,
                                      "violations"))
        elif rules:
            checks.append(Expectation("no violations", False, "violations"))
        total = sum(self.outcomes.values())
        known = page_tables_known(self.view)  # else no fault's outcome can be told
        for outcome, expectation in s.expect_faults.items():
            count = total if outcome == "total" else self.outcomes[outcome]
            if known:
                checks.append(Expectation(f"faults {outcome} {expectation} (got {count})",
                                          expectation.holds(count), "faults"))
            else:
                checks.append(Expectation(
                    f"faults {outcome} {expectation} (not checked: no page tables)", False,
                    "faults"))
        return Summary(self.machine.icount, Counter(self.outcomes), self.outcomes["copied"],
                       rules, checks, end, rules_off(self.gaps()), error)
