"""Bad input: one line naming the file (and line/field), exit 2, no traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest


def run_cowtui(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "cowtui", *args], capture_output=True,
                          text=True, timeout=120, check=False)


def write(tmp_path: Path, text: str, name: str = "s.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def assert_one_line_error(result: subprocess.CompletedProcess[str], *fragments: str) -> None:
    assert result.returncode == 2, result
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


CASES = {
    "missing field": ("kernel: teaching\n", ["missing required field 'name'"]),
    "wrong type": ("name: x\nkernel: teaching\nram_mib: lots\n", [":3: ram_mib: expected a whole number"]),
    "unknown kernel": ("name: x\nkernel: nonesuch\n", [":2: kernel: unknown kernel 'nonesuch'"]),
    "missing kernel file": ("name: x\nkernel: ./nothere/kernel.elf\n", ["kernel: no such file"]),
    "missing disk file": ("name: x\nkernel: teaching\ndisk: nothere.img\n", [":3: disk: no such file"]),
    "yaml syntax": ("name: x\nkernel: [teaching\n", ["YAML syntax error"]),
    "unknown field": ("name: x\nkernel: teaching\ncolour: red\n", [":3: colour: unknown field"]),
    "unknown rule": ("name: x\nkernel: teaching\nexpect: {violations: [no-such-rule]}\n",
                     ["unknown rule 'no-such-rule'"]),
    "bad console step": ("name: x\nkernel: teaching\nconsole: [hello]\n", ["console: step 1"]),
}


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_bad_scenario(tmp_path: Path, case: str) -> None:
    text, fragments = CASES[case]
    path = write(tmp_path, text)
    assert_one_line_error(run_cowtui("--headless", str(path)), str(path), *fragments)


def test_missing_scenario_file(tmp_path: Path) -> None:
    path = tmp_path / "none.yaml"
    assert_one_line_error(run_cowtui(str(path)), str(path), "no such scenario file")


def elf_cases(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    text = tmp_path / "notes.txt"
    text.write_text("hello\n")
    truncated = tmp_path / "truncated.elf"
    kernel = Path(__file__).parents[2] / "machine" / "guest" / "prebuilt" / "kernel.elf"
    truncated.write_bytes(kernel.read_bytes()[:3000])
    return {
        "missing": (tmp_path / "kernel", "no such kernel file"),
        "not ELF": (text, "not an ELF"),
        "not RISC-V": (Path(sys.executable).resolve(), "not a RISC-V"),
        "truncated": (truncated, "truncated"),
    }


@pytest.mark.parametrize("case", ["missing", "not ELF", "not RISC-V", "truncated"])
def test_bad_kernel_file(tmp_path: Path, case: str) -> None:
    path, fragment = elf_cases(tmp_path)[case]
    result = run_cowtui("--headless", "--kernel", str(path))
    assert_one_line_error(result, path.name)
    assert fragment.lower() in result.stderr.lower()


def test_version_and_help() -> None:
    version = run_cowtui("--version")
    assert version.returncode == 0 and version.stdout.startswith("cowtui ")
    usage = run_cowtui("--help")
    assert usage.returncode == 0 and "--headless" in usage.stdout and "--kernel" in usage.stdout
