"""No false pass: a rule cowtui cannot check is said to be off, never silently passed."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from .support import PREBUILT, one_line_error, run_cowtui, write

OBJCOPY = "riscv64-unknown-elf-objcopy"

COWCHECK = """\
name: leak
kernel: {kernel}
disk: {disk}
console:
  - {{wait: "$ ", type: "cowcheck\\n"}}
stop: {{console: "$ ", instructions: 300000000}}
expect:
  violations: []
"""

NO_PROCS = ("cowtui: warning: no process table (a global `struct proc proc[NPROC]` with DWARF: "
            "build the kernel with -g); not checked: refcount-mismatch, shared-frame-writable, "
            "maps-free-frame, w-and-cow, cow-on-readonly, shared-frame-written, "
            "stale-translation, frame-leak, foreign-frame-written, write-granted-without-cow")
NO_REFCOUNTS = ("cowtui: warning: no refcount array found: name it with --refcount-symbol NAME "
                "(e.g. --refcount-symbol kmem.ref); not checked: refcount-mismatch, "
                "maps-free-frame, double-free, frame-leak, allocated-without-count")
NO_FREELIST = ("cowtui: warning: no free list found (a global `kmem` with a member `freelist`); "
               "not checked: allocated-without-count, free-frame-written")


def test_misspelt_refcount_symbol_is_bad_input() -> None:
    result = run_cowtui("--headless", "--refcount-symbol", "nosuch", "bug-refcount-leak")
    assert one_line_error(result) == ("cowtui: --refcount-symbol: no integer array (or pointer "
                                      "to one) named 'nosuch' in kernel-refcount-leak.elf")
    assert result.stdout == ""


def test_misspelt_refcount_symbol_in_a_scenario_names_its_line(tmp_path: Path) -> None:
    path = write(tmp_path, "name: x\nkernel: refcount-leak\nrefcount_symbol: refcont\n")
    assert one_line_error(run_cowtui("--headless", str(path))) == (
        f"cowtui: {path}:3: refcount_symbol: no integer array (or pointer to one) named "
        "'refcont' in kernel-refcount-leak.elf")


def test_a_refcount_array_not_found_is_no_pass(tmp_path: Path, hidden_refcount_leak) -> None:
    """A leaking kernel whose refcount array cowtui cannot find: the run warns and
    says which rules were off; named, the array catches the leak."""
    path = write(tmp_path, COWCHECK.format(kernel=hidden_refcount_leak, disk=PREBUILT / "fs.img"))
    unnamed = run_cowtui("--headless", str(path))
    assert unnamed.stderr.splitlines() == [NO_REFCOUNTS]
    assert " violations: none rules-off: refcount-mismatch, maps-free-frame, double-free, " \
           "frame-leak, allocated-without-count end=stop " in unnamed.stdout.splitlines()[-1]
    named = run_cowtui("--headless", "--refcount-symbol", "page_users", str(path))
    assert named.returncode == 1 and named.stderr == ""
    assert " violations: frame-leak, refcount-mismatch rules-off: none end=stop " \
           in named.stdout.splitlines()[-1]


def test_a_kernel_without_dwarf_warns_and_lists_the_rules_off(tmp_path: Path) -> None:
    """The refcount-leak kernel stripped of its DWARF: the leak goes unseen, and
    the run says it could not look instead of claiming no violations."""
    if shutil.which(OBJCOPY) is None:
        pytest.skip(f"{OBJCOPY} not installed")
    kernel = tmp_path / "kernel"
    subprocess.run([OBJCOPY, "--strip-debug", str(PREBUILT / "kernel-refcount-leak.elf"),
                    str(kernel)], check=True)
    path = write(tmp_path, COWCHECK.format(kernel=kernel, disk=PREBUILT / "fs.img"))
    result = run_cowtui("--headless", str(path))
    assert result.stderr.splitlines() == [NO_PROCS, NO_REFCOUNTS, NO_FREELIST]
    summary = result.stdout.splitlines()[-1]
    assert " violations: none rules-off: refcount-mismatch, shared-frame-writable, " \
           "maps-free-frame, double-free, w-and-cow, cow-on-readonly, shared-frame-written, " \
           "stale-translation, frame-leak, foreign-frame-written, write-granted-without-cow, " \
           "allocated-without-count, free-frame-written end=stop " in summary, summary
    assert result.returncode == 0   # what could be checked held


def test_json_summary_lists_the_rules_off(tmp_path: Path) -> None:
    if shutil.which(OBJCOPY) is None:
        pytest.skip(f"{OBJCOPY} not installed")
    kernel = tmp_path / "kernel"
    subprocess.run([OBJCOPY, "--strip-debug", str(PREBUILT / "kernel.elf"), str(kernel)],
                   check=True)
    path = write(tmp_path, COWCHECK.format(kernel=kernel, disk=PREBUILT / "fs.img"))
    result = run_cowtui("--headless", "--json", str(path))
    summary = json.loads(result.stdout.splitlines()[-1])
    assert summary["event"] == "summary"
    assert summary["rules_off"] == ["refcount-mismatch", "shared-frame-writable",
                                    "maps-free-frame", "double-free", "w-and-cow",
                                    "cow-on-readonly", "shared-frame-written",
                                    "stale-translation", "frame-leak", "foreign-frame-written",
                                    "write-granted-without-cow", "allocated-without-count",
                                    "free-frame-written"]


def test_a_kernel_whose_checks_all_work_has_no_rules_off() -> None:
    result = run_cowtui("--headless", "default")
    assert result.stderr == ""
    assert " rules-off: none end=stop " in result.stdout.splitlines()[-1]


COWDEMO = """\
name: cowdemo
kernel: {kernel}
disk: {disk}
console:
  - {{wait: "$ ", type: "cowdemo\\n"}}
stop: {{console: "$ "}}
expect:
  violations: []
"""


def test_the_wrong_cow_bit_is_seen_and_its_rules_are_off(tmp_path: Path, kernel_variant) -> None:
    """PTE_COW in bit 9, cowtui told 8: the text-becomes-writable bug goes unseen,
    and the run says why; told 9, it is caught."""
    kernel = kernel_variant("cow-bit-9-text-bug")
    path = write(tmp_path, COWDEMO.format(kernel=kernel, disk=PREBUILT / "fs.img"))
    told_8 = run_cowtui("--headless", str(path))
    assert told_8.stderr.splitlines() == [(
        "cowtui: warning: the kernel sets RSW bit 9, not 8, on the pages it write-protects: "
        "its PTE_COW is bit 9, pass --cow-bit 9; not checked: w-and-cow, cow-on-readonly, "
        "shared-frame-written, write-granted-without-cow")]
    assert " violations: none rules-off: w-and-cow, cow-on-readonly, shared-frame-written, " \
        "write-granted-without-cow " \
        in told_8.stdout.splitlines()[-1]
    told_9 = run_cowtui("--headless", "--cow-bit", "9", str(path))
    assert told_9.returncode == 1 and told_9.stderr == ""
    assert " violations: cow-on-readonly rules-off: none " in told_9.stdout.splitlines()[-1]


def test_fault_counts_without_page_tables_are_not_a_pass(tmp_path: Path) -> None:
    """Without the process table no fault's outcome can be told: an expected count
    fails as not checked rather than passing on made-up outcomes."""
    if shutil.which(OBJCOPY) is None:
        pytest.skip(f"{OBJCOPY} not installed")
    kernel = tmp_path / "kernel"
    subprocess.run([OBJCOPY, "--strip-debug", str(PREBUILT / "kernel.elf"), str(kernel)],
                   check=True)
    text = COWCHECK.format(kernel=kernel, disk=PREBUILT / "fs.img")
    path = write(tmp_path, text.replace("violations: []", "faults: {killed: \">=1\"}"))
    result = run_cowtui("--headless", str(path))
    assert result.returncode == 1
    assert result.stdout.splitlines()[-1].endswith(
        " expectations: FAIL (faults killed >=1 (not checked: no page tables))")
