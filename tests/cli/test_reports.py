"""--junit and --gradescope: reports CI systems and Gradescope read."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import xmlschema

from .support import COWTUI, REPO, run_cowtui, write

# a kernel whose text is made COW, told to expect no violation: a failing case
WRONG = ("name: wrong\nkernel: text-becomes-writable\nconsole:\n"
         "  - {wait: \"$ \", type: \"cowdemo\\n\"}\nstop: {console: \"$ \"}\n"
         "expect: {violations: []}\n")
JUNIT_SCHEMA = xmlschema.XMLSchema(Path(__file__).with_name("junit.xsd"))


def assert_valid_junit(path: Path) -> ET.Element:
    """Valid against the JUnit schema, and every count matches the cases."""
    JUNIT_SCHEMA.validate(str(path))
    root = ET.parse(path).getroot()
    suites = root.findall("testsuite")
    for suite in suites:
        cases = suite.findall("testcase")
        for attribute, tag in (("failures", "failure"), ("errors", "error"),
                               ("skipped", "skipped")):
            assert int(suite.get(attribute, "0")) == sum(c.find(tag) is not None for c in cases)
        assert int(suite.get("tests")) == len(cases)
    for attribute in ("tests", "failures", "errors", "skipped"):
        assert int(root.get(attribute)) == sum(int(s.get(attribute, "0")) for s in suites)
    return root


@pytest.mark.parametrize("damage", [
    ('classname="', 'class="'),                            # a case without its classname
    ("</failure>", "</failure><error/>"),                  # two outcomes for one case
    ('tests="', 'tests="-'),                               # a negative count
    ("<properties>", "<system-out/><properties>"),         # children out of order
])
def test_the_schema_refuses_a_damaged_report(tmp_path: Path, damage: tuple[str, str]) -> None:
    """The schema check is not a rubber stamp: each damage to a real report fails it."""
    junit = tmp_path / "junit.xml"
    run_cowtui("--headless", "--junit", str(junit), str(write(tmp_path, WRONG)))
    assert_valid_junit(junit)
    text = junit.read_text()
    assert damage[0] in text
    junit.write_text(text.replace(damage[0], damage[1], 1))
    with pytest.raises(xmlschema.XMLSchemaValidationError):
        JUNIT_SCHEMA.validate(str(junit))


VISIBILITY = {"hidden", "after_due_date", "after_published", "visible"}


def assert_valid_gradescope(path: Path) -> dict:
    """The fields of Gradescope's results.json (its autograder specification)."""
    results = json.loads(path.read_text())
    assert set(results) <= {"score", "execution_time", "output", "output_format", "visibility",
                            "stdout_visibility", "extra_data", "tests", "leaderboard"}
    assert isinstance(results["score"], (int, float))
    assert isinstance(results["execution_time"], (int, float))
    assert isinstance(results["output"], str)
    assert results["stdout_visibility"] in VISIBILITY
    for test in results["tests"]:
        assert set(test) <= {"score", "max_score", "status", "name", "name_format", "number",
                             "output", "output_format", "tags", "visibility", "extra_data"}
        assert isinstance(test["name"], str) and isinstance(test["output"], str)
        assert test["status"] in ("passed", "failed")
        assert 0 <= test["score"] <= test["max_score"]
        assert test["visibility"] in VISIBILITY
    assert results["score"] == sum(t["score"] for t in results["tests"])
    return results


def reports(tmp_path: Path, scenario: str, *options: str) -> tuple[int, ET.Element, dict]:
    junit, gradescope = tmp_path / "junit.xml", tmp_path / "results.json"
    result = run_cowtui("--headless", "--junit", str(junit), "--gradescope", str(gradescope),
                        *options, scenario)
    assert "Traceback" not in result.stderr
    return result.returncode, assert_valid_junit(junit), assert_valid_gradescope(gradescope)


def cases_of(root: ET.Element) -> dict[str, str]:
    """testcase name -> 'passed' or the tag of its outcome."""
    return {c.get("name"): next((o.tag for o in c), "passed") for c in root.iter("testcase")}


def test_a_passing_scenario(tmp_path: Path) -> None:
    status, junit, gradescope = reports(tmp_path, "default")
    assert status == 0
    assert cases_of(junit) == {
        "console shows \"cowdemo: ok, the parent's page is unchanged\"": "passed",
        "violations == []": "passed", "faults copied >=1 (got 2)": "passed"}
    assert (gradescope["score"], [t["max_score"] for t in gradescope["tests"]]) == (3, [1, 1, 1])
    assert gradescope["output"].startswith("summary: instructions=3585362 ")


def test_a_violation_is_the_failure_text(tmp_path: Path) -> None:
    status, junit, gradescope = reports(tmp_path, str(write(tmp_path, WRONG)))
    assert status == 1
    failure = junit.find(".//testcase[@name='violations == []']/failure")
    assert failure is not None and failure.get("type") == "failed"
    assert failure.text.startswith("VIOLATION #") and "[cow-on-readonly]" in failure.text
    assert failure.get("message") == failure.text.splitlines()[0]
    [test] = gradescope["tests"]
    assert (test["status"], test["score"], test["max_score"]) == ("failed", 0, 1)
    assert "[cow-on-readonly]" in test["output"]


def test_rules_off_are_skipped_and_win_no_points(tmp_path: Path, hidden_refcount_leak) -> None:
    scenario = write(tmp_path, f"name: leak\nkernel: {hidden_refcount_leak}\n"
                     f"disk: {REPO / 'machine/guest/prebuilt/fs.img'}\nconsole:\n"
                     "  - {wait: \"$ \", type: \"cowcheck\\n\"}\nstop: {console: \"$ \"}\n"
                     "expect: {violations: []}\n")
    _, junit, gradescope = reports(tmp_path, str(scenario))
    assert cases_of(junit) == {"violations == [] (5 rules not checked)": "passed",
                               "rule refcount-mismatch checked": "skipped",
                               "rule maps-free-frame checked": "skipped",
                               "rule double-free checked": "skipped",
                               "rule frame-leak checked": "skipped",
                               "rule allocated-without-count checked": "skipped"}
    assert gradescope["score"] == 1
    assert [t["max_score"] for t in gradescope["tests"]] == [1, 0, 0, 0, 0, 0]
    warning = "cowtui: warning: no refcount array found: name it with --refcount-symbol NAME"
    assert gradescope["output"].splitlines()[1].startswith(warning)
    assert junit.find("testsuite/system-err").text.startswith(warning)
    assert all(t["output"].startswith("not checked: no refcount array found")
               for t in gradescope["tests"][1:])


def test_an_interrupted_run_still_writes_its_reports_and_holds_nothing(tmp_path: Path) -> None:
    scenario = write(tmp_path, "name: forever\nkernel: teaching\nconsole:\n"
                     "  - {wait: \"$ \", type: \"cowdemo\\n\"}\n"
                     "stop: {console: never printed, instructions: 100000000000}\n"
                     "expect: {violations: []}\n")
    junit, gradescope = tmp_path / "junit.xml", tmp_path / "results.json"
    process = subprocess.Popen([*COWTUI, "--headless", "--junit", str(junit), "--gradescope",
                                str(gradescope), str(scenario)], cwd=REPO,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        for line in process.stdout:
            if "made-writable" in line:
                break
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 143
    assert cases_of(assert_valid_junit(junit)) == {"the run completes": "error",
                                                   "violations == []": "failure"}
    results = assert_valid_gradescope(gradescope)
    assert results["score"] == 0
    assert results["tests"][0]["output"].startswith("interrupted at #")


def test_report_options_need_headless_and_a_directory(tmp_path: Path) -> None:
    result = run_cowtui("--junit", str(tmp_path / "j.xml"), "default")
    assert (result.returncode, result.stderr) == (
        2, ("cowtui: --junit needs --headless (reports are written at the end of a headless "
            "run)\n"))
    missing = tmp_path / "nodir" / "results.json"
    result = run_cowtui("--headless", "--gradescope", str(missing), "default")
    assert (result.returncode, result.stderr) == (
        2, f"cowtui: --gradescope {missing}: no such directory {missing.parent}\n")


@pytest.mark.parametrize("option", ["--junit", "--gradescope"])
def test_reports_name_the_scenario_and_the_summary(tmp_path: Path, option: str) -> None:
    path = tmp_path / "report"
    result = run_cowtui("--headless", option, str(path), "forkexec")
    assert result.returncode == 0
    text = path.read_text()
    assert result.stdout.splitlines()[-1] in text
    if option == "--junit":
        assert ET.fromstring(text.encode()).find("testsuite").get("name") == "forkexec"


def test_a_rule_off_for_two_reasons_is_one_case(tmp_path: Path) -> None:
    """No DWARF at all: no process table, refcount array or free list: thirteen rules off once each."""
    objcopy = "riscv64-unknown-elf-objcopy"
    if shutil.which(objcopy) is None:
        pytest.skip(f"{objcopy} not installed")
    kernel = tmp_path / "kernel"
    subprocess.run([objcopy, "--strip-debug", str(REPO / "machine/guest/prebuilt/kernel.elf"),
                    str(kernel)], check=True)
    scenario = write(tmp_path, f"name: stripped\nkernel: {kernel}\n"
                     f"disk: {REPO / 'machine/guest/prebuilt/fs.img'}\nconsole:\n"
                     "  - {wait: \"$ \", type: \"cowdemo\\n\"}\nstop: {console: \"$ \"}\n"
                     "expect: {violations: []}\n")
    _, junit, gradescope = reports(tmp_path, str(scenario))
    names = [c.get("name") for c in junit.iter("testcase")]
    assert len(names) == len(set(names)) == 14
    assert [t["name"] for t in gradescope["tests"]] == names
