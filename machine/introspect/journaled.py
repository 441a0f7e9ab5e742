"""A dict and a set that note which keys changed, for time travel's deltas.

Time travel keeps the observers' state at every checkpoint. On a big kernel
most of it is per frame or per PTE (xv6 has 32 k frames) and few of those
change between two checkpoints, so a checkpoint keeps only the keys that
changed since the one before (``cowtui/frozen_state.py``). Every mutator
notes its keys in ``changed``. A value must never be changed in place (store
a new one): only changed keys are kept, and the contents time travel keeps
share their values.

Containers do not hold one another, except in a JournaledDictOfDicts.
Nothing is noted until a container is first frozen (``changed`` is None
till then): without time travel the keys would pile up for nothing.
Each container has a ``journal_id`` that names it across checkpoints; a copy
or a pickle made outside time travel is a new container with a new id.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from typing import Any, Self

_ids = itertools.count(1)


class JournaledDict(dict):
    __slots__ = ("changed", "journal_id")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.changed: set | None = None
        self.journal_id = next(_ids)

    def __setitem__(self, key: Any, value: Any) -> None:
        dict.__setitem__(self, key, value)
        if self.changed is not None:
            self.changed.add(key)

    def __delitem__(self, key: Any) -> None:
        dict.__delitem__(self, key)
        if self.changed is not None:
            self.changed.add(key)

    def pop(self, key: Any, *default: Any) -> Any:
        if self.changed is not None and key in self:
            self.changed.add(key)
        return dict.pop(self, key, *default)

    def popitem(self) -> tuple[Any, Any]:
        key, value = dict.popitem(self)
        if self.changed is not None:
            self.changed.add(key)
        return key, value

    def setdefault(self, key: Any, default: Any = None) -> Any:
        if self.changed is not None and key not in self:
            self.changed.add(key)
        return dict.setdefault(self, key, default)

    def update(self, *args: Any, **kwargs: Any) -> None:
        for key, value in dict(*args, **kwargs).items():
            self[key] = value

    def __ior__(self, other: Any) -> Self:
        self.update(other)
        return self

    def clear(self) -> None:
        if self.changed is not None:
            self.changed.update(self)
        dict.clear(self)

    def __reduce__(self) -> tuple:
        return (type(self), (), None, None, iter(self.items()))


class JournaledDictOfDicts(JournaledDict):
    """A JournaledDict whose values are JournaledDicts (each journals its own
    keys): a process's page map inside the map of processes."""

    __slots__ = ()


class JournaledSet(set):
    __slots__ = ("changed", "journal_id")

    def __init__(self, items: Iterable = ()) -> None:
        super().__init__(items)
        self.changed: set | None = None
        self.journal_id = next(_ids)

    def add(self, item: Any) -> None:
        set.add(self, item)
        if self.changed is not None:
            self.changed.add(item)

    def discard(self, item: Any) -> None:
        set.discard(self, item)
        if self.changed is not None:
            self.changed.add(item)

    def remove(self, item: Any) -> None:
        set.remove(self, item)
        if self.changed is not None:
            self.changed.add(item)

    def pop(self) -> Any:
        item = set.pop(self)
        if self.changed is not None:
            self.changed.add(item)
        return item

    def clear(self) -> None:
        if self.changed is not None:
            self.changed.update(self)
        set.clear(self)

    def update(self, *others: Iterable) -> None:
        for other in others:
            other = set(other)
            if self.changed is not None:
                self.changed.update(other)
            set.update(self, other)

    def difference_update(self, *others: Iterable) -> None:
        for other in others:
            other = set(other)
            if self.changed is not None:
                self.changed.update(other)
            set.difference_update(self, other)

    def intersection_update(self, *others: Iterable) -> None:
        keep = set(self).intersection(*others)
        if self.changed is not None:
            self.changed.update(set(self) - keep)
        set.intersection_update(self, keep)

    def symmetric_difference_update(self, other: Iterable) -> None:
        other = set(other)
        if self.changed is not None:
            self.changed.update(other)
        set.symmetric_difference_update(self, other)

    def __ior__(self, other: Any) -> Self:
        self.update(other)
        return self

    def __isub__(self, other: Any) -> Self:
        self.difference_update(other)
        return self

    def __iand__(self, other: Any) -> Self:
        self.intersection_update(other)
        return self

    def __ixor__(self, other: Any) -> Self:
        self.symmetric_difference_update(other)
        return self

    def __reduce__(self) -> tuple:
        return (type(self), (list(self),))
