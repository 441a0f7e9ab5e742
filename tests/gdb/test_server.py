"""The server in-process: a bug answering one packet costs only that packet."""

from __future__ import annotations

import threading

from cowtui.gdbstub.monitor import Monitor
from cowtui.gdbstub.server import GdbServer
from cowtui.scenario import BUNDLED_DIR, load_scenario
from cowtui.session import Session

from .rawclient import RawClient


def test_an_exception_is_logged_answered_e01_and_the_client_served_on(monkeypatch) -> None:
    session = Session(load_scenario(BUNDLED_DIR / "default.yaml"))
    logged: list[str] = []
    attached = threading.Event()

    def log(line: str) -> None:
        logged.append(line)
        if line.endswith(" attached"):
            attached.set()

    def broken(self, args):
        raise RuntimeError("boom")   # a bug, or a kernel the stub misreads

    monkeypatch.setattr(Monitor, "frames", broken)
    server = GdbServer(session, "127.0.0.1", 0, log=log)
    server.start()
    try:
        client = RawClient(server.port)
        assert attached.wait(30)
        assert client.ask("qRcmd," + b"frames".hex()) == b"E01"
        assert any("internal error answering" in line and "RuntimeError: boom" in line
                   for line in logged), logged
        assert client.ask("?").startswith(b"T05")      # still attached, still served
        client.close()
    finally:
        server.shutdown()
