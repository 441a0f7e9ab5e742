"""One packet in, one answer out: the GDB remote protocol's commands.

``handle`` returns a ``Reply`` (a payload, and text for gdb's console sent
before it as ``O`` packets) or an action the connection carries out:
``Resume`` (continue or step; the stop reply comes when the target stops),
``Detach`` or ``Kill``. An unknown packet gets the empty reply, which gdb
reads as "not supported". Malformed arguments get ``E01``, never an exception.

Reverse execution: ``bs``/``bc`` are a ``Resume`` going backwards, offered
(``ReverseStep+;ReverseContinue+`` in qSupported) when the session keeps a
history (cowtui/timetravel.py); reaching its start answers ``replaylog:begin``.

Threads are harts: thread N + 1 is hart N (``qfThreadInfo`` lists them, a
stop reply names the hart that was running, ``Hg`` picks whose registers and
memory gdb reads, and a step of one thread, ``vCont;s:N``, runs that hart).
With one hart there is one thread, 1, as before.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import registers as R
from .monitor import Monitor
from .packets import hex_bytes, unescape
from .target import StopReason, Target

THREAD_ID = 1          # hart 0's thread id: hart N is thread N + 1
PACKET_SIZE = 0x4000
ERROR = "E01"


@dataclass(frozen=True)
class Reply:
    payload: str | bytes
    console: str = ""


@dataclass(frozen=True)
class Resume:
    step: bool
    reverse: bool = False


@dataclass(frozen=True)
class Detach:
    pass


@dataclass(frozen=True)
class Kill:
    pass


Answer = Reply | Resume | Detach | Kill


class BadArguments(ValueError):
    pass


def _hex_int(text: str) -> int:
    try:
        return int(text, 16)
    except ValueError:
        raise BadArguments(text) from None


def _le64(value: int) -> str:
    return (value & (1 << 64) - 1).to_bytes(8, "little").hex()


def _address_length(text: str) -> tuple[int, int]:
    address, _, length = text.partition(",")
    return _hex_int(address), _hex_int(length)


def stop_reply(stop: StopReason, hardware_breakpoint: bool = False, hart: int = 0) -> str:
    if stop.kind in ("exit", "reset"):
        return f"W{(stop.exit_status or 0) & 0xFF:02x}"
    reply = f"T{stop.signal:02x}thread:{hart + THREAD_ID:x};"
    if stop.kind == "breakpoint":
        reply += "hwbreak:;" if hardware_breakpoint else "swbreak:;"
    elif stop.kind == "watch" and stop.watch_address is not None:
        reply += f"{stop.watch_kind}:{stop.watch_address:x};"
    elif stop.kind == "history-begin":
        reply += "replaylog:begin;"
    return reply


class Dispatcher:
    def __init__(self, target: Target, monitor: Monitor) -> None:
        self.target = target
        self.monitor = monitor
        self.last_stop = StopReason(5, "step")
        self.no_ack_requested = False
        self.hardware_breakpoints: set[int] = set()
        self.last_hart = 0
        self.step_hart: int | None = None  # Hc: the hart a plain 's' steps

    def stop_reply(self, stop: StopReason) -> str:
        self.last_stop = stop
        self.target.view_hart(None)  # after a stop gdb looks at the thread that stopped
        self.last_hart = self.target.running_hart
        pc = self.target.read_register(R.PC)
        return stop_reply(stop, pc in self.hardware_breakpoints, self.last_hart)

    def handle(self, payload: bytes) -> Answer:
        text = payload.decode("latin-1")
        try:
            return self._handle(text, payload)
        except BadArguments:
            return Reply(ERROR)

    def _handle(self, text: str, payload: bytes) -> Answer:
        head = text[:1]
        if text == "?":
            return Reply(stop_reply(self.last_stop, hart=self.last_hart))
        if head == "q" or head == "Q":
            return self._query(text)
        if head == "g":
            return Reply("".join(_le64(v) for v in self.target.core_registers()))
        if head == "G":
            return self._write_core(text[1:])
        if head == "p":
            value = self.target.read_register(_hex_int(text[1:]))
            return Reply(ERROR if value is None else _le64(value))
        if head == "P":
            number, _, value = text[1:].partition("=")
            raw = bytes.fromhex(value) if _is_hex(value) else None
            if raw is None or len(raw) > 8:
                return Reply(ERROR)
            ok = self.target.write_register(_hex_int(number), int.from_bytes(raw, "little"))
            return Reply("OK" if ok else ERROR)
        if head == "m":
            address, length = _address_length(text[1:])
            data = self.target.read_memory(address, min(length, PACKET_SIZE // 2 - 16))
            return Reply(ERROR if data is None else hex_bytes(data))
        if head == "M":
            where, _, data = text[1:].partition(":")
            address, length = _address_length(where)
            if not _is_hex(data) or len(data) != 2 * length:
                return Reply(ERROR)
            return Reply("OK" if self.target.write_memory(address, bytes.fromhex(data))
                         else ERROR)
        if head == "X":
            where, _, _ = text[1:].partition(":")
            address, length = _address_length(where)
            data = unescape(payload[payload.index(b":") + 1:])
            if len(data) != length:
                return Reply(ERROR)
            return Reply("OK" if not data or self.target.write_memory(address, data) else ERROR)
        if head in ("Z", "z"):
            return self._point(head == "Z", text[1:])
        if head in ("c", "C"):
            return self._resume(step=False, argument=text[1:], with_signal=head == "C")
        if head in ("s", "S"):
            return self._resume(step=True, argument=text[1:], with_signal=head == "S")
        if text.startswith("vCont"):
            return self._vcont(text)
        if head == "H":
            return self._select(text[1:2], text[2:])
        if head == "T":
            return Reply("OK" if self._hart_of(text[1:]) is not False else ERROR)
        if text in ("bs", "bc") and self.target.can_reverse:
            return Resume(step=text == "bs", reverse=True)
        if head == "D":
            return Detach()
        if head == "k" or text.startswith("vKill"):
            return Kill()
        return Reply("")  # vMustReplyEmpty, bc/bs without a history, anything unknown

    # --- queries -------------------------------------------------------------------
    def _query(self, text: str) -> Answer:
        name = text.split(":", 1)[0].split(",", 1)[0]
        if name == "qSupported":
            reverse = ";ReverseStep+;ReverseContinue+" if self.target.can_reverse else ""
            return Reply(f"PacketSize={PACKET_SIZE:x};qXfer:features:read+;swbreak+;hwbreak+;"
                         "QStartNoAckMode+;vContSupported+" + reverse)
        if name == "QStartNoAckMode":
            self.no_ack_requested = True
            return Reply("OK")
        if text.startswith("qXfer:features:read:"):
            return self._features(text[len("qXfer:features:read:"):])
        if name == "qAttached":
            return Reply("1")
        if name == "qfThreadInfo":
            return Reply("m" + ",".join(f"{hart + THREAD_ID:x}"
                                        for hart in range(self.target.hart_count)))
        if name == "qsThreadInfo":
            return Reply("l")
        if name == "qC":
            return Reply(f"QC{self.target.running_hart + THREAD_ID:x}")
        if name == "qThreadExtraInfo":
            hart = self._hart_of(text.partition(",")[2])
            hart = self.target.running_hart if hart is None or hart is False else hart
            running = " (running)" if hart == self.target.running_hart and \
                self.target.hart_count > 1 else ""
            return Reply(hex_bytes(f"hart {hart}{running}".encode()))
        if name == "qSymbol":
            return Reply("OK")
        if name == "qRcmd":
            command = text.partition(",")[2]
            if not _is_hex(command):
                return Reply(ERROR)
            output = self.monitor.run(bytes.fromhex(command).decode("utf-8", "replace"))
            return Reply("OK", console=output)
        return Reply("")

    def _features(self, argument: str) -> Reply:
        annex, _, window = argument.partition(":")
        if annex != "target.xml":
            return Reply("E00")
        offset, length = _address_length(window)
        document = R.target_xml().encode()
        piece = document[offset:offset + length]
        return Reply((b"l" if offset + length >= len(document) else b"m") + piece)

    # --- registers, breakpoints, threads -----------------------------------------------
    def _write_core(self, data: str) -> Reply:
        if not _is_hex(data) or len(data) % 16:
            return Reply(ERROR)
        values = [int.from_bytes(bytes.fromhex(data[i:i + 16]), "little")
                  for i in range(0, len(data), 16)]
        for number, value in enumerate(values[:R.CORE_COUNT]):
            self.target.write_register(number, value)
        return Reply("OK")

    def _point(self, insert: bool, text: str) -> Reply:
        kind_text, _, rest = text.partition(",")
        address_text, _, size_text = rest.partition(",")
        kind, address = _hex_int(kind_text), _hex_int(address_text)
        size = _hex_int(size_text.split(";", 1)[0]) if size_text else 0
        target = self.target
        if kind in (0, 1):
            if kind == 1:
                (self.hardware_breakpoints.add if insert else
                 self.hardware_breakpoints.discard)(address)
            ok = target.insert_breakpoint(address) if insert else target.remove_breakpoint(address)
        elif kind in (2, 3, 4):
            ok = (target.insert_watchpoint(kind, address, size) if insert
                  else target.remove_watchpoint(kind, address, size))
        else:
            return Reply("")
        return Reply("OK" if ok else ERROR)

    def _hart_of(self, thread: str) -> int | None | bool:
        """The hart a thread id names; None for any (0, -1); False if none."""
        if thread.startswith("p"):  # multiprocess form pPID.TID: one process
            pid, _, thread = thread[1:].partition(".")
            if pid not in ("1", "-1"):
                return False
            thread = thread or "-1"
        if thread in ("0", "-1"):
            return None
        try:
            hart = int(thread, 16) - THREAD_ID
        except ValueError:
            return False
        return hart if 0 <= hart < self.target.hart_count else False

    def _select(self, operation: str, thread: str) -> Reply:
        """``Hg``: whose registers and memory; ``Hc``: which hart a step runs."""
        hart = self._hart_of(thread)
        if hart is False:
            return Reply(ERROR)
        if operation == "g":
            self.target.view_hart(hart)
        elif operation == "c":
            self.step_hart = hart
        return Reply("OK")

    def _step_on(self, hart: int | None) -> None:
        """The next step runs ``hart`` (None: whichever runs now)."""
        if hart is not None and hart != self.target.running_hart:
            self.target.run_hart_next(hart)
        self.target.view_hart(None)

    def _resume(self, step: bool, argument: str, with_signal: bool) -> Answer:
        if with_signal:  # 'C sig;addr': the signal means nothing to a bare machine
            argument = argument.partition(";")[2]
        if step:
            self._step_on(self.step_hart)
        else:
            self.target.view_hart(None)
        if argument:
            self.target.write_register(R.PC, _hex_int(argument))
        return Resume(step)

    def _vcont(self, text: str) -> Answer:
        if text == "vCont?":
            return Reply("vCont;c;C;s;S")
        for action in text[len("vCont;"):].split(";"):
            verb, _, thread = action.partition(":")
            hart = self._hart_of(thread) if thread else None
            if hart is False:
                continue
            if verb[:1] in ("c", "C"):
                self.target.view_hart(None)
                return Resume(step=False)
            if verb[:1] in ("s", "S"):
                self._step_on(hart)
                return Resume(step=True)
            if verb[:1] == "t":
                return Reply("OK")
        return Reply(ERROR)


def _is_hex(text: str) -> bool:
    return len(text) % 2 == 0 and all(c in "0123456789abcdefABCDEF" for c in text)
