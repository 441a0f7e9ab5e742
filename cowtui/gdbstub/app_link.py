"""The stub inside the app: ``cowtui --gdb [HOST:]PORT`` with the UI.

The server runs in its own threads; this link is all the app knows of it.
It says in the status bar whether gdb is attached or waited for, shows the
stub's news as notifications, and keeps every pane live while gdb drives
the machine: a view state between the slices of a gdb continue (at most ten
a second) and one at every stop, handed to the app as its own runs do.
Machine access is serialised by the session's lock, which the app's runs
hold too, so a gdb step and an app key move the same machine in turn.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from textual.css.query import NoMatches

from ..runner import Stop
from .monitor import Monitor
from .server import GdbServer
from .target import StopReason

if TYPE_CHECKING:
    from ..app import CowtuiApp

QUIET = ("gdb: running from pc", "gdb: the client sent no ack")  # log lines not worth a toast
REFRESH_SECONDS = 0.1


class GdbAppLink:
    def __init__(self, app: CowtuiApp, server: GdbServer) -> None:
        self.app = app
        self.server = server
        self.status = server.state
        self._last_refresh = 0.0
        # The server's threads never wait for the UI: what they report goes
        # through this queue to a thread that hands it to the app.
        self._queue: queue.Queue[Callable[[], None] | None] = queue.Queue()
        self._refresh_queued = threading.Event()
        self._stop: StopReason | None = None
        self._thread = threading.Thread(target=self._deliver, name="gdb-to-app", daemon=True)
        server.log = self._log
        server.on_state = self._state
        server.on_stop = self._stopped
        server.between_slices = self._between_slices
        # `monitor pte` shows the same PTE history as the app's inspector
        server.monitor = Monitor(app.session, app.history, server.target.current_pid)

    def start(self) -> None:
        self._thread.start()
        self.server.start()

    def stop(self) -> None:
        self.server.shutdown()
        self._queue.put(None)

    def _deliver(self) -> None:
        while (callback := self._queue.get()) is not None:
            try:
                self.app.call_from_thread(callback)
            except RuntimeError:
                return  # the app has closed
            except NoMatches:
                continue  # the app is closing: the widget this news was for is gone

    # --- from the server's threads ------------------------------------------------
    def _log(self, text: str) -> None:
        if not text.startswith(QUIET):
            self._queue.put(lambda: self.app.notify(text.removeprefix("gdb: "), title="gdb"))

    def _state(self, text: str) -> None:
        self.status = text
        self._queue.put(self.app.show_status)

    def _stopped(self, stop: StopReason) -> None:
        self._stop = stop
        self._queue_refresh()

    def _between_slices(self) -> None:
        now = time.monotonic()
        if now - self._last_refresh >= REFRESH_SECONDS:
            self._last_refresh = now
            self._queue_refresh()

    def _queue_refresh(self) -> None:
        if not self._refresh_queued.is_set():  # one at a time: never queue up
            self._refresh_queued.set()
            self._queue.put(self._refresh)

    # --- on the UI thread -----------------------------------------------------------
    def _refresh(self) -> None:
        self._refresh_queued.clear()
        stop, self._stop = self._stop, None
        machine = self.app.session.machine
        with self.app.session.lock:
            view_state = self.app.builder.build(running=stop is None)
            where = machine.symbol_at(machine.pc) or f"{machine.pc:#x}"
        if stop is None:
            self.app.apply(view_state)
        else:
            self.app.stopped(Stop("gdb", f"gdb: {stop.kind} at {where}"), view_state)
