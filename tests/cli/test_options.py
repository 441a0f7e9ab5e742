"""Options checked like scenario fields: bad input is one line and exit 2."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from cowtui.scenario import DEFAULT_SCENARIO, shipped_scenarios
from machine.guest import BUG_ZOO, SMP_BUG_ZOO, bundled_disk

from .support import COWTUI, PREBUILT, REPO, one_line_error, run_cowtui, write

# Runs a command and prints its peak RSS (KiB) last on stderr: the test's own
# RUSAGE_CHILDREN would be the peak of every child the test process ever had.
_PEAK = ("import resource, subprocess, sys; code = subprocess.run(sys.argv[1:]).returncode; "
         "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr); "
         "sys.exit(code)")

KERNEL = str(PREBUILT / "kernel.elf")


@pytest.mark.parametrize("value", ["100000", "-5", "8"])
def test_ram_mib_out_of_bounds(value: str) -> None:
    assert one_line_error(run_cowtui("--headless", "--ram-mib", value)) == \
        f"cowtui: --ram-mib: must be between 16 and 2048, got {value}"


def test_ram_mib_not_a_number() -> None:
    assert one_line_error(run_cowtui("--headless", "--ram-mib", "lots")) == \
        "cowtui: argument --ram-mib: invalid int value: 'lots' (cowtui --help lists the options)"


def test_kernel_without_disk() -> None:
    assert one_line_error(run_cowtui("--headless", "--kernel", KERNEL)) == (
        f"cowtui: --kernel {KERNEL}: xv6 needs its file system image (the fs.img `make` builds "
        "next to kernel/); without it the kernel panics at boot: add --disk fs.img")


def test_scenario_with_an_xv6_kernel_but_no_disk(tmp_path: Path) -> None:
    """A kernel with a disk driver needs a disk; a bare-metal one (test_guards) does not."""
    path = write(tmp_path, f"name: x\nkernel: {KERNEL}\n")
    assert one_line_error(run_cowtui("--headless", str(path))) == (
        f"cowtui: {path}: disk: xv6 needs its file system image (the fs.img `make` builds "
        "next to kernel/); without it the kernel panics at boot: add disk: fs.img to the "
        "scenario")


def test_huge_image_that_is_not_a_file_system(tmp_path: Path) -> None:
    disk = tmp_path / "fs.img"
    with open(disk, "wb") as image:   # sparse: 4 GiB that take no room
        image.truncate(4 << 30)
    result = run_cowtui("--headless", "--kernel", KERNEL, "--disk", str(disk))
    assert one_line_error(result) == (
        f"cowtui: {disk}: not a file system image: no xv6 superblock (magic 0x10203040 at "
        "byte 1024) and no teaching-kernel one (COW1 at byte 0); xv6's is fs.img")


def test_a_4_gib_disk_is_read_on_demand(tmp_path: Path) -> None:
    """The bundled file system padded to 4 GiB runs the demo as the 2 MB one does,
    and the run's memory does not grow with the file (it is never read whole)."""
    disk = tmp_path / "fs.img"
    disk.write_bytes(bundled_disk().read_bytes())
    with open(disk, "r+b") as image:
        image.truncate(4 << 30)
    scenario = write(tmp_path, DEFAULT_SCENARIO.read_text().replace(
        "kernel: teaching", f"kernel: teaching\ndisk: {disk}"))
    result = subprocess.run([sys.executable, "-c", _PEAK, *COWTUI, "--headless", str(scenario)],
                            capture_output=True, text=True, timeout=300, cwd=REPO, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1].endswith("violations: none rules-off: none end=stop "
                                                   "expectations: pass")
    peak_kib = int(result.stderr.splitlines()[-1])
    assert peak_kib < 1 << 20, f"a cowtui process peaked at {peak_kib >> 10} MiB"


def test_disk_that_is_not_a_file_system(tmp_path: Path) -> None:
    result = run_cowtui("--headless", "--kernel", KERNEL, "--disk", KERNEL)
    assert one_line_error(result) == (
        f"cowtui: {KERNEL}: not a file system image: no xv6 superblock (magic 0x10203040 at "
        "byte 1024) and no teaching-kernel one (COW1 at byte 0); xv6's is fs.img")


@pytest.mark.parametrize("kind", ["xv6", "teaching-kernel"])
def test_truncated_disk(tmp_path: Path, kind: str) -> None:
    head = bytearray(4096)
    if kind == "xv6":
        head[1024:1032] = (0x10203040).to_bytes(4, "little") + (2000).to_bytes(4, "little")
    else:
        head[0:12] = (0x31574F43).to_bytes(4, "little") + bytes(4) + (82).to_bytes(4, "little")
    disk = tmp_path / "fs.img"
    disk.write_bytes(bytes(head))
    blocks = 2000 if kind == "xv6" else 82
    assert one_line_error(run_cowtui("--headless", "--kernel", KERNEL, "--disk", str(disk))) \
        == (f"cowtui: {disk}: truncated {kind} file system image: its superblock says "
            f"{blocks} blocks ({blocks * 1024} bytes), the file has 4096 bytes")


@pytest.mark.parametrize("option, why", [("--json", "the app shows the trace itself"),
                                         ("--console", "the app has a console pane")])
def test_headless_options_need_headless(option: str, why: str) -> None:
    assert one_line_error(run_cowtui(option, "default")) == \
        f"cowtui: {option} needs --headless ({why})"


def test_disk_without_kernel() -> None:
    assert one_line_error(run_cowtui("--headless", "--disk", "fs.img", "default")) == \
        "cowtui: --disk goes with --kernel (a scenario names its own disk)"


def test_shipped_scenario_by_name_from_anywhere(tmp_path: Path) -> None:
    result = run_cowtui("--headless", "forkexec", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1].endswith("expectations: pass")


def test_unknown_scenario_name() -> None:
    assert one_line_error(run_cowtui("--headless", "forkexe")) == \
        "cowtui: forkexe: no such scenario file (shipped scenarios: see cowtui --list)"


def test_list_names_every_shipped_scenario_and_bug_zoo_kernel() -> None:
    result = run_cowtui("--list")
    assert result.returncode == 0 and result.stderr == ""
    lines = result.stdout.splitlines()
    assert lines[0] == "shipped scenarios (cowtui [--headless] NAME):"
    names = [line.split()[0] for line in lines if line.startswith("  ")]
    assert names == [p.stem for p in shipped_scenarios()] + list(BUG_ZOO) + list(SMP_BUG_ZOO)
    assert "  forkexec " in result.stdout


def test_help_names_exit_codes_scenarios_and_examples() -> None:
    result = run_cowtui("--help")
    assert result.returncode == 0
    text = result.stdout
    for fragment in ("exit status (headless):",
                     "  130  interrupted by Ctrl-C (SIGINT), 143 by SIGTERM", "  2    bad input", "examples:", "cowtui --list",
                     "bug-zoo kernels: copyout-ignores-cow", "shipped scenarios: badaccess"):
        assert fragment in text, fragment


def test_cow_bit_option_overrides_the_scenario_either_way(tmp_path: Path) -> None:
    """The teaching kernel's PTE_COW is bit 8; a scenario saying 9 is overridden by --cow-bit 8."""
    path = write(tmp_path, "name: x\nkernel: teaching\ncow_bit: 9\nconsole:\n"
                 "  - {wait: \"$ \", type: \"cowdemo\\n\"}\nstop: {console: \"$ \"}\n")
    as_written = run_cowtui("--headless", str(path))
    assert "its PTE_COW is bit 8, pass --cow-bit 8" in as_written.stderr
    overridden = run_cowtui("--headless", "--cow-bit", "8", str(path))
    assert (overridden.returncode, overridden.stderr) == (0, "")
