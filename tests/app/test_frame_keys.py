"""The heat map by keyboard: arrows move a cursor over frames, ] and [ jump
to the next / previous shared frame, Enter shows its PTE."""

from __future__ import annotations

import pytest

from cowtui.view_state import FREE, OTHER, USER_FRAME
from cowtui.widgets.frame_grid import FrameGrid, owner_colour, owners_of
from cowtui.widgets.pte_list import PteList

from .conftest import finish_run, make_app
from .test_keys import option_id
from .test_layout import text_of


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


async def test_heat_map_colours_each_process_and_the_legend_fits():
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f")
        await finish_run(pilot)
        await pilot.press("4")
        grid = app.query_one(FrameGrid)
        frames = app.view_state.frames
        owners = owners_of(frames)
        # one process's own page: its colour; a shared page: the count on its heat
        own = next(i for i, pid in owners.items() if frames.counts[i] == 1)
        shared = next(i for i, c in enumerate(frames.counts)
                      if frames.kinds[i] == USER_FRAME and c == 2)
        character, style = grid._cell(frames.kinds[own], 1, owners[own])
        assert character == "u" and style.color.name == owner_colour(owners[own])
        character, style = grid._cell(USER_FRAME, 2, None)
        pane_background = grid.base_style().bgcolor
        assert character == "2" and style.bgcolor != pane_background
        kernel_data = frames.kinds.index(OTHER)           # kernel frames stay dark
        assert grid._cell(OTHER, frames.counts[kernel_data], None)[1].bgcolor == pane_background
        assert shared not in owners             # shared frames have no one owner
        legend = app.query_one("#frames-legend")
        assert legend.region.height == 2 and legend.content.cell_len <= legend.region.width * 2
        lines = legend.content.plain.splitlines()
        assert all(len(line) <= legend.region.width for line in lines), lines
        assert lines[1].startswith("user pages of pid ")
        assert all(f" {pid} u" in lines[1] for pid in set(owners.values()))
        await pilot.press("question_mark")      # the heat map's keys are in the help
        text = text_of(app.screen.query_one("#help-table").content, 200)
        assert any(line.split()[:2] == ["]", "Next"] and "refcount above 1" in line
                   for line in text.splitlines())
