"""Snapshot tests (pytest-textual-snapshot) of the main screen, the PTE
inspector and the violation banner. The app runs with ``stable=True`` (no
wall-clock figures); every screenshot is taken after the run has stopped at
an exact instruction, so it is the same every time.
Update after an intended change: pytest tests/app --snapshot-update"""

from __future__ import annotations

import pytest
from textual.widgets import DataTable

from .conftest import SIZE, finish_run, make_app


async def settle_tables(pilot, tries: int = 100) -> None:
    """Wait until every table has measured its columns. A DataTable does that
    when its message queue is idle, which under load can come after the
    screenshot (CI saw the faults table's columns cut to their headers), so
    a table with measuring pending does it now, as its idle handler would."""
    for _ in range(tries):
        pending = [t for t in pilot.app.query(DataTable)   # Textual's own flags
                   if t._require_update_dimensions or t._updated_cells or t._new_rows]
        if not pending:
            return
        for table in pending:
            await table._on_idle(None)
        await pilot.pause(0.05)


def test_main_screen_at_the_first_cow_fault(snap_compare):
    async def run_before(pilot) -> None:
        await pilot.press("f")
        await finish_run(pilot)
        await settle_tables(pilot)

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=run_before)


@pytest.mark.parametrize("size", [(80, 24), (120, 40), (200, 55)],
                         ids=["80x24", "120x40", "200x55"])
def test_main_screen_at_each_terminal_size(snap_compare, size):
    """The three layouts: one pane at a time (the page table), processes and
    faults on top of two columns, three columns."""
    async def run_before(pilot) -> None:
        await pilot.press("f")
        await finish_run(pilot)
        await pilot.press("3")
        await pilot.pause()
        await settle_tables(pilot)

    assert snap_compare(make_app(), terminal_size=size, run_before=run_before)


def test_pte_inspector_on_a_shared_page(snap_compare):
    async def run_before(pilot) -> None:
        await pilot.press("f")
        await finish_run(pilot)
        pilot.app.inspect(3, 0x3000)   # the parent's page, shared with the child
        # The inspector narrows the panes beside it: let their tables lay out
        # again at the new width before the screenshot.
        await pilot.pause()
        await pilot.wait_for_scheduled_animations()
        await pilot.pause()
        # Under load the tables may have been filled before the new width
        # reached them: fill them again now that it has.
        pilot.app.apply(pilot.app.view_state)
        await pilot.pause()
        await settle_tables(pilot)

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=run_before)


def test_violation_banner(snap_compare):
    async def run_before(pilot) -> None:
        await pilot.press("c")
        await finish_run(pilot)
        await settle_tables(pilot)

    assert snap_compare(make_app("bug-text-becomes-writable"), terminal_size=SIZE,
                        run_before=run_before)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
def test_cow_view_after_the_copy(snap_compare, size):
    """The child's pages beside its parent's once the first COW fault copied
    one: the copied page, the shared ones, and the two frames' bytes."""
    async def run_before(pilot) -> None:
        for key in "frS":                # to the fault, its copy, the child's store
            await pilot.press(key)
            await finish_run(pilot)
        await pilot.press("v")
        screen = pilot.app.screen
        table = screen.query_one("DataTable")
        table.move_cursor(row=[r.va for r in screen.rows].index(0x3000))
        await pilot.pause()
        await settle_tables(pilot)

    assert snap_compare(make_app(), terminal_size=size, run_before=run_before)
