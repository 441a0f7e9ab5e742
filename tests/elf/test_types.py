"""Types and globals from DWARF: every expected offset, size and length is
the compiler's own (compiled into the sample kernel by layout.inc)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from machine.elf import ElfImage, TypeInfo

from .support import READELF, compiler_facts

pytestmark = pytest.mark.toolchain


@pytest.fixture
def image(sample_path: Path) -> ElfImage:
    return ElfImage.open(sample_path)


def aggregate(image: ElfImage, label: str) -> TypeInfo:
    if label == "kmem":
        return image.variable("kmem").type  # an anonymous struct
    t = image.struct_type(label) or image.union_type(label)
    assert t is not None, label
    return t


def test_member_location_encoding_is_what_the_test_claims(
    sample_path: Path, request: pytest.FixtureRequest
) -> None:
    """The dwarf2 build must really use [DW_OP_plus_uconst N] member offsets
    and the later builds plain constants, or the tests below prove less."""
    info = subprocess.run(
        [READELF, "--debug-dump=info", str(sample_path)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    uses_expression = "DW_AT_data_member_location: 2 byte block: 23" in info
    assert uses_expression == (request.node.callspec.params["sample_path"] == "dwarf2")


def test_member_offsets(image: ElfImage, sample_path: Path) -> None:
    facts = compiler_facts(sample_path)
    assert len(facts.offsets) > 30
    for key, offset in facts.offsets.items():
        label, member = key.split(".")
        found = aggregate(image, label).members.get(member)
        assert found is not None, key
        assert found.offset == offset, key


def test_sizes(image: ElfImage, sample_path: Path) -> None:
    facts = compiler_facts(sample_path)
    for label, size in facts.sizes.items():
        t = image.enum_type(label) if label == "procstate" else aggregate(image, label)
        assert t.byte_size == size, label


def test_array_lengths(image: ElfImage, sample_path: Path) -> None:
    facts = compiler_facts(sample_path)
    proc = image.struct_type("proc")
    found = {
        "proc": image.variable("proc").type.length,
        "refcnt": image.variable("refcnt").type.length,
        "small_refs": image.variable("small_refs").type.length,
        "grid": image.variable("grid").type.dimensions[0],
        "grid[0]": image.variable("grid").type.element.length,
        "cpus": image.variable("cpus").type.length,
        "kmem.ref": image.variable("kmem").type.members["ref"].type.length,
        "proc.ofile": proc.members["ofile"].type.length,
        "proc.name": proc.members["name"].type.length,
    }
    assert found == facts.lengths
    assert image.variable("grid").type.dimensions == (
        facts.lengths["grid"],
        facts.lengths["grid[0]"],
    )
    refcnt = image.variable("refcnt").type
    assert refcnt.byte_size == image.symbol("refcnt").size
    assert (
        refcnt.element.kind == "base"
        and refcnt.element.name == "int"
        and refcnt.element.signed
    )


def test_enums(image: ElfImage, sample_path: Path) -> None:
    facts = compiler_facts(sample_path)
    state = image.struct_type("proc").members["state"].type
    assert state.kind == "enum" and state.name == "procstate"
    assert state.enumerators == facts.procstate
    assert list(state.enumerators.values())[:2] == ["UNUSED", "USED"]
    odd = image.enum_type("odd")
    assert odd.enumerators == facts.odd and odd.signed
    assert image.variable("odd_value").type.enumerators == facts.odd


def test_struct_proc_member_types(image: ElfImage) -> None:
    proc = image.struct_type("proc")
    m = proc.members
    assert m["lock"].type.kind == "struct" and m["lock"].type.name == "spinlock"
    assert (
        m["parent"].type.kind == "pointer" and m["parent"].type.target is proc
    )  # recursive type
    pagetable = m["pagetable"].type
    assert (pagetable.kind, pagetable.typedef, pagetable.byte_size) == (
        "pointer",
        "pagetable_t",
        8,
    )
    assert (
        pagetable.target.kind == "base"
        and not pagetable.target.signed
        and pagetable.target.byte_size == 8
    )
    assert m["chan"].type.kind == "pointer" and m["chan"].type.target.kind == "void"
    assert (
        m["name"].type.element.kind == "base" and m["name"].type.element.byte_size == 1
    )
    assert m["context"].type.members["sp"].type.typedef == "uint64"
    # A pointer to a struct this unit only declares reaches the full definition.
    cpu = image.struct_type("spinlock").members["cpu"].type.target
    assert cpu.name == "cpu" and "intena" in cpu.members and not cpu.declaration_only
    # struct file is declared and never defined anywhere.
    file_type = m["ofile"].type.element.target
    assert (
        file_type.name == "file"
        and file_type.declaration_only
        and file_type.members == {}
    )


def test_descriptions(image: ElfImage) -> None:
    proc = image.struct_type("proc")
    assert str(proc) == "struct proc"
    assert str(image.variable("proc").type) == "struct proc[64]"
    assert str(proc.members["ofile"].type) == "struct file *[16]"
    assert str(proc.members["pagetable"].type) == "pagetable_t"
    assert str(image.variable("grid").type) == "char[4][8]"
    assert str(image.variable("fault_handler").type) == "int (*)()"
    assert str(image.variable("kmem").type) == "struct {...}"


def test_dotted_member_paths(image: ElfImage, sample_path: Path) -> None:
    facts = compiler_facts(sample_path)
    proc = image.struct_type("proc")
    locked = proc.member("lock.locked")
    assert (
        locked.offset == facts.offsets["proc.lock"] + facts.offsets["spinlock.locked"]
    )
    sp = proc.member("context.sp")
    assert sp.offset == facts.offsets["proc.context"] + facts.offsets["context.sp"]
    assert proc.member("context.nope") is None and proc.member("pid.x") is None


def test_base_types_and_qualifiers(image: ElfImage) -> None:
    started = image.variable("started").type  # volatile int
    assert (started.kind, started.name, started.byte_size, started.signed) == (
        "base",
        "int",
        4,
        True,
    )
    assert (
        image.variable("ticks").type.typedef == "uint64"
        and not image.variable("ticks").type.signed
    )
    assert image.find_type("uint").encoding == "unsigned"
    assert (
        image.find_type("char").encoding == "unsigned_char"
    )  # char is unsigned on RISC-V
    short = image.variable("small_refs").type.element
    assert (short.byte_size, short.signed) == (2, True)
    context = image.variable(
        "saved_context"
    ).type  # cv_context_t *: const volatile struct context
    assert (
        context.kind == "pointer"
        and context.target.kind == "struct"
        and context.target.name == "context"
    )
    assert context.target.typedef == "cv_context_t" and "sp" in context.target.members
    assert image.find_type("struct proc") is image.struct_type("proc")
    assert image.find_type("enum procstate") is image.enum_type("procstate")
    assert image.find_type("pagetable_t").kind == "pointer"
    assert (
        image.find_type("no_such_type") is None and image.struct_type("nothing") is None
    )


def test_union(image: ElfImage) -> None:
    word = image.variable("scratch").type
    assert word.kind == "union" and word.name == "word"
    assert {m.offset for m in word.members.values()} == {0}
    assert word.members["halves"].type.length == 2


def test_bitfields(image: ElfImage, sample_path: Path) -> None:
    flags = image.variable("sample_flags")
    data = compiler_facts(sample_path).sample_flags
    assert len(data) == flags.size
    values = {name: m.bitfield_value(data) for name, m in flags.type.members.items()}
    # The initializer in kern.c.
    assert values == {
        "v": 1,
        "r": 0,
        "w": 1,
        "x": 0,
        "u": 1,
        "g": 0,
        "a": 1,
        "d": 1,
        "rsw": 2,
        "ppn": 0x80123,
    }
    assert flags.type.members["rsw"].bit_size == 2
    assert flags.type.members["ppn"].bit_size == 44
    with pytest.raises(ValueError):
        image.struct_type("proc").members["pid"].bitfield_value(bytes(360))


def test_variable_addresses_and_linkage(image: ElfImage) -> None:
    for name in ("proc", "refcnt", "kmem", "cpus", "ticks", "frees", "sample_flags"):
        var = image.variable(name)
        assert var is not None and var.address == image.symbol(name).address, name
    assert image.variable("proc").external and not image.variable("frees").external
    # `end` comes from the linker script: DWARF only declares it (extern char end[]).
    end = image.variable("end")
    assert end.address == image.symbol("end").address and end.type.length is None
    assert image.variable("no_such_variable") is None


def test_refcnt_completed_by_its_definition(image: ElfImage, sample_path: Path) -> None:
    # sample.h declares `extern int refcnt[]` (no length) in every unit;
    # kern.c's definition gives the length.
    assert (
        image.variable("refcnt").type.length
        == compiler_facts(sample_path).lengths["refcnt"]
    )


def test_global_variables_find_the_refcount_array(
    image: ElfImage, sample_path: Path
) -> None:
    """What KernelView does when a student names the array unusually."""
    frames = compiler_facts(sample_path).lengths["refcnt"]
    globals_ = dict(image.global_variables())
    assert {"proc", "refcnt", "kmem", "cpus", "frees"} <= set(globals_)
    int_arrays = {
        name
        for name, var in globals_.items()
        if var.type.kind == "array"
        and var.type.length == frames
        and var.type.element.kind == "base"
    }
    assert int_arrays == {"refcnt"}
    fields = {
        f"{name}.{member}"
        for name, var in globals_.items()
        if var.type.kind == "struct"
        for member, m in var.type.members.items()
        if m.type.kind == "array" and m.type.length == frames
    }
    assert fields == {"kmem.ref"}
