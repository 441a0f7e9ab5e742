"""Frame rules wait while another process is in the middle of changing the
frame: preempted in the kernel between kfree and clearing the PTE (uvmunmap),
it leaves a freed frame mapped while others return to user mode (real xv6's
usertests sbrkfail gave false maps-free-frame findings that way)."""

from __future__ import annotations

from dataclasses import replace

from cowtui.scenario import find_scenario, load_scenario
from cowtui.session import Session

FRAME, OTHER = 0x8700_0000, 0x8700_1000


def test_a_frame_changed_in_an_entry_still_open_waits_until_that_entry_ends() -> None:
    session = Session(load_scenario(find_scenario("default")))
    session.run(max_instructions=2_000_000)  # past the first processes
    tracker = session.tracker
    pid = min(tracker.processes)
    tracker.in_kernel.clear()               # only this process's entry is open
    tracker.processes[pid] = replace(tracker.processes[pid], state="RUNNABLE")
    tracker._set_in_kernel(pid, True)       # trapped in, then preempted
    tracker.touched_in[FRAME] = tracker._in_kernel_now
    assert tracker._settled({FRAME, OTHER}) == {OTHER}
    assert tracker.in_flight == {FRAME}     # checked again at the next quiescent point
    tracker.in_flight.clear()
    tracker.processes[pid] = replace(tracker.processes[pid], state="SLEEPING")
    assert tracker._settled({FRAME}) == {FRAME}   # asleep: not in the middle of a change
    tracker.processes[pid] = replace(tracker.processes[pid], state="RUNNABLE")
    tracker._set_in_kernel(pid, False)      # back in user mode: that operation ended
    tracker._set_in_kernel(pid, True)       # a later entry is another operation
    assert tracker._settled({FRAME}) == {FRAME}
    assert not tracker.in_flight
