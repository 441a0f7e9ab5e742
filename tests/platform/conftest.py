"""Every guest program runs on each execution engine: the interpreter (the
reference), compiled blocks, and blocks with loop idioms (the default)."""

from __future__ import annotations

import pytest

from machine.hart import Hart

ENGINES = getattr(Hart, "ENGINES", ("interp",))


@pytest.fixture(params=ENGINES)
def engine(request) -> str:
    return request.param
