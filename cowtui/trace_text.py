"""The text trace: one line per page fault, per violation, and the summary line."""

from __future__ import annotations

from machine.introspect.events import FaultResolved, PageFault, Violation
from machine.trap import cause_name

from .session import Summary


def hart_tag(event, several_harts: bool) -> str:
    """`` hart N`` after an event's number on a machine of several harts;
    nothing with one hart (its lines stay as they always were)."""
    return f" hart {event.hart}" if several_harts else ""


def fault_line(fault: PageFault, resolved: FaultResolved | None,
               several_harts: bool = False) -> str:
    outcome = "unresolved" if resolved is None else resolved.outcome
    if resolved is not None and resolved.new_frame is not None:
        outcome += f" -> frame {resolved.new_frame:#x}"
    return (f"fault #{fault.icount}{hart_tag(fault, several_harts)} pid {fault.pid} {fault.name} "
            f"{cause_name(fault.scause)} va {fault.stval:#x} pc {fault.sepc:#x}: {outcome}")


def violation_line(v: Violation, several_harts: bool = False) -> str:
    return f"VIOLATION #{v.icount}{hart_tag(v, several_harts)} pc {v.pc:#x} [{v.rule}] {v.message}"


def summary_line(s: Summary) -> str:
    faults = " ".join(f"{k}={v}" for k, v in sorted(s.faults.items())) or "none"
    failed = ([s.error] if s.error else []) + [e.check for e in s.expectations if not e.held]
    verdict = "pass" if s.passed else "FAIL (" + "; ".join(failed) + ")"
    return (f"summary: instructions={s.instructions} faults: {faults} "
            f"frames-copied={s.frames_copied} violations: {', '.join(s.violations) or 'none'} "
            f"rules-off: {', '.join(s.rules_off) or 'none'} end={s.end} expectations: {verdict}")
