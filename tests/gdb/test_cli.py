"""``--gdb`` on the command line: where it listens, and bad values as one-line errors."""

from __future__ import annotations

import os
import signal
import socket
import subprocess

import pytest

from cowtui.gdbstub.endpoint import lab_port, parse_endpoint
from tests.cli.support import COWTUI, REPO, one_line_error, run_cowtui

from .rawclient import RawClient, framed
from .support import CowtuiGdb


def test_endpoints() -> None:
    assert lab_port() == 25000 + os.getuid() % 5000     # the xv6 lab Makefile's GDBPORT
    assert parse_endpoint("") == ("127.0.0.1", lab_port())
    assert parse_endpoint("1234") == ("127.0.0.1", 1234)
    assert parse_endpoint(":1234") == ("127.0.0.1", 1234)
    assert parse_endpoint("0.0.0.0:26000") == ("0.0.0.0", 26000)
    for bad in ("abc", "host:", "1:99999"):
        with pytest.raises(ValueError, match="--gdb"):
            parse_endpoint(bad)


def test_a_bad_port_is_one_line_of_bad_input() -> None:
    line = one_line_error(run_cowtui("--headless", "--gdb", "localhost:port", "default"))
    assert line == "cowtui: --gdb localhost:port: the port must be a number ([HOST:]PORT)"


def test_a_port_in_use_is_one_line_of_bad_input() -> None:
    with socket.create_server(("127.0.0.1", 0)) as busy:
        port = busy.getsockname()[1]
        line = one_line_error(run_cowtui("--headless", "--gdb", f"127.0.0.1:{port}", "default"))
    assert line.startswith(f"cowtui: --gdb 127.0.0.1:{port}: cannot listen there: ")


def test_gdb_before_a_scenario_name_takes_no_port_from_it() -> None:
    """``cowtui --headless --gdb forkexec``: forkexec is the scenario, and the
    stub listens on the lab's port."""
    with socket.socket() as probe:
        if probe.connect_ex(("127.0.0.1", lab_port())) == 0:
            pytest.skip(f"something already listens on the lab's port {lab_port()}")
    process = subprocess.Popen([*COWTUI, "--headless", "--gdb", "forkexec"], cwd=REPO,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        said = ""
        while "waiting for a client" not in said:   # (after any engine notice)
            said = process.stderr.readline()
            if "cannot listen there" in said:           # taken since the probe above
                pytest.skip(said.strip())
            assert said, "cowtui ended without listening"
        assert f"waiting for a client on 127.0.0.1:{lab_port()} " in said, said
        client = RawClient(lab_port())
        client.send_raw(framed(b"D"))
        assert client.read_ack() == b"+" and client.read_packet() == b"OK"
        trace, _ = process.communicate(timeout=60)
    finally:
        process.kill()
    summary = trace.splitlines()[-1]
    assert "end=gdb-detached" in summary
    assert "forkexec: child exited with status 0" in summary   # forkexec's expectation


def test_ctrl_c_ends_a_headless_run_that_waits_for_gdb() -> None:
    cowtui = CowtuiGdb()
    try:
        cowtui.process.send_signal(signal.SIGINT)
        status, trace = cowtui.finish(timeout=60)
    finally:
        cowtui.kill()
    assert status == 130
    assert trace.splitlines()[-1].startswith("summary: instructions=0 ")
    assert "end=interrupted" in trace
