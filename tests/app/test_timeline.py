"""Pilot tests of the timeline (t): scrubbing with keys and a click go to
the moment under the cursor, and the panes show that moment."""

from __future__ import annotations

from cowtui.widgets.faults import FaultTable
from cowtui.widgets.status_bar import StatusBar
from cowtui.widgets.timeline import Timeline

from .conftest import SIZE, finish_run, make_app
from .test_keys import cells

FAULTS = (1_716_484, 2_305_604, 3_576_034)   # the default scenario's page faults
FORKS = (869_942, 884_419, 1_040_397, 1_714_502)   # its forks


async def test_scrub_with_keys_and_click_to_go_there():
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        timeline = app.query_one(Timeline)
        assert not timeline.display                  # hidden until asked for
        await pilot.press("c")                       # the whole run: every mark is known
        await finish_run(pilot)
        end = app.session.machine.icount
        await pilot.press("t")
        await pilot.pause()
        assert timeline.display and timeline.has_focus
        row = timeline.render().plain.splitlines()[0]
        assert row.count("Y") == len(FORKS) and "·" in row   # refcount changes
        # cowdemo forks 2 k instructions before its first fault: one column, the fork shown
        assert timeline.column_of(FORKS[-1]) == timeline.column_of(FAULTS[0])
        assert [row[timeline.column_of(f)] for f in FAULTS] == ["Y", "f", "f"]

        await pilot.press("home")                    # from the start, mark by mark to a fault
        while row[timeline.cursor] != "f":
            column = timeline.cursor
            await pilot.press("right_square_bracket")
            assert timeline.cursor > column and row[timeline.cursor] != "─"
        assert "1 fault" in timeline.describe(timeline.cursor)
        await pilot.press("enter")
        await finish_run(pilot)
        assert app.session.machine.icount == FAULTS[1] + 1   # where f would have stopped
        status = app.query_one(StatusBar).plain()
        assert f"fault at #{FAULTS[1]:,} (from the timeline)" in status
        faults = app.query_one(FaultTable)
        assert faults.row_count == 2 and cells(faults, str(FAULTS[1]))[4] == "handling..."
        # the timeline still shows what lies ahead; 'now' is the column gone to
        assert timeline.render().plain.splitlines()[0] == row
        assert timeline.cursor_column() == timeline.column_of(FAULTS[1])

        await pilot.press("left_square_bracket")      # back a mark: the fork before it
        assert row[timeline.cursor] == "Y"
        await pilot.click(Timeline, offset=(timeline.column_of(FAULTS[0]), 0))  # a click
        await finish_run(pilot)
        assert app.session.machine.icount == FORKS[-1] + 1
        assert f"fork at #{FORKS[-1]:,}" in app.query_one(StatusBar).plain()
        assert faults.row_count == 0 and "4" in app.query_one("#processes").rows

        blank = next(c for c in range(timeline.columns()) if row[c] == "─")
        start = timeline.span(blank)[0]
        await pilot.click(Timeline, offset=(blank, 0))   # nothing there: its first instruction
        await finish_run(pilot)
        assert app.session.machine.icount == start
        assert f"at #{start:,} (from the timeline)" in app.query_one(StatusBar).plain()
        assert app.session.machine.icount < end

        await pilot.press("t")                       # t again, focused: hidden, out of the way
        assert not timeline.display and not timeline.can_focus


async def test_a_violation_is_marked_and_gone_back_to():
    app = make_app("bug-text-becomes-writable")   # caught by cow-on-readonly at its end
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("c")
        await finish_run(pilot)
        (violation,) = app.session.tracker.violations
        await pilot.press("t")
        await pilot.pause()
        timeline = app.query_one(Timeline)
        row = timeline.render().plain.splitlines()[0]
        assert row.count("!") == 1 and row[timeline.column_of(violation.icount)] == "!"
        await pilot.press("home", "enter")           # to the start of the run...
        await finish_run(pilot)
        assert app.session.machine.icount == timeline.span(0)[0]
        assert not app.session.tracker.violations
        await pilot.press("end", "enter")            # ...and to the violation again
        await finish_run(pilot)
        assert app.session.machine.icount == violation.icount + 1
        assert f"violation at #{violation.icount:,}" in app.query_one(StatusBar).plain()
        assert [v.rule for v in app.session.tracker.violations] == ["cow-on-readonly"]
