"""Page-table pane: the selected process's page table, flat or as the Sv39 tree."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static, TabbedContent, TabPane

from ..snapshot import AddressSpace
from .page_tree import PageTree
from .pte_list import HEADER, PteList, option_id


class PageTablePane(Vertical):
    def compose(self) -> ComposeResult:
        with TabbedContent(initial="pt-flat-tab"):
            with TabPane("Ranges", id="pt-flat-tab"):
                yield Static(HEADER, classes="pte-header")
                yield PteList(id="pt-flat")
            with TabPane("Sv39 tree", id="pt-tree-tab"):
                yield PageTree(id="pt-tree")

    def show(self, space: AddressSpace | None, cow_bit: int) -> None:
        if space is None:
            self.border_title = "Page table"
        else:
            user = sum(1 for row in space.leaves if row.pte & 0x10)
            changed = sum(1 for row in space.leaves if row.changed)
            self.border_title = f"Page table: pid {space.pid}"
            self.border_subtitle = f"{len(space.leaves)} leaves, {user} user" + \
                (f", {changed} changed" if changed else "")
        self.query_one(PteList).show(space, cow_bit)
        self.query_one(PageTree).show(space, cow_bit)

    def go_to(self, pid: int, va: int) -> bool:
        """Put the cursor on the PTE of ``va`` (in the flat view)."""
        self.query_one(TabbedContent).active = "pt-flat-tab"
        return self.query_one(PteList).go_to(option_id(pid, va))
