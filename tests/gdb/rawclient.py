"""A gdb client made of a bare socket, for the protocol's corner cases."""

from __future__ import annotations

import socket

from cowtui.gdbstub.packets import checksum


def framed(payload: bytes) -> bytes:
    return b"$" + payload + b"#" + b"%02x" % checksum(payload)


class RawClient:
    def __init__(self, port: int, timeout: float = 60) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # as gdb does
        self.buffer = b""

    def send_raw(self, data: bytes) -> None:
        self.sock.sendall(data)

    def _byte(self) -> int:
        if not self.buffer:
            data = self.sock.recv(65536)
            if not data:
                raise ConnectionError("the stub closed the connection")
            self.buffer = data
        byte, self.buffer = self.buffer[0], self.buffer[1:]
        return byte

    def read_ack(self) -> bytes:
        """The next '+' or '-' (packets before it are not expected)."""
        byte = self._byte()
        assert byte in b"+-", bytes([byte])
        return bytes([byte])

    def read_packet(self, ack: bool = True) -> bytes:
        """The next packet's payload (its checksum checked); acked unless told not to."""
        while self._byte() != ord("$"):
            pass
        body = bytearray()
        while (byte := self._byte()) != ord("#"):
            body.append(byte)
        digits = bytes([self._byte(), self._byte()])
        assert int(digits, 16) == checksum(body), (body, digits)
        if ack:
            self.send_raw(b"+")
        return bytes(body)

    def ask(self, payload: bytes | str) -> bytes:
        """Send a packet, expect its '+', return the reply's payload."""
        if isinstance(payload, str):
            payload = payload.encode()
        self.send_raw(framed(payload))
        assert self.read_ack() == b"+"
        return self.read_packet()

    def close(self) -> None:
        self.sock.close()
