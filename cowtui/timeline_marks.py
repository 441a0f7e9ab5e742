"""What the timeline shows: the instructions of every fault, fork, refcount
change and violation the run has reached, kept across moves in time.

Runs are deterministic, so going back and running forward again meets the
same events at the same instructions: an event is recorded only when it is
later than the last one of its kind (a replay adds nothing), and nothing is
forgotten when the machine goes back, so the timeline still shows what lies
ahead of the moment gone to. (Typing different console input after going
back makes a different future; the marks beyond that point are then the old
run's until the new one passes them.)
"""

from __future__ import annotations

from array import array
from bisect import bisect_left

from machine.events import EventBus
from machine.introspect.events import (
    PageFault,
    ProcessForked,
    RefcountChanged,
    Violation,
)

# Kinds, most telling first: a column with several shows the first one.
KINDS = {"violation": Violation, "fork": ProcessForked, "fault": PageFault,
         "refcount": RefcountChanged}


class TimelineMarks:
    def __init__(self, events: EventBus, start: int = 0) -> None:
        self.start = start                       # the first instruction one can go to
        self.furthest = start                    # the latest instruction the run reached
        self.at: dict[str, array] = {kind: array("Q") for kind in KINDS}
        for kind, event_type in KINDS.items():
            events.subscribe(event_type, lambda event, kind=kind: self._record(kind, event))

    def _record(self, kind: str, event) -> None:
        marks = self.at[kind]
        if not marks or event.icount > marks[-1]:
            marks.append(event.icount)
        self.furthest = max(self.furthest, event.icount + 1)

    def reached(self, icount: int) -> None:
        self.furthest = max(self.furthest, icount)

    def count(self, kind: str, start: int, end: int) -> int:
        """How many instructions in [start, end) had an event of ``kind``."""
        marks = self.at[kind]
        return bisect_left(marks, end) - bisect_left(marks, start)

    def telling(self, start: int, end: int) -> tuple[str, int] | None:
        """The most telling kind marked in [start, end) (KINDS' order), with
        its first instruction there."""
        for kind, marks in self.at.items():
            i = bisect_left(marks, start)
            if i < len(marks) and marks[i] < end:
                return kind, marks[i]
        return None
