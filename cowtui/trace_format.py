"""The one JSON trace format: ``--json``, the app's export and the reports.

Each event is one JSON object (one line in a ``.jsonl`` file) with ``event``
(its kind) and ``icount`` (the instruction count at which it happened).
Addresses, PTEs and causes are hex strings ("0x8000a000"); a pc also gets
its ``symbol`` ("cowfault+0x1c") and ``source`` ("kernel/trap.c:61"), null
where they are unknown (see locations.py). The README's "Trace format" section lists every field;
``TRACE_VERSION`` changes when a field changes meaning.
"""

from __future__ import annotations

import json
import re

from machine.introspect.events import (
    FaultResolved,
    PageFault,
    ProcessExited,
    ProcessForked,
    Violation,
)
from machine.trap import cause_name

from .locations import Locator

TRACE_VERSION = 1


def hex_or_none(value: int | None) -> str | None:
    return None if value is None else f"{value:#x}"


def event_name(event) -> str:
    """``PageFault`` -> ``page_fault``."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", type(event).__name__).lower()


def record(where: Locator, event) -> dict:
    """One trace event as the JSON object the format defines."""
    head = {"event": event_name(event), "icount": event.icount}
    if len(where.machine.harts) > 1:  # one hart: the records stay as they always were
        head["hart"] = event.hart
    if isinstance(event, PageFault):
        return {**head, "pid": event.pid, "process": event.name,
                "cause": cause_name(event.scause), "scause": f"{event.scause:#x}",
                "va": f"{event.stval:#x}", **where.locate(event.sepc, event.name),
                "pte_before": f"{event.pte_before:#x}"}
    if isinstance(event, FaultResolved):
        return {**head, "pid": event.pid, "fault_icount": event.fault_icount,
                "va": f"{event.va:#x}", "outcome": event.outcome,
                "pte_after": f"{event.pte_after:#x}", "new_frame": hex_or_none(event.new_frame)}
    if isinstance(event, ProcessForked):
        return {**head, "parent": event.parent, "child": event.child, "process": event.name}
    if isinstance(event, ProcessExited):
        return {**head, "pid": event.pid, "process": event.name}
    if isinstance(event, Violation):
        return {**head, "rule": event.rule, "message": event.message,
                **where.locate(event.pc),
                "frames": [f"{frame:#x}" for frame in event.frames],
                "ptes": [{"pid": pid, "va": f"{va:#x}"} for pid, va in event.ptes]}
    raise TypeError(f"not a trace event: {event!r}")


def summary_record(summary) -> dict:
    """The last record of a headless trace: how the run ended and what held."""
    return {"event": "summary", "version": TRACE_VERSION, "instructions": summary.instructions,
            "faults": dict(sorted(summary.faults.items())),
            "frames_copied": summary.frames_copied, "violations": summary.violations,
            "rules_off": summary.rules_off, "end": summary.end, "error": summary.error,
            "expectations": [{"check": e.check, "held": e.held, "kind": e.kind}
                             for e in summary.expectations],
            "passed": summary.passed}


def line(obj: dict) -> str:
    return json.dumps(obj, separators=(", ", ": "))


def jsonl(where: Locator, events: list) -> str:
    """A whole trace as JSON lines."""
    return "".join(line(record(where, e)) + "\n" for e in events)
