"""The socket side: one gdb client at a time, each in a thread of its own.

A listener thread accepts connections. While a client is attached, another
is answered with an error naming the reason and closed; the first goes on
undisturbed. A client that drops its connection leaves the machine paused
and the stub waiting for the next. Bad input (a bad checksum, a truncated or
overlong packet, noise) is logged and nacked; a client that stops
acknowledging is not waited for beyond ACK_TIMEOUT. Nothing a client sends
raises out of here: an unexpected error is logged and that client dropped.
"""

from __future__ import annotations

import collections
import select
import socket
import threading
import time
from collections.abc import Callable

from machine.checkpoints import DEFAULT_EVERY

from ..history import PteHistory
from ..session import Session
from ..timetravel import TimeTravel
from .dispatcher import Detach, Dispatcher, Kill, Reply, Resume
from .monitor import Monitor
from .packets import (
    Ack,
    BadPacket,
    Interrupt,
    Item,
    Packet,
    PacketReader,
    console_payload,
    frame,
)
from .target import StopReason, Target

ACK_TIMEOUT = 2.0       # seconds to wait for a '+' before going on without it
RESENDS = 3             # a '-' makes us send again, this many times at most
PARTIAL_TIMEOUT = 5.0   # a packet begun and not finished this long is dropped
POLL = 0.25             # how often a waiting thread looks at shutdown


class ClientGone(Exception):
    pass


class Channel:
    """A client's socket as items in and packets out, with the ack rules."""

    def __init__(self, conn: socket.socket, log: Callable[[str], None]) -> None:
        self.conn = conn
        self.log = log
        self.reader = PacketReader()
        self.pending: collections.deque[Item] = collections.deque()
        self.acks = True          # both ways, until QStartNoAckMode
        self.await_acks = True    # off for a client that does not send its '+'
        self.closed = False
        self._partial_since: float | None = None

    def _receive(self, timeout: float) -> bool:
        """Read what arrived within ``timeout`` into ``pending``; False if nothing."""
        if self.closed:
            raise ClientGone()
        ready, _, _ = select.select([self.conn], [], [], timeout)
        if not ready:
            if self.reader.in_packet and self._partial_since is not None \
                    and time.monotonic() - self._partial_since > PARTIAL_TIMEOUT:
                dropped = self.reader.drop_partial()
                if dropped is not None:
                    self.pending.append(dropped)
                    return True
            return False
        try:
            data = self.conn.recv(65536)
        except OSError:
            data = b""
        if not data:
            self.closed = True
            raise ClientGone()
        self.pending.extend(self.reader.feed(data))
        self._partial_since = time.monotonic() if self.reader.in_packet else None
        return True

    def next_item(self, timeout: float) -> Item | None:
        if not self.pending:
            self._receive(timeout)
        return self.pending.popleft() if self.pending else None

    def interrupted(self) -> bool:
        """While the machine runs: did Ctrl-C (or a hang-up) arrive?"""
        try:
            self._receive(0)
        except ClientGone:
            return True
        for item in list(self.pending):
            if isinstance(item, Interrupt):
                self.pending.remove(item)
                return True
        return False

    def write(self, data: bytes) -> None:
        try:
            self.conn.sendall(data)
        except OSError:
            self.closed = True
            raise ClientGone() from None

    def send(self, payload: str | bytes) -> None:
        packet = frame(payload)
        for _ in range(1 + RESENDS):
            self.write(packet)
            if not (self.acks and self.await_acks) or self._wait_ack():
                return
        self.log(f"gdb: no '+' after {RESENDS} resends; going on")

    def _wait_ack(self) -> bool:
        """True on '+' (or when none comes in time); False on '-' (send again).
        Other items stay pending, in order."""
        deadline = time.monotonic() + ACK_TIMEOUT
        while True:
            for index, item in enumerate(self.pending):
                if isinstance(item, Ack):
                    del self.pending[index]
                    return item.positive
            left = deadline - time.monotonic()
            if left <= 0:
                self.log(f"gdb: the client sent no ack within {ACK_TIMEOUT:g} s; "
                         "not waiting for its acks any more")
                self.await_acks = False
                return True
            self._receive(left)

    def close(self) -> None:
        self.closed = True
        try:
            self.conn.close()
        except OSError:
            pass


class GdbServer:
    """Serves ``session`` on (host, port). ``on_state(text)`` hears 'waiting on
    :PORT', 'attached' and 'detached' as they happen (the app's status bar)."""

    def __init__(self, session: Session, host: str, port: int,
                 log: Callable[[str], None], on_state: Callable[[str], None] = lambda s: None,
                 end_on_detach: bool = False) -> None:
        self.session = session
        self.log = log
        self.on_state = on_state
        # The app's hooks (see app_link.py): after each gdb step or stop, and
        # between the slices of a gdb continue.
        self.on_stop: Callable[[StopReason], None] = lambda stop: None
        self.between_slices: Callable[[], None] = lambda: None
        self.end_on_detach = end_on_detach
        self.target = Target(session)
        # Made when the first client comes (its PTE history starts then), unless
        # the app gives its own (app_link.py: the inspector's history).
        self.monitor: Monitor | None = None
        self.listener = socket.create_server((host, port), reuse_port=False)
        self.host, self.port = self.listener.getsockname()[:2]
        self.listener.settimeout(POLL)
        self.attached = False
        self.running = False                  # a gdb continue is under way
        self.ended = threading.Event()        # a client detached or killed (end_on_detach)
        self.end_reason: str | None = None
        self._shutdown = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._accept_loop, name="gdb-listener",
                                        daemon=True)

    @property
    def state(self) -> str:
        if not self.attached:
            return f"gdb waiting on :{self.port}"
        return "gdb attached: running (Ctrl-C in gdb)" if self.running else "gdb attached"

    def start(self) -> None:
        self.log(f"gdb: waiting for a client on {self.host}:{self.port} "
                 f"(gdb-multiarch -ex 'target remote :{self.port}')")
        self.on_state(self.state)
        self._thread.start()

    def shutdown(self) -> None:
        self._shutdown.set()
        self.session.machine.pause()
        try:
            self.listener.close()
        except OSError:
            pass

    # --- connections ------------------------------------------------------------
    def _accept_loop(self) -> None:
        while not self._shutdown.is_set():
            try:
                conn, peer = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return  # the listener was closed
            with self._lock:
                busy = self.attached
                self.attached = self.attached or not busy
            if busy:
                threading.Thread(target=self._refuse, args=(conn, peer), daemon=True).start()
                continue
            threading.Thread(target=self._client, args=(conn, peer), name="gdb-client",
                             daemon=True).start()

    def _refuse(self, conn: socket.socket, peer) -> None:
        self.log(f"gdb: refused a second client from {peer[0]}:{peer[1]}: one is attached")
        channel = Channel(conn, lambda text: None)
        channel.acks = False
        try:
            conn.settimeout(ACK_TIMEOUT)
            deadline = time.monotonic() + ACK_TIMEOUT
            while time.monotonic() < deadline:
                item = channel.next_item(0.2)
                if isinstance(item, Packet):
                    channel.write(b"+")
                    channel.send("E.cowtui: another gdb is already attached to this machine")
                    break
        except (ClientGone, OSError):
            pass
        finally:
            channel.close()

    def _client(self, conn: socket.socket, peer) -> None:
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.log(f"gdb: client {peer[0]}:{peer[1]} attached")
        self.on_state(self.state)
        channel = Channel(conn, self.log)
        if self.monitor is None:
            self.monitor = Monitor(self.session, PteHistory(self.session.machine.events),
                                   self.target.current_pid)
        if self.session.timetravel is None:  # reverse-stepi/continue back to here
            with self.session.lock:
                TimeTravel(self.session, self.monitor.history,
                           every=self.session.checkpoint_every or DEFAULT_EVERY)
        dispatcher = Dispatcher(self.target, self.monitor)
        how = "disconnected"
        try:
            how = self._converse(channel, dispatcher)
        except ClientGone:
            how = "disconnected"
        except Exception as error:  # noqa: BLE001 - a bug of ours must not take cowtui down
            self.log(f"gdb: internal error, client dropped: {type(error).__name__}: {error}")
            how = "dropped"
        finally:
            channel.close()
            self.target.close()
            with self._lock:
                self.attached = False
        self.log(f"gdb: client {how}; machine paused at #{self.session.machine.icount}")
        if how in ("detached", "killed") and self.end_on_detach:
            self.end_reason = how
            self.ended.set()
            return
        if not self._shutdown.is_set():
            self.log(f"gdb: waiting for a client on {self.host}:{self.port}")
        self.on_state(self.state)

    def _converse(self, channel: Channel, dispatcher: Dispatcher) -> str:
        while not self._shutdown.is_set():
            item = channel.next_item(POLL)
            if item is None or isinstance(item, Ack):
                continue
            if isinstance(item, Interrupt):
                continue  # Ctrl-C while stopped: nothing runs to stop
            if isinstance(item, BadPacket):
                self.log(f"gdb: {item.reason}; asked the client to send it again")
                if channel.acks:
                    channel.write(b"-")
                continue
            if channel.acks:
                channel.write(b"+")
            try:
                answer = dispatcher.handle(item.payload)
            except Exception as error:  # noqa: BLE001 - a bug of ours: say so, answer E01, go on
                self.log(f"gdb: internal error answering {item.payload[:40]!r}: "
                         f"{type(error).__name__}: {error}")
                answer = Reply("E01")
            if isinstance(answer, Reply):
                if answer.console:
                    channel.send(console_payload(answer.console))
                channel.send(answer.payload)
                if dispatcher.no_ack_requested:
                    dispatcher.no_ack_requested = False
                    channel.acks = False
            elif isinstance(answer, Resume):
                if not self._resume(channel, dispatcher, answer):
                    return "disconnected"
            elif isinstance(answer, Detach):
                channel.send("OK")
                return "detached"
            elif isinstance(answer, Kill):
                return "killed"
        return "shut down"

    def _resume(self, channel: Channel, dispatcher: Dispatcher, resume: Resume) -> bool:
        """Run or step, then send the stop reply; False if the client went away."""
        target = self.target

        def interrupted() -> bool:
            return self._shutdown.is_set() or channel.interrupted()
        if resume.reverse and resume.step:
            stop = target.reverse_step()
        elif resume.reverse:
            self.log(f"gdb: running back from pc {self.session.machine.pc:#x}; Ctrl-C in gdb "
                     "stops it")
            stop = target.reverse_continue(interrupted)
        elif resume.step:
            stop = target.step()
        else:
            def notify(text: str) -> None:
                channel.send(console_payload(text))
            start_pc = self.session.machine.pc

            def running() -> None:  # once per continue that outlasts a slice
                self.log(f"gdb: running from pc {start_pc:#x}; Ctrl-C in gdb stops it")
                self.running = True
                self.on_state(self.state)
            stop = target.resume(interrupted, notify, running, self.between_slices)
            if self.running:
                self.running = False
                self.on_state(self.state)
        self.on_stop(stop)
        if channel.closed:
            return False
        if stop.kind == "interrupt":
            self.log(f"gdb: interrupted at pc {self.session.machine.pc:#x} "
                     f"(#{self.session.machine.icount})")
        if stop.message:
            channel.send(console_payload(stop.message))
        channel.send(dispatcher.stop_reply(stop))
        return True
