"""The remote protocol at the byte level, against a real ``cowtui --headless
--gdb``: what gdb relies on, and bad input that must never hang or crash it
(bad checksums, truncated and overlong packets, noise, malformed arguments,
a dropped connection, a second client, a client that never acks)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from cowtui.gdbstub.registers import CSRS
from machine.elf import ElfImage

from .rawclient import RawClient, framed
from .support import KERNEL, CowtuiGdb


@pytest.fixture(scope="module")
def cowtui():
    server = CowtuiGdb()
    yield server
    server.kill()


@pytest.fixture
def client(cowtui: CowtuiGdb):
    """A fresh client; dropped at the end (the stub then waits for the next)."""
    raw = RawClient(cowtui.port)
    cowtui.wait_for("attached")
    yield raw
    raw.close()
    cowtui.wait_for("client disconnected")


def test_qsupported_offers_what_gdb_needs(client: RawClient) -> None:
    features = client.ask("qSupported:multiprocess+;swbreak+;hwbreak+;xmlRegisters=i386")
    offered = dict(f.split("=", 1) if "=" in f else (f, "") for f in features.decode().split(";"))
    assert int(offered["PacketSize"], 16) >= 4096
    for name in ("qXfer:features:read+", "swbreak+", "hwbreak+", "vContSupported+"):
        assert name in offered


def test_target_description_read_in_pieces(client: RawClient) -> None:
    document = b""
    while True:
        piece = client.ask(f"qXfer:features:read:target.xml:{len(document):x},80")
        assert piece[:1] in (b"m", b"l")
        document += piece[1:]
        if piece[:1] == b"l":
            break
    root = ET.fromstring(document)
    assert root.findtext("architecture") == "riscv:rv64"
    features = {f.get("name"): [r.get("name") for r in f.findall("reg")]
                for f in root.findall("feature")}
    cpu = features["org.gnu.gdb.riscv.cpu"]
    assert len(cpu) == 33 and cpu[0] == "zero" and cpu[-1] == "pc"
    assert features["org.gnu.gdb.riscv.csr"] == list(CSRS)
    assert features["org.gnu.gdb.riscv.virtual"] == ["priv"]
    assert client.ask("qXfer:features:read:other.xml:0,80").startswith(b"E")


def test_registers_threads_and_stop_reason(client: RawClient) -> None:
    registers = client.ask("g")
    assert len(registers) == 33 * 16
    pc = int.from_bytes(bytes.fromhex(registers[-16:].decode()), "little")
    assert pc == int.from_bytes(bytes.fromhex(client.ask("p20").decode()), "little")
    assert client.ask("?").startswith(b"T05thread:1;")
    assert client.ask("qfThreadInfo") == b"m1" and client.ask("qsThreadInfo") == b"l"
    assert client.ask("qC") == b"QC1" and client.ask("Hg0") == b"OK"
    assert client.ask("Hg7") == b"E01"                      # no such hart
    assert client.ask("vCont?") == b"vCont;c;C;s;S"
    priv = client.ask(f"p{65 + 4096:x}")
    assert int.from_bytes(bytes.fromhex(priv.decode()), "little") in (0, 1, 3)


def test_memory_write_then_read_and_errors(client: RawClient) -> None:
    assert client.ask("M80100000,4:deadbeef") == b"OK"
    assert client.ask("m80100000,4") == b"deadbeef"
    assert client.ask("X80100004,2:" + "\x7d\x03\x7d\x04") == b"OK"   # escaped '#' and '$'
    assert client.ask("m80100004,2") == b"2324"
    assert client.ask("m10,4") == b"E01"                     # no RAM there
    assert client.ask("mzz,4") == b"E01"                     # malformed
    assert client.ask("M80100000,4:zz") == b"E01"
    assert client.ask("p9999") == b"E01"
    assert client.ask("Pzz=00") == b"E01"
    assert client.ask("Z5,80100000,8") == b""                # no such kind of point
    assert client.ask("Z3,10,8") == b"E01"                   # a watchpoint needs RAM
    assert client.ask("vMustReplyEmpty") == b""
    assert client.ask("bc") == b""                           # reverse execution: not yet


def test_monitor_output_arrives_as_console_packets(client: RawClient) -> None:
    def monitor(line: str) -> str:
        client.send_raw(framed(b"qRcmd," + line.encode().hex().encode()))
        assert client.read_ack() == b"+"
        text = ""
        while (reply := client.read_packet()) != b"OK":
            assert reply.startswith(b"O")
            text += bytes.fromhex(reply[1:].decode()).decode()
        return text
    assert "monitor commands" in monitor("help")
    assert "no violation" in monitor("check")
    assert "unknown command 'frobnicate'" in monitor("frobnicate")
    assert "usage: phys ADDR LEN" in monitor("phys 0x80000000")
    assert monitor("phys 0x80100000 4").split()[1:5] == ["de", "ad", "be", "ef"]


def test_bad_checksum_is_nacked_and_the_stub_carries_on(client: RawClient,
                                                       cowtui: CowtuiGdb) -> None:
    client.send_raw(b"$g#00")
    assert client.read_ack() == b"-"
    assert "bad checksum" in cowtui.wait_for("bad checksum")
    assert client.ask("?").startswith(b"T05")


def test_truncated_overlong_and_noise(client: RawClient, cowtui: CowtuiGdb) -> None:
    client.send_raw(b"noise\x00\xff$qSupp")          # noise, then a packet cut short
    client.send_raw(framed(b"?"))
    assert client.read_ack() == b"-"
    cowtui.wait_for("truncated packet")
    assert client.read_ack() == b"+"
    assert client.read_packet().startswith(b"T05")
    client.send_raw(b"$" + b"a" * 70_000)            # never ends: dropped at the limit
    assert client.read_ack() == b"-"
    cowtui.wait_for("longer than")
    client.send_raw(b"$?#zz")                        # a checksum that is not hex
    assert client.read_ack() == b"-"
    assert client.ask("?").startswith(b"T05")


def test_ctrl_c_stops_a_continue(client: RawClient, cowtui: CowtuiGdb) -> None:
    client.send_raw(framed(b"c"))
    assert client.read_ack() == b"+"
    cowtui.wait_for("gdb: running from pc")
    client.send_raw(b"\x03")
    assert client.read_packet().startswith(b"T02thread:1;")
    assert client.ask("g")                               # stopped, and answering


def test_dropped_connection_while_running(cowtui: CowtuiGdb) -> None:
    first = RawClient(cowtui.port)
    cowtui.wait_for("attached")
    first.send_raw(framed(b"c"))
    assert first.read_ack() == b"+"
    cowtui.wait_for("gdb: running from pc")
    first.close()                                        # gone without a word
    paused = cowtui.wait_for("client disconnected; machine paused at #")
    icount = int(paused.rsplit("#", 1)[1])
    second = RawClient(cowtui.port)                      # the next client is served
    cowtui.wait_for("attached")
    before = second.ask("g")
    assert second.ask("?").startswith(b"T")
    assert second.ask("g") == before                     # nothing ran in between
    second.close()
    cowtui.wait_for(f"client disconnected; machine paused at #{icount}")


def test_a_second_client_is_refused_and_the_first_unaffected(client: RawClient,
                                                            cowtui: CowtuiGdb) -> None:
    intruder = RawClient(cowtui.port)
    intruder.send_raw(framed(b"qSupported"))
    assert intruder.read_ack() == b"+"
    assert intruder.read_packet() == b"E.cowtui: another gdb is already attached to this machine"
    with pytest.raises(ConnectionError):
        intruder.read_packet()
    intruder.close()
    assert "refused a second client" in cowtui.wait_for("refused")
    assert client.ask("?").startswith(b"T05")


def test_a_client_that_never_acks_is_not_waited_for(client: RawClient,
                                                    cowtui: CowtuiGdb) -> None:
    client.send_raw(framed(b"?"))
    assert client.read_ack() == b"+"
    assert client.read_packet(ack=False).startswith(b"T05")   # and no '+' back
    cowtui.wait_for("sent no ack")
    client.send_raw(framed(b"qC"))                         # the stub still answers
    assert client.read_ack() == b"+"
    assert client.read_packet(ack=False) == b"QC1"


def test_kill_ends_a_headless_run_with_its_summary() -> None:
    cowtui = CowtuiGdb()
    try:
        client = RawClient(cowtui.port)
        client.send_raw(framed(b"vKill;1"))
        assert client.read_ack() == b"+"
        status, trace = cowtui.finish()
    finally:
        cowtui.kill()
    assert "end=gdb-killed" in trace.splitlines()[-1]
    assert status == 1                                     # the scenario never got to run


@pytest.mark.parametrize("kind, name", [(3, "rwatch"), (4, "awatch")])
def test_read_and_access_watchpoints_stop_after_the_access(kind: int, name: str) -> None:
    """In kerneltrap, the tick handler is about to read ``ticks``: the
    stop comes right after that load, named as gdb expects; removing the
    point lets it step on. (Read watchpoints step the machine, so the test
    sets one where the access is near.)"""
    kernel = ElfImage.open(KERNEL)
    ticks = kernel.symbol("ticks").address
    handler = kernel.symbol("kerneltrap").address   # timer ticks arrive here in S-mode
    cowtui = CowtuiGdb()
    try:
        client = RawClient(cowtui.port)
        assert client.ask(f"Z0,{handler:x},2") == b"OK"
        assert client.ask("c").startswith(b"T05thread:1;swbreak:;")
        assert client.ask(f"z0,{handler:x},2") == b"OK"
        assert client.ask(f"Z{kind},{ticks:x},8") == b"OK"
        assert client.ask("c") == f"T05thread:1;{name}:{ticks:x};".encode()
        stopped_at = client.ask("p20")
        assert client.ask(f"z{kind},{ticks:x},8") == b"OK"
        assert client.ask("s").startswith(b"T05thread:1;")       # a plain step now
        assert client.ask("p20") != stopped_at
        client.send_raw(framed(b"D"))
        assert client.read_ack() == b"+" and client.read_packet() == b"OK"
    finally:
        cowtui.kill()
