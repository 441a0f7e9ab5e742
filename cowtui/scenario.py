"""Scenario files: which kernel, what to type, when to stop, what to expect.

A scenario is YAML (loaded with ``yaml.safe_load``)::

    name: cowdemo                   # required
    description: fork, the child writes one page
    kernel: teaching                # 'teaching', a bug-zoo name, or a path (relative to the file)
    disk: default                   # 'default' (the bundled fs.img) or a path; optional for paths
    ram_mib: 128
    refcount_symbol: refcnt         # optional: name the refcount array if not found
    cow_bit: 8                      # RSW bit used as PTE_COW
    console:                        # scripted input: wait for text, then type
      - {wait: "$ ", type: "cowdemo\\n"}
    breakpoints: [cowfault]         # symbol, file:line or address: the app stops there
    stop:
      console: "$ "                 # after the script, stop when this text (or one of a list) appears
      instructions: 100000000       # budget
      at: 1716484                   # stop at this instruction (the app opens there)
    expect:
      console: ["cowdemo: ok"]      # lines that must appear
      violations: []                # exactly these rules must fire ([] = none)
      faults: {copied: ">=1"}       # counts per outcome: N, ">=N" or "<=N"

Every mistake is a ``ScenarioError`` whose message is one line naming the
file, the line when YAML knows it, and the field.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from machine.guest import BUG_ZOO, SMP_BUG_ZOO, SMP_KERNEL, bundled_disk, bundled_kernel
from machine.hart import default_engine
from machine.introspect.events import OUTCOMES
from machine.introspect.rules import RULES
from machine.machine import MAX_HARTS
from machine.schedule import ScheduleError, parse_schedule
from machine.scheduler import DEFAULT_QUANTUM

from .disk_check import disk_problem

BUNDLED_DIR = Path(__file__).parent / "scenarios"
DEFAULT_SCENARIO = BUNDLED_DIR / "default.yaml"
NEEDS_DISK = ("xv6 needs its file system image (the fs.img `make` builds next to kernel/); "
              "without it the kernel panics at boot")
DISK_DRIVER = "virtio_disk_init"   # a kernel with this function reads a disk at boot


class ScenarioError(ValueError):
    pass


@dataclass(frozen=True)
class ConsoleStep:
    wait: str
    type: str


@dataclass(frozen=True)
class CountExpectation:
    op: str      # '==', '>=', '<='
    value: int

    def holds(self, count: int) -> bool:
        return {"==": count == self.value, ">=": count >= self.value,
                "<=": count <= self.value}[self.op]

    def __str__(self) -> str:
        return f"{'' if self.op == '==' else self.op}{self.value}"


@dataclass
class Scenario:
    name: str
    path: Path | None
    kernel: Path
    disk: Path | None
    description: str = ""
    ram_mib: int = 128
    refcount_symbol: str | None = None
    cow_bit: int = 8
    harts: int | None = None   # None: as many as the kernel was built for
    quantum: int = DEFAULT_QUANTUM  # ticks per hart's turn (several harts)
    schedule_kind: str = "round-robin"  # or seed, pct (machine/schedule.py)
    schedule_seed: int | None = None  # schedule: seed=K / pct=K
    engine: str = field(default_factory=default_engine)
    console: list[ConsoleStep] = field(default_factory=list)
    breakpoints: list[str] = field(default_factory=list)
    stop_console: list[str] = field(default_factory=list)
    stop_instructions: int = 200_000_000
    stop_at: int | None = None          # stop: {at: N}: the run stops at instruction N
    expect_console: list[str] = field(default_factory=list)
    expect_violations: list[str] | None = None
    expect_faults: dict[str, CountExpectation] = field(default_factory=dict)
    # where a field's value came from, for errors found later ('s.yaml:5: ram_mib', '--ram-mib')
    origins: dict[str, str] = field(default_factory=dict)


class _Reader:
    """Field access that knows the file and line for error messages."""

    def __init__(self, path: Path, data: dict, lines: dict[str, int]) -> None:
        self.path, self.data, self.lines = path, data, lines

    def where(self, key: str) -> str:
        line = self.lines.get(key)
        return f"{self.path}:{line}: {key}" if line else f"{self.path}: {key}"

    def fail(self, key: str, message: str) -> ScenarioError:
        return ScenarioError(f"{self.where(key)}: {message}")

    def get(self, key: str, kind: type | tuple, default: Any = None, required: bool = False):
        if key not in self.data or self.data[key] is None:
            if required:
                raise ScenarioError(f"{self.path}: missing required field '{key}'")
            return default
        value = self.data[key]
        if isinstance(value, bool) and kind in (int, (int,)):
            raise self.fail(key, f"expected {_kind_name(kind)}, got {value!r}")
        if not isinstance(value, kind):
            raise self.fail(key, f"expected {_kind_name(kind)}, got {type(value).__name__} {value!r}")
        return value


def _kind_name(kind: type | tuple) -> str:
    names = {str: "text", int: "a whole number", list: "a list", dict: "a mapping"}
    if isinstance(kind, tuple):
        return " or ".join(names.get(k, k.__name__) for k in kind)
    return names.get(kind, kind.__name__)


def _top_level_lines(text: str) -> dict[str, int]:
    lines: dict[str, int] = {}
    try:
        node = yaml.compose(text)
    except yaml.YAMLError:
        return lines
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            lines[str(key.value)] = key.start_mark.line + 1
    return lines


def _resolve_kernel(r: _Reader, value: str) -> Path:
    if value == "teaching":
        return bundled_kernel(None)
    if value in BUG_ZOO or value in SMP_BUG_ZOO or value == SMP_KERNEL:
        return bundled_kernel(value)
    path = (r.path.parent / value).resolve()
    if "/" not in value and not value.endswith(".elf") and not path.exists():
        raise r.fail("kernel", f"unknown kernel {value!r}: use 'teaching', '{SMP_KERNEL}', one "
                     f"of {', '.join([*BUG_ZOO, *SMP_BUG_ZOO])}, or a path to an ELF file")
    if not path.is_file():
        raise r.fail("kernel", f"no such file: {path}")
    return path


RAM_MIB_RANGE = (16, 2048)


def harts_problem(harts: int) -> str | None:
    """Why a number of harts cannot be used (the YAML field and --harts), or None."""
    return None if 1 <= harts <= MAX_HARTS else f"must be between 1 and {MAX_HARTS}, got {harts}"


def quantum_problem(quantum: int) -> str | None:
    """Why a quantum cannot be used (the YAML field and --quantum), or None."""
    return None if quantum >= 1 else f"must be at least 1 tick, got {quantum}"


def ram_mib_problem(ram: int) -> str | None:
    """Why a RAM size cannot be used (the YAML field and --ram-mib alike), or None."""
    low, high = RAM_MIB_RANGE
    return None if low <= ram <= high else f"must be between {low} and {high}, got {ram}"


def _parse_count(r: _Reader, outcome: str, value: Any) -> CountExpectation:
    if isinstance(value, int) and not isinstance(value, bool):
        return CountExpectation("==", value)
    text = str(value).strip()
    for op in (">=", "<="):
        if text.startswith(op) and text[2:].strip().isdigit():
            return CountExpectation(op, int(text[2:]))
    if text.isdigit():
        return CountExpectation("==", int(text))
    raise r.fail("expect", f"faults.{outcome}: expected N, '>=N' or '<=N', got {value!r}")


def shipped_scenarios() -> list[Path]:
    """The scenarios cowtui ships, runnable by name (the file's stem)."""
    return sorted(BUNDLED_DIR.glob("*.yaml"))


def find_scenario(text: str) -> Path:
    """A scenario argument as a file: a path, or the name of a shipped scenario."""
    path = Path(text)
    shipped = BUNDLED_DIR / f"{text}.yaml"
    if not path.exists() and "/" not in text and shipped.is_file():
        return shipped
    return path


def load_scenario(path: str | Path) -> Scenario:
    path = Path(path)
    try:
        text = path.read_text()
    except FileNotFoundError:
        hint = " (shipped scenarios: see cowtui --list)" if path.parent == Path(".") else ""
        raise ScenarioError(f"{path}: no such scenario file{hint}") from None
    except (OSError, UnicodeDecodeError) as error:
        raise ScenarioError(f"{path}: cannot read: {error}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        raise ScenarioError(f"{where}: YAML syntax error: {problem}") from None
    if not isinstance(data, dict):
        raise ScenarioError(f"{path}: a scenario is a YAML mapping of fields (name, kernel, ...)")
    r = _Reader(path, data, _top_level_lines(text))
    known = {"name", "description", "kernel", "disk", "ram_mib", "refcount_symbol", "cow_bit",
             "harts", "quantum", "schedule", "console", "breakpoints", "stop", "expect"}
    for key in data:
        if key not in known:
            raise r.fail(str(key), f"unknown field (known: {', '.join(sorted(known))})")
    name = r.get("name", str, required=True)
    kernel_name = r.get("kernel", str, required=True)
    kernel = _resolve_kernel(r, kernel_name)
    bundled = kernel_name in ("teaching", SMP_KERNEL) or kernel_name in BUG_ZOO \
        or kernel_name in SMP_BUG_ZOO
    disk_value = r.get("disk", str, "default" if bundled else None)
    disk: Path | None = None
    if disk_value == "default":
        disk = bundled_disk()
    elif disk_value is not None:
        disk = (path.parent / disk_value).resolve()
        if not disk.is_file():
            raise r.fail("disk", f"no such file: {disk}")
        if problem := disk_problem(disk):
            raise r.fail("disk", f"{disk}: {problem}")
    ram = r.get("ram_mib", int, 128)
    if problem := ram_mib_problem(ram):
        raise r.fail("ram_mib", problem)
    cow_bit = r.get("cow_bit", int, 8)
    if cow_bit not in (8, 9):
        raise r.fail("cow_bit", f"must be 8 or 9 (the PTE's RSW bits), got {cow_bit}")
    harts = r.get("harts", int, None)
    if harts is not None and (problem := harts_problem(harts)):
        raise r.fail("harts", problem)
    quantum = r.get("quantum", int, DEFAULT_QUANTUM)
    if problem := quantum_problem(quantum):
        raise r.fail("quantum", problem)
    try:
        kind, seed = parse_schedule(r.get("schedule", str, "round-robin"))
    except ScheduleError as error:
        raise r.fail("schedule", str(error)) from None
    origins = {key: r.where(key) for key in ("ram_mib", "refcount_symbol") if key in data}
    origins["disk"] = r.where("disk")
    scenario = Scenario(name=name, path=path, kernel=kernel, disk=disk,
                        description=r.get("description", str, ""), ram_mib=ram,
                        refcount_symbol=r.get("refcount_symbol", str), cow_bit=cow_bit,
                        harts=harts, quantum=quantum, schedule_kind=kind,
                        schedule_seed=seed, origins=origins)
    for i, step in enumerate(r.get("console", list, [])):
        if not isinstance(step, dict) or set(step) - {"wait", "type"} or "type" not in step \
                or not isinstance(step.get("type"), str) \
                or not isinstance(step.get("wait", ""), str):
            raise r.fail("console", f"step {i + 1}: expected {{wait: TEXT, type: TEXT}}")
        scenario.console.append(ConsoleStep(step.get("wait", ""), step["type"]))
    for item in r.get("breakpoints", list, []):
        if not isinstance(item, (str, int)):
            raise r.fail("breakpoints", f"expected a symbol, file:line or address, got {item!r}")
        scenario.breakpoints.append(str(item))
    stop = r.get("stop", dict, {})
    for key in stop:
        if key not in ("console", "instructions", "at"):
            raise r.fail("stop", f"unknown key '{key}' (known: console, instructions, at)")
    if "console" in stop:
        texts = stop["console"] if isinstance(stop["console"], list) else [stop["console"]]
        if not texts or not all(isinstance(t, str) and t for t in texts):
            raise r.fail("stop", "console: expected text or a list of texts")
        scenario.stop_console = texts
    if "instructions" in stop:
        if not isinstance(stop["instructions"], int) or stop["instructions"] <= 0:
            raise r.fail("stop", "instructions: expected a positive whole number")
        scenario.stop_instructions = stop["instructions"]
    if "at" in stop:
        at = stop["at"]
        if not isinstance(at, int) or isinstance(at, bool) or at <= 0:
            raise r.fail("stop", f"at: expected an instruction number (a positive whole "
                         f"number), got {at!r}")
        if at > scenario.stop_instructions:
            raise r.fail("stop", f"at: {at:,} is beyond the instruction budget "
                         f"({scenario.stop_instructions:,}): raise stop.instructions")
        scenario.stop_at = at
    expect = r.get("expect", dict, {})
    for key in expect:
        if key not in ("console", "violations", "faults"):
            raise r.fail("expect", f"unknown key '{key}' (known: console, violations, faults)")
    lines = expect.get("console", [])
    if not isinstance(lines, list) or not all(isinstance(x, str) for x in lines):
        raise r.fail("expect", "console: expected a list of text lines")
    scenario.expect_console = lines
    if "violations" in expect:
        rules = expect["violations"] or []
        if not isinstance(rules, list) or not all(isinstance(x, str) for x in rules):
            raise r.fail("expect", "violations: expected a list of rule names")
        for rule in rules:
            if rule not in RULES:
                raise r.fail("expect", f"violations: unknown rule {rule!r} "
                              f"(rules: {', '.join(RULES)})")
        scenario.expect_violations = rules
    faults = expect.get("faults", {})
    if not isinstance(faults, dict):
        raise r.fail("expect", "faults: expected a mapping of outcome to count")
    for outcome, value in faults.items():
        if outcome not in OUTCOMES + ("total",):
            raise r.fail("expect", f"faults: unknown outcome {outcome!r} "
                          f"(outcomes: {', '.join(OUTCOMES)}, total)")
        scenario.expect_faults[outcome] = _parse_count(r, outcome, value)
    return scenario


def scenario_for_kernel(kernel: str | Path, disk: str | Path | None, ram_mib: int = 128,
                        refcount_symbol: str | None = None, cow_bit: int = 8) -> Scenario:
    """A scenario for ``cowtui --kernel K --disk D``: no script, no expectations."""
    kernel = Path(kernel)
    if not kernel.is_file():
        raise ScenarioError(f"{kernel}: no such kernel file")
    disk_path = Path(disk) if disk is not None else None
    if disk_path is not None and not disk_path.is_file():
        raise ScenarioError(f"{disk_path}: no such disk image")
    if disk_path is not None and (problem := disk_problem(disk_path)):
        raise ScenarioError(f"{disk_path}: {problem}")
    return Scenario(name=kernel.name, path=None, kernel=kernel, disk=disk_path,
                    ram_mib=ram_mib, refcount_symbol=refcount_symbol, cow_bit=cow_bit,
                    origins={"disk": f"--kernel {kernel}"})
