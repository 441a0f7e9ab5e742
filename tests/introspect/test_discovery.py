"""Introspection finds a kernel's structures through DWARF, never at fixed
offsets, and cowtui runs the xv6 platform paths our teaching kernel does not
use.

Every kernel here is built at test time from our own sources with build knobs
(machine/guest/kernel/param.h, `make variant`): struct proc in xv6-riscv's
layout (with DWARF 2, as xv6 builds) and in a shuffled one, other
process-table sizes, the refcount array
under other names, types and lengths (also as a field of kmem), COW in RSW
bit 9, and xv6's pre-2024 timer (CLINT mtimecmp, M-mode timervec forwarding
each tick as a supervisor software interrupt). Each runs on our Machine
through a Session: boot to the shell's `$ `, run `cowdemo`.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from elftools.elf.elffile import ELFFile

from cowtui.scenario import ConsoleStep, Scenario
from cowtui.session import Session
from machine.events import TrapTaken
from machine.guest import bundled_disk, bundled_kernel
from machine.introspect.events import ProcessExited, ProcessForked, PteChanged
from machine.introspect.profiles import REFCOUNT_NAMES
from machine.introspect.pte import PteFlags
from machine.trap import INTERRUPT_BIT, MACHINE, SUPERVISOR
from tests.guest.qemu_console import qemu_available, run_shell

pytestmark = pytest.mark.toolchain

GUEST = Path(__file__).resolve().parents[2] / "machine" / "guest"
CC = "riscv64-unknown-elf-gcc"
FRAMES = 128 * 1024 * 1024 // 4096   # the Machine's 128 MiB of RAM

# name -> build knobs (kernel/param.h)
VARIANTS = {
    # and DWARF 2, as xv6's Makefile asks: member offsets as DW_OP_plus_uconst
    "xv6-layout": "-DXV6_PROC_LAYOUT -DNPROC=64 -DREFCOUNT_NAME=ref_count -ggdb -gdwarf-2",
    "shuffled-kmem-ref": "-DSHUFFLED_PROC_LAYOUT -DNPROC=20 -DREFCOUNT_IN_KMEM -DREFCOUNT_NAME=ref",
    "short-by-length": "-DREFCOUNT_NAME=frame_users -DREFCOUNT_TYPE=short",
    "hidden-refcount": "-DREFCOUNT_NAME=page_users -DREFCOUNT_LEN=40000",
    "cow-bit-9": "-DRSW_COW_BIT=9 -DREFCOUNT_NAME=pgref",
    "indexed-by-pa": "-DREFCOUNT_BY_PA -DREFCOUNT_NAME=page_users",
    "cow-bit-9-text-bug": "-DRSW_COW_BIT=9 -DBUG_TEXT_BECOMES_WRITABLE",
    "clint-timer": "-DCLINT_TIMER",
}

# What the tracker reads from the process table during `cowdemo`, whatever the
# layout: forks (parent, child, name) and exits (pid, name).
PROCESS_EVENTS = [
    ("fork", 0, 1, "init"), ("fork", 1, 2, "init"), ("fork", 2, 3, "sh"),
    ("fork", 3, 4, "cowdemo"), ("exit", 4, "cowdemo"), ("exit", 3, "cowdemo"),
]
COWDEMO_OK = "cowdemo: ok, the parent's page is unchanged"

MTI = INTERRUPT_BIT | 7   # machine timer interrupt
SSI = INTERRUPT_BIT | 1   # supervisor software interrupt
STI = INTERRUPT_BIT | 5   # supervisor timer interrupt (Sstc)


@pytest.fixture(scope="session")
def kernels(tmp_path_factory):
    """Builds a variant on first use (a second or two), once per test session."""
    if shutil.which(CC) is None or shutil.which("make") is None:
        pytest.skip(f"{CC} not installed")
    out = tmp_path_factory.mktemp("kernels")
    built: dict[str, Path] = {}

    def build(name: str) -> Path:
        if name not in built:
            result = subprocess.run(
                ["make", "-C", str(GUEST), f"-j{os.cpu_count() or 2}", "variant", f"O={out}",
                 f"NAME={name}", f"CFLAGS_EXTRA={VARIANTS[name]}"],
                capture_output=True, text=True)
            assert result.returncode == 0, result.stdout + result.stderr
            built[name] = out / f"kernel-{name}.elf"
        return built[name]
    return build


def session(kernel: Path, *commands: str, halt: bool = False, **options) -> Session:
    steps = [ConsoleStep("$ ", c + "\n") for c in commands]
    if halt:
        steps.append(ConsoleStep("$ ", "halt\n"))
    return Session(Scenario(name=kernel.stem, path=None, kernel=kernel, disk=bundled_disk(),
                            console=steps, stop_console=[] if halt else ["$ "],
                            stop_instructions=40_000_000, **options))


def run_cowdemo(kernel: Path, **options) -> Session:
    s = session(kernel, "cowdemo", **options)
    assert s.run_to_end() == "stop", s.machine.console_text()[-2000:]
    return s


def process_events(s: Session) -> list[tuple]:
    return [("fork", e.parent, e.child, e.name) if isinstance(e, ProcessForked)
            else ("exit", e.pid, e.name)
            for e in s.trace if isinstance(e, (ProcessForked, ProcessExited))]


def assert_cowdemo_worked(s: Session) -> None:
    """Console, processes and faults as the teaching kernel gives them."""
    console = s.machine.console_text()
    assert COWDEMO_OK in console
    assert "cowdemo: parent pid 3 wrote" in console and "cowdemo: child pid 4 reads" in console
    assert process_events(s) == PROCESS_EVENTS
    assert [(p.pid, p.name, p.state) for p in s.view.processes()] == \
        [(1, "init", "SLEEPING"), (2, "sh", "RUNNING")]
    assert s.outcomes["copied"] >= 1


def assert_clean(s: Session) -> None:
    assert s.view.problems == []
    assert [(v.rule, v.message) for v in s.tracker.violations] == []


@pytest.fixture(scope="module")
def default_layout():
    """struct proc as our teaching kernel lays it out (read without running)."""
    view = session(bundled_kernel()).view
    assert view.procs is not None
    return view.procs


# --- struct proc -----------------------------------------------------------------------

def dwarf_versions(kernel: Path) -> set[int]:
    with kernel.open("rb") as f:
        return {cu.header.version for cu in ELFFile(f).get_dwarf_info().iter_CUs()}


def test_xv6_layout_is_read_from_dwarf(kernels, default_layout) -> None:
    kernel = kernels("xv6-layout")
    assert dwarf_versions(kernel) == {2}
    s = run_cowdemo(kernel)
    layout = s.view.procs
    # xv6-riscv's own numbers (../shared/xv6-platform.md), plus our one extra member
    assert (layout.count, layout.stride) == (64, 368)
    assert {m: layout.offsets[m] for m in ("state", "killed", "pid", "sz", "pagetable", "name")} \
        == {"state": 24, "killed": 40, "pid": 48, "sz": 72, "pagetable": 80, "name": 344}
    assert (layout.count, layout.stride, layout.offsets["name"]) != \
        (default_layout.count, default_layout.stride, default_layout.offsets["name"])
    assert layout.states == default_layout.states
    assert s.view.refcounts is not None and s.view.refcounts.name == "ref_count"
    assert_cowdemo_worked(s)
    assert_clean(s)


def test_shuffled_layout_and_refcount_in_kmem(kernels, default_layout) -> None:
    kernel = kernels("shuffled-kmem-ref")
    s = session(kernel, "cowdemo")
    during: list = []   # the process table while cowdemo's child runs

    def snapshot(event: ProcessForked) -> None:
        if event.child == 4:
            during.extend((p.pid, p.name, p.state) for p in s.view.processes())
    s.machine.events.subscribe(ProcessForked, snapshot)
    assert s.run_to_end() == "stop"

    layout = s.view.procs
    assert layout.count == 20 and layout.count != default_layout.count
    for member in ("pid", "state", "pagetable", "sz", "name", "killed"):
        assert layout.offsets[member] != default_layout.offsets[member], member
    assert layout.offsets["name"] == 0
    assert {pid: name for pid, name, _ in during} == {1: "init", 2: "sh", 3: "cowdemo",
                                                       4: "cowdemo"}
    array = s.view.refcounts
    assert array is not None and array.name == "kmem.ref"
    assert (array.length, array.element_size) == (FRAMES, 4)
    kmem = s.view.kernel.symbol("kmem")
    assert kmem.address < array.address < kmem.address + kmem.size
    assert_cowdemo_worked(s)
    assert_clean(s)


# --- the refcount array ----------------------------------------------------------------

def test_refcount_array_found_by_length_and_type(kernels) -> None:
    assert "frame_users" not in REFCOUNT_NAMES   # so only its shape can find it
    s = run_cowdemo(kernels("short-by-length"))
    array = s.view.refcounts
    assert array is not None and array.name == "frame_users"
    assert (array.length, array.element_size, array.signed) == (FRAMES, 2, True)
    assert_cowdemo_worked(s)
    assert_clean(s)


def test_refcount_array_indexed_by_physical_address(kernels) -> None:
    # int page_users[PHYSTOP / PGSIZE], indexed by pa / PGSIZE: found by its
    # length, read with index 0 at physical address 0, and every rule holds.
    assert "page_users" not in REFCOUNT_NAMES
    s = run_cowdemo(kernels("indexed-by-pa"))
    array = s.view.refcounts
    assert array is not None and array.name == "page_users"
    assert (array.length, array.base) == ((0x8000_0000 + (FRAMES << 12)) >> 12, 0)
    assert s.view.refcount(0x8000_0000 + (FRAMES << 12) - 4096) is not None
    assert_cowdemo_worked(s)
    assert_clean(s)


def test_refcount_array_not_found_then_named(kernels) -> None:
    kernel = kernels("hidden-refcount")
    assert "page_users" not in REFCOUNT_NAMES
    s = run_cowdemo(kernel)
    assert s.view.refcounts is None
    assert len(s.view.problems) == 1
    problem = s.view.problems[0]
    assert "refcount" in problem and "--refcount-symbol" in problem
    # everything that does not need the refcounts still works
    assert_cowdemo_worked(s)
    assert s.outcomes["made-writable"] >= 1
    assert s.tracker.violations == []

    named = run_cowdemo(kernel, refcount_symbol="page_users")
    array = named.view.refcounts
    assert array is not None and (array.name, array.length) == ("page_users", 40000)
    assert named.view.refcount(named.view.kernel_end) is not None
    assert_cowdemo_worked(named)
    assert_clean(named)
    assert dict(named.outcomes) == dict(s.outcomes)


# --- COW in RSW bit 9 -------------------------------------------------------------------

def test_cow_bit_9(kernels) -> None:
    s = session(kernels("cow-bit-9"), "cowdemo", cow_bit=9)
    changes: list[PteChanged] = []
    s.machine.events.subscribe(PteChanged, changes.append)
    assert s.run_to_end() == "stop"
    assert s.view.refcounts is not None and s.view.refcounts.name == "pgref"
    assert_cowdemo_worked(s)
    assert_clean(s)
    made_cow = [c for c in changes if PteFlags(c.new, 9).cow and not PteFlags(c.old, 9).cow]
    assert made_cow, "fork marked no PTE copy-on-write in bit 9"
    assert all(not PteFlags(c.new, 9).writable for c in made_cow)
    # told the wrong bit, the debugger sees no COW page at all
    assert not any(PteFlags(c.new, 8).cow for c in changes)


@pytest.mark.parametrize("cow_bit, caught", [(9, True), (8, False)])
def test_cow_bit_flag_decides_what_is_caught(kernels, cow_bit: int, caught: bool) -> None:
    """text-becomes-writable with COW in bit 9: told 9, the rule fires at the
    fork; told 8, the bug goes unseen."""
    s = run_cowdemo(kernels("cow-bit-9-text-bug"), cow_bit=cow_bit)
    rules = {v.rule for v in s.tracker.violations}
    assert ("cow-on-readonly" in rules) is caught, rules
    assert COWDEMO_OK in s.machine.console_text()


# --- xv6's pre-2024 CLINT timer -----------------------------------------------------

@pytest.fixture(scope="module")
def clint_run(kernels):
    kernel = kernels("clint-timer")
    s = session(kernel, "cowdemo", halt=True)
    traps: list[TrapTaken] = []
    s.machine.events.subscribe(TrapTaken, traps.append)
    assert s.run_to_end() == "exit", s.machine.console_text()[-2000:]
    return kernel, s, traps


def test_clint_timer_on_our_machine(clint_run) -> None:
    _, s, traps = clint_run
    causes = {(t.cause, t.to_privilege) for t in traps if t.cause & INTERRUPT_BIT}
    assert (MTI, MACHINE) in causes          # mtimecmp reached: timervec in M-mode
    assert (SSI, SUPERVISOR) in causes       # the tick it forwarded
    assert not any(t.cause == STI for t in traps)   # no Sstc
    assert s.machine.hart.csr.menvcfg >> 63 == 0
    ticks = s.view.kernel.symbol("ticks")
    assert s.machine.read_u64(ticks.address) > 10
    assert_cowdemo_worked(s)
    assert_clean(s)


@pytest.mark.qemu
@pytest.mark.skipif(not qemu_available(), reason="qemu-system-riscv64 not installed")
def test_clint_timer_transcript_matches_qemu(clint_run) -> None:
    kernel, s, _ = clint_run
    reference = run_shell(kernel, "cowdemo", disk=bundled_disk(), timeout=60)
    assert reference.returncode == 0, reference.transcript[-2000:]
    clean = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\r")
    ours = clean.sub("", s.machine.console_text())
    assert ours == clean.sub("", reference.transcript)
    assert COWDEMO_OK in ours
