"""The Sv39 tree of a page table: L2 -> L1 -> L0 entries, collapsible.

Selecting a leaf asks for the PTE inspector, like the flat view.
"""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Tree

from ..ptefmt import CHANGED_STYLE, flags_text
from ..view_state import AddressSpace
from .pte_list import PteList

SPAN = {2: 1 << 30, 1: 1 << 21, 0: 1 << 12}


class PageTree(Tree):
    def __init__(self, **kwargs) -> None:
        super().__init__("page table", **kwargs)
        self._shown: tuple | None = None
        self.pid: int | None = None
        self.show_root = True

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        # space belongs to the app (pause), not to folding a node
        return action != "toggle_node"

    def show(self, space: AddressSpace | None, cow_bit: int) -> None:
        key = (space.pid, space.root, space.tables, space.leaves) if space else None
        if key == self._shown:
            return
        self._shown = key
        self.clear()
        self.pid = space.pid if space else None
        if space is None:
            self.root.set_label("(no page table)")
            return
        self.root.set_label(Text(f"pid {space.pid}  root table {space.root:#x}", "bold"))
        tables = {(t.level, t.va_base): t.address for t in space.tables}
        nodes = {(2, 0): self.root}
        for row in sorted(space.leaves, key=lambda r: r.va):
            va = row.va & ((1 << 39) - 1)
            parent = self.root
            for level in range(2, row.level, -1):
                base = va & ~(SPAN[level] - 1)
                node = nodes.get((level - 1, base))
                if node is None:
                    index = va >> (12 + 9 * level) & 0x1FF
                    table = tables.get((level - 1, base), 0)
                    label = Text(f"L{level}[{index:3}] {base:#012x}-{base + SPAN[level] - 1:#012x}"
                                 f" -> L{level - 1} table {table:#x}")
                    node = parent.add(label, expand=True)
                    nodes[(level - 1, base)] = node
                parent = node
            index = va >> (12 + 9 * row.level) & 0x1FF
            label = Text()
            label.append("* " if row.changed else "", CHANGED_STYLE)
            label.append(f"L{row.level}[{index:3}] {row.va:#012x} -> {row.frame:#x} ")
            label.append_text(flags_text(row.pte, cow_bit))
            parent.add_leaf(label, data=(space.pid, row.va))
        self.root.expand()

    def on_tree_node_selected(self, event: Tree.NodeSelected) -> None:
        event.stop()
        if event.node.data is not None:
            pid, va = event.node.data
            self.post_message(PteList.Inspect(pid, va))
