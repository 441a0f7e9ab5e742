"""gdb's threads are harts: real gdb-multiarch against ``cowtui --headless
--gdb`` on the teaching kernel built for 3 harts lists one thread per hart,
shows each hart's own registers, and steps the hart it is told to."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from .support import REPO, CowtuiGdb, write_commands

GDB = shutil.which("gdb-multiarch")
pytestmark = pytest.mark.skipif(GDB is None, reason="gdb-multiarch is not installed "
                                "(apt-get install gdb-multiarch)")
SMP_KERNEL = REPO / "machine" / "guest" / "prebuilt" / "kernel-smp.elf"

SESSION = """\
set pagination off
set confirm off
target remote 127.0.0.1:{port}
break main
continue
info threads
thread 2
echo HART1-BEFORE\\n
info registers pc
stepi
echo HART1-AFTER\\n
info registers pc
info threads
thread 1
echo HART0\\n
info registers pc
detach
"""


def _pc_after(output: str, marker: str) -> int:
    match = re.search(rf"{marker}\npc +(0x[0-9a-f]+)", output)
    assert match, output
    return int(match.group(1), 16)


@pytest.mark.parametrize("engine", ["native", "fast"])
def test_each_hart_is_a_thread(tmp_path: Path, engine: str) -> None:
    cowtui = CowtuiGdb("--engine", engine, scenario="smp-forktree")
    try:
        commands = write_commands(tmp_path, SESSION.format(port=cowtui.port))
        result = subprocess.run([GDB, "-batch", "-nx", "-x", str(commands), str(SMP_KERNEL)],
                                cwd=tmp_path, stdin=subprocess.DEVNULL, capture_output=True,
                                text=True, timeout=300, check=False)
    finally:
        cowtui.kill()
    output = result.stdout + result.stderr
    assert "Breakpoint 1, main () at kernel/main.c" in output, output
    threads = re.findall(r"^(\*?)\s+(\d) +Thread \d+ \(hart (\d)( \(running\))?\)", output,
                         re.MULTILINE)
    # info threads, twice: three threads, one per hart; the first time hart 0 runs
    assert threads[:3] == [("*", "1", "0", " (running)"), ("", "2", "1", ""), ("", "3", "2", "")]
    entry = _pc_after(output, "HART1-BEFORE")
    assert entry == 0x80000000  # hart 1 has not run yet: it waits at the kernel's entry
    assert _pc_after(output, "HART1-AFTER") == entry + 4 or \
        _pc_after(output, "HART1-AFTER") == entry + 2   # one instruction, on hart 1
    assert ("*", "2", "1", " (running)") in threads[3:]   # the step ran hart 1
    assert _pc_after(output, "HART0") != entry   # hart 0 is still in main
    assert "[Inferior 1 (Remote target) detached]" in output


def _pc(registers: bytes) -> int:
    return int.from_bytes(bytes.fromhex(registers.decode()[32 * 16:33 * 16]), "little")


def test_the_protocol_lists_selects_and_steps_harts() -> None:
    """At the byte level: qfThreadInfo lists three threads, Hg picks whose
    registers g reads, vCont;s:N steps hart N - 1 and the stop names it."""
    from .rawclient import RawClient

    cowtui = CowtuiGdb("--engine", "fast", scenario="smp-forktree")
    try:
        client = RawClient(cowtui.port)
        assert client.ask("qfThreadInfo") == b"m1,2,3"
        assert client.ask("qsThreadInfo") == b"l"
        assert client.ask("qC") == b"QC1"
        assert bytes.fromhex(client.ask("qThreadExtraInfo,3").decode()) == b"hart 2"
        assert client.ask("T3") == b"OK" and client.ask("T4") == b"E01"
        assert client.ask("Hg4") == b"E01"
        assert client.ask("Hg3") == b"OK"
        a0 = bytes.fromhex(client.ask("g").decode()[10 * 16:11 * 16])
        assert int.from_bytes(a0, "little") == 2   # hart 2's a0: its hart id at reset
        assert _pc(client.ask("g")) == 0x80000000
        stop = client.ask("vCont;s:3;c")
        assert stop.startswith(b"T05thread:3;"), stop
        assert client.ask("qC") == b"QC3"
        assert _pc(client.ask("g")) != 0x80000000   # hart 2 ran one instruction
        assert client.ask("Hg1") == b"OK"
        assert _pc(client.ask("g")) == 0x80000000   # hart 0 did not (it has not run yet)
        client.close()
    finally:
        cowtui.kill()
