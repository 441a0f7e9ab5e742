"""The heat map by keyboard: arrows move a cursor over frames, ] and [ jump
to the next / previous shared frame, Enter shows its PTE."""

from __future__ import annotations

import pytest

from cowtui.view_state import FREE
from cowtui.widgets.frame_grid import FrameGrid
from cowtui.widgets.pte_list import PteList

from .conftest import finish_run, make_app
from .test_keys import option_id


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
async def test_arrow_keys_and_brackets_walk_the_frames(size):
    app = make_app()
    async with app.run_test(size=size) as pilot:
        await pilot.press("f")
        await finish_run(pilot)
        await pilot.press("4")                  # the frames pane (a key away at 80x24)
        grid = app.query_one(FrameGrid)
        assert app.focused is grid
        frames = app.view_state.frames
        detail = app.query_one("#frames-detail")
        await pilot.press("right", "right")
        assert grid.chosen == 2
        assert f"frame {frames.base + 2 * 4096:#x}" in detail.content.plain
        await pilot.press("down")
        assert grid.chosen == 2 + grid.per_row
        await pilot.press("left", "up")
        assert grid.chosen == 1
        shared = sorted(i for i, c in enumerate(frames.counts)
                        if frames.kinds[i] != FREE and 1 < c < 0x80)
        assert shared
        await pilot.press("right_square_bracket")
        assert grid.chosen == shared[0]
        frame = frames.base + (shared[0] << 12)
        assert f"frame {frame:#x}" in detail.content.plain and "refcount 2" in detail.content.plain
        row = grid.row_of(frame)
        assert grid.scroll_offset.y <= row < grid.scroll_offset.y + grid.size.height  # in view
        await pilot.press("left_square_bracket")       # none before the first
        assert grid.chosen == shared[0]
        assert any("no shared frame before" in n.message for n in app._notifications)
        _, va, _ = frames.mappings[frame][0]
        await pilot.press("enter")                     # its PTE in the page table
        await pilot.pause()
        assert app.query_one(PteList).highlighted_option.id == option_id(app.selected_pid, va)
