"""Reverse execution with the real gdb-multiarch: reverse-stepi and
reverse-continue against ``cowtui --headless --gdb``, through time travel.
Every state gone back to is compared with the one gdb saw going forward."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from .support import CowtuiGdb, needs_gdb, run_gdb

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
