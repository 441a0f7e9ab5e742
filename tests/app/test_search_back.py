"""Pilot tests of C, the search back through the history for where c would
have stopped: it lands on the previous breakpoint hit, shows its progress in
the status bar, and space stops it."""

from __future__ import annotations

import re
import threading

from cowtui.widgets.faults import FaultTable
from cowtui.widgets.status_bar import StatusBar
from machine.introspect.events import PageFault

from .conftest import SIZE, finish_run, make_app, run_until


async def test_back_to_the_previous_breakpoint_hit():
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("b", *"kfree", "enter")
        kfree = app.session.resolve_location("kfree")
        await pilot.press("c")
        await finish_run(pilot)
        first = app.session.machine.icount
        assert app.session.machine.pc == kfree
        await pilot.press("c")
        await finish_run(pilot)
        second = app.session.machine.icount
        assert second > first and app.session.machine.pc == kfree

        await pilot.press("C")                     # back: the hit before this one
        await finish_run(pilot)
        assert app.session.machine.icount == first and app.session.machine.pc == kfree
        assert f"back at the breakpoint at #{first:,}" in app.query_one(StatusBar).plain()
        assert "kfree" in app.last_stop.message
        await pilot.press("C")                     # nothing earlier: the history's start
        await finish_run(pilot)
        assert app.session.machine.icount == app.timetravel.checkpoints.points[0].icount
        assert "first instruction the history keeps" in app.query_one(StatusBar).plain()


async def test_a_long_search_back_shows_progress_and_space_stops_it():
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("c")                      # to the scenario's end
        await finish_run(pilot)
        end = app.session.machine.icount
        await pilot.press("b", *"panic", "enter")   # never hit in this run
        # The search reports each stretch of the history it has replayed; the
        # first report waits here until space has been pressed, so the key
        # surely comes in the middle of the search.
        pressed = threading.Event()
        reported = app._search_progress

        def progress(searched_from: int, now: int) -> None:
            reported(searched_from, now)
            pressed.wait(60)
        app._search_progress = progress
        status = app.query_one(StatusBar)
        await pilot.press("C")
        await run_until(pilot, lambda: "searching back: #" in status.plain())
        searched = re.search(r"searching back: #([\d,]+) to #([\d,]+) searched", status.plain())
        assert searched and int(searched.group(2).replace(",", "")) == end
        await pilot.press("space")
        pressed.set()
        await finish_run(pilot)

        landed = int(searched.group(1).replace(",", ""))
        assert 0 < landed < end and app.session.machine.icount == landed
        assert app.last_stop.message == ("stopped searching back for a breakpoint hit or "
                                         f"violation: none between #{landed:,} and #{end:,}")
        faults = [e for e in app.session.trace if isinstance(e, PageFault)]
        assert app.query_one(FaultTable).row_count == len(faults)   # the panes show that moment
        assert all(f.icount < landed for f in faults)
