"""The reference interpreter: one predecoded closure per instruction.

For every instruction kind, the declaration's snippet is compiled once into a
factory; decoding an instruction calls the factory with its operand values
and caches the resulting closure in the slot of its physical page. A closure
takes the instruction's pc and returns the next one; it raises ``Trap`` for an
architectural exception and ``NeedSync`` (before any effect) when it needs the
hart's counters and pc current: CSR and privileged instructions, device
accesses. The loop then writes them back and executes it again, synced.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

from ..isa import arith
from ..isa.decoder import Decoded, decode
from ..isa.fields import SNIPPET_NAME
from ..isa.spec import InstructionSpec
from ..trap import ILLEGAL_INSTRUCTION, Trap
from .codegen import Naming, indent, rewrite
from .memory import NeedSync

if TYPE_CHECKING:
    from ..hart import Hart

Op = Callable[[int], int]
X0_SINK = 32  # writes to x0 land in this extra slot, so x[0] stays 0

INTERPRETER_NAMING = {
    length: Naming(read_register=lambda name: f"x[{name}]",
                   write_register=lambda name: "x[_rd]", pc="pc", length=length)
    for length in (2, 4)
}


def snippet_parameters(spec: InstructionSpec) -> list[str]:
    return [SNIPPET_NAME.get(f.name, f.name) for f in spec.fields]


# CSRs that need the hart synced (exact count and pc): those whose value
# depends on the instruction count or device lines (cycle, time, instret,
# mcycle, minstret, mip, sip) and satp, whose writes are published as events.
SYNCED_CSRS = (0xC00, 0xC01, 0xC02, 0xB00, 0xB02, 0x344, 0x144, 0x180)


class Recheck(Exception):
    """Raised after a CSR write that may enable an interrupt, move a timer
    deadline or change translation: the loop looks around before going on."""

    def __init__(self, npc: int) -> None:
        self.npc = npc


def csr_writes_expression(spec: InstructionSpec) -> str:
    """Python expression (over the operands): does this CSR instruction write?"""
    return "True" if spec.name in ("csrrw", "csrrwi") else (
        "rs1 != 0" if spec.name in ("csrrs", "csrrc") else "zimm != 0")


def factory_source(spec: InstructionSpec, length: int) -> str:
    """Python source of ``make_<name>(operands..., INSN)`` returning the op."""
    naming = INTERPRETER_NAMING[length]
    rewritten = rewrite(spec.semantics or "pass", naming)
    lines = []
    if "system" in spec.kind:
        lines.append("if not system.synced:\n    raise NeedSync")
    elif "csr" in spec.kind:
        # Most CSR accesses need no synced hart; a write that matters to
        # interrupts or translation says so through hart.recheck_needed.
        lines.append("if needs_sync and not system.synced:\n    raise NeedSync")
    if rewritten.jumps:
        lines.append(f"npc = pc + {length}")
    lines.append(rewritten.body)
    if "csr" in spec.kind:
        lines.append(f"if hart.recheck_needed:\n    hart.recheck_needed = False\n"
                     f"    raise Recheck(pc + {length})")
    lines.append("return npc" if rewritten.jumps else f"return pc + {length}")
    params = ", ".join(snippet_parameters(spec) + ["INSN"])
    head = [f"def make({params}):"]
    if "csr" in spec.kind:
        head.append(f"    needs_sync = csr in {SYNCED_CSRS}")
    if rewritten.writes_rd:
        head.append(f"    _rd = rd or {X0_SINK}")
    return "\n".join(head + ["    def op(pc):", indent("\n".join(lines), 8), "    return op"])


class BreakpointHit(Exception):
    """Raised by a breakpoint's op before the instruction executes."""


class Interpreter:
    def __init__(self, hart: "Hart") -> None:
        self.hart = hart
        self.namespace: dict = {
            "x": hart.x, "hart": hart, "system": hart.memory, "NeedSync": NeedSync,
            "Recheck": Recheck,
            "div64": arith.div64, "rem64": arith.rem64, "divu64": arith.divu64,
            "remu64": arith.remu64,
        }
        self.namespace.update(hart.memory.accessors)
        self._factories: dict[tuple[str, int], Callable[..., Op]] = {}

    def factory(self, spec: InstructionSpec, length: int) -> Callable[..., Op]:
        key = (spec.name, length)
        made = self._factories.get(key)
        if made is None:
            scope: dict = {}
            code = compile(factory_source(spec, length), f"<{spec.name}/{length}>", "exec")
            exec(code, self.namespace, scope)  # noqa: S102 - our own declarations
            made = self._factories[key] = scope["make"]
        return made

    def op_for(self, decoded: Decoded) -> Op:
        base = decoded.base
        values = {SNIPPET_NAME.get(name, name): value
                  for name, value in decoded.base_operands.items()}
        return self.factory(base, decoded.length)(**values, INSN=decoded.word)

    def illegal_op(self, word: int) -> Op:
        def op(pc: int) -> int:
            raise Trap(ILLEGAL_INSTRUCTION, word)
        return op

    def decode_at(self, pc: int, privilege: int) -> tuple[Op, bool]:
        """Fetch and decode the instruction at ``pc``: (its op, cacheable).
        A 32-bit instruction whose second half lies on the next page is not
        cached (that page's translation may change independently)."""
        memory = self.hart.memory
        low = memory.fetch_halfword(pc, privilege)
        if low & 3 != 3:
            word, cacheable = low, True
        else:
            high = memory.fetch_halfword(pc + 2, privilege)
            word, cacheable = low | (high << 16), (pc & 4095) != 4094
        decoded = decode(word)
        op = self.op_for(decoded) if decoded is not None else self.illegal_op(word)
        if self.hart.breakpoints and memory.translate(pc, 0, privilege) in self.hart.breakpoints:
            op = self.breakpoint_op(op)
        return op, cacheable

    def breakpoint_op(self, op: Op) -> Op:
        """Stops before ``op`` runs, unless the hart is resuming from this stop."""
        hart = self.hart

        def breakpoint(pc: int) -> int:
            if hart.resume_breakpoint == pc:
                hart.resume_breakpoint = None
                return op(pc)
            raise BreakpointHit
        return breakpoint

    # --- what every engine's loop shares ---------------------------------------
    def look_around(self, n: int, pc: int, stop_at: int, chunk: int) -> tuple[int, int]:
        """Between runs of instructions: deliver due input, take a pending
        interrupt, and say how far the next run may go (the next deadline)."""
        hart = self.hart
        if hart.at_boundary is not None:
            hart.at_boundary(n)
        pc = hart.take_interrupt_if_pending(pc)
        return pc, min(stop_at, hart.next_deadline(n), n + chunk)

    def run_synced(self, op: Op, n: int, pc: int) -> tuple[int, int] | None:
        """Execute ``op`` (instruction number ``n`` at ``pc``) with the hart's
        counters and pc written back, as CSR, privileged and device accesses
        need: (count, next pc) after it, or None for a wfi that waits forever."""
        hart, memory = self.hart, self.hart.memory
        hart.icount, hart.pc = n, pc
        memory.synced = True
        try:
            next_pc = op(pc)
            if hart.idle_forever:
                return None
            return hart.icount + 1, next_pc
        except Recheck as done:  # synced anyway: nothing more to do
            return hart.icount + 1, done.npc
        except Trap as trap:
            return hart.icount + 1, hart.take_exception(trap, pc)
        finally:
            memory.synced = False

    # --- the loop ---------------------------------------------------------
    def run(self, stop_at: int) -> None:
        """Execute until ``hart.icount`` reaches ``stop_at`` or the hart has
        to stop (pause request, idle with nothing to wait for)."""
        hart = self.hart
        memory = hart.memory
        n = hart.icount
        pc = hart.pc
        while n < stop_at and not hart.stop_requested:
            pc, limit = self.look_around(n, pc, stop_at, hart.CHUNK)
            privilege = hart.privilege
            fetches = hart.fetch_map
            vpn = -1
            slots: list = []  # the current page's decoded ops
            op = None
            try:
                # The for-loop's counter is the instruction count: on an
                # exception it still says which instruction was executing.
                for n in range(n, limit):
                    if pc >> 12 != vpn:
                        # Fix: running off 2**64 - 1 wraps to 0 (the address space is
                        # circular); a non-jump returns pc + length unmasked.
                        pc &= 0xFFFFFFFFFFFFFFFF
                        vpn = pc >> 12
                        slots = (fetches.get(vpn) or memory.fetch_slots(pc, privilege, fetches)).ops
                    op = slots[(pc & 4095) >> 1]
                    if op is None:
                        op, cacheable = self.decode_at(pc, privilege)
                        if cacheable:
                            # Fix: a store may have invalidated this page since
                            # `slots` was looked up; cache into the live list.
                            slots = (fetches.get(vpn) or memory.fetch_slots(pc, privilege, fetches)).ops
                            slots[(pc & 4095) >> 1] = op
                    pc = op(pc)
                else:
                    n = limit
            except Recheck as done:  # the op completed: count it, then look around
                n, pc = n + 1, done.npc
            except NeedSync:
                synced = self.run_synced(op, n, pc)  # type: ignore[arg-type]
                if synced is None:  # wfi with nothing that could wake it
                    break
                n, pc = synced
            except Trap as trap:
                hart.icount = n
                pc = hart.take_exception(trap, pc)
                n += 1
            except BreakpointHit:
                hart.breakpoint_hit = pc
                break
            pc &= 0xFFFFFFFFFFFFFFFF  # Fix: wrap, as above
            hart.icount, hart.pc = n, pc
        hart.icount, hart.pc = n, pc & 0xFFFFFFFFFFFFFFFF
