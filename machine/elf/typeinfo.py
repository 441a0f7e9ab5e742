"""A small model of C types, read from DWARF 2 to 5: what the debugger needs
to find the kernel's globals and the layout of its structures.

``TypeInfo.kind`` is one of 'base', 'pointer', 'struct', 'union', 'array',
'enum', 'function', 'void' or 'other'. Typedefs and const/volatile/restrict/
atomic qualifiers are resolved away (the outermost typedef name is kept in
``typedef`` for display). Arrays nest: ``char grid[4][8]`` is an array of 4
arrays of 8 chars.

Struct member offsets come from ``DW_AT_data_member_location``, which GCC
writes as a location expression ``[DW_OP_plus_uconst, N]`` under -gdwarf-2
and as a plain constant from DWARF 3/4 on; both are read. Bit-fields come
with ``DW_AT_bit_offset`` (DWARF 2/3, counted from the most significant bit
of the storage unit) or ``DW_AT_data_bit_offset`` (DWARF 4/5); both become
``Member.bit_offset``, counted in bits from the start of the struct, bit 0
being the least significant bit of byte 0 (RISC-V is little-endian).

Resolution is lazy and cached per DIE: the index of named types and globals
is built with one pass over each CU's top-level DIEs (pyelftools skips over
function bodies through DW_AT_sibling), and a type is resolved the first
time it is asked for. Recursive types (``struct proc *parent`` inside
``struct proc``) resolve because a struct is cached before its members are
read; its ``members`` dict is then filled in place.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from elftools.dwarf.die import DIE
from elftools.dwarf.dwarf_expr import DWARFExprParser
from elftools.dwarf.dwarfinfo import DWARFInfo
from elftools.dwarf.enums import ENUM_DW_ATE

from .errors import PARSE_ERRORS, describe

_ATE_NAMES = {v: k[len("DW_ATE_") :] for k, v in ENUM_DW_ATE.items()}
_QUALIFIERS = {
    "DW_TAG_const_type",
    "DW_TAG_volatile_type",
    "DW_TAG_restrict_type",
    "DW_TAG_atomic_type",
    "DW_TAG_immutable_type",
    "DW_TAG_shared_type",
}
_AGGREGATES = {
    "DW_TAG_structure_type": "struct",
    "DW_TAG_union_type": "union",
    "DW_TAG_class_type": "struct",
}
_CONSTANT_FORMS = {
    "DW_FORM_data1",
    "DW_FORM_data2",
    "DW_FORM_data4",
    "DW_FORM_data8",
    "DW_FORM_data16",
    "DW_FORM_udata",
    "DW_FORM_sdata",
    "DW_FORM_implicit_const",
}
_FIXED_DATA_BITS = {
    "DW_FORM_data1": 8,
    "DW_FORM_data2": 16,
    "DW_FORM_data4": 32,
    "DW_FORM_data8": 64,
}


@dataclass(eq=False, slots=True)
class TypeInfo:
    kind: str
    name: str | None = None
    byte_size: int | None = None
    target: TypeInfo | None = None  # pointer: the pointee; function: the return type
    element: TypeInfo | None = None  # array: the element type
    length: int | None = None  # array: element count (None: not given, e.g. `int a[]`)
    members: dict[str, Member] = field(default_factory=dict)  # struct, union
    enumerators: dict[int, str] = field(default_factory=dict)  # enum: value -> name
    encoding: str | None = (
        None  # base: 'signed', 'unsigned', 'signed_char', 'boolean', 'float', ...
    )
    typedef: str | None = None  # the outermost typedef this type was reached through
    declaration_only: bool = False  # a struct/union/enum whose definition is nowhere

    @property
    def signed(self) -> bool:
        """Whether values of a base or enum type are signed."""
        return self.encoding in ("signed", "signed_char", "signed_fixed")

    @property
    def dimensions(self) -> tuple[int | None, ...]:
        """Array lengths from the outermost in: ``char grid[4][8]`` -> (4, 8)."""
        dims: list[int | None] = []
        t: TypeInfo | None = self
        while t is not None and t.kind == "array":
            dims.append(t.length)
            t = t.element
        return tuple(dims)

    @property
    def scalar(self) -> TypeInfo:
        """The innermost element type of a (possibly nested) array; else itself."""
        t = self
        while t.kind == "array" and t.element is not None:
            t = t.element
        return t

    def member(self, path: str) -> Member | None:
        """A member by dotted path through nested structs/unions, e.g.
        ``"lock.locked"``, with the offset from the start of this type."""
        t: TypeInfo = self
        offset = 0
        found: Member | None = None
        for part in path.split("."):
            if t.kind not in ("struct", "union"):
                return None
            found = t.members.get(part)
            if found is None:
                return None
            offset += found.offset
            t = found.type
        if found is None:
            return None
        return dataclasses.replace(
            found, offset=offset, bit_offset=_shift_bits(found, offset)
        )

    def describe(self) -> str:
        """The type as C would write it (typedef names kept)."""
        return _describe(self, "")

    def __str__(self) -> str:
        return self.describe()

    def __repr__(self) -> str:
        size = "?" if self.byte_size is None else self.byte_size
        return f"<TypeInfo {self.describe()} ({self.kind}, {size} bytes)>"


@dataclass(frozen=True, slots=True)
class Member:
    name: str
    offset: int  # bytes from the start of the struct (for a bit-field: the byte of its bit 0)
    type: TypeInfo
    bit_size: int | None = None  # bit-fields only
    bit_offset: int | None = None  # bit-fields only: bits from the start of the struct

    @property
    def is_bitfield(self) -> bool:
        return self.bit_size is not None

    def bitfield_value(self, struct_bytes: bytes) -> int:
        """Extract this bit-field from the bytes of the whole struct."""
        if self.bit_size is None or self.bit_offset is None:
            raise ValueError(f"member {self.name} is not a bit-field")
        first = self.bit_offset // 8
        last = (self.bit_offset + self.bit_size + 7) // 8
        word = int.from_bytes(struct_bytes[first:last], "little")
        value = (word >> (self.bit_offset % 8)) & ((1 << self.bit_size) - 1)
        if self.type.signed and value >> (self.bit_size - 1):
            value -= 1 << self.bit_size
        return value

    def __repr__(self) -> str:
        bits = (
            f", bits {self.bit_offset}+{self.bit_size}"
            if self.bit_size is not None
            else ""
        )
        return f"<Member {self.name} @{self.offset}: {self.type.describe()}{bits}>"


@dataclass(frozen=True, slots=True)
class VariableInfo:
    name: str
    address: int | None  # None: neither DWARF nor the symbol table says where it is
    type: TypeInfo
    external: bool  # False for a file-scope `static`

    @property
    def size(self) -> int | None:
        return self.type.byte_size

    def __repr__(self) -> str:
        where = "?" if self.address is None else f"{self.address:#x}"
        return f"<VariableInfo {self.name} @ {where}: {self.type.describe()}>"


VOID = TypeInfo(kind="void", name="void")


def _shift_bits(m: Member, offset: int) -> int | None:
    if m.bit_offset is None:
        return None
    return m.bit_offset + (offset - m.offset) * 8


def _describe(t: TypeInfo, inner: str) -> str:
    """C declarator syntax: ``inner`` is what has been built around the name."""
    if not t.typedef:
        if t.kind == "pointer":
            target = t.target or VOID
            if target.kind in ("array", "function") and not target.typedef:
                return _describe(target, f"(*{inner.strip()})")
            return _describe(target, f" *{inner.lstrip()}")
        if t.kind == "array":
            length = "" if t.length is None else str(t.length)
            return _describe(t.element or VOID, f"{inner}[{length}]")
        if t.kind == "function":
            return _describe(t.target or VOID, f"{inner}()")
    if t.typedef:
        base = t.typedef
    elif t.kind in ("struct", "union", "enum"):
        base = f"{t.kind} {t.name}" if t.name else f"{t.kind} {{...}}"
    else:
        base = t.name or t.kind
    if inner and not inner.startswith((" ", "[")):
        inner = " " + inner
    return base + inner


_LOCAL_REFS = {
    "DW_FORM_ref1",
    "DW_FORM_ref2",
    "DW_FORM_ref4",
    "DW_FORM_ref8",
    "DW_FORM_ref_udata",
}


def _children(die: DIE) -> Iterator[DIE]:
    """A DIE's children. Like pyelftools' ``iter_children`` (which skips a
    child's subtree through its DW_AT_sibling), but a damaged DW_AT_sibling
    pointing backwards cannot make it walk the same DIEs forever: then the
    subtree is skipped by scanning it."""
    if not die.has_children:
        return
    cu = die.cu
    end = cu.cu_offset + cu.size
    offset = die.offset + die.size
    while offset < end:
        child = cu.get_DIE_from_refaddr(offset)
        if child.is_null():
            return
        yield child
        offset = child.offset + child.size
        if not child.has_children:
            continue
        sibling = child.attributes.get("DW_AT_sibling")
        target = None
        if sibling is not None and sibling.form in _LOCAL_REFS:
            target = cu.cu_offset + sibling.raw_value
        elif sibling is not None and sibling.form == "DW_FORM_ref_addr":
            target = sibling.raw_value
        if target is not None and offset <= target <= end:
            offset = target
            continue
        depth = 1  # no usable sibling: scan past the subtree's null terminator
        while depth and offset < end:
            inner = cu.get_DIE_from_refaddr(offset)
            offset += inner.size
            depth += -1 if inner.is_null() else (1 if inner.has_children else 0)


def _text(value: object) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


class DwarfTypes:
    """Named types and global variables of one DWARF image."""

    def __init__(
        self,
        dwarf: DWARFInfo,
        symbol_address: Callable[[str], int | None],
        little_endian: bool = True,
    ) -> None:
        self._dwarf = dwarf
        self._symbol_address = symbol_address
        self._little_endian = little_endian
        self._types: dict[int, TypeInfo] = {}  # DIE offset -> resolved type
        # ids of pointers (and function types) whose target is being resolved
        self._incomplete: set[int] = set()
        # (kind, name) -> the first complete definition's DIE
        self._named: dict[tuple[str, str], DIE] = {}
        # name -> DIEs, definitions (with a location) first
        self._variables: dict[str, list[DIE]] = {}
        self._variable_cache: dict[str, VariableInfo | None] = {}
        self._expr_parsers: dict[int, DWARFExprParser] = {}
        self.errors: list[str] = []
        self._build_index()

    # -- public ------------------------------------------------------------

    def variable(self, name: str) -> VariableInfo | None:
        if name in self._variable_cache:
            return self._variable_cache[name]
        result = None
        for die in self._variables.get(name, ()):
            try:
                result = self._variable_from(name, die)
            except PARSE_ERRORS as exc:
                self.errors.append(f"variable {name}: {describe(exc)}")
                result = None
            if result is not None:
                break
        self._variable_cache[name] = result
        return result

    def global_variables(self) -> Iterator[tuple[str, VariableInfo]]:
        for name in list(self._variables):
            info = self.variable(name)
            if info is not None:
                yield name, info

    def named_type(self, kind: str, name: str) -> TypeInfo | None:
        """kind: 'struct', 'union', 'enum', 'typedef' or 'base'."""
        die = self._named.get((kind, name))
        if die is None:
            return None
        try:
            return self._resolve(die)
        except PARSE_ERRORS as exc:
            self.errors.append(f"{kind} {name}: {describe(exc)}")
            return None

    # -- index -------------------------------------------------------------

    def _build_index(self) -> None:
        definitions: dict[str, list[DIE]] = {}
        declarations: dict[str, list[DIE]] = {}
        for cu in self._dwarf.iter_CUs():
            try:
                for die in _children(cu.get_top_DIE()):
                    self._index_die(die, definitions, declarations)
            except PARSE_ERRORS as exc:  # an unreadable CU: keep what the others give
                self.errors.append(f"CU at {cu.cu_offset:#x}: {describe(exc)}")
        for name, dies in definitions.items():
            self._variables[name] = list(dies)
        for name, dies in declarations.items():
            self._variables.setdefault(name, []).extend(dies)

    def _index_die(
        self,
        die: DIE,
        definitions: dict[str, list[DIE]],
        declarations: dict[str, list[DIE]],
    ) -> None:
        tag = die.tag
        attrs = die.attributes
        if tag == "DW_TAG_variable":
            name_die = die
            if "DW_AT_name" not in attrs and "DW_AT_specification" in attrs:
                name_die = die.get_DIE_from_attribute("DW_AT_specification")
            if "DW_AT_name" not in name_die.attributes:
                return
            name = _text(name_die.attributes["DW_AT_name"].value)
            target = definitions if "DW_AT_location" in attrs else declarations
            target.setdefault(name, []).append(die)
            return
        kind = _AGGREGATES.get(tag) or {
            "DW_TAG_enumeration_type": "enum",
            "DW_TAG_typedef": "typedef",
            "DW_TAG_base_type": "base",
        }.get(tag)
        if kind is None or "DW_AT_name" not in attrs or "DW_AT_declaration" in attrs:
            return
        self._named.setdefault((kind, _text(attrs["DW_AT_name"].value)), die)

    # -- variables ---------------------------------------------------------

    def _variable_from(self, name: str, die: DIE) -> VariableInfo | None:
        spec = (
            die.get_DIE_from_attribute("DW_AT_specification")
            if "DW_AT_specification" in die.attributes
            else None
        )
        type_die = die if "DW_AT_type" in die.attributes else spec
        if type_die is None or "DW_AT_type" not in type_die.attributes:
            return None
        vtype = self._resolve(type_die.get_DIE_from_attribute("DW_AT_type"))
        address = self._location_address(die)
        if address is None:
            address = self._symbol_address(name)
        external = any(
            d is not None and d.attributes.get("DW_AT_external") for d in (die, spec)
        )
        return VariableInfo(
            name=name, address=address, type=vtype, external=bool(external)
        )

    def _location_address(self, die: DIE) -> int | None:
        attr = die.attributes.get("DW_AT_location")
        if attr is None or not isinstance(attr.value, (list, tuple, bytes)):
            return None  # absent, or a location list (locals only)
        ops = self._parse_expr(die, attr.value)
        if len(ops) != 1:
            return None
        op = ops[0]
        if op.op_name == "DW_OP_addr":
            return int(op.args[0])
        if op.op_name in ("DW_OP_addrx", "DW_OP_GNU_addr_index"):
            return int(self._dwarf.get_addr(die.cu, op.args[0]))
        return None

    def _parse_expr(self, die: DIE, value: Any) -> list[Any]:
        parser = self._expr_parsers.get(id(die.cu.structs))
        if parser is None:
            parser = self._expr_parsers[id(die.cu.structs)] = DWARFExprParser(
                die.cu.structs
            )
        return parser.parse_expr(value)

    # -- types -------------------------------------------------------------

    def _target(self, die: DIE) -> TypeInfo:
        if "DW_AT_type" not in die.attributes:
            return VOID
        return self._resolve(die.get_DIE_from_attribute("DW_AT_type"))

    def _resolve(self, die: DIE) -> TypeInfo:
        cached = self._types.get(die.offset)
        if cached is not None:
            return cached
        tag = die.tag
        attrs = die.attributes
        name = _text(attrs["DW_AT_name"].value) if "DW_AT_name" in attrs else None
        byte_size = (
            int(attrs["DW_AT_byte_size"].value) if "DW_AT_byte_size" in attrs else None
        )

        if tag in _QUALIFIERS:
            t = self._target(die)
        elif tag == "DW_TAG_typedef":
            target = self._target(die)
            # A pointer still waiting for its target (a cycle through this
            # typedef) must not be copied: the copy would never get the target.
            t = (
                target
                if id(target) in self._incomplete
                else dataclasses.replace(target, typedef=name)
            )
        elif tag in _AGGREGATES or tag == "DW_TAG_enumeration_type":
            kind = _AGGREGATES.get(tag, "enum")
            if "DW_AT_declaration" in attrs:
                complete = self._named.get((kind, name)) if name else None
                if complete is not None and complete.offset != die.offset:
                    t = self._resolve(complete)
                else:
                    t = TypeInfo(
                        kind=kind, name=name, byte_size=byte_size, declaration_only=True
                    )
            elif kind == "enum":
                t = self._enum(die, name, byte_size)
            else:
                t = TypeInfo(kind=kind, name=name, byte_size=byte_size)
                self._types[die.offset] = (
                    t  # before the members: they may point back here
                )
                self._fill_members(die, t)
        elif tag in (
            "DW_TAG_pointer_type",
            "DW_TAG_reference_type",
            "DW_TAG_rvalue_reference_type",
        ):
            t = TypeInfo(kind="pointer", byte_size=byte_size or die.cu["address_size"])
            self._types[die.offset] = t
            self._incomplete.add(id(t))
            try:
                t.target = self._target(die)
            finally:
                self._incomplete.discard(id(t))
        elif tag == "DW_TAG_array_type":
            t = self._array(die)
        elif tag == "DW_TAG_base_type":
            encoding = (
                attrs["DW_AT_encoding"].value if "DW_AT_encoding" in attrs else None
            )
            t = TypeInfo(
                kind="base",
                name=name,
                byte_size=byte_size,
                encoding=_ATE_NAMES.get(encoding),
            )
        elif tag == "DW_TAG_subroutine_type":
            t = TypeInfo(kind="function")
            self._types[die.offset] = t
            self._incomplete.add(id(t))
            try:
                t.target = self._target(die)
            finally:
                self._incomplete.discard(id(t))
        elif tag == "DW_TAG_unspecified_type" and name == "void":
            t = VOID
        else:
            t = TypeInfo(kind="other", name=name, byte_size=byte_size)
        self._types[die.offset] = t
        return t

    def _fill_members(self, die: DIE, t: TypeInfo) -> None:
        for child in _children(die):
            if child.tag != "DW_TAG_member":
                continue
            attrs = child.attributes
            mtype = self._target(child)
            offset = self._member_location(child)
            if offset is None:
                continue
            bit_size = bit_offset = None
            if "DW_AT_bit_size" in attrs:
                bit_size = int(attrs["DW_AT_bit_size"].value)
                if "DW_AT_data_bit_offset" in attrs:
                    bit_offset = int(attrs["DW_AT_data_bit_offset"].value)
                else:
                    storage = (
                        attrs["DW_AT_byte_size"].value
                        if "DW_AT_byte_size" in attrs
                        else mtype.byte_size
                    )
                    from_msb = (
                        int(attrs["DW_AT_bit_offset"].value)
                        if "DW_AT_bit_offset" in attrs
                        else 0
                    )
                    if self._little_endian:
                        bit_offset = (
                            offset * 8 + (storage or 0) * 8 - from_msb - bit_size
                        )
                    else:
                        bit_offset = offset * 8 + from_msb
                offset = bit_offset // 8
            if "DW_AT_name" in attrs:
                mname = _text(attrs["DW_AT_name"].value)
                t.members[mname] = Member(mname, offset, mtype, bit_size, bit_offset)
            elif mtype.kind in ("struct", "union"):
                # C11 anonymous struct/union: its members are the parent's.
                for sub in mtype.members.values():
                    t.members.setdefault(
                        sub.name,
                        dataclasses.replace(
                            sub,
                            offset=sub.offset + offset,
                            bit_offset=None
                            if sub.bit_offset is None
                            else sub.bit_offset + offset * 8,
                        ),
                    )

    def _member_location(self, member: DIE) -> int | None:
        attr = member.attributes.get("DW_AT_data_member_location")
        if attr is None:
            return 0  # union members, and bit-fields described by DW_AT_data_bit_offset
        if attr.form in _CONSTANT_FORMS:
            return int(attr.value)
        # DWARF 2: a location expression, normally [DW_OP_plus_uconst N].
        total = 0
        for op in self._parse_expr(member, attr.value):
            if op.op_name == "DW_OP_plus_uconst":
                total += int(op.args[0])
            elif op.op_name in (
                "DW_OP_constu",
                "DW_OP_consts",
            ) or op.op_name.startswith("DW_OP_lit"):
                total += (
                    int(op.args[0]) if op.args else int(op.op_name[len("DW_OP_lit") :])
                )
            elif op.op_name == "DW_OP_plus":
                continue
            else:
                return None
        return total

    def _enum(self, die: DIE, name: str | None, byte_size: int | None) -> TypeInfo:
        underlying = self._target(die) if "DW_AT_type" in die.attributes else None
        t = TypeInfo(kind="enum", name=name, byte_size=byte_size)
        self._types[die.offset] = t
        signed_underlying = underlying is not None and underlying.signed
        for child in _children(die):
            if child.tag != "DW_TAG_enumerator" or "DW_AT_name" not in child.attributes:
                continue
            attr = child.attributes["DW_AT_const_value"]
            value = int(attr.value)
            bits = _FIXED_DATA_BITS.get(attr.form)
            if bits and signed_underlying and value >> (bits - 1):
                value -= 1 << bits
            t.enumerators.setdefault(value, _text(child.attributes["DW_AT_name"].value))
        if underlying is not None and underlying.encoding:
            t.encoding = underlying.encoding
        else:
            t.encoding = "signed" if any(v < 0 for v in t.enumerators) else "unsigned"
        return t

    def _array(self, die: DIE) -> TypeInfo:
        element = self._target(die)
        lengths: list[int | None] = []
        for child in _children(die):
            if child.tag == "DW_TAG_subrange_type":
                lengths.append(self._subrange_length(child))
        if not lengths:
            lengths = [None]
        t = element
        for n in reversed(lengths):
            size = (
                n * t.byte_size if n is not None and t.byte_size is not None else None
            )
            t = TypeInfo(kind="array", byte_size=size, element=t, length=n)
        if t.byte_size is None and "DW_AT_byte_size" in die.attributes:
            t.byte_size = int(die.attributes["DW_AT_byte_size"].value)
        return t

    def _subrange_length(self, die: DIE) -> int | None:
        attrs = die.attributes
        if "DW_AT_count" in attrs:
            attr = attrs["DW_AT_count"]
            return int(attr.value) if attr.form in _CONSTANT_FORMS else None
        if "DW_AT_upper_bound" not in attrs:
            return None  # `int a[]`
        attr = attrs["DW_AT_upper_bound"]
        if attr.form not in _CONSTANT_FORMS:
            return None  # a variable-length array
        upper = int(attr.value)
        bits = _FIXED_DATA_BITS.get(attr.form)
        if bits and upper == (1 << bits) - 1:
            upper = -1  # `int a[0]` written as upper bound -1 in an unsigned form
        lower = (
            int(attrs["DW_AT_lower_bound"].value) if "DW_AT_lower_bound" in attrs else 0
        )
        return max(upper - lower + 1, 0)
