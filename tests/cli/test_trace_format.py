"""One trace format: --json, the app's export and the README agree on it."""

from __future__ import annotations

import json
import re

import pytest

from .support import REPO, run_cowtui

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
    assert all(r["symbol"] is None for r in faults)          # user pcs: no kernel symbol
    written = [r for r in copyout_trace if r.get("rule") == "shared-frame-written"][0]
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
