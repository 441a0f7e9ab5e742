from __future__ import annotations

from pathlib import Path

import pytest

from . import support


@pytest.fixture(scope="session")
def sample_builds(tmp_path_factory: pytest.TempPathFactory):
    """Build each variant of the sample kernel once per session, on demand."""
    built: dict[str, Path] = {}

    def get(variant: str) -> Path:
        if not support.have_toolchain():
            pytest.skip(f"{support.GCC} not installed")
        if variant not in built:
            built[variant] = support.build_sample(
                tmp_path_factory.mktemp(variant), variant
            )
        return built[variant]

    return get


@pytest.fixture(params=["dwarf2", "dwarf4", "dwarf5"])
def sample_path(request: pytest.FixtureRequest, sample_builds) -> Path:
    """The sample kernel, built with each DWARF version (dwarf2 is mixed 2+5)."""
    return sample_builds(request.param)


@pytest.fixture
def nodebug_path(sample_builds) -> Path:
    return sample_builds("nodebug")
