"""One trace format: --json, the app's export and the README agree on it."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from .support import PREBUILT, REPO, run_cowtui, write

HEX = re.compile(r"^0x[0-9a-f]+$")
FIELDS = {   # the schema, as the README's "Trace format" section states it
    "page_fault": {"event", "icount", "pid", "process", "cause", "scause", "va", "pc", "symbol",
                   "source", "pte_before"},
    "fault_resolved": {"event", "icount", "pid", "fault_icount", "va", "outcome", "pte_after",
                       "new_frame"},
    "process_forked": {"event", "icount", "parent", "child", "process"},
    "process_exited": {"event", "icount", "pid", "process"},
    "violation": {"event", "icount", "rule", "message", "pc", "symbol", "source", "frames",
                  "ptes"},
    "console": {"event", "icount", "text"},
    "summary": {"event", "version", "instructions", "faults", "frames_copied", "violations",
                "rules_off", "end", "error", "expectations", "passed"},
}
HEX_FIELDS = ("scause", "va", "pc", "pte_before", "pte_after")


def trace(scenario: str, *options: str) -> list[dict]:
    result = run_cowtui("--headless", "--json", *options, scenario)
    assert "Traceback" not in result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


@pytest.fixture(scope="module")
def copyout_trace() -> list[dict]:
    return trace("bug-copyout-ignores-cow", "--console")


def test_every_record_has_the_fields_of_its_kind(copyout_trace) -> None:
    kinds = {r["event"] for r in copyout_trace}
    assert kinds == set(FIELDS)
    for r in copyout_trace:
        assert set(r) == FIELDS[r["event"]], r
        assert r["event"] == "summary" or isinstance(r["icount"], int)
    assert copyout_trace[-1]["event"] == "summary"
    assert copyout_trace[-1]["expectations"] == [
        {"check": "violations == ['shared-frame-written']", "held": True, "kind": "violations"}]


def test_addresses_are_hex_strings(copyout_trace) -> None:
    for r in copyout_trace:
        for name in HEX_FIELDS:
            if name in r:
                assert HEX.match(r[name]), (name, r)
        if r["event"] == "fault_resolved" and r["new_frame"] is not None:
            assert HEX.match(r["new_frame"])
        if r["event"] == "violation":
            assert all(HEX.match(f) for f in r["frames"])
            assert all(set(p) == {"pid", "va"} and HEX.match(p["va"]) for p in r["ptes"])


def test_faults_have_cause_names_and_kernel_pcs_have_symbol_and_line(copyout_trace) -> None:
    faults = [r for r in copyout_trace if r["event"] == "page_fault"]
    assert faults and all(r["cause"] == "store/AMO page fault" and r["scause"] == "0xf"
                          for r in faults)
    assert all(r["symbol"] is None for r in faults)   # the teaching kernel's programs: stripped
    written = next(r for r in copyout_trace if r.get("rule") == "shared-frame-written")
    assert re.match(r"^\w+\+0x[0-9a-f]+$", written["symbol"]), written
    assert re.match(r"^kernel/\w+\.c:\d+$", written["source"]), written


def test_forks_and_exits_are_in_the_trace(copyout_trace) -> None:
    forks = [(r["parent"], r["child"]) for r in copyout_trace if r["event"] == "process_forked"]
    exits = [r["pid"] for r in copyout_trace if r["event"] == "process_exited"]
    assert forks[:2] == [(0, 1), (1, 2)]
    assert exits and set(exits) <= {child for _, child in forks}


def test_the_console_comes_as_whole_lines(copyout_trace) -> None:
    lines = [r["text"] for r in copyout_trace if r["event"] == "console"]
    assert "$ cowcheck" in lines and all("\n" not in text for text in lines)


def test_the_readme_documents_every_field() -> None:
    readme = (REPO / "README.md").read_text()
    section = readme.split("### Trace format", 1)[1].split("\n### ", 1)[0]
    for kind, fields in FIELDS.items():
        assert f"`{kind}`" in section, kind
        for name in fields:
            assert f"`{name}`" in section, (kind, name)


def test_the_app_export_writes_the_same_records(tmp_path) -> None:
    from cowtui.export import export_all
    from cowtui.scenario import BUNDLED_DIR, load_scenario
    from cowtui.session import Session

    session = Session(load_scenario(BUNDLED_DIR / "default.yaml"))
    session.run_to_end()
    written = export_all(session, tmp_path, None, lambda name, directory: name)
    exported = [json.loads(line) for line in written[-1].read_text().splitlines()]
    headless = [r for r in trace("default") if r["event"] != "summary"]
    assert exported == headless


# A stand-in for xv6's user/_cowdemo: `main` covers the pcs where cowdemo faults.
FAKE_PROGRAM = """\
    .text
    .globl _start
_start:
    nop
    .globl main
    .type main, @function
main:
    .rept 1024
    nop
    .endr
    .size main, . - main
"""


def test_user_pcs_get_symbols_from_the_program_beside_the_kernel(tmp_path: Path) -> None:
    """xv6's layout: kernel/kernel, and user/_NAME for the process NAME."""
    cc = "riscv64-unknown-elf-gcc"
    if shutil.which(cc) is None:
        pytest.skip(f"{cc} not installed")
    (tmp_path / "kernel").mkdir()
    (tmp_path / "user").mkdir()
    shutil.copy(PREBUILT / "kernel.elf", tmp_path / "kernel" / "kernel")
    shutil.copy(PREBUILT / "fs.img", tmp_path / "fs.img")
    (tmp_path / "user" / "fake.S").write_text(FAKE_PROGRAM)
    subprocess.run([cc, "-g", "-nostdlib", "-march=rv64imac", "-mabi=lp64", "-Wl,-Ttext=0",
                    "-o", "user/_cowdemo", "user/fake.S"], cwd=tmp_path, check=True)
    path = write(tmp_path, "name: xv6-layout\nkernel: kernel/kernel\ndisk: fs.img\nconsole:\n"
                 "  - {wait: \"$ \", type: \"cowdemo\\n\"}\nstop: {console: \"$ \"}\n")
    faults = [r for r in trace(str(path)) if r["event"] == "page_fault"]
    located = [(r["process"], r["pc"], r["symbol"], r["source"]) for r in faults]
    assert located == [("cowdemo", "0x67c", "main+0x67a", "user/fake.S:9"),
                       ("cowdemo", "0x14a", "main+0x148", "user/fake.S:9"),
                       ("sh", "0x6a6", None, None)]     # no user/_sh: unknown
