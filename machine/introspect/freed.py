"""Frames just put on the free list, watched for kernel stores into them: a
use after free, such as copyout writing through a physical address it looked
up before the COW fault handler copied the page and freed the old frame.

Watching every free frame would turn each kalloc and kfree into a change of
the watched pages (the engines re-read them), so only the most recently freed
frames are watched, until the allocator takes them again or newer ones push
them out of the window: a stale pointer is used soon after the free, and the
free list is LIFO, so the newest free frames are the ones that matter.

The allocator itself stores into free frames (a kfree called twice junk-fills
one), so a store with the allocator's free or alloc on its call stack does not
count: those are found by role, as the functions whose stores push and pop
the free list's head, besides xv6's names.

Nothing is watched before the first return to user mode: at boot kinit pushes
every frame, and each watch change costs the engines a re-read.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import TYPE_CHECKING

from .blame import Change

if TYPE_CHECKING:
    from ..machine import Machine

WINDOW = 256  # freed frames watched at once
ALLOCATOR_NAMES = frozenset({"kfree", "kalloc"})


class FreedFrames:
    """The window of freed frames and the allocator's functions."""

    def __init__(self, machine: Machine) -> None:
        self.machine = machine
        self.frames: OrderedDict[int, Change] = OrderedDict()  # frame -> its push, oldest first
        self.allocator: set[str] = set(ALLOCATOR_NAMES)
        self.active = False  # set at the first return to user mode

    def __contains__(self, frame: int) -> bool:
        return frame in self.frames

    def pushed(self, frame: int, change: Change, keep_watch) -> None:
        """kfree put ``frame`` on the free list (``change`` is the head's
        store). ``keep_watch(frame)`` says whether another watcher needs the
        page, so that evicting it from the window must not unwatch it."""
        self._learn(change)
        if not self.active:
            return
        self.frames.pop(frame, None)
        self.frames[frame] = change
        self.machine.watch_physical_page(frame >> 12)
        while len(self.frames) > WINDOW:
            old, _ = self.frames.popitem(last=False)
            if not keep_watch(old):
                self.machine.unwatch_physical_page(old >> 12)

    def popped(self, frame: int, change: Change, keep_watch) -> None:
        """kalloc took ``frame`` off the free list: it is the kernel's again."""
        self._learn(change)
        if self.frames.pop(frame, None) is not None and not keep_watch(frame):
            self.machine.unwatch_physical_page(frame >> 12)

    def by_allocator(self, change: Change) -> bool:
        return any(frame.symbol in self.allocator for frame in change.stack)

    def freed_at(self, frame: int) -> Change:
        return self.frames[frame]

    def _learn(self, change: Change) -> None:
        if change.stack and change.stack[0].symbol is not None:
            self.allocator.add(change.stack[0].symbol)
