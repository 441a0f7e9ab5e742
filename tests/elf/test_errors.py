"""Bad input: every broken file gives one ElfError line naming the file and
the reason, never a pyelftools exception or a traceback."""

from __future__ import annotations

import os
import random
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import pytest
from elftools.elf.elffile import ELFFile

from machine.elf import ElfError, ElfImage

from .support import BASE_FLAGS, GCC, Seg, make_elf

RAM_BASE = 0x8000_0000


def open_error(path: Path) -> str:
    with pytest.raises(ElfError) as info:
        ElfImage.open(path)
    message = str(info.value)
    assert "\n" not in message, message
    assert message.startswith(f"{path}: "), message
    assert isinstance(info.value, ValueError)
    assert info.value.path == str(path)
    return message


def write(tmp_path: Path, data: bytes, name: str = "kernel") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_missing_file(tmp_path: Path) -> None:
    assert "no such file" in open_error(tmp_path / "kernel" / "kernel")


def test_directory(tmp_path: Path) -> None:
    assert "is a directory" in open_error(tmp_path)


def test_text_file(tmp_path: Path) -> None:
    message = open_error(
        write(tmp_path, b"#!/bin/sh\necho this is not a kernel\n", "kernel.sh")
    )
    assert message.endswith("not an ELF file")


def test_empty_file(tmp_path: Path) -> None:
    assert "not an ELF file" in open_error(write(tmp_path, b""))


def test_x86_64_header(tmp_path: Path) -> None:
    elf = make_elf([Seg(0x400000, b"\x90" * 16)], entry=0x400000, machine=62)
    assert open_error(write(tmp_path, elf)).endswith(
        "not a RISC-V ELF (machine is x86-64)"
    )


def test_host_executable(tmp_path: Path) -> None:
    # The Python interpreter running this test is an ELF for the host machine.
    host = Path(os.path.realpath(sys.executable))
    if host.read_bytes()[:4] != b"\x7fELF":
        pytest.skip("the host executable is not ELF")
    assert "not a RISC-V ELF (machine is " in open_error(host)


def test_host_gcc_object(tmp_path: Path) -> None:
    if shutil.which("gcc") is None:
        pytest.skip("no host gcc")
    (tmp_path / "x.c").write_text("int main(void) { return 0; }\n")
    subprocess.run(["gcc", "-o", "x", "x.c"], cwd=tmp_path, check=True)
    with open(tmp_path / "x", "rb") as f:
        if ELFFile(f)["e_machine"] == "EM_RISCV":
            pytest.skip("the host is RISC-V")
    assert "not a RISC-V ELF" in open_error(tmp_path / "x")


def test_riscv_32_bit(tmp_path: Path) -> None:
    header = make_elf([], entry=0)[:20]
    header = header[:4] + b"\x01" + header[5:]  # ELFCLASS32
    assert "not a 64-bit ELF" in open_error(write(tmp_path, header + bytes(100)))


def test_big_endian(tmp_path: Path) -> None:
    elf = make_elf([Seg(RAM_BASE, b"abcd")], entry=RAM_BASE, endian=2)
    assert "big-endian" in open_error(write(tmp_path, elf))


def test_no_load_segment(tmp_path: Path) -> None:
    elf = make_elf([Seg(0, b"attributes", type=0x70000003)], entry=RAM_BASE)
    assert "no loadable segment" in open_error(write(tmp_path, elf))
    assert "no loadable segment" in open_error(
        write(tmp_path, make_elf([], entry=RAM_BASE), "empty")
    )


def test_entry_outside_segments(tmp_path: Path) -> None:
    elf = make_elf([Seg(RAM_BASE, b"abcd")], entry=0x1000)
    assert "entry point 0x1000" in open_error(write(tmp_path, elf))


def test_filesz_larger_than_memsz(tmp_path: Path) -> None:
    elf = make_elf([Seg(RAM_BASE, b"abcdefgh", memsz=4)], entry=RAM_BASE)
    assert "malformed segment" in open_error(write(tmp_path, elf))


@pytest.mark.parametrize("cut", [3, 10, 40, 63, 64 + 20, 64 + 56 + 100])
def test_truncated_hand_made(tmp_path: Path, cut: int) -> None:
    elf = make_elf([Seg(RAM_BASE, bytes(range(256)) * 2)], entry=RAM_BASE)
    assert "truncated" in open_error(write(tmp_path, elf[:cut]))


@pytest.mark.toolchain
def test_relocatable_object(tmp_path: Path, sample_builds) -> None:
    obj = sample_builds("dwarf5").parent / "kern.o"
    assert "relocatable object" in open_error(obj)


@pytest.mark.toolchain
def test_rv32_toolchain_build(tmp_path: Path, sample_builds) -> None:
    sample_builds("dwarf5")  # skips without the toolchain
    (tmp_path / "x.c").write_text("void _start(void) { for (;;) ; }\n")
    flags = [f for f in BASE_FLAGS if not f.startswith(("-march", "-mabi", "-mcmodel"))]
    subprocess.run(
        [GCC, "-march=rv32imac_zicsr", "-mabi=ilp32", *flags, "-o", "x", "x.c"],
        cwd=tmp_path,
        check=True,
    )
    assert "not a 64-bit ELF" in open_error(tmp_path / "x")


@pytest.mark.toolchain
def test_truncated_copies_of_the_sample_kernel(tmp_path: Path, sample_builds) -> None:
    data = sample_builds("dwarf2").read_bytes()
    with open(sample_builds("dwarf2"), "rb") as f:
        load = next(ELFFile(f).iter_segments("PT_LOAD"))
        segment_middle = load["p_offset"] + load["p_filesz"] // 2
    cuts = {30, 64, 64 + 30, segment_middle, len(data) // 2, len(data) - 1}
    cuts |= set(range(0, len(data), max(1, len(data) // 97)))
    for cut in sorted(cuts):
        message = open_error(write(tmp_path, data[:cut], f"cut{cut}"))
        assert "truncated" in message or "not an ELF file (it is empty)" in message, (
            cut,
            message,
        )
    assert "segment 0x80000000-" in open_error(
        write(tmp_path, data[:segment_middle], "mid")
    )


@pytest.mark.toolchain
def test_sample_kernel_without_load_segments(tmp_path: Path, sample_builds) -> None:
    data = bytearray(sample_builds("dwarf5").read_bytes())
    (phoff,) = struct.unpack_from("<Q", data, 32)
    (phnum,) = struct.unpack_from("<H", data, 56)
    for i in range(phnum):
        if struct.unpack_from("<I", data, phoff + 56 * i)[0] == 1:
            struct.pack_into("<I", data, phoff + 56 * i, 0)  # PT_LOAD -> PT_NULL
    assert "no loadable segment" in open_error(write(tmp_path, bytes(data)))


@pytest.mark.toolchain
def test_corrupted_kernels_never_leak_other_exceptions(
    tmp_path: Path, sample_builds
) -> None:
    """Damage the headers, the symbol table and the DWARF sections: opening
    either fails with an ElfError or succeeds, and then no query raises."""
    path = sample_builds("dwarf2")
    data = path.read_bytes()
    with open(path, "rb") as f:
        elf = ELFFile(f)
        regions = [(0, 64 + 56 * elf["e_phnum"]), (elf["e_shoff"], len(data))]
        for name in (
            ".symtab",
            ".strtab",
            ".debug_info",
            ".debug_line",
            ".debug_abbrev",
            ".debug_str",
        ):
            sec = elf.get_section_by_name(name)
            if sec is not None:
                regions.append((sec["sh_offset"], sec["sh_offset"] + sec["sh_size"]))
    rng = random.Random(1234)
    opened = 0
    for trial in range(120):
        start, end = regions[trial % len(regions)]
        broken = bytearray(data)
        for _ in range(rng.randint(1, 8)):
            broken[rng.randrange(start, end)] = rng.randrange(256)
        target = write(tmp_path, bytes(broken), f"broken{trial}")
        try:
            image = ElfImage.open(target)
        except ElfError as exc:
            assert "\n" not in str(exc) and str(exc).startswith(f"{target}: ")
            continue
        opened += 1
        image.symbol_at(RAM_BASE + 0x20)
        image.source_line(RAM_BASE + 0x20)
        image.address_of_line("kern.c", 33)
        image.struct_type("proc")
        image.variable("refcnt")
        list(image.global_variables())
        assert image.dwarf_error is None or "\n" not in image.dwarf_error
    assert opened > 0  # the trials exercise the lazy DWARF paths, not only open()


@pytest.mark.toolchain
@pytest.mark.parametrize("variant", ["dwarf2", "dwarf5"])
def test_backward_sibling_links_do_not_loop(
    tmp_path: Path, sample_builds, variant: str
) -> None:
    """A DW_AT_sibling pointing back at its own DIE would make pyelftools walk
    the same DIEs forever; the subtree is scanned instead, and nothing is lost."""
    path = sample_builds(variant)
    data = bytearray(path.read_bytes())
    with open(path, "rb") as f:
        elf = ELFFile(f)
        info = elf.get_section_by_name(".debug_info")
        patched = 0
        for cu in elf.get_dwarf_info().iter_CUs():
            for die in cu.get_top_DIE().iter_children():
                sibling = die.attributes.get("DW_AT_sibling")
                if (
                    die.tag == "DW_TAG_subprogram"
                    and sibling
                    and sibling.form == "DW_FORM_ref4"
                ):
                    struct.pack_into(
                        "<I",
                        data,
                        info["sh_offset"] + sibling.offset,
                        die.offset - cu.cu_offset,
                    )
                    patched += 1
    assert patched > 0
    good = ElfImage.open(path)
    bad = ElfImage.open(write(tmp_path, bytes(data)))
    assert sorted(n for n, _ in bad.global_variables()) == sorted(
        n for n, _ in good.global_variables()
    )
    assert bad.variable("refcnt").type.length == good.variable("refcnt").type.length
    assert (
        bad.struct_type("proc").members.keys()
        == good.struct_type("proc").members.keys()
    )
