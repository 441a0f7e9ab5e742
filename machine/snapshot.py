"""Saving and restoring a whole machine: CPU, CSRs, devices, RAM, disk overlay, time.

A snapshot file is ``MAGIC``, a format version, and a zlib-compressed pickle
of plain data only (ints, bytes, strings, lists, dicts): the unpickler
refuses every class, so a foreign or damaged file can only fail to load,
never run code. RAM is stored as its distinct pages (xv6 junk-fills free
pages, so most pages are alike). Decoded code, blocks and soft TLBs are not
saved: they are rebuilt as the machine runs again.

Boot snapshots: ``BootCache`` keeps one snapshot per (kernel, disk, RAM size)
in the user's cache directory, so a second start skips the boot.
"""

from __future__ import annotations

import hashlib
import io
import os
import pickle
import zlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .scheduler import DEFAULT_QUANTUM

if TYPE_CHECKING:
    from .hart import Hart
    from .machine import Machine

MAGIC = b"COWTUI-SNAPSHOT\n"
VERSION = 1
PAGE = 4096


class SnapshotError(ValueError):
    """A snapshot that cannot be used: the message is one line saying why."""


class _PlainUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        raise SnapshotError(f"snapshot holds an object of {module}.{name}: not a cowtui snapshot")


_CSR_FIELDS = ("mstatus", "medeleg", "mideleg", "mie", "mip_software", "mtvec", "stvec",
               "mepc", "sepc", "mcause", "scause", "mtval", "stval", "mscratch", "sscratch",
               "satp", "mcounteren", "scounteren", "menvcfg", "senvcfg", "stimecmp",
               "cycle_offset", "instret_offset", "pmpcfg", "pmpaddr")


def _ram_pages(ram: bytearray) -> tuple[list[bytes], list[int]]:
    """RAM as distinct pages and, per page, the index of its content."""
    zero = bytes(PAGE)
    distinct: dict[bytes, int] = {zero: 0}
    index = []
    view = memoryview(ram)
    for offset in range(0, len(ram), PAGE):
        page = view[offset:offset + PAGE]
        if page == zero:  # a memcmp: the common all-zero page costs no copy
            index.append(0)
            continue
        index.append(distinct.setdefault(bytes(page), len(distinct)))
    return list(distinct), index


def capture_state(machine: Machine) -> dict[str, Any]:
    """Everything of the machine but its RAM: CPU, CSRs, devices, console, exit.
    Time travel's checkpoints keep RAM as changed pages beside this."""
    harts = machine.harts
    several = {}
    if len(harts) > 1:  # hart 0 stays under "hart": one-hart snapshots keep their form
        several = {"more_harts": [_hart_state(hart) for hart in harts[1:]],
                   "schedule": {**machine.scheduler.state(),
                                "asleep": [hart.idle_forever for hart in harts]}}
    return {
        "kernel_sha256": machine.kernel.sha256,
        "disk_sha256": machine.disk.base_sha256 if machine.disk else None,
        "ram_size": machine.bus.ram_size,
        "hart": _hart_state(harts[0]),
        **several,
        "devices": {name: device.snapshot() for name, device in machine.devices().items()},
        "console": bytes(machine.console),
        "exit_status": machine.exit_status,
    }


def _hart_state(hart: Hart) -> dict[str, Any]:
    return {"x": list(hart.x[:32]), "pc": hart.pc, "privilege": hart.privilege,
            "icount": hart.icount, "not_retired": hart.not_retired,
            "reservation": hart.memory.reservation,
            "csr": {name: getattr(hart.csr, name) for name in _CSR_FIELDS}}


def _apply_hart_state(hart: Hart, h: dict[str, Any]) -> None:
    hart.x[:32] = [int(v) for v in h["x"]]
    hart.x[0] = 0
    hart.pc, hart.icount, hart.not_retired = h["pc"], h["icount"], h["not_retired"]
    hart.memory.reservation = h["reservation"]
    for name, value in h["csr"].items():
        setattr(hart.csr, name, list(value) if isinstance(value, list) else value)


def capture(machine: Machine) -> dict[str, Any]:
    pages, index = _ram_pages(machine.bus.ram)
    return {**capture_state(machine), "pages": pages, "page_index": index}


def check_state(machine: Machine, state: dict[str, Any]) -> None:
    """Refuse (SnapshotError) a state that is not of this machine or is damaged."""
    if state.get("kernel_sha256") != machine.kernel.sha256:
        raise SnapshotError("snapshot is of another kernel")
    disk_sha = machine.disk.base_sha256 if machine.disk else None
    if state.get("disk_sha256") != disk_sha:
        raise SnapshotError("snapshot is of another disk image")
    if state.get("ram_size") != machine.bus.ram_size:
        raise SnapshotError("snapshot has another RAM size")
    hart_count = 1 + len(state.get("more_harts", []))
    if hart_count != len(machine.harts):
        raise SnapshotError(f"snapshot is of {hart_count} harts, the machine has "
                            f"{len(machine.harts)}")
    for h in [state["hart"], *state.get("more_harts", [])]:
        unknown = set(h["csr"]) - set(_CSR_FIELDS)
        if unknown:
            raise SnapshotError(f"snapshot has unknown CSR fields {sorted(unknown)}")
        if len(h["x"]) != 32 or h["privilege"] not in (0, 1, 3):
            raise SnapshotError("snapshot CPU state is damaged")
    missing = set(state["devices"]) ^ set(machine.devices())
    if missing:
        raise SnapshotError(f"snapshot and machine differ in devices: {sorted(missing)}")


def apply_state(machine: Machine, state: dict[str, Any]) -> None:
    """Put a ``capture_state`` (already checked) into ``machine``; RAM is the
    caller's. Every engine drops what it decoded and translated."""
    states = [state["hart"], *state.get("more_harts", [])]
    for hart, h in zip(machine.harts, states):
        _apply_hart_state(hart, h)
    if "schedule" in state:
        machine.scheduler.restore(state["schedule"])
    for name, device_state in state["devices"].items():
        machine.devices()[name].restore(device_state)
    machine.console[:] = state["console"]
    machine.exit_status = state["exit_status"]
    for hart, h in zip(machine.harts, states):
        hart.set_privilege(h["privilege"])
        hart.memory_replaced()


def apply(machine: Machine, state: dict[str, Any]) -> None:
    """Put ``state`` into ``machine`` (built from the same kernel and disk).
    Everything that can be checked is checked before the machine is touched;
    should a device still refuse its state, discard the machine."""
    check_state(machine, state)
    pages, index = state["pages"], state["page_index"]
    if len(index) * PAGE != machine.bus.ram_size or any(len(p) != PAGE for p in pages) \
            or pages[0] != bytes(PAGE) or max(index) >= len(pages) or min(index) < 0:
        raise SnapshotError("snapshot RAM is damaged")
    ram = machine.bus.ram
    ram[:] = bytes(len(ram))
    for number, which in enumerate(index):
        if which:
            ram[number * PAGE:(number + 1) * PAGE] = pages[which]
    apply_state(machine, state)


def save(machine: Machine, path: str | os.PathLike[str]) -> None:
    data = zlib.compress(pickle.dumps(capture(machine), protocol=4), 1)
    path = Path(path)
    temporary = path.with_suffix(path.suffix + ".tmp")
    temporary.write_bytes(MAGIC + VERSION.to_bytes(4, "little") + data)
    os.replace(temporary, path)  # never leave a half-written snapshot behind


def load(machine: Machine, path: str | os.PathLike[str]) -> None:
    """Restore ``machine`` from ``path`` or raise SnapshotError (one line).
    A file that is not a snapshot of this machine is refused before anything
    changes; after a SnapshotError the caller discards the machine (its
    state is unknown only if a device refused its part of a damaged file)."""
    try:
        raw = Path(path).read_bytes()
    except OSError as error:
        raise SnapshotError(f"{path}: cannot read: {error.strerror}") from None
    if not raw.startswith(MAGIC):
        raise SnapshotError(f"{path}: not a cowtui snapshot")
    version = int.from_bytes(raw[len(MAGIC):len(MAGIC) + 4], "little")
    if version != VERSION:
        raise SnapshotError(f"{path}: snapshot format {version}, this cowtui reads {VERSION}")
    try:
        state = _PlainUnpickler(io.BytesIO(zlib.decompress(raw[len(MAGIC) + 4:]))).load()
    except SnapshotError as error:
        raise SnapshotError(f"{path}: {error}") from None
    except Exception as error:  # zlib.error, pickle errors, truncation: all mean damaged
        raise SnapshotError(f"{path}: damaged snapshot ({type(error).__name__})") from None
    if not isinstance(state, dict):
        raise SnapshotError(f"{path}: damaged snapshot")
    try:
        apply(machine, state)
    except SnapshotError as error:
        raise SnapshotError(f"{path}: {error}") from None
    except Exception as error:
        raise SnapshotError(f"{path}: damaged snapshot ({type(error).__name__})") from None


def cache_directory() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "cowtui" / "boot"


class BootCache:
    """One boot snapshot per kernel + disk + RAM size + snapshot format."""

    def __init__(self, directory: Path | None = None) -> None:
        self.directory = directory or cache_directory()

    def path_for(self, machine: Machine, label: str) -> Path:
        key = hashlib.sha256("|".join([
            machine.kernel.sha256, machine.disk.base_sha256 if machine.disk else "-",
            str(machine.bus.ram_size), str(VERSION), label,
            *([f"harts={len(machine.harts)}"] if len(machine.harts) > 1 else []),
            *([f"schedule={machine.config.quantum},{machine.config.schedule_seed}"]
              if len(machine.harts) > 1 and (machine.config.quantum, machine.config.schedule_seed)
              != (DEFAULT_QUANTUM, None) else [])]
            ).encode()).hexdigest()[:32]
        return self.directory / f"{key}.snap"

    def restore(self, machine: Machine, label: str) -> tuple[bool, str | None]:
        """(restored, notice): a notice explains an unusable cached snapshot."""
        path = self.path_for(machine, label)
        if not path.exists():
            return False, None
        try:
            load(machine, path)
        except SnapshotError as error:
            return False, f"ignored a boot snapshot: {error}; booting cold"
        return True, None

    def store(self, machine: Machine, label: str) -> Path | None:
        path = self.path_for(machine, label)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            save(machine, path)
        except OSError:
            return None  # a read-only cache only costs the next start its boot
        return path
