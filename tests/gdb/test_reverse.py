"""Reverse execution with the real gdb-multiarch: reverse-stepi and
reverse-continue against ``cowtui --headless --gdb``, through time travel.
Every state gone back to is compared with the one gdb saw going forward."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from .support import CowtuiGdb, GdbBatch, needs_gdb, run_gdb

pytestmark = needs_gdb

SESSION = """\
set pagination off
set confirm off
target remote 127.0.0.1:{port}
break cowfault
continue
echo <HIT1>\\n
info registers
echo </HIT1>\\n
continue
echo <HIT2>\\n
info registers
echo </HIT2>\\n
stepi
echo <STEP1>\\n
info registers
echo </STEP1>\\n
stepi
reverse-stepi
echo <BACK1>\\n
info registers
echo </BACK1>\\n
reverse-continue
echo <BACK2>\\n
info registers
echo </BACK2>\\n
reverse-continue
echo <BACK3>\\n
info registers
echo </BACK3>\\n
reverse-continue
echo <BEGIN>\\n
info registers pc
echo </BEGIN>\\n
kill
"""


def _block(output: str, name: str) -> str:
    match = re.search(rf"<{name}>\n(.*?)</{name}>", output, re.DOTALL)
    assert match, f"no {name} block in:\n{output}"
    return match.group(1)


@pytest.fixture(params=["native", "fast"])
def cowtui(request):
    server = CowtuiGdb("--engine", request.param)
    yield server
    server.kill()


def test_reverse_stepi_and_reverse_continue(tmp_path: Path, cowtui: CowtuiGdb) -> None:
    output = run_gdb(tmp_path, SESSION.format(port=cowtui.port))
    cowtui.finish()

    hit1, hit2 = _block(output, "HIT1"), _block(output, "HIT2")
    assert hit1 != hit2                            # two different faults
    assert _block(output, "BACK1") == _block(output, "STEP1"), output   # reverse-stepi
    assert _block(output, "BACK2") == hit2, output  # reverse-continue: the latest hit first
    assert _block(output, "BACK3") == hit1, output  # then the one before
    assert output.count("Breakpoint 1, cowfault (") >= 4, output
    assert "No more reverse-execution history." in output, output
    assert re.search(r"pc +0x80000000\b", _block(output, "BEGIN")), output   # the reset vector


WATCH_BACK = """\
set pagination off
set confirm off
target remote 127.0.0.1:{port}
break cowfault
continue
next
next
delete
eval "watch *(long *)%#lx", pte
continue
echo <FWD>\\n
info registers pc
echo </FWD>\\n
reverse-continue
echo <REV>\\n
info registers pc
x/i $pc
echo </REV>\\n
kill
"""


def _pc(block: str) -> int:
    match = re.search(r"pc +(0x[0-9a-f]+)", block)
    assert match, block
    return int(match.group(1), 16)


def test_reverse_continue_stops_before_the_store_a_watchpoint_saw(tmp_path: Path) -> None:
    """cowfault's store into the PTE (COW cleared, W set) triggers the
    watchpoint going forward; reverse-continue comes back to just before that
    store (gdb steps back over it from where the stub stops), and gdb sees
    the value go back."""
    server = CowtuiGdb()
    try:
        output = run_gdb(tmp_path, WATCH_BACK.format(port=server.port))
        server.finish()
    finally:
        server.kill()
    changes = re.findall(r"Hardware watchpoint 2: \*\(long \*\)0x[0-9a-f]+\s+Old value = (\d+)\s+"
                         r"New value = (\d+)", output)
    assert len(changes) == 2, output
    (old, new), (back_old, back_new) = changes
    assert old != new and (back_old, back_new) == (new, old), output   # undone, going back
    forward, back = _pc(_block(output, "FWD")), _pc(_block(output, "REV"))
    assert 0 < forward - back <= 8, output       # gdb had stepped on past the store
    assert re.search(r"=> 0x[0-9a-f]+ <cowfault\+\d+>:\s+sd\s", _block(output, "REV")), \
        output                                   # the store itself, not yet executed
    assert "Traceback" not in "\n".join(server.stderr)


SEARCH_BACK = """\
set pagination off
set confirm off
target remote 127.0.0.1:{port}
break cowfault
continue
delete
rwatch *(long *)0x80000000
reverse-continue
echo <AFTER>\\n
info registers pc
echo </AFTER>\\n
stepi
echo <STEPPED>\\n
info registers pc
echo </STEPPED>\\n
kill
"""


def test_ctrl_c_stops_a_reverse_continue(tmp_path: Path) -> None:
    """A read watchpoint nothing reads: the search back steps every
    instruction of the history, and Ctrl-C in gdb stops it."""
    server = CowtuiGdb()
    gdb = GdbBatch(tmp_path, SEARCH_BACK.format(port=server.port))
    try:
        server.wait_for("gdb: running back from pc")
        gdb.interrupt()
        output = gdb.finish(timeout=120)
        server.finish()
    finally:
        gdb.kill()
        server.kill()
    assert "Program received signal SIGINT" in output or "Program stopped" in output, output
    assert re.search(r"stopped searching back for a breakpoint, watchpoint or violation: none "
                     r"between #[\d,]+ and #[\d,]+", output), output
    assert _pc(_block(output, "STEPPED")) != _pc(_block(output, "AFTER")), output  # goes on
    assert "Traceback" not in "\n".join(server.stderr)


VIOLATION_BACK = """\
set pagination off
set confirm off
target remote 127.0.0.1:{port}
continue
echo <V1>\\n
info registers pc
echo </V1>\\n
continue
reverse-continue
echo <V2>\\n
info registers pc
echo </V2>\\n
kill
"""


def test_reverse_continue_comes_back_to_a_violation(tmp_path: Path) -> None:
    """bug-double-free: continue stops at a violation, and again at the next
    one; reverse-continue stops at the first again, with its line again."""
    server = CowtuiGdb(scenario="bug-double-free")
    try:
        output = run_gdb(tmp_path, VIOLATION_BACK.format(port=server.port))
        server.finish()
    finally:
        server.kill()
    assert output.count("[maps-free-frame] frame 0x") == 2, output
    assert output.count("[shared-frame-writable] frame 0x") == 1, output   # the next one
    assert _pc(_block(output, "V2")) == _pc(_block(output, "V1")), output
    assert "Traceback" not in "\n".join(server.stderr)
