"""Each ``monitor`` command on the teaching kernel stopped in cowfault, read
through the same session the stub serves (output checked against the
machine's own state)."""

from __future__ import annotations

import re

import pytest

from cowtui.gdbstub.monitor import HELP, Monitor
from cowtui.gdbstub.target import Target
from cowtui.history import PteHistory
from cowtui.scenario import BUNDLED_DIR, load_scenario
from cowtui.session import Session
from machine.introspect.pte import pte_frame


@pytest.fixture(scope="module")
def at_cowfault():
    scenario = load_scenario(BUNDLED_DIR / "default.yaml")
    session = Session(scenario)
    target = Target(session)
    monitor = Monitor(session, PteHistory(session.machine.events), target.current_pid)
    assert target.insert_breakpoint(session.machine.symbol("cowfault"))
    assert target.resume(lambda: False).kind == "breakpoint"
    return session, target, monitor


def test_pte_of_the_faulting_page(at_cowfault) -> None:
    session, target, monitor = at_cowfault
    stval = session.machine.read_csr("stval")
    text = monitor.run(f"pte {stval:#x}")
    pid = target.current_pid()
    assert text.startswith(f"pid {pid}  va {stval & ~0xFFF:#x}  (4 KiB page, L0 entry at ")
    assert "COW" in text.splitlines()[1]
    assert monitor.run(f"pte {stval:#x} {pid}") == text
    assert "no process with pid 999" in monitor.run(f"pte {stval:#x} 999")
    assert "VA: 'x' is not a number" in monitor.run("pte x")


def test_vmprint_refcount_frames_faults_phys(at_cowfault) -> None:
    session, target, monitor = at_cowfault
    view = session.view
    process = next(p for p in view.processes() if p.pid == target.current_pid())
    table = monitor.run("vmprint")
    assert f"page table {process.pagetable:#018x}" in table
    leaves = [line for line in table.splitlines() if line.startswith(" .. .. ..")]
    assert leaves and len(leaves) == len(view.page_table(process.pagetable)[1])
    frame = pte_frame(int(re.search(r"pte (0x[0-9a-f]+)", leaves[0]).group(1), 16))
    line = monitor.run(f"refcount {frame + 0x123:#x}")
    assert line.startswith(f"frame {frame:#x}") and f"refcount {view.refcount(frame)}" in line
    frames = monitor.run("frames")
    assert "frames from 0x80000000" in frames and "user frames by refcount" in frames
    faults = monitor.run("faults 1")
    assert faults.startswith("1 page fault(s), the last 1:\nfault #")
    assert "store/AMO page fault" in faults and faults.rstrip().endswith("unresolved")
    dump = monitor.run("phys 0x80000000 20").splitlines()
    raw = session.machine.read_physical(0x80000000, 20)
    assert len(dump) == 2 and dump[0].split()[1:17] == [f"{b:02x}" for b in raw[:16]]
    assert "LEN must be 1 to 4096" in monitor.run("phys 0x80000000 0")
    assert "is not all RAM" in monitor.run("phys 0x10 4")
    assert monitor.run("help") == HELP == monitor.run("")
