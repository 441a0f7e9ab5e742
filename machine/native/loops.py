"""Loop idioms for the native core: the Python analysis, encoded for C.

The core asks (an idiom query exit) when a short backward branch is taken
for the first time. The loop from its target to the branch is scanned and
analysed exactly as the block engine does (``BlockCompiler.scan`` and
``idioms.analyse``, one analysis for both engines); a loop that qualifies is
encoded as a flat tuple of integers that core.c's ``idiom_run`` executes with
the same rules as ``IdiomRunner`` (whole iterations, the fast maps' pages
only, one ordinary iteration where a slice cannot be exact).

Encoding (all integers, 64-bit values modulo 2**64):
  linear   = n, (register, coefficient) * n, constant
  shape    = length, end, branch, n_live, (register, step) * n_live,
             n_final, (register, is_load, linear) * n_final,
             store_width, store_address(linear),
             value_is_load, value(linear),
             load_width (0: none), load_signed, load_address(linear),
             left(linear), right(linear)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..engine.blocks import BlockCompiler
from ..engine.idioms import Linear, analyse, iteration_steps

if TYPE_CHECKING:
    from ..hart import Hart

M64 = (1 << 64) - 1
BRANCHES = {"bne": 0, "bltu": 1, "bgeu": 2, "blt": 3, "bge": 4}


def _linear(expression: Linear) -> list[int]:
    terms = [(r, c) for r, c in expression.items() if r is not None]
    out = [len(terms)]
    for r, c in terms:
        out += [r, c & M64]
    return out + [expression.get(None, 0) & M64]


def encode(shape) -> tuple[int, ...] | None:
    """The shape as core.c reads it, or None when it cannot run in bulk."""
    steps = iteration_steps(shape)
    if steps is None:
        return None
    out = [shape.length, shape.end, BRANCHES[shape.branch], len(steps)]
    for r, step in sorted(steps.items()):
        out += [r, step & M64]
    finals = [(r, f) for r, f in sorted(shape.final.items()) if r not in shape.live_in]
    out.append(len(finals))
    for r, final in finals:
        out += [r, 1, *_linear({None: 0})] if final == "load" else [r, 0, *_linear(final)]
    out += [shape.store.width, *_linear(shape.store.address)]
    if shape.store_value == "load":
        out += [1, *_linear({None: 0})]
    else:
        out += [0, *_linear(shape.store_value)]
    if shape.load is None:
        out += [0, 0, *_linear({None: 0})]
    else:
        out += [shape.load.width, int(shape.load.signed), *_linear(shape.load.address)]
    left, right = shape.compare
    return tuple(out + _linear(left) + _linear(right))


class LoopFinder:
    """Answers the core's idiom queries for one hart."""

    def __init__(self, hart: Hart) -> None:
        self.hart = hart
        self.scanner = BlockCompiler(hart, hart.interpreter, idioms=True)

    def shape_at(self, head: int) -> tuple[int, ...] | None:
        """The encoded idiom of the loop starting at virtual pc ``head``."""
        trace = self.scanner.scan(head, self.hart.privilege)
        if len(trace) < 2:
            return None
        last_offset, last, role = trace[-1]
        if role != "end" or BlockCompiler._static_target(last, last_offset) != 0:
            return None
        shape = analyse(trace)
        return encode(shape) if shape is not None else None
