"""Exact loop idioms: memset- and memcpy-shaped loops as bytearray slices.

A self-loop block qualifies when its body only does integer arithmetic that
is linear in the registers (addi/add/sub/slli), one store, at most one load,
and ends in a branch comparing a register with a loop-invariant one. The
body is executed symbolically once: every register becomes a linear
combination of the registers' values at the start of an iteration. Then the
store (and load) addresses are affine in the iteration number, the exit
iteration follows from the branch, and a run of iterations inside one page
of each stream becomes one slice assignment.

Exactness: only whole iterations run, never past the budget (the next
deadline); registers end as the loop would leave them; a page that is not in
the soft TLB (a device, a watched page, code, unmapped) stops the bulk copy at
its boundary and one ordinary iteration runs there (raising the fault or the
event); overlapping copies that a slice would get wrong run ordinarily.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

from ..isa.decoder import Decoded

if TYPE_CHECKING:
    from .memory import MemorySystem

M64 = 0xFFFFFFFFFFFFFFFF
Linear = dict  # register number -> coefficient; key None: the constant term


def _const(value: int) -> Linear:
    return {None: value}


def _reg(r: int) -> Linear:
    return {r: 1} if r else {None: 0}


def _add(a: Linear, b: Linear, sign: int = 1) -> Linear:
    out = dict(a)
    for k, v in b.items():
        out[k] = out.get(k, 0) + sign * v
    return {k: v for k, v in out.items() if v or k is None}


def _scale(a: Linear, factor: int) -> Linear:
    return {k: v * factor for k, v in a.items()}


def _evaluate(a: Linear, values: dict[int, int]) -> int:
    return sum(v * (values[k] if k is not None else 1) for k, v in a.items())


@dataclass
class Access:
    address: Linear
    width: int
    signed: bool = False


@dataclass
class LoopShape:
    """What one iteration does, symbolically."""

    length: int                     # instructions per iteration
    end: int                        # offset of the instruction after the loop
    final: dict[int, Linear | str]  # register -> value after the body ('load' for the loaded value)
    live_in: set[int]               # registers read before written
    store: Access
    store_value: Linear | str       # 'load': the loaded value
    load: Access | None
    branch: str                     # base mnemonic of the closing branch
    compare: tuple[Linear, Linear]  # its two operands, as at the branch


_LOAD_WIDTH = {"lb": (1, True), "lbu": (1, False), "lh": (2, True), "lhu": (2, False),
               "lw": (4, True), "lwu": (4, False), "ld": (8, False)}
_STORE_WIDTH = {"sb": 1, "sh": 2, "sw": 4, "sd": 8}


def analyse(trace: list[tuple[int, Decoded, str]]) -> LoopShape | None:
    """The loop's shape, or None when it is not a memset/memcpy-like loop."""
    regs: dict[int, Linear | str] = {}
    live_in: set[int] = set()
    store = load = None
    store_value: Linear | str | None = None

    def read(r: int) -> Linear | str:
        if r == 0:
            return _const(0)
        if r not in regs:
            live_in.add(r)
            return _reg(r)
        return regs[r]

    def linear(r: int) -> Linear | None:
        value = read(r)
        return value if isinstance(value, dict) else None

    *body, (last_offset, last, _) = trace
    for _, decoded, role in body:
        if role != "op":
            return None
        name, v = decoded.base.name, decoded.base_operands
        rd = v.get("rd", 0)
        if name in ("addi", "add", "sub", "slli", "lui"):
            if name == "lui":
                value: Linear | None = _const(v["imm_u"])
            elif name == "addi":
                a = linear(v["rs1"])
                value = _add(a, _const(v["imm_i"])) if a is not None else None
            elif name == "slli":
                a = linear(v["rs1"])
                value = _scale(a, 1 << v["shamt"]) if a is not None else None
            else:
                a, b = linear(v["rs1"]), linear(v["rs2"])
                value = _add(a, b, 1 if name == "add" else -1) \
                    if a is not None and b is not None else None
            if value is None:
                return None
            if rd:
                regs[rd] = value
        elif name in _LOAD_WIDTH:
            base = linear(v["rs1"])
            if load is not None or store is not None or base is None:
                return None  # one load, before the store
            width, signed = _LOAD_WIDTH[name]
            load = Access(_add(base, _const(v["imm_i"])), width, signed)
            if rd:
                regs[rd] = "load"
        elif name in _STORE_WIDTH:
            base = linear(v["rs1"])
            if store is not None or base is None:
                return None
            store = Access(_add(base, _const(v["imm_s"])), _STORE_WIDTH[name])
            store_value = read(v["rs2"])
        else:
            return None
    if store is None or last.base.name not in ("bne", "bltu", "bgeu", "blt", "bge"):
        return None
    v = last.base_operands
    left, right = read(v["rs1"]), read(v["rs2"])
    if not isinstance(left, dict) or not isinstance(right, dict):
        return None
    if store_value == "load" and (load is None or load.width != store.width):
        return None
    if isinstance(store_value, str) and store_value != "load":
        return None
    return LoopShape(len(trace), last_offset + last.length, regs, live_in, store,
                     store_value, load, last.base.name, (left, right))  # type: ignore[arg-type]


def iteration_steps(shape: LoopShape) -> dict[int, int] | None:
    """Per-iteration change of each live-in register (must be r + c)."""
    steps = {}
    for r in shape.live_in:
        final = shape.final.get(r)
        if final is None:
            steps[r] = 0
        elif isinstance(final, dict) and set(final) <= {r, None} and final.get(r) == 1:
            steps[r] = final.get(None, 0)
        else:
            return None
    return steps


class IdiomRunner:
    """Executes one analysed loop; falls back to ``generic`` for an iteration."""

    def __init__(self, shape: LoopShape, x: list[int], memory: "MemorySystem",
                 generic: Callable[[int, int], tuple[int, int]]) -> None:
        self.shape = shape
        self.x = x
        self.memory = memory
        self.generic = generic
        self.ram = memory.bus.ram
        self.step_of = self.steps({})  # structural: the same on every call
        self._last_loaded = b""  # what the last bulk iteration's load read

    def steps(self, values: dict[int, int]) -> dict[int, int] | None:
        return iteration_steps(self.shape)

    def __call__(self, pc: int, budget: int) -> tuple[int, int]:
        shape = self.shape
        x = self.x
        if budget < shape.length:
            return pc, 0
        steps = self.step_of
        if steps is None:
            return self.generic(pc, budget)
        values = {r: x[r] for r in shape.live_in}
        affine: dict[int, tuple[int, int]] = {}  # id(expression) -> (value at 0, step)

        def at(expression: Linear, i: int) -> int:
            """Value of ``expression`` in iteration ``i`` (0-based)."""
            known = affine.get(id(expression))
            if known is None:
                known = affine[id(expression)] = (_evaluate(expression, values), sum(
                    coefficient * steps.get(r, 0) for r, coefficient in expression.items()
                    if r is not None))
            return (known[0] + i * known[1]) & M64

        iterations = self._iterations(at, budget // shape.length)
        if iterations is None:
            return self.generic(pc, budget)
        done = self._bulk(at, iterations)
        if done == 0:
            return self.generic(pc, shape.length)  # one ordinary iteration
        for r in shape.live_in:
            x[r] = (values[r] + steps[r] * done) & M64
        for r, final in shape.final.items():
            if r in shape.live_in:
                continue
            if final == "load":
                load = shape.load
                assert load is not None
                value = int.from_bytes(self._last_loaded, "little", signed=load.signed)
                x[r] = value & M64
            else:
                x[r] = at(final, done - 1)  # type: ignore[arg-type]
        finished = done == iterations[1]
        return (pc + shape.end if finished else pc), done * shape.length

    def _iterations(self, at: Callable[[Linear, int], int],
                    allowed: int) -> tuple[int, int] | None:
        """(iterations to run now, iterations until the loop exits)."""
        shape = self.shape
        left, right = shape.compare
        a0, b0 = at(left, 0), at(right, 0)
        da, db = (at(left, 1) - a0) & M64, (at(right, 1) - b0) & M64
        if db and da:
            return None
        step = da or (-db & M64)  # the gap a - b changes by this each iteration
        gap = (a0 - b0) & M64
        if step == 0:
            return None
        step_signed = step - (1 << 64) if step >> 63 else step
        if shape.branch == "bne":
            # exits in the first iteration where a == b: gap + k*step == 0 (mod 2**64)
            if step_signed > 0:
                distance = (-gap) & M64
            else:
                distance = gap
            magnitude = abs(step_signed)
            if distance % magnitude:
                return None
            exit_after = distance // magnitude + 1
        else:
            def continues(k: int) -> bool:
                a, b = at(left, k), at(right, k)
                if shape.branch in ("blt", "bge"):
                    a, b = (a ^ (1 << 63)), (b ^ (1 << 63))
                return a < b if shape.branch in ("bltu", "blt") else a >= b
            # the monotonic stretch: find the first k that stops, by doubling then bisection
            if not continues(0):
                exit_after = 1
            else:
                high = 1
                while continues(high) and high < (1 << 62):
                    high *= 2
                low = high // 2
                while low + 1 < high:
                    middle = (low + high) // 2
                    if continues(middle):
                        low = middle
                    else:
                        high = middle
                exit_after = high + 1
        return min(exit_after, allowed), exit_after

    def _bulk(self, at: Callable[[Linear, int], int], iterations: tuple[int, int]) -> int:
        """Run as many whole iterations as slices can do exactly; returns them."""
        shape, ram, memory = self.shape, self.ram, self.memory
        store, load = shape.store, shape.load
        width = store.width
        total = iterations[0]
        s0 = at(store.address, 0)
        s_step = (at(store.address, 1) - s0) & M64 if total > 1 else width
        if s_step not in (width, (-width) & M64):
            return 0
        forward = s_step == width
        l0 = at(load.address, 0) if load else 0
        if load is not None:
            l_step = (at(load.address, 1) - l0) & M64 if total > 1 else s_step
            if l_step != s_step:
                return 0
            gap = (s0 - l0) & M64
            distance = min(gap, (-gap) & M64)
            # a slice copy equals the loop unless a store lands on a byte a
            # later iteration still has to read
            if distance < total * width and (gap >> 63 == 0) == forward and gap:
                return 0
        else:
            if isinstance(shape.store_value, dict) and total > 1 and \
                    at(shape.store_value, 1) != at(shape.store_value, 0):
                return 0  # the stored value changes every iteration: not a memset
            value = _evaluate(shape.store_value, {r: self.x[r] for r in shape.live_in}) \
                if isinstance(shape.store_value, dict) else 0
            pattern = (value & ((1 << (8 * width)) - 1)).to_bytes(width, "little")
        writes, reads = memory.current_writes, memory.current_reads
        done = 0
        while done < total:
            s = at(store.address, done)
            if s & (width - 1) or (s & 4095) > 4096 - width:
                break
            room = ((4096 - (s & 4095)) if forward else ((s & 4095) + width)) // width
            if load is not None:
                lo = at(load.address, done)
                if (lo & 4095) > 4096 - width:
                    break
                room = min(room, ((4096 - (lo & 4095)) if forward else ((lo & 4095) + width))
                           // width)
            count = min(room, total - done)
            s_page = writes.get(s >> 12)
            if s_page is None:
                break
            first_store = s if forward else s - (count - 1) * width
            so = s_page | (first_store & 4095)
            if load is None:
                ram[so:so + count * width] = pattern * count
            else:
                l_page = reads.get(lo >> 12)
                if l_page is None:
                    break
                first_load = lo if forward else lo - (count - 1) * width
                lo_off = l_page | (first_load & 4095)
                # the chunk's last load, read before any of its stores can clobber it
                last = lo_off + (count - 1) * width if forward else lo_off
                self._last_loaded = bytes(ram[last:last + width])
                ram[so:so + count * width] = ram[lo_off:lo_off + count * width]
            done += count
        return done
