"""The bundled kernel's C sources are package data: after a non-editable
``pip install .`` the CPU pane still shows the text of the current line."""

from __future__ import annotations

import tomllib
from pathlib import Path

from machine.elf import ElfImage
from machine.guest import bundled_kernel

ROOT = Path(__file__).resolve().parents[2]
GUEST = ROOT / "machine" / "guest"


def packaged_guest_files() -> set[Path]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    patterns = config["tool"]["setuptools"]["package-data"]["machine.guest"]
    return {path.resolve() for pattern in patterns for path in GUEST.glob(pattern)}


def test_every_source_file_of_the_kernels_line_table_is_package_data():
    image = ElfImage.open(bundled_kernel())
    files = {found[0] for symbol in image.symbols()
             if (found := image.source_line(symbol.address)) is not None}
    assert "kernel/cow.c" in files and len(files) > 10
    packaged = packaged_guest_files()
    missing = sorted(f for f in files if (GUEST / f).resolve() not in packaged)
    assert not missing, f"not package data: {missing}"


def test_the_user_programs_sources_are_package_data_too():
    packaged = packaged_guest_files()
    for source in (GUEST / "user").glob("*.c"):
        assert source.resolve() in packaged, source
