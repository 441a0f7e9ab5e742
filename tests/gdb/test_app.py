"""The stub inside the app: the status bar tells gdb's state, a gdb stepi
moves the CPU pane, and the app's step key moves the machine gdb reads."""

from __future__ import annotations

import asyncio
import re
import sys

from cowtui.app import CowtuiApp
from cowtui.gdbstub.server import GdbServer
from cowtui.scenario import BUNDLED_DIR, load_scenario
from cowtui.session import Session
from cowtui.widgets.cpu import CpuView
from cowtui.widgets.status_bar import StatusBar
from tests.app.conftest import APP_TEST_ENGINE, SIZE
from tests.app.test_terminal import Terminal

from .rawclient import RawClient, framed


def text(widget) -> str:
    return "\n".join("".join(run[0] for run in line) for line in widget.lines)


def gdb_pc(client: RawClient) -> int:
    return int.from_bytes(bytes.fromhex(client.ask("p20").decode()), "little")


async def until(pilot, condition, what: str, rounds: int = 400) -> None:
    """Let the app work until ``condition()`` holds (a bounded number of rounds)."""
    for _ in range(rounds):
        if condition():
            return
        await pilot.pause(0.01)
    raise AssertionError(f"never: {what}")


async def test_gdb_and_the_app_drive_the_same_machine() -> None:
    scenario = load_scenario(BUNDLED_DIR / "default.yaml")
    scenario.engine = APP_TEST_ENGINE
    session = Session(scenario)
    server = GdbServer(session, "127.0.0.1", 0, log=lambda line: None)
    app = CowtuiApp(session, stable=True, gdb=server)
    async with app.run_test(size=SIZE) as pilot:
        status, cpu = app.query_one(StatusBar), app.query_one(CpuView)
        await until(pilot, lambda: f"gdb waiting on :{server.port}" in text(status),
                    "the status bar names the port")
        client = await asyncio.to_thread(RawClient, server.port)
        try:
            await until(pilot, lambda: "gdb attached" in text(status), "gdb attached shown")
            start = await asyncio.to_thread(gdb_pc, client)
            assert f"pc {start:#x}" in text(cpu)
            # gdb steps: the CPU pane follows
            assert (await asyncio.to_thread(client.ask, "s")).startswith(b"T05")
            stepped = await asyncio.to_thread(gdb_pc, client)
            assert stepped != start
            await until(pilot, lambda: f"pc {stepped:#x}" in text(cpu), "the CPU pane moved")
            # the app steps: gdb reads the machine there
            await pilot.press("s")
            await until(pilot, lambda: session.machine.pc != stepped, "the app stepped")
            assert await asyncio.to_thread(gdb_pc, client) == session.machine.pc
            assert f"pc {session.machine.pc:#x}" in text(cpu)
            # gdb continues: the status says so and the panes stay live
            await asyncio.to_thread(client.send_raw, framed(b"c"))
            assert await asyncio.to_thread(client.read_ack) == b"+"
            await until(pilot, lambda: "gdb attached: running" in text(status), "running shown")
            shown = text(status)
            await until(pilot, lambda: text(status) != shown and "running" in text(status),
                        "the instruction count moving on screen")
            await asyncio.to_thread(client.send_raw, b"\x03")
            assert (await asyncio.to_thread(client.read_packet)).startswith(b"T02")
            await until(pilot, lambda: "gdb attached" in text(status)
                        and "running" not in text(status), "stopped shown")
            # the stop's refresh reaches the status bar after the stop itself
            await until(pilot, lambda: f"#{session.machine.icount:,}" in text(status),
                        "the stopped instruction count shown")
        finally:
            client.close()
        await until(pilot, lambda: f"gdb waiting on :{server.port}" in text(status),
                    "waiting again after the client left")


def test_the_real_command_with_gdb_in_a_terminal() -> None:
    """``cowtui --gdb 127.0.0.1:0``: the status bar names the port the OS gave,
    gdb attaches, steps, and the app quits cleanly with a client attached."""
    term = Terminal([sys.executable, "-m", "cowtui", "--engine", APP_TEST_ENGINE, "--cold",
                     "--gdb", "127.0.0.1:0", "default"])
    try:
        assert term.read_until(b"gdb waiting on :"), term.output[-2000:]
        assert term.read_until(b"PAUSED")
        port = int(re.search(rb"gdb waiting on :(\d+)", term.output).group(1))
        client = RawClient(port)
        assert term.read_until(b"gdb attached"), term.output[-2000:]
        assert client.ask("s").startswith(b"T05thread:1;")
        term.send(b"q")
        assert term.process.wait(timeout=30) == 0
        client.close()
    finally:
        term.close()
