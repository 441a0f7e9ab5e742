"""The block compiler: straight-line runs of guest code as Python functions.

A block starts at a hot entry (a slot executed ``HOT`` times by the
interpreter) and runs to the first branch or jump (included), the first
system instruction or breakpoint (excluded: the interpreter runs those), the
end of the page, or ``MAX_LENGTH`` instructions. Its source is pasted from
the same semantics snippets the interpreter compiles (machine/engine/codegen.py),
with registers as locals (``x10``) and operands as constants. A block that
branches back to its own start becomes a ``while`` loop.

Exactness: a block is called with the instructions left before the next
deadline and only runs whole iterations that fit; what is left the
interpreter runs one by one, so timers fire at the very instruction they
would without blocks. Before each instruction that can trap, the block notes
its index; when a Trap or NeedSync leaves the block, it writes its registers
back and records how many instructions completed and the faulting pc in
``BlockState``, so pc, registers, memory and the count are exactly as the
interpreter would leave them.
"""

from __future__ import annotations

import ast
from functools import lru_cache
from typing import TYPE_CHECKING, Callable

from ..isa.decoder import Decoded, decode
from ..isa.fields import SNIPPET_NAME
from .codegen import Naming, indent, rewrite
from .idioms import IdiomRunner, analyse
from .interpreter import SYNCED_CSRS, Recheck, csr_writes_expression

if TYPE_CHECKING:
    from ..hart import Hart
    from .interpreter import Interpreter

MAX_LENGTH = 64
HOT = 48  # interpreted entries of a slot before it gets a block


class BlockState:
    """Where a block stopped when an exception left it."""

    __slots__ = ("done", "pc")

    def __init__(self) -> None:
        self.done = 0
        self.pc = 0


class Block:
    __slots__ = ("run", "length", "source")

    def __init__(self, run: Callable[[int, int], tuple[int, int]], length: int,
                 source: str) -> None:
        self.run = run          # (pc, budget) -> (next pc, instructions executed)
        self.length = length
        self.source = source


# Inline fast paths for the memory accessors: (expression on the host offset
# ``_p``, alignment mask, value mask for stores). The accessor stays the slow path.
_LOADS = {
    "load_u8": ("ram[_p]", 0), "load_s8": ("(ram[_p] ^ 0x80) - 0x80", 0),
    "load_u16": ("ram16[_p >> 1]", 1), "load_s16": ("(ram16[_p >> 1] ^ 0x8000) - 0x8000", 1),
    "load_u32": ("ram32[_p >> 2]", 3),
    "load_s32": ("(ram32[_p >> 2] ^ 0x80000000) - 0x80000000", 3),
    "load_u64": ("ram64[_p >> 3]", 7),
}
_STORES = {"store_8": ("ram[_p]", 0, 0xFF), "store_16": ("ram16[_p >> 1]", 1, 0xFFFF),
           "store_32": ("ram32[_p >> 2]", 3, 0xFFFFFFFF),
           "store_64": ("ram64[_p >> 3]", 7, 0xFFFFFFFFFFFFFFFF)}


def _call_name(node: ast.AST) -> str | None:
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        return node.func.id
    return None


def inline_memory(source: str) -> str:
    """Rewrite ``r = load_x(a) & M`` and ``store_x(a, v)`` statements into a
    soft-TLB lookup with the RAM view access inline, the call as slow path."""
    out = []
    for statement in ast.parse(source).body:
        if isinstance(statement, ast.Assign) and isinstance(statement.value, ast.BinOp) \
                and _call_name(statement.value.left) in _LOADS:
            call = statement.value.left
            fast, align = _LOADS[call.func.id]
            target = ast.unparse(statement.targets[0])
            check = f" and not _a & {align}" if align else ""
            out.append(f"_a = {ast.unparse(call.args[0])}\n_o = R.get(_a >> 12)\n"
                       f"if _o is not None{check}:\n    _p = _o | (_a & 4095)\n"
                       f"    {target} = {fast}\nelse:\n"
                       f"    {target} = {call.func.id}(_a) & 0xFFFFFFFFFFFFFFFF")
        elif isinstance(statement, ast.Expr) and _call_name(statement.value) in _STORES:
            call = statement.value
            fast, align, mask = _STORES[call.func.id]
            address, value = (ast.unparse(a) for a in call.args)
            check = f" and not _a & {align}" if align else ""
            out.append(f"_a = {address}\n_o = W.get(_a >> 12)\n"
                       f"if _o is not None{check}:\n    _p = _o | (_a & 4095)\n"
                       f"    {fast} = ({value}) & {mask:#x}\nelse:\n"
                       f"    {call.func.id}(_a, {value})")
        else:
            out.append(ast.unparse(statement))
    return "\n".join(out)


@lru_cache(maxsize=1 << 16)
def _instruction_code(word: int, offset: int) -> str:
    """One instruction's code inside a block at ``offset`` from the block's pc
    (cached: blocks overlap, and parsing snippets is the slow part of building)."""
    decoded = decode(word)
    assert decoded is not None
    values = {SNIPPET_NAME.get(k, k): v for k, v in decoded.base_operands.items()}
    rd = values.get("rd", 0)
    constants = dict(values)
    constants["INSN"] = decoded.word
    naming = Naming(read_register=lambda name: f"x{values[name]}" if values[name] else "0",
                    write_register=lambda name: f"x{rd}" if rd else "_",
                    pc=f"(pc + {offset})", length=decoded.length, constants=constants)
    rewritten = rewrite(decoded.base.semantics or "pass", naming)
    prefix = f"npc = pc + {offset + decoded.length}\n" if rewritten.jumps else ""
    return prefix + inline_memory(rewritten.body)


def _may_trap(decoded: Decoded) -> bool:
    kind = decoded.base.kind
    return bool(kind & {"load", "store", "csr"}) or \
        decoded.base.name.startswith(("amo", "lr.", "sc."))


def _csr_needs_sync(decoded: Decoded) -> bool:
    """CSR writes and synced CSRs end a block: the interpreter runs them."""
    operands = {SNIPPET_NAME.get(k, k): v for k, v in decoded.base_operands.items()}
    writes = eval(csr_writes_expression(decoded.base), {}, operands)  # noqa: S307
    return bool(writes) or operands["csr"] in SYNCED_CSRS


class BlockCompiler:
    def __init__(self, hart: "Hart", interpreter: "Interpreter", idioms: bool = True) -> None:
        self.hart = hart
        self.state = BlockState()
        self.namespace = dict(interpreter.namespace)
        self.namespace["st"] = self.state
        self.namespace.update(hart.memory.ram_views)
        self.compiled = 0
        self.idioms = idioms
        self.idiom_loops = 0

    # --- finding the instructions --------------------------------------------
    def _word_at(self, physical: int) -> int | None:
        """The instruction bits at a physical address in this page, or None
        when a 32-bit instruction would run off the page."""
        ram, base = self.hart.memory.bus.ram, physical - self.hart.memory.bus.ram_base
        low = ram[base] | (ram[base + 1] << 8)
        if low & 3 != 3:
            return low
        if physical & 4095 > 4092:
            return None
        return low | (ram[base + 2] << 16) | (ram[base + 3] << 24)

    def scan(self, pc: int, privilege: int) -> list[tuple[int, Decoded, str]]:
        """The block's trace: (offset from pc, decoded, role). Roles: 'op';
        'exit' for a conditional branch whose taken side leaves the block;
        'follow' for a jal with a target in this page, which the trace follows;
        'end' for the last control transfer. Everything stays in pc's page."""
        memory = self.hart.memory
        breakpoints = self.hart.breakpoints
        physical = memory.translate(pc, 0, privilege)
        page_physical = physical & ~4095
        page_virtual = pc & ~4095
        out: list[tuple[int, Decoded, str]] = []
        offset = 0
        seen: set[int] = set()
        while len(out) < MAX_LENGTH:
            address = pc + offset
            if address & ~4095 != page_virtual or offset in seen:
                break
            seen.add(offset)
            here = page_physical | (address & 4095)
            if breakpoints and here in breakpoints:
                break
            word = self._word_at(here)
            decoded = decode(word) if word is not None else None
            if decoded is None or "system" in decoded.base.kind:
                break
            if "csr" in decoded.base.kind and _csr_needs_sync(decoded):
                break  # writes and time-dependent reads run synced, in the interpreter
            kind = decoded.base.kind
            if "branch" in kind:
                target = offset + decoded.base_operands["imm_b"]
                if target == 0 or len(out) + 1 >= MAX_LENGTH:
                    out.append((offset, decoded, "end"))
                    break
                out.append((offset, decoded, "exit"))
            elif "jump" in kind:
                if decoded.base.name == "jal":
                    target = offset + decoded.base_operands["imm_j"]
                    if target != 0 and (pc + target) & ~4095 == page_virtual \
                            and target not in seen and len(out) + 1 < MAX_LENGTH:
                        out.append((offset, decoded, "follow"))
                        offset = target
                        continue
                out.append((offset, decoded, "end"))
                break
            else:
                out.append((offset, decoded, "op"))
            offset += decoded.length
        return out

    # --- generating the source ----------------------------------------------------
    def source(self, trace: list[tuple[int, Decoded, str]]) -> str:
        used: set[int] = set()
        written: set[int] = set()
        body: list[str] = []
        offsets: list[int] = []
        last_offset, last, last_role = trace[-1]
        length = len(trace)
        ends_in_transfer = last_role == "end"
        self_loop = ends_in_transfer and self._static_target(last, last_offset) == 0
        trap_points = [i for i, (_, d, _) in enumerate(trace) if _may_trap(d)]
        for index, (offset, decoded, _) in enumerate(trace):
            values = {SNIPPET_NAME.get(k, k): v for k, v in decoded.base_operands.items()}
            fields = {f.name for f in decoded.base.fields}
            for reg in ("rs1", "rs2"):
                if reg in fields and values[reg]:
                    used.add(values[reg])
            rd = values.get("rd", 0) if "rd" in fields else 0
            if rd and "RD" in (decoded.base.semantics or ""):
                written.add(rd)
                used.add(rd)
        store = "; ".join(f"x[{r}] = x{r}" for r in sorted(written)) or "pass"
        loop_exit = None
        for index, (offset, decoded, role) in enumerate(trace):
            values = {SNIPPET_NAME.get(k, k): v for k, v in decoded.base_operands.items()}
            rd = values.get("rd", 0)

            def read(name: str, values=values) -> str:
                return f"x{values[name]}" if values[name] else "0"

            def write(name: str, rd=rd) -> str:
                return f"x{rd}" if rd else "_"

            constants = dict(values)
            constants["INSN"] = decoded.word
            naming = Naming(read_register=read, write_register=write, pc=f"(pc + {offset})",
                            length=decoded.length, constants=constants)
            offsets.append(offset)
            if index in trap_points and len(trap_points) > 1:
                body.append(f"k = {index}")
            count = f"done + {index + 1}"
            if role == "exit":  # taken: leave the block there
                condition = self._branch_condition(decoded, naming)
                target = offset + values["imm"]
                body.append(f"if {condition}:\n    {store}\n"
                            f"    return (pc + {target}) & 0xFFFFFFFFFFFFFFFF, {count}")
                continue
            if role == "follow":  # a jal inside the page: link, then go on at its target
                if rd:
                    body.append(f"x{rd} = pc + {offset + decoded.length}")
                continue
            if role == "end" and self_loop and decoded.base.name != "jal":
                loop_exit = (self._branch_condition(decoded, naming), offset + decoded.length)
                continue
            if role == "end" and self_loop:
                if rd:
                    body.append(f"x{rd} = pc + {offset + decoded.length}")
                continue
            body.append(_instruction_code(decoded.word, offset))
        load = "; ".join(f"x{r} = x[{r}]" for r in sorted(used)) or "pass"
        lines = ["def block(pc, budget):",
                 f"    if budget < {length}:",
                 "        return pc, 0",
                 f"    {load}",
                 "    R = system.current_reads; W = system.current_writes",
                 f"    k = {trap_points[0] if len(trap_points) == 1 else 0}",
                 "    done = 0",
                 "    try:"]
        code = "\n".join(body) or "pass"
        if self_loop:
            # Whole iterations only, and no more than the budget allows.
            exit_test = ""
            if loop_exit is not None:
                exit_test = (f"            if not ({loop_exit[0]}):\n"
                             f"                npc = pc + {loop_exit[1]}\n                break\n")
            lines += [f"        last = budget - {length}",
                      "        while True:",
                      indent(code, 12),
                      f"            done += {length}",
                      exit_test +
                      "            if done > last:\n                npc = pc\n                break"]
            result = "npc"
        else:
            lines.append(indent(code, 8))
            lines.append(f"        done = {length}")
            result = "npc" if ends_in_transfer else f"pc + {last_offset + last.length}"
        lines += ["    except BaseException:",
                  f"        {store}",
                  "        st.done = done + k",
                  f"        st.pc = pc + {tuple(offsets)}[k]",
                  "        raise",
                  f"    {store}",
                  f"    return {result}, done"]
        return "\n".join(lines)

    @staticmethod
    def _branch_condition(decoded: Decoded, naming: Naming) -> str:
        """The condition of a conditional branch's snippet."""
        tree = ast.parse(decoded.base.semantics or "")
        first = tree.body[0]
        assert isinstance(first, ast.If), decoded.base.name
        return rewrite(ast.unparse(first.test), naming).body

    @staticmethod
    def _static_target(decoded: Decoded, offset: int) -> int | None:
        values = decoded.base_operands
        for name in ("imm_b", "imm_j"):
            if name in values:
                return offset + values[name]
        return None

    # --- building ---------------------------------------------------------
    def build(self, pc: int, privilege: int) -> Block | None:
        trace = self.scan(pc, privilege)
        if len(trace) < 2:
            return None
        source = self.source(trace)
        scope: dict = {}
        exec(compile(source, f"<block {pc:#x}>", "exec"), self.namespace, scope)  # noqa: S102
        self.compiled += 1
        run = scope["block"]
        last_offset, last, role = trace[-1]
        if self.idioms and role == "end" and self._static_target(last, last_offset) == 0:
            shape = analyse(trace)
            if shape is not None:
                self.idiom_loops += 1
                run = IdiomRunner(shape, self.hart.x, self.hart.memory, run)
        return Block(run, len(trace), source)


class BlockEngine:
    """Runs blocks where they exist and the interpreter's ops elsewhere,
    counting entries to find hot code worth compiling."""

    # Instructions between looks at pause requests and input: blocks and
    # idioms run far more per second than the interpreter, so a larger slice
    # keeps the look-around overhead small at the same pause latency.
    CHUNK = 1 << 18

    def __init__(self, hart: "Hart", interpreter: "Interpreter", idioms: bool = True) -> None:
        self.hart = hart
        self.interpreter = interpreter
        self.compiler = BlockCompiler(hart, interpreter, idioms)

    def run(self, stop_at: int) -> None:
        from ..trap import Trap
        from .interpreter import BreakpointHit
        from .memory import NeedSync

        hart = self.hart
        memory = hart.memory
        interpreter = self.interpreter
        state = self.compiler.state
        build = self.compiler.build
        n = hart.icount
        pc = hart.pc
        while n < stop_at and not hart.stop_requested:
            pc, limit = interpreter.look_around(n, pc, stop_at, self.CHUNK)
            privilege = hart.privilege
            fetches = hart.fetch_map
            vpn = -1
            page = None
            ops: list = []
            blocks: list = []
            heat: list = []
            op = None
            in_block = False
            try:
                while n < limit:
                    if pc >> 12 != vpn:
                        pc &= 0xFFFFFFFFFFFFFFFF
                        vpn = pc >> 12
                        page = fetches.get(vpn) or memory.fetch_slots(pc, privilege, fetches)
                        ops, blocks, heat = page.ops, page.blocks, page.heat
                    slot = (pc & 4095) >> 1
                    block = blocks[slot]
                    if block:
                        in_block = True
                        pc, done = block.run(pc, limit - n)
                        in_block = False
                        if done:
                            n += done
                            continue
                    elif block is None:
                        heat[slot] += 1
                        if heat[slot] >= HOT:
                            blocks[slot] = build(pc, privilege) or False
                            continue
                    op = ops[slot]
                    if op is None:
                        op, cacheable = interpreter.decode_at(pc, privilege)
                        if cacheable:
                            page = fetches.get(vpn) or memory.fetch_slots(pc, privilege, fetches)
                            ops, blocks, heat = page.ops, page.blocks, page.heat
                            ops[slot] = op
                    pc = op(pc)
                    n += 1
            except Recheck as done:  # (only from the interpreter's ops)
                n, pc = n + 1, done.npc
            except NeedSync:
                if in_block:  # finish the instructions before it, then run it synced
                    n, pc = n + state.done, state.pc
                    op = ops[(pc & 4095) >> 1] or interpreter.decode_at(pc, privilege)[0]
                synced = interpreter.run_synced(op, n, pc)  # type: ignore[arg-type]
                if synced is None:
                    break
                n, pc = synced
            except Trap as trap:
                if in_block:
                    n, pc = n + state.done, state.pc
                hart.icount = n
                pc = hart.take_exception(trap, pc)
                n += 1
            except BreakpointHit:
                hart.breakpoint_hit = pc
                break
            pc &= 0xFFFFFFFFFFFFFFFF
            hart.icount, hart.pc = n, pc
        hart.icount, hart.pc = n, pc & 0xFFFFFFFFFFFFFFFF
