"""tools/mkdisk.py: the disk image format the kernel's fs.c reads."""

from __future__ import annotations

import importlib.util
import struct

import pytest

from tests.guest.qemu_console import GUEST, PREBUILT

_spec = importlib.util.spec_from_file_location("mkdisk", GUEST / "tools" / "mkdisk.py")
mkdisk = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(mkdisk)


def directory(image: bytes) -> list[tuple[str, int, int]]:
    magic, nfiles, nblocks, _ = struct.unpack_from("<4I", image, 0)
    assert magic == 0x31574F43
    assert nblocks * 1024 == len(image)
    entries = []
    for i in range(nfiles):
        name, start, size = struct.unpack_from("<24sII", image, 16 + 32 * i)
        entries.append((name.rstrip(b"\0").decode(), start, size))
    return entries


def test_files_are_contiguous_block_extents_in_order():
    image = mkdisk.build_image([("a", b"x" * 1025), ("bb", b""), ("c", b"yz")])
    assert directory(image) == [("a", 1, 1025), ("bb", 3, 0), ("c", 3, 2)]
    assert len(image) == 4 * 1024
    assert image[1024 : 1024 + 1025] == b"x" * 1025
    assert image[3 * 1024 : 3 * 1024 + 2] == b"yz"


def test_same_input_same_image():
    files = [("p", bytes(range(256)) * 9)]
    assert mkdisk.build_image(files) == mkdisk.build_image(list(files))


@pytest.mark.parametrize(
    "files",
    [
        [("", b"")],
        [("x" * 24, b"")],
        [("a/b", b"")],
        [("a", b""), ("a", b"")],
        [(f"f{i}", b"") for i in range(32)],
    ],
)
def test_bad_inputs_are_refused(files):
    with pytest.raises(ValueError):
        mkdisk.build_image(files)


def test_cli_reports_a_missing_file(tmp_path, capsys):
    assert mkdisk.main(["-o", str(tmp_path / "fs.img"), str(tmp_path / "nope")]) == 1
    assert "mkdisk:" in capsys.readouterr().err


def test_prebuilt_image_holds_the_programs():
    entries = directory((PREBUILT / "fs.img").read_bytes())
    assert [name for name, _, _ in entries] == [
        "init",
        "sh",
        "echo",
        "freemem",
        "cowdemo",
        "forkexec",
        "forktree",
        "cowstress",
        "pipecopy",
        "badaccess",
        "cowcheck",
    ]
    assert (PREBUILT / "fs.img").stat().st_size <= 1024 * 1024
