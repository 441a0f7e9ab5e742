"""Where the stub listens: ``--gdb [HOST:]PORT``, loopback by default."""

from __future__ import annotations

import os

DEFAULT_HOST = "127.0.0.1"


def lab_port() -> int:
    """The xv6 lab Makefile's GDBPORT: 25000 + uid % 5000 (its .gdbinit connects there)."""
    return 25000 + os.getuid() % 5000


def parse_endpoint(text: str | None) -> tuple[str, int]:
    """``''``/None -> the lab's port on loopback; ``PORT``, ``:PORT``, ``HOST:PORT``.
    ValueError (one line) on anything else."""
    if not text:
        return DEFAULT_HOST, lab_port()
    host, _, port_text = text.rpartition(":")
    try:
        port = int(port_text)
    except ValueError:
        raise ValueError(f"--gdb {text}: the port must be a number ([HOST:]PORT)") from None
    if not 0 <= port <= 65535:
        raise ValueError(f"--gdb {text}: port {port} is not 0 to 65535")
    return host or DEFAULT_HOST, port
