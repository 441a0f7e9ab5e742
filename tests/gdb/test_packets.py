"""Framing: escapes undo, checksums, and a reader that survives any cut."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from cowtui.gdbstub.packets import (
    Ack,
    BadPacket,
    Interrupt,
    Packet,
    PacketReader,
    checksum,
    escape,
    frame,
    unescape,
)


@given(st.binary(max_size=300))
def test_escape_round_trips_and_hides_the_special_bytes(data: bytes) -> None:
    escaped = escape(data)
    assert unescape(escaped) == data
    assert not set(escaped) & set(b"$#*")


@given(st.binary(max_size=200), st.integers(min_value=1, max_value=50))
def test_a_packet_fed_in_any_pieces_comes_out_whole(data: bytes, piece: int) -> None:
    wire = b"+" + frame(data) + b"\x03-"
    reader = PacketReader()
    items = []
    for i in range(0, len(wire), piece):
        items += reader.feed(wire[i:i + piece])
    assert items == [Ack(True), Packet(escape(data)), Interrupt(), Ack(False)]
    assert unescape(items[1].payload) == data


def test_frame_and_checksum() -> None:
    assert frame("OK") == b"$OK#9a"
    assert checksum(b"OK") == 0x9A
    assert frame(b"a}b") == b"$a}]b#" + b"%02x" % checksum(b"a}]b")


def test_bad_input_is_reported_not_raised() -> None:
    reader = PacketReader()
    assert reader.feed(b"$g#00") == [BadPacket("bad checksum 00 (computed 67)")]
    assert reader.feed(b"$?#zz") == [BadPacket("packet with a malformed checksum b'zz'")]
    items = reader.feed(b"$abc$?#3f")
    assert items == [BadPacket("truncated packet (3 bytes) dropped"), Packet(b"?")]
    assert reader.feed(b"junk") == []                   # noise between packets
    reader.feed(b"$half")
    assert reader.in_packet
    assert reader.drop_partial() == BadPacket("truncated packet (4 bytes, no end) dropped")
    assert not reader.in_packet and reader.drop_partial() is None
