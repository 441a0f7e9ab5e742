"""Running the real ``cowtui`` command, as a user, a CI job or an autograder does."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PREBUILT = REPO / "machine" / "guest" / "prebuilt"
COWTUI = [sys.executable, "-m", "cowtui"]


def run_cowtui(*args: str, timeout: float = 300,
               cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*COWTUI, *args], capture_output=True, text=True, timeout=timeout,
                          cwd=cwd, check=False)


def write(tmp_path: Path, text: str, name: str = "s.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    """The single stderr line of a bad-input exit (status 2, no traceback)."""
    assert result.returncode == 2, result
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]
