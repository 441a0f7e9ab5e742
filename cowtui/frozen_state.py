"""Observers' state frozen into compact bytes, for time travel's checkpoints.

A checkpoint keeps what the observers (tracker, session, PTE history, ...)
had learnt at its instruction, pickled and zlib-compressed: unpickling is a
C loop, and a deep copy of those object graphs would cost far more.

- Objects that are no state of a moment (the machine, the observers
  themselves, their locks: "pinned") are written as a reference and come
  back as the same live object, as a deepcopy memo would keep them.
- Journaled containers (``machine/introspect/journaled.py``: the tracker's
  per-frame and per-PTE tables) are kept apart, as only the keys changed since
  the previous capture, with a whole copy once the deltas add up to half the
  container. On xv6's cowtest that is a few KiB a checkpoint instead of
  ~0.6 MiB and ~0.5 s of pickling.

Pinned objects and containers are found by ``reducer_override``, which the C
pickler calls only for objects other than ints, strings, tuples, lists, dicts
and sets: a ``persistent_id`` would be a Python call for every object.
"""

from __future__ import annotations

import dataclasses
import gc
import io
import operator
import pickle
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from machine.introspect.journaled import (
    JournaledDict,
    JournaledDictOfDicts,
    JournaledSet,
)

_JOURNALED = (JournaledDict, JournaledSet)
# Exact instances of these are pickled by value whatever reducer_override says.
_BY_VALUE = (int, float, str, bytes, tuple, list, dict, set, frozenset, type(None), bool)


def _pinned_ref(number: int) -> object:  # stands in a pickle for a pinned object
    raise AssertionError("only the unpickler below resolves a reference")


def _journaled_ref(journal_id: int) -> object:  # ... and for a journaled container
    raise AssertionError("only the unpickler below resolves a reference")


# Frozen slotted dataclasses (a store's Change, events) pickle through
# dataclasses' Python __getstate__, which calls fields() each time: tens of
# thousands of them per whole copy. Their fields are read by one C call instead.
_FIELD_NAMES: dict[type, tuple[str, ...] | None] = {}
_FIELD_READERS: dict[type, Callable[[Any], tuple]] = {}


def _frozen_slotted_fields(cls: type) -> tuple[str, ...] | None:
    if cls not in _FIELD_NAMES:
        params = getattr(cls, "__dataclass_params__", None)
        names = None
        if params is not None and params.frozen and "__slots__" in vars(cls):
            names = tuple(field.name for field in dataclasses.fields(cls))
            reader = operator.attrgetter(*names)
            _FIELD_READERS[cls] = reader if len(names) > 1 else (lambda obj: (reader(obj),))
        _FIELD_NAMES[cls] = names
    return _FIELD_NAMES[cls]


def _rebuilt(cls: type, values: tuple) -> Any:
    obj = object.__new__(cls)
    for name, value in zip(_frozen_slotted_fields(cls), values, strict=True):
        object.__setattr__(obj, name, value)
    return obj


class RecentContents:
    """Each journaled container's content at the latest capture made or
    thawed, kept up to date by every freeze for the cost of its delta: a
    thaw there (a step back goes to the latest checkpoint) copies it instead
    of unpickling ~100 k objects (xv6's 76 k frame changes) and a chain of
    deltas. Values are shared with the containers: the journaled contract is
    that a value is replaced, never changed in place (a dict of dicts's dicts
    are kept as containers of their own)."""

    def __init__(self) -> None:
        self._latest: dict[int, tuple[Frozen, dict | set]] = {}

    def get(self, capture: Frozen, journal_id: int) -> dict | set | None:
        latest = self._latest.get(journal_id)
        return latest[1] if latest is not None and latest[0] is capture else None

    def put(self, capture: Frozen, journal_id: int, content: dict | set) -> None:
        self._latest[journal_id] = (capture, content)

    def frozen(self, capture: Frozen, wholes: list, deltas: list) -> None:
        """``capture`` was made: its whole copies [(id, content)] and its
        deltas [(id, present, gone)]."""
        for journal_id, content in wholes:
            self._latest[journal_id] = (capture, content)
        for journal_id, present, gone in deltas:
            latest = self._latest.get(journal_id)
            if latest is None or latest[0] is not capture.previous:
                self._latest.pop(journal_id, None)
                continue
            _apply(latest[1], present, gone)
            self._latest[journal_id] = (capture, latest[1])
        for journal_id in [j for j in self._latest if j not in capture.parts]:
            del self._latest[journal_id]


def _apply(content: dict | set, present: list, gone: list) -> None:
    """A delta applied to a container's content (or to the container, by
    its base class's methods: nothing is noted)."""
    if isinstance(content, set):
        set.update(content, present)
        set.difference_update(content, gone)
    else:
        dict.update(content, present)
        for key in gone:
            dict.pop(content, key, None)


@dataclass(eq=False)
class Frozen:
    """One capture: the state without its journaled containers (``skeleton``)
    and each container as ``(its class, whole, data)``, whole or a delta on
    its content at ``previous``."""

    skeleton: bytes
    parts: dict[int, tuple[type, bool, bytes]]
    previous: Frozen | None
    # Per container: keys its deltas since its last whole copy have named.
    since_whole: dict[int, int]

    def __post_init__(self) -> None:
        self.nbytes = len(self.skeleton) + sum(len(data) for _, _, data in self.parts.values())


class _Pickler(pickle.Pickler):
    def __init__(self, file: io.BytesIO, pinned: dict[int, int],
                 found: dict[int, JournaledDict | JournaledSet]) -> None:
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self._pinned = pinned
        self._found = found

    def reducer_override(self, obj: Any) -> Any:
        number = self._pinned.get(id(obj))
        if number is not None:
            return _pinned_ref, (number,)
        cls = type(obj)
        reader = _FIELD_READERS.get(cls)   # the common case first: a Change
        if reader is not None:
            return _rebuilt, (cls, reader(obj))
        if isinstance(obj, _JOURNALED):
            self._found[obj.journal_id] = obj
            return _journaled_ref, (obj.journal_id,)
        if cls not in _FIELD_NAMES and _frozen_slotted_fields(cls) is not None:
            return _rebuilt, (cls, _FIELD_READERS[cls](obj))
        return NotImplemented


def _dump(value: Any, pinned: dict[int, int], found: dict) -> bytes:
    buffer = io.BytesIO()
    _Pickler(buffer, pinned, found).dump(value)
    return zlib.compress(buffer.getvalue(), 1)


def _pinned_numbers(pinned: Sequence[object]) -> dict[int, int]:
    for obj in pinned:
        if type(obj) in _BY_VALUE:
            raise TypeError(f"a pinned {type(obj).__name__} would be pickled by value")
    return {id(obj): number for number, obj in enumerate(pinned)}


def _content(box: JournaledDict | JournaledSet) -> dict | set:
    """A plain copy of a container's content (its values shared)."""
    return set(box) if isinstance(box, JournaledSet) else dict(box)


def _delta(box: JournaledDict | JournaledSet) -> tuple[list, list]:
    """(present, gone): the changed keys still in ``box`` (with their values,
    for a dict) and those no longer."""
    present = [key for key in box.changed if key in box]
    gone = [key for key in box.changed if key not in box]
    if isinstance(box, JournaledDict):
        present = [(key, box[key]) for key in present]
    return present, gone


def freeze(value: Any, pinned: Sequence[object], previous: Frozen | None = None,
           recent: RecentContents | None = None) -> Frozen:
    """``value`` frozen; the ``pinned`` objects it refers to are kept by
    reference. With ``previous`` (the last capture, whose containers' changes
    have been noted since), journaled containers it had are kept as deltas.
    ``recent`` keeps the whole copies' contents for ``thaw``."""
    numbers = _pinned_numbers(pinned)
    found: dict[int, JournaledDict | JournaledSet] = {}
    skeleton = _dump(value, numbers, found)
    known = previous.since_whole if previous is not None else {}
    parts: dict[int, tuple[type, bool, bytes]] = {}
    since_whole: dict[int, int] = {}
    pending = list(found.values())
    wholes: list[tuple[int, dict | set]] = []
    deltas: list[tuple[int, list, list]] = []
    while pending:
        box = pending.pop()
        journal_id = box.journal_id
        if journal_id in parts:
            continue
        named = known.get(journal_id)
        nested: dict[int, JournaledDict | JournaledSet] = {}
        if named is None or box.changed is None or \
                named + len(box.changed) > len(box) // 2 + 32:
            content = _content(box)
            parts[journal_id] = (type(box), True, _dump(content, numbers, nested))
            since_whole[journal_id] = 0
            if type(box) is not JournaledDictOfDicts:
                wholes.append((journal_id, content))
        else:
            present, gone = _delta(box)
            parts[journal_id] = (type(box), False, _dump((present, gone), numbers, nested))
            since_whole[journal_id] = named + len(box.changed)
            if type(box) is not JournaledDictOfDicts:
                deltas.append((journal_id, present, gone))
        box.changed = set()
        if type(box) is JournaledDictOfDicts:   # all of them, not only the changed keys'
            pending += box.values()
        elif nested:   # a delta would not name the ones in unchanged keys
            raise TypeError("a journaled container holds another")
    frozen = Frozen(skeleton, parts, previous, since_whole)
    if recent is not None:
        recent.frozen(frozen, wholes, deltas)
    return frozen


class _Unpickler(pickle.Unpickler):
    def __init__(self, data: bytes, pinned: Sequence[object], containers) -> None:
        super().__init__(io.BytesIO(zlib.decompress(data)))
        self._pinned = pinned
        self._containers = containers

    def find_class(self, module: str, name: str) -> Any:
        if module == __name__ and name == "_pinned_ref":
            return self._pinned.__getitem__
        if module == __name__ and name == "_journaled_ref":
            return self._containers
        return super().find_class(module, name)


def thaw(frozen: Frozen, pinned: Sequence[object], recent: RecentContents | None = None) -> Any:
    """A fresh copy of what ``freeze`` was given, with the same ``pinned``
    objects; its journaled containers keep their ids and have no changes
    noted, so the next capture may be a delta on ``frozen``. A container
    starts from the nearest content ``recent`` has on its way back."""
    built: dict[int, JournaledDict | JournaledSet] = {}

    def load(data: bytes) -> Any:
        return _Unpickler(data, pinned, container).load()

    def container(journal_id: int) -> JournaledDict | JournaledSet:
        box = built.get(journal_id)
        if box is not None:
            return box
        if journal_id not in frozen.parts:   # held by an older capture's delta only:
            return None                       # a later delta removes it
        deltas = []
        capture = frozen
        while True:
            kind, whole, data = capture.parts[journal_id]
            known = recent.get(capture, journal_id) if recent is not None else None
            if known is not None:
                box = kind(known)
                break
            if whole:
                box = kind(load(data))
                break
            deltas.append(data)
            capture = capture.previous
        for data in reversed(deltas):   # oldest first
            _apply(box, *load(data))
        box.changed = set()
        box.journal_id = journal_id
        built[journal_id] = box
        if recent is not None and kind is not JournaledDictOfDicts and \
                recent.get(frozen, journal_id) is None:   # the next freezes go on from here
            recent.put(frozen, journal_id, _content(box))
        return box

    # Thawing makes ~100 k objects on a big kernel; the collections they would
    # set off walk the whole heap and found nothing to free (5x the thaw's cost).
    collecting = gc.isenabled()
    gc.disable()
    try:
        return load(frozen.skeleton)
    finally:
        if collecting:
            gc.enable()
