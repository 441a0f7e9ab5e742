"""GDB remote protocol framing: ``$payload#cs``, acks, escapes and hex.

Replies are sent without run-length encoding; binary data is escaped with
``}`` (the byte XOR 0x20) wherever ``$ # } *`` would appear. The reader is a
byte-at-a-time state machine, so a stream cut anywhere, a bad checksum or
garbage between packets never confuses it: each yields an item saying what
came, and the connection decides (nack, log, carry on).
"""

from __future__ import annotations

from dataclasses import dataclass

INTERRUPT_BYTE = 0x03
ESCAPED = b"$#}*"
MAX_PAYLOAD = 64 * 1024  # a packet longer than this without its '#' is garbage


def checksum(data: bytes) -> int:
    return sum(data) & 0xFF


def escape(data: bytes) -> bytes:
    out = bytearray()
    for byte in data:
        if byte in ESCAPED:
            out += bytes((0x7D, byte ^ 0x20))
        else:
            out.append(byte)
    return bytes(out)


def unescape(data: bytes) -> bytes:
    out = bytearray()
    it = iter(data)
    for byte in it:
        if byte == 0x7D:
            following = next(it, None)
            if following is None:
                break  # a lone escape at the end: nothing to undo
            out.append(following ^ 0x20)
        else:
            out.append(byte)
    return bytes(out)


def frame(payload: bytes | str) -> bytes:
    """A whole packet, ready for the wire."""
    if isinstance(payload, str):
        payload = payload.encode("latin-1")
    body = escape(payload)
    return b"$" + body + b"#" + b"%02x" % checksum(body)


def hex_bytes(data: bytes) -> str:
    return data.hex()


def hex_text(text: str) -> str:
    return text.encode("utf-8", errors="replace").hex()


def console_payload(text: str) -> str:
    """An ``O`` packet's payload: text gdb prints on its console."""
    return "O" + hex_text(text)


# --- what the reader yields --------------------------------------------------
@dataclass(frozen=True)
class Packet:
    payload: bytes


@dataclass(frozen=True)
class Ack:
    positive: bool


@dataclass(frozen=True)
class Interrupt:
    pass


@dataclass(frozen=True)
class BadPacket:
    reason: str  # one line, for the log


Item = Packet | Ack | Interrupt | BadPacket


class PacketReader:
    """Feed it bytes as they arrive; ``feed`` returns the items completed."""

    def __init__(self) -> None:
        self._state = "idle"   # 'idle', 'body', 'checksum'
        self._body = bytearray()
        self._sum = bytearray()

    @property
    def in_packet(self) -> bool:
        return self._state != "idle"

    def drop_partial(self) -> BadPacket | None:
        """Forget a packet that stopped arriving (a client that went quiet)."""
        if self._state == "idle":
            return None
        length = len(self._body)
        self._reset()
        return BadPacket(f"truncated packet ({length} bytes, no end) dropped")

    def _reset(self) -> None:
        self._state = "idle"
        self._body.clear()
        self._sum.clear()

    def feed(self, data: bytes) -> list[Item]:
        items: list[Item] = []
        for byte in data:
            item = self._byte(byte)
            if item is not None:
                items.append(item)
        return items

    def _byte(self, byte: int) -> Item | None:
        if self._state == "idle":
            if byte == ord("$"):
                self._state = "body"
            elif byte == ord("+"):
                return Ack(True)
            elif byte == ord("-"):
                return Ack(False)
            elif byte == INTERRUPT_BYTE:
                return Interrupt()
            return None  # noise between packets is ignored, as gdb does
        if self._state == "body":
            if byte == ord("#"):
                self._state = "checksum"
            elif byte == ord("$"):  # a new packet began: the old one was cut short
                length = len(self._body)
                self._body.clear()
                return BadPacket(f"truncated packet ({length} bytes) dropped")
            elif len(self._body) >= MAX_PAYLOAD:
                self._reset()
                return BadPacket(f"packet longer than {MAX_PAYLOAD} bytes dropped")
            else:
                self._body.append(byte)
            return None
        self._sum.append(byte)
        if len(self._sum) < 2:
            return None
        body, digits = bytes(self._body), bytes(self._sum)
        self._reset()
        try:
            expected = int(digits, 16)
        except ValueError:
            return BadPacket(f"packet with a malformed checksum {digits!r}")
        if expected != checksum(body):
            return BadPacket(f"bad checksum {digits.decode('latin-1')} "
                             f"(computed {checksum(body):02x})")
        return Packet(body)
