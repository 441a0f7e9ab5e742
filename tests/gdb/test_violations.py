"""A COW invariant violation stops gdb's continue with the violation's line,
and ``monitor check`` finds it again by walking every page table afresh."""

from __future__ import annotations

from .rawclient import RawClient, framed
from .support import CowtuiGdb


def monitor(client: RawClient, line: str) -> str:
    client.send_raw(framed(b"qRcmd," + line.encode().hex().encode()))
    assert client.read_ack() == b"+"
    text = ""
    while (reply := client.read_packet()) != b"OK":
        text += bytes.fromhex(reply[1:].decode()).decode()
    return text


def test_a_violation_stops_the_continue_and_check_reports_it() -> None:
    cowtui = CowtuiGdb(scenario="bug-double-free")
    try:
        client = RawClient(cowtui.port)
        client.send_raw(framed(b"c"))
        assert client.read_ack() == b"+"
        console = client.read_packet()
        assert console.startswith(b"O")
        line = bytes.fromhex(console[1:].decode()).decode()
        assert line.startswith("VIOLATION #"), line
        assert client.read_packet().startswith(b"T05thread:1;")
        assert "[maps-free-frame] frame 0x" in line, line
        # the state that breaks the rule; the stop's line adds who made it so
        # (the blamed store), which a fresh walk cannot know
        message = line.split("] ", 1)[1].rstrip("\n").split("; ", 1)[0]
        found = monitor(client, "check")
        assert "1 violation(s)" in found and f"[maps-free-frame] {message}" in found, found
        client.send_raw(framed(b"D"))
        assert client.read_ack() == b"+" and client.read_packet() == b"OK"
        status, trace = cowtui.finish()
    finally:
        cowtui.kill()
    assert line.rstrip("\n") in trace            # the headless trace has it too
    assert status == 1
