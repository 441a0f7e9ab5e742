"""The COW view (v), driven by keys: a child's pages beside its parent's,
shared frames before the copy, its own frame after, and the bytes of both."""

from __future__ import annotations

import pytest

from cowtui.widgets.cow_screen import DIFF_STYLE, CowScreen

from .conftest import finish_run, make_app


def row_cells(screen: CowScreen, va: int) -> list[str]:
    table = screen.query_one("DataTable")
    return [str(getattr(c, "plain", c)) for c in table.get_row(f"{va:x}")]


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
async def test_cow_view_shows_shared_then_copied_frames_and_their_bytes(size):
    app = make_app()
    async with app.run_test(size=size) as pilot:
        await pilot.press("f")                  # the child (pid 4) stores into a shared page
        await finish_run(pilot)
        await pilot.press("v")
        screen = app.screen
        assert isinstance(screen, CowScreen) and screen.pids == [4, 3]
        header = str(screen.query_one("#cow-header").content)
        assert "pid 4 cowdemo" in header and "parent pid 3 cowdemo" in header
        va_col, child, parent = row_cells(screen, 0x3000)
        assert va_col == "0x0000003000"
        frame = app.view_state.spaces[4].leaf(0x3000).frame
        # before the copy: the same frame, read-only and COW in both, refcount 2
        assert child == f"{frame:#010x} - COW ref 2"
        assert parent == f"= {frame:#010x} - COW ref 2"
        await pilot.press("escape")
        assert not isinstance(app.screen, CowScreen)

        await pilot.press("r")                  # the fault copies the page
        await finish_run(pilot)
        await pilot.press("S")                  # the child writes its copy, then traps again
        await finish_run(pilot)
        await pilot.press("v")
        screen = app.screen
        _, child, parent = row_cells(screen, 0x3000)
        new = app.view_state.spaces[4].leaf(0x3000).frame
        assert new != frame
        assert child == f"{new:#010x} W --- ref 1"          # its own, writable, not COW
        assert parent == f"≠ {frame:#010x} - COW ref 1"     # the parent's original
        assert row_cells(screen, 0x0)[2].startswith("= ")   # text: still shared
        # the bytes of the highlighted page: both frames, the child's changes marked
        table = screen.query_one("DataTable")
        table.move_cursor(row=[r.va for r in screen.rows].index(0x3000))
        await pilot.pause()
        hexview = screen.query_one("#cow-hex")
        child_bytes = app.session.machine.read_physical(new, 4096)
        parent_bytes = app.session.machine.read_physical(frame, 4096)
        differ = sum(a != b for a, b in zip(child_bytes, parent_bytes, strict=True))
        assert differ > 0
        assert hexview.region.width >= len(hexview.border_title) + 4     # never cut
        assert hexview.border_title == (f"va 0x3000  pid 4 {new:#x} │ pid 3 {frame:#x}  "
                                        f"{differ} bytes differ")
        assert any(style == DIFF_STYLE for line in hexview.lines for _, style in line)
        first_diff = next(i for i in range(4096) if child_bytes[i] != parent_bytes[i])
        assert hexview.scroll_offset.y == first_diff // 8 or hexview.max_scroll_y < first_diff // 8
        await pilot.press("s")                  # the app's keys are the view's own here
        assert isinstance(app.screen, CowScreen)
        await pilot.press("v")
        assert not isinstance(app.screen, CowScreen)


async def test_cow_view_without_a_process_says_so():
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("v")
        await pilot.pause()
        assert not isinstance(app.screen, CowScreen)
        assert any("no process yet" in n.message for n in app._notifications)
