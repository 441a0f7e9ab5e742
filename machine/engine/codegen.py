"""Turning an instruction's semantics snippet into Python source.

The snippet (see machine/isa/spec.py) is parsed with ``ast`` and rewritten:
register names become whatever the engine keeps registers in, ``RD = e``
becomes a masked store that x0 ignores, ``S``/``SX32`` are inlined, ``PC`` and
``NEXT`` become the engine's pc expressions, and ``NPC = e`` a jump. The
interpreter and the block compiler differ only in the ``Registers`` naming
they pass in, so an instruction's meaning is written exactly once.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Callable

M64 = 0xFFFFFFFFFFFFFFFF
SIGN64 = 0x8000000000000000


@dataclass(frozen=True)
class Naming:
    """How registers and the pc are spelled in generated code."""

    read_register: Callable[[str], str]   # 'rs1' -> source of its value
    write_register: Callable[[str], str]  # 'rd' -> assignment target source
    pc: str                               # source of this instruction's address
    length: int                           # 2 or 4: NEXT = pc + length
    npc: str = "npc"                      # variable receiving a jump target
    constants: dict[str, int] | None = None  # operand names pasted in as numbers


def _expr(source: str) -> ast.expr:
    return ast.parse(source, mode="eval").body


class _Rewriter(ast.NodeTransformer):
    def __init__(self, naming: Naming) -> None:
        self.naming = naming
        self.jumps = False
        self.writes_rd = False

    def visit_Name(self, node: ast.Name) -> ast.AST:
        n = self.naming
        if node.id in ("RS1", "RS2"):
            return _expr(n.read_register(node.id.lower()))
        if node.id == "PC":
            return _expr(n.pc)
        if node.id == "NEXT":
            return _expr(f"({n.pc} + {n.length})")
        if n.constants is not None and node.id in n.constants and isinstance(node.ctx, ast.Load):
            return ast.Constant(n.constants[node.id])
        return node

    def visit_Attribute(self, node: ast.Attribute) -> ast.AST:
        # mem.load_u32 -> load_u32: memory accessors are plain names in the
        # generated code's namespace (one lookup fewer per access).
        if isinstance(node.value, ast.Name) and node.value.id == "mem":
            return ast.Name(node.attr, ast.Load())
        return self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.generic_visit(node)
        if isinstance(node.func, ast.Name) and node.func.id in ("S", "SX32"):
            (arg,) = node.args
            inner = ast.unparse(arg)
            if node.func.id == "S":
                return _expr(f"(({inner}) ^ {SIGN64:#x}) - {SIGN64:#x}")
            return _expr(f"((({inner}) & 0xFFFFFFFF) ^ 0x80000000) - 0x80000000")
        return node

    def visit_Assign(self, node: ast.Assign) -> ast.AST:
        self.generic_visit(node)
        (target,) = node.targets
        if isinstance(target, ast.Name) and target.id == "RD":
            self.writes_rd = True
            value = ast.unparse(node.value)
            return ast.parse(f"{self.naming.write_register('rd')} = ({value}) & {M64:#x}").body[0]
        if isinstance(target, ast.Name) and target.id == "NPC":
            self.jumps = True
            return ast.parse(f"{self.naming.npc} = ({ast.unparse(node.value)}) & {M64:#x}").body[0]
        return node


@dataclass(frozen=True)
class Rewritten:
    body: str        # statements, at indentation 0
    jumps: bool      # assigns the next pc (needs a default and a return of npc)
    writes_rd: bool


def rewrite(semantics: str, naming: Naming) -> Rewritten:
    tree = ast.parse(semantics)
    rewriter = _Rewriter(naming)
    tree = ast.fix_missing_locations(rewriter.visit(tree))
    return Rewritten(ast.unparse(tree), rewriter.jumps, rewriter.writes_rd)


def indent(source: str, spaces: int) -> str:
    pad = " " * spaces
    return "\n".join(pad + line if line else line for line in source.splitlines())
