"""Starting the stub from the command line: ``cowtui [--headless] --gdb [HOST:]PORT``.

Headless, gdb drives the machine: nothing runs until a client attaches, and
the run ends when it detaches or kills (or cowtui gets SIGINT/SIGTERM); then
the headless summary is printed as usual. With the app, the stub serves for
as long as the app runs (see app_link.py).
"""

from __future__ import annotations

import sys
from collections.abc import Callable

from ..scenario import ScenarioError
from ..session import Session
from .endpoint import parse_endpoint
from .server import GdbServer


def looks_like_endpoint(text: str) -> bool:
    try:
        parse_endpoint(text)
    except ValueError:
        return False
    return True


def stderr_log(text: str) -> None:
    print(f"cowtui: {text}", file=sys.stderr, flush=True)


def open_server(session: Session, endpoint: str | None, end_on_detach: bool,
                log: Callable[[str], None] = stderr_log, **options) -> GdbServer:
    """A listening (not yet serving) stub; ScenarioError (one line) if it cannot listen."""
    try:
        host, port = parse_endpoint(endpoint)
    except ValueError as error:
        raise ScenarioError(str(error)) from None
    try:
        return GdbServer(session, host, port, log, end_on_detach=end_on_detach, **options)
    except OSError as error:
        raise ScenarioError(f"--gdb {host}:{port}: cannot listen there: "
                            f"{error.strerror or error}") from None


def headless_drive(server: GdbServer) -> Callable:
    """A replacement for ``Session.run_to_end``: gdb drives until it leaves."""
    def drive(progress, ended) -> str:
        server.start()
        try:
            while not server.ended.wait(0.1):
                early = ended() if ended is not None else None
                if early is not None:
                    return early
        finally:
            server.shutdown()
        return "stop" if server.session.finished else f"gdb-{server.end_reason}"
    return drive
