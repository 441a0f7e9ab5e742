"""Loading: segments, entry, BSS, sha256, reading initial contents."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from elftools.elf.elffile import ELFFile

from machine.elf import ElfError, ElfImage, LoadSegment

from .support import PT_NOTE, PT_RISCV_ATTRIBUTES, Seg, make_elf

RAM_BASE = 0x8000_0000
RAM_SIZE = 1 << 20


class FakeRam:
    def __init__(
        self, base: int = RAM_BASE, size: int = RAM_SIZE, fill: int = 0xAA
    ) -> None:
        self.base = base
        self.mem = bytearray([fill]) * size
        self.writes: list[tuple[int, int]] = []

    def write_physical(self, address: int, data: bytes) -> None:
        self.writes.append((address, len(data)))
        offset = address - self.base
        assert 0 <= offset and offset + len(data) <= len(self.mem)
        self.mem[offset : offset + len(data)] = data

    def at(self, address: int, size: int) -> bytes:
        return bytes(self.mem[address - self.base : address - self.base + size])


def write(tmp_path: Path, data: bytes, name: str = "kernel") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_segments_entry_and_skipped_segments(tmp_path: Path) -> None:
    text = bytes(range(256)) * 4
    elf = make_elf(
        [
            Seg(0, b"RISC-V attributes", type=PT_RISCV_ATTRIBUTES),
            Seg(RAM_BASE, text, memsz=len(text) + 0x3000),
            Seg(0, b"note", type=PT_NOTE),
        ],
        entry=RAM_BASE + 4,
    )
    image = ElfImage.open(write(tmp_path, elf))
    assert image.entry == RAM_BASE + 4
    assert image.segments == [
        LoadSegment(RAM_BASE, RAM_BASE, text, len(text) + 0x3000, 7)
    ]
    assert image.segments[0].filesz == len(text)
    assert (
        image.symbols() == []
        and image.symbol("main") is None
        and image.symbol_at(RAM_BASE) is None
    )
    # No DWARF at all: the DWARF queries answer None and say why.
    assert image.source_line(RAM_BASE) is None
    assert image.variable("proc") is None and image.struct_type("proc") is None
    assert not image.has_dwarf and "no DWARF" in (image.dwarf_error or "")


def test_load_into_writes_data_and_zeroes_bss(tmp_path: Path) -> None:
    text = b"\x13\x00\x00\x00" * 100  # 100 nops
    data = b"DATA" * 8
    elf = make_elf(
        [
            Seg(RAM_BASE, text, memsz=0x1000),
            Seg(RAM_BASE + 0x2000, data, memsz=len(data) + 0x800),
        ],
        entry=RAM_BASE,
    )
    image = ElfImage.open(write(tmp_path, elf))
    ram = FakeRam()
    image.load_into(ram.write_physical, RAM_BASE, RAM_SIZE)
    assert ram.at(RAM_BASE, len(text)) == text
    assert ram.at(RAM_BASE + len(text), 0x1000 - len(text)) == bytes(0x1000 - len(text))
    assert (
        ram.at(RAM_BASE + 0x1000, 0x1000) == b"\xaa" * 0x1000
    )  # between segments: untouched
    assert ram.at(RAM_BASE + 0x2000, len(data)) == data
    assert ram.at(RAM_BASE + 0x2000 + len(data), 0x800) == bytes(0x800)
    assert ram.at(RAM_BASE + 0x2000 + len(data) + 0x800, 16) == b"\xaa" * 16


def test_load_uses_physical_addresses(tmp_path: Path) -> None:
    elf = make_elf(
        [Seg(0xFFFF_FFC0_0000_0000, b"abcd", paddr=RAM_BASE + 0x100)],
        entry=0xFFFF_FFC0_0000_0000,
    )
    image = ElfImage.open(write(tmp_path, elf))
    ram = FakeRam()
    image.load_into(ram.write_physical, RAM_BASE, RAM_SIZE)
    assert ram.at(RAM_BASE + 0x100, 4) == b"abcd"
    assert (
        image.read(0xFFFF_FFC0_0000_0000, 4) == b"abcd"
    )  # read() is by virtual address


def test_read_initial_contents(tmp_path: Path) -> None:
    elf = make_elf([Seg(RAM_BASE, b"0123456789", memsz=32)], entry=RAM_BASE)
    image = ElfImage.open(write(tmp_path, elf))
    assert image.read(RAM_BASE + 2, 3) == b"234"
    assert image.read(RAM_BASE + 8, 6) == b"89" + bytes(4)  # runs into BSS
    assert image.read(RAM_BASE + 30, 4) is None  # past memsz
    assert image.read(RAM_BASE - 1, 2) is None


def test_sha256_keys_the_file_bytes(tmp_path: Path) -> None:
    a = make_elf([Seg(RAM_BASE, b"one")], entry=RAM_BASE)
    b = make_elf([Seg(RAM_BASE, b"two")], entry=RAM_BASE)
    image_a = ElfImage.open(write(tmp_path, a, "a"))
    assert image_a.sha256 == hashlib.sha256(a).hexdigest()
    assert ElfImage.open(write(tmp_path, b, "b")).sha256 != image_a.sha256
    assert ElfImage.from_bytes(a, "copy").sha256 == image_a.sha256


@pytest.mark.parametrize(
    ("ram_base", "ram_size"),
    [(0x9000_0000, RAM_SIZE), (RAM_BASE, 0x1800), (RAM_BASE + 0x1000, RAM_SIZE)],
    ids=["ram-above", "ram-too-small", "segment-below-ram"],
)
def test_segment_outside_ram(tmp_path: Path, ram_base: int, ram_size: int) -> None:
    elf = make_elf([Seg(RAM_BASE, b"x" * 16, memsz=0x2000)], entry=RAM_BASE)
    path = write(tmp_path, elf)
    image = ElfImage.open(path)
    ram = FakeRam(
        base=min(ram_base, RAM_BASE), size=0x10_0000 + abs(ram_base - RAM_BASE)
    )
    with pytest.raises(ElfError) as info:
        image.load_into(ram.write_physical, ram_base, ram_size)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"{path}: ")
    assert "0x80000000-0x80002000" in message and "outside RAM" in message
    assert ram.writes == []  # nothing half-loaded


@pytest.mark.toolchain
def test_sample_kernel_loads_like_the_file_says(sample_path: Path) -> None:
    image = ElfImage.open(sample_path)
    with open(sample_path, "rb") as f:
        elf = ELFFile(f)
        loads = [s for s in elf.iter_segments() if s["p_type"] == "PT_LOAD"]
        assert image.entry == elf["e_entry"] == RAM_BASE
        assert [(s.paddr, s.vaddr, s.filesz, s.memsz) for s in image.segments] == [
            (s["p_paddr"], s["p_vaddr"], s["p_filesz"], s["p_memsz"]) for s in loads
        ]
        assert [s.data for s in image.segments] == [s.data() for s in loads]
    ram = FakeRam(size=8 << 20)
    image.load_into(ram.write_physical, RAM_BASE, 8 << 20)
    for seg in image.segments:
        assert ram.at(seg.paddr, seg.filesz) == seg.data
        assert ram.at(seg.paddr + seg.filesz, seg.memsz - seg.filesz) == bytes(
            seg.memsz - seg.filesz
        )
    # The sample's BSS holds `refcnt` and `proc`: they must come out zeroed.
    refcnt = image.symbol("refcnt")
    assert refcnt is not None and ram.at(refcnt.address, refcnt.size) == bytes(
        refcnt.size
    )
