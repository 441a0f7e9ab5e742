"""Frozen observer state: a fresh copy comes back, pinned objects come back as themselves."""

from __future__ import annotations

import copy
import random
import threading
from collections import Counter, defaultdict

import pytest

from cowtui.frozen_state import RecentContents, freeze, thaw
from machine.introspect.journaled import (
    JournaledDict,
    JournaledDictOfDicts,
    JournaledSet,
)


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


# --- journaled containers: a capture keeps what changed since the one before ---

_DICT_MUTATORS = {"__setitem__", "__delitem__", "pop", "popitem", "setdefault", "update",
                  "__ior__", "clear"}
_SET_MUTATORS = {"add", "discard", "remove", "pop", "clear", "update", "difference_update",
                 "intersection_update", "symmetric_difference_update", "__ior__", "__isub__",
                 "__iand__", "__ixor__"}


def test_every_mutator_of_dict_and_set_is_journaled() -> None:
    """A mutator left to the C base class would change a container without
    noting the key, and a delta would silently miss it."""
    def mutators(base: type, sample) -> set[str]:
        found = set()
        for name in dir(base):
            if name in ("__init__", "__new__", "__class_getitem__", "__init_subclass__",
                        "__setattr__", "__delattr__"):
                continue
            try:
                probe = copy.copy(sample)
                before = copy.copy(probe)
                method = getattr(probe, name)
                args = {"__setitem__": (9, 9), "__delitem__": (1,), "pop": (1,) if base is dict else (),
                        "setdefault": (9, 9), "remove": (1,), "discard": (1,), "add": (9,),
                        }.get(name, ({9: 9} if base is dict else {1, 9},))
                if name in ("popitem", "clear") or (name == "pop" and base is set):
                    args = ()
                method(*args)
            except TypeError:
                continue
            if probe != before:
                found.add(name)
        return found

    assert mutators(dict, {1: 1, 2: 2}) <= _DICT_MUTATORS
    assert mutators(set, {1, 2}) <= _SET_MUTATORS
    assert all(name in vars(JournaledDict) for name in _DICT_MUTATORS)
    assert all(name in vars(JournaledSet) for name in _SET_MUTATORS)


def _mutate(rng: random.Random, table: JournaledDict, frames: JournaledSet, step: int) -> None:
    for _ in range(rng.randrange(0, 40)):
        key = rng.randrange(300)
        choice = rng.randrange(10)
        if choice < 4:
            table[key] = (step, key)
        elif choice == 4:
            table.pop(key, None)
        elif choice == 5 and key in table:
            del table[key]
        elif choice == 6:
            frames.add(key)
        elif choice == 7:
            frames.discard(key)
        elif choice == 8:
            frames -= {key, key + 1}
        else:
            table.setdefault(key, ("default", step))
    if rng.randrange(25) == 0:
        table.clear()


@pytest.mark.parametrize("seed", range(6))
def test_every_capture_of_a_delta_chain_thaws_to_its_moment(seed: int) -> None:
    rng = random.Random(seed)
    live = Live()
    table, frames = JournaledDict(), JournaledSet()
    for key in range(250):   # big at first, as kinit frees every frame
        table[key] = ("boot", key)
        frames.add(key)
    captures, expected, previous = [], [], None
    recent = RecentContents()
    for step in range(60):
        _mutate(rng, table, frames, step)
        state = {"table": table, "frames": frames, "machine": live, "step": step}
        previous = freeze(state, [live, live.lock], previous, recent)
        captures.append(previous)
        expected.append((dict(table), set(frames)))
    assert any(not whole for capture in captures[1:] for _, whole, _ in capture.parts.values())
    order = list(range(len(captures)))
    rng.shuffle(order)
    for index in [len(captures) - 1, *order]:   # the latest first: from recent's content
        capture, (want_table, want_frames) = captures[index], expected[index]
        for back in (thaw(capture, [live, live.lock], recent), thaw(capture, [live, live.lock]),
                     thaw(capture, [live, live.lock], recent)):
            assert back["table"] == want_table and back["frames"] == want_frames
            assert back["machine"] is live
            assert type(back["table"]) is JournaledDict and back["table"].changed == set()
            back["table"][-1] = back["frames"].add(-1)   # a thawed copy is the caller's own


def test_a_chain_goes_on_from_a_thawed_capture() -> None:
    """Going back thaws capture k; the run then goes on from there with
    captures that are deltas on k (the later ones were dropped)."""
    rng = random.Random(7)
    live = Live()
    table, frames = JournaledDict(), JournaledSet()
    chain = []
    recent = RecentContents()
    for step in range(20):
        _mutate(rng, table, frames, step)
        chain.append(freeze({"t": table, "f": frames}, [live], chain[-1] if chain else None,
                            recent))
    state = thaw(chain[9], [live], recent)
    table, frames = state["t"], state["f"]
    del chain[10:]
    expected = []
    for step in range(100, 120):
        _mutate(rng, table, frames, step)
        chain.append(freeze({"t": table, "f": frames}, [live], chain[-1], recent))
        expected.append((dict(table), set(frames)))
        back = thaw(chain[-1], [live], recent)   # a step back to the latest, as the app does
        assert back["t"] == expected[-1][0] and back["f"] == expected[-1][1]
    for capture, (want_table, want_frames) in zip(chain[10:], expected, strict=True):
        for back in (thaw(capture, [live]), thaw(capture, [live], recent)):
            assert back["t"] == want_table and back["f"] == want_frames


def test_a_container_held_by_another_or_a_pinned_builtin_is_refused() -> None:
    outer = JournaledDict({1: JournaledSet({2})})
    with pytest.raises(TypeError, match="holds another"):
        freeze({"outer": outer}, [])
    with pytest.raises(TypeError, match="by value"):
        freeze({}, [[1, 2]])


@pytest.mark.parametrize("seed", range(4))
def test_a_dict_of_dicts_thaws_with_its_inner_dicts_as_they_were(seed: int) -> None:
    """Processes' page maps: pids come and go (an older delta may name a map
    since removed), each map changes on its own."""
    rng = random.Random(seed)
    maps = JournaledDictOfDicts()
    captures, expected = [], []
    for step in range(80):
        for _ in range(rng.randrange(6)):
            pid = rng.randrange(8)
            if rng.randrange(5) == 0:
                maps.pop(pid, None)
            else:
                ptes = maps.get(pid)
                if ptes is None:
                    ptes = maps[pid] = JournaledDict()
                ptes[rng.randrange(100)] = step
                if rng.randrange(4) == 0:
                    ptes.pop(rng.randrange(100), None)
        captures.append(freeze({"maps": maps}, [], captures[-1] if captures else None))
        expected.append({pid: dict(ptes) for pid, ptes in maps.items()})
    for capture, want in zip(captures, expected, strict=True):
        back = thaw(capture, [])["maps"]
        assert {pid: dict(ptes) for pid, ptes in back.items()} == want
        assert type(back) is JournaledDictOfDicts
        assert all(type(ptes) is JournaledDict for ptes in back.values())


def test_nothing_is_noted_before_a_container_is_first_frozen() -> None:
    """Without time travel nothing freezes, and noting every key would only grow."""
    table = JournaledDict()
    for key in range(100):
        table[key] = key
    assert table.changed is None
    first = freeze({"t": table}, [])
    table[5] = "five"
    assert table.changed == {5}
    assert thaw(freeze({"t": table}, [], first), [])["t"][5] == "five"
