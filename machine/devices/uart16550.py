"""NS16550A UART at 0x1000_0000 (PLIC source 10 on the virt board).

Byte registers at offsets 0..7 (as QEMU's serial.c with regshift 0, the eight
registers repeat through the 0x100 window, and an access of any size reaches
only the register at its offset: writes take the low byte, reads return one
byte):

====== =============== ==================
offset read            write
====== =============== ==================
0      RHR (DLAB: DLL) THR (DLAB: DLL)
1      IER (DLAB: DLM) IER (DLAB: DLM)
2      IIR/ISR         FCR
3      LCR             LCR
4      MCR             MCR
5      LSR             (ignored)
6      MSR             (ignored)
7      SCR             SCR
====== =============== ==================

Transmit is instant: a THR write hands the byte to ``on_output`` (and appends
it to ``output``), and the transmitter is empty again at once, so LSR.THRE and
LSR.TEMT read as set and, as QEMU's serial.c does after a transmit, the
THR-empty interrupt becomes pending (``thr_ipending``). It is cleared by
reading IIR while THRE is the source IIR reports, or by the next THR write;
enabling IER.ETBEI (while THR is empty, i.e. always) makes it pending again,
disabling ETBEI clears it, and an FCR transmit-FIFO reset sets it. xv6's
``write()`` sleeps after every byte until this interrupt arrives.

Receive: ``feed(data)`` queues console input in a host-side backlog; bytes
move from the backlog into the receive FIFO (16 bytes with FCR.FE, 1 byte
without) whenever it has room, like QEMU's chardev flow control, so fed input
is never lost to overruns. (An FCR receive-FIFO reset discards what is in the
FIFO, as on the hardware, then refills it from the backlog.) In loopback
(MCR.LOOP) THR bytes go to the receive FIFO instead of the output, the backlog
is held back, and MSR mirrors MCR's outputs.

Interrupts, highest priority first (IIR id): receiver line status (0x6, an
overrun), received data available (0x4), character timeout (0xC),
THR empty (0x2), modem status (0x0; never raised: there are no modem lines).
With the FIFO enabled and fewer bytes waiting than the FCR trigger level, the
character timeout interrupt is reported at once instead of after four
character times: time plays no part, so runs stay deterministic. The IRQ line
is driven only when its level changes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from machine.devices.base import IrqLine

UART_BASE = 0x1000_0000
UART_SIZE = 0x100
UART_IRQ = 10

# IER
IER_RDI = 0x01  # received data available
IER_THRI = 0x02  # THR empty (ETBEI)
IER_RLSI = 0x04  # receiver line status
IER_MSI = 0x08  # modem status

# IIR
IIR_NO_INT = 0x01
IIR_MSI = 0x00
IIR_THRI = 0x02
IIR_RDI = 0x04
IIR_RLSI = 0x06
IIR_CTI = 0x0C
IIR_FIFO_ENABLED = 0xC0

# FCR
FCR_FE = 0x01
FCR_RFR = 0x02
FCR_XFR = 0x04
FCR_STORED = 0xC9  # FE, DMA mode and trigger level, as serial.c keeps
_TRIGGER_LEVELS = (1, 4, 8, 14)

# LCR / MCR
LCR_DLAB = 0x80
MCR_DTR = 0x01
MCR_RTS = 0x02
MCR_OUT1 = 0x04
MCR_OUT2 = 0x08
MCR_LOOP = 0x10

# LSR
LSR_DR = 0x01
LSR_OE = 0x02
LSR_PE = 0x04
LSR_FE = 0x08
LSR_BI = 0x10
LSR_THRE = 0x20
LSR_TEMT = 0x40
LSR_ERRORS = LSR_OE | LSR_PE | LSR_FE | LSR_BI

# MSR
MSR_CTS = 0x10
MSR_DSR = 0x20
MSR_RI = 0x40
MSR_DCD = 0x80

FIFO_DEPTH = 16


class Uart16550:
    """The console UART.

    Hooks: ``irq(level)`` (its PLIC line), ``on_output(byte)``.
    Input: ``feed(data)``. State: ``output`` (every byte transmitted),
    ``rx_waiting()`` (fed input the guest has not read yet).
    """

    name = "uart16550"

    def __init__(
        self,
        irq: IrqLine | None = None,
        base: int = UART_BASE,
        on_output: Callable[[int], None] | None = None,
    ) -> None:
        self.base = base
        self.size = UART_SIZE
        self.irq = irq
        self.on_output = on_output
        self.output = bytearray()
        self.backlog = bytearray()
        self.irq_level = False  # the level last driven on ``irq``
        self.reset()

    def reset(self) -> None:
        """Power-on register state (as serial.c's reset). Keeps ``output`` and
        the input backlog, and lowers the IRQ line if it was high."""
        self.ier = 0
        self.lcr = 0
        self.mcr = MCR_OUT2
        self.scr = 0
        self.fcr = 0
        self.dll = 0
        self.dlm = 0
        self.line_errors = 0  # LSR error bits (only OE can happen here)
        self.thr_ipending = False
        self.rx = bytearray()  # the receive FIFO (holding register without FE)
        self.rbr = 0  # last byte read from the receive holding register
        self._refill()
        self._update()

    # ------------------------------------------------------------ host side
    def feed(self, data: bytes) -> None:
        """Console input: queue bytes for the guest to receive."""
        if not data:
            return
        self.backlog += data
        self._refill()
        self._update()

    def rx_waiting(self) -> bool:
        """Whether fed input is waiting to be read by the guest."""
        return bool(self.rx or self.backlog)

    # ------------------------------------------------------------ derived
    @property
    def lsr(self) -> int:
        # transmit is instant: THR and the shift register are always empty
        return LSR_THRE | LSR_TEMT | self.line_errors | (LSR_DR if self.rx else 0)

    @property
    def msr(self) -> int:
        if self.mcr & MCR_LOOP:
            mcr = self.mcr
            return (
                (MSR_CTS if mcr & MCR_RTS else 0)
                | (MSR_DSR if mcr & MCR_DTR else 0)
                | (MSR_RI if mcr & MCR_OUT1 else 0)
                | (MSR_DCD if mcr & MCR_OUT2 else 0)
            )
        return MSR_DCD | MSR_DSR | MSR_CTS

    def _fifo_capacity(self) -> int:
        return FIFO_DEPTH if self.fcr & FCR_FE else 1

    def _interrupt_id(self) -> int:
        ier = self.ier
        if ier & IER_RLSI and self.line_errors:
            return IIR_RLSI
        if ier & IER_RDI and self.rx:
            if self.fcr & FCR_FE and len(self.rx) < _TRIGGER_LEVELS[self.fcr >> 6]:
                return IIR_CTI
            return IIR_RDI
        if ier & IER_THRI and self.thr_ipending:
            return IIR_THRI
        return IIR_NO_INT  # modem status deltas never happen

    @property
    def iir(self) -> int:
        return self._interrupt_id() | (IIR_FIFO_ENABLED if self.fcr & FCR_FE else 0)

    def _update(self) -> None:
        level = self._interrupt_id() != IIR_NO_INT
        if level != self.irq_level:
            self.irq_level = level
            if self.irq is not None:
                self.irq(level)

    def _refill(self) -> None:
        if self.mcr & MCR_LOOP or not self.backlog:
            return
        room = self._fifo_capacity() - len(self.rx)
        if room > 0:
            self.rx += self.backlog[:room]
            del self.backlog[:room]

    def _receive(self, byte: int) -> None:
        """One byte arriving on the serial input (loopback)."""
        if len(self.rx) < self._fifo_capacity():
            self.rx.append(byte)
        else:
            self.line_errors |= LSR_OE
            if not self.fcr & FCR_FE:
                self.rx[0] = byte  # the holding register is overwritten

    # ------------------------------------------------------------ access
    def read(self, offset: int, size: int) -> int:
        register = offset & 7
        if register == 0:
            if self.lcr & LCR_DLAB:
                return self.dll
            if self.rx:
                self.rbr = self.rx.pop(0)
                value = self.rbr
            else:
                value = 0 if self.fcr & FCR_FE else self.rbr
            self._refill()
            self._update()
            return value
        if register == 1:
            return self.dlm if self.lcr & LCR_DLAB else self.ier
        if register == 2:
            value = self.iir
            if value & 0x0F == IIR_THRI:
                self.thr_ipending = False
                self._update()
            return value
        if register == 3:
            return self.lcr
        if register == 4:
            return self.mcr
        if register == 5:
            value = self.lsr
            if self.line_errors & (LSR_BI | LSR_OE):
                self.line_errors &= ~(LSR_BI | LSR_OE)
                self._update()
            return value
        if register == 6:
            return self.msr
        return self.scr

    def write(self, offset: int, size: int, value: int) -> None:
        register = offset & 7
        value &= 0xFF
        if register == 0:
            if self.lcr & LCR_DLAB:
                self.dll = value
                return
            self._transmit(value)
        elif register == 1:
            if self.lcr & LCR_DLAB:
                self.dlm = value
                return
            changed = (self.ier ^ value) & 0x0F
            self.ier = value & 0x0F
            if changed & IER_THRI:
                # THR is always empty, so enabling ETBEI raises THRE at once
                self.thr_ipending = bool(self.ier & IER_THRI)
            if changed:
                self._update()
        elif register == 2:
            self._write_fcr(value)
        elif register == 3:
            self.lcr = value
        elif register == 4:
            self.mcr = value & 0x1F
            self._refill()
            self._update()
        elif register == 7:
            self.scr = value
        # LSR (5) and MSR (6) ignore writes

    def _transmit(self, byte: int) -> None:
        self.thr_ipending = False
        if self.mcr & MCR_LOOP:
            self._receive(byte)
        else:
            self.output.append(byte)
            if self.on_output is not None:
                self.on_output(byte)
        # the transmitter empties at once: THRE again, THR-empty interrupt pending
        self.thr_ipending = True
        self._update()

    def _write_fcr(self, value: int) -> None:
        if (value ^ self.fcr) & FCR_FE:
            value |= FCR_RFR | FCR_XFR  # toggling FE flushes both FIFOs
        if value & FCR_RFR:
            self.rx.clear()
            self.line_errors &= ~LSR_BI
        if value & FCR_XFR:
            self.thr_ipending = True
        self.fcr = value & FCR_STORED
        self._refill()
        self._update()

    # --------------------------------------------------------- snapshots
    def snapshot(self) -> dict[str, Any]:
        return {
            "ier": self.ier,
            "lcr": self.lcr,
            "mcr": self.mcr,
            "scr": self.scr,
            "fcr": self.fcr,
            "dll": self.dll,
            "dlm": self.dlm,
            "line_errors": self.line_errors,
            "thr_ipending": self.thr_ipending,
            "rx": bytes(self.rx),
            "rbr": self.rbr,
            "backlog": bytes(self.backlog),
            "output": bytes(self.output),
            "irq_level": self.irq_level,
        }

    def restore(self, state: dict[str, Any]) -> None:
        """Restore every register and buffer. The IRQ line is not driven (the
        PLIC restores its own record of the line's level)."""
        self.ier = int(state["ier"]) & 0x0F
        self.lcr = int(state["lcr"]) & 0xFF
        self.mcr = int(state["mcr"]) & 0x1F
        self.scr = int(state["scr"]) & 0xFF
        self.fcr = int(state["fcr"]) & FCR_STORED
        self.dll = int(state["dll"]) & 0xFF
        self.dlm = int(state["dlm"]) & 0xFF
        self.line_errors = int(state["line_errors"]) & LSR_ERRORS
        self.thr_ipending = bool(state["thr_ipending"])
        self.rx = bytearray(state["rx"])
        self.rbr = int(state["rbr"]) & 0xFF
        self.backlog = bytearray(state["backlog"])
        self.output = bytearray(state["output"])
        self.irq_level = bool(state["irq_level"])
