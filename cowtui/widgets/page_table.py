"""Page-table pane: the selected process's page table, flat or as the Sv39 tree."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static, TabbedContent, TabPane

from ..view_state import AddressSpace
from .page_tree import PageTree
from .pte_list import HEADER, PteList, option_id


class PageTablePane(Vertical):
    space: AddressSpace | None = None
    cow_bit = 8
    title_prefix = ""       # the key that shows the pane, e.g. "3 "

    def compose(self) -> ComposeResult:
        with TabbedContent(initial="pt-flat-tab"):
            with TabPane("Ranges", id="pt-flat-tab"):
                yield Static(HEADER, classes="pte-header")
                yield PteList(id="pt-flat")
            with TabPane("Sv39 tree", id="pt-tree-tab"):
                yield PageTree(id="pt-tree")

    def show(self, space: AddressSpace | None, cow_bit: int) -> None:
        title, subtitle = f"{self.title_prefix}Page table", ""
        if space is not None:
            user = sum(1 for row in space.leaves if row.pte & 0x10)
            changed = sum(1 for row in space.leaves if row.changed)
            title = f"{self.title_prefix}Page table: pid {space.pid}"
            subtitle = f"{len(space.leaves)} leaves, {user} user" + \
                (f", {changed} changed" if changed else "")
        if (title, subtitle) != (self.border_title, self.border_subtitle):
            self.border_title, self.border_subtitle = title, subtitle
        self.space, self.cow_bit = space, cow_bit
        # only the view on screen: rebuilding a hidden tree is wasted work
        if self.query_one(TabbedContent).active == "pt-tree-tab":
            self.query_one(PageTree).show(space, cow_bit)
        else:
            self.query_one(PteList).show(space, cow_bit)

    def on_tabbed_content_tab_activated(self, event: TabbedContent.TabActivated) -> None:
        self.show(self.space, self.cow_bit)

    def go_to(self, pid: int, va: int) -> bool:
        """Put the cursor on the PTE of ``va`` (in the flat view)."""
        tabs = self.query_one(TabbedContent)
        if tabs.active != "pt-flat-tab":
            tabs.active = "pt-flat-tab"
            self.query_one(PteList).show(self.space, self.cow_bit)
        return self.query_one(PteList).go_to(option_id(pid, va))
