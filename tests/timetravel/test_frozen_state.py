"""Frozen observer state: a fresh copy comes back, pinned objects come back as themselves."""

from __future__ import annotations

import threading
from collections import Counter, defaultdict

from cowtui.frozen_state import freeze, thaw


class Live:
    """Stands for the machine: not state, shared by reference."""

    def __init__(self) -> None:
        self.lock = threading.Lock()   # cannot be pickled: only a reference may be written


def test_thaw_gives_an_independent_copy_that_shares_the_pinned_objects() -> None:
    live = Live()
    state = {"counts": Counter({1: 2}), "by_key": defaultdict(list, {(1, 2): [3]}),
             "machine": live, "nested": [{"machine": live, "set": {4, 5}}]}
    frozen = freeze(state, [live, live.lock])
    state["counts"][1] += 10
    state["by_key"][(1, 2)].append(99)
    back = thaw(frozen, [live, live.lock])
    assert back["counts"] == Counter({1: 2}) and back["by_key"] == {(1, 2): [3]}
    assert back["machine"] is live and back["nested"][0]["machine"] is live
    assert back["by_key"].default_factory is list
    again = thaw(frozen, [live, live.lock])
    assert again == back and again["counts"] is not back["counts"]
