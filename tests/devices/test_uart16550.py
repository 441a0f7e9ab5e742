from machine.devices.uart16550 import UART_BASE, UART_SIZE, Uart16550

from .fakes import IrqRecorder

RHR = THR = DLL = 0
IER = DLM = 1
IIR = FCR = 2
LCR = 3
MCR = 4
LSR = 5
MSR = 6
SCR = 7


def make() -> tuple[Uart16550, IrqRecorder, list[int]]:
    irq = IrqRecorder()
    out: list[int] = []
    return Uart16550(irq, on_output=out.append), irq, out


def xv6_init(uart: Uart16550) -> None:
    """xv6's uartinit, register by register."""
    uart.write(IER, 1, 0x00)
    uart.write(LCR, 1, 0x80)  # DLAB
    uart.write(DLL, 1, 0x03)
    uart.write(DLM, 1, 0x00)
    uart.write(LCR, 1, 0x03)  # 8 bits, no parity, DLAB off
    uart.write(FCR, 1, 0x07)  # enable and clear the FIFOs
    uart.write(IER, 1, 0x03)  # RX and TX interrupts


def test_window_and_reset_values() -> None:
    uart, irq, _ = make()
    assert (uart.base, uart.size) == (0x1000_0000, 0x100)
    assert (UART_BASE, UART_SIZE) == (0x1000_0000, 0x100)
    assert uart.read(LSR, 1) == 0x60
    assert uart.read(IIR, 1) == 0x01
    assert uart.read(IER, 1) == 0
    assert uart.read(LCR, 1) == 0
    assert uart.read(MCR, 1) == 0x08
    assert uart.read(MSR, 1) == 0xB0
    assert uart.read(SCR, 1) == 0
    assert irq.calls == []


def test_dlab_selects_divisor_latch() -> None:
    uart, _, out = make()
    uart.write(IER, 1, 0x05)
    uart.write(LCR, 1, 0x83)
    uart.write(DLL, 1, 0x0C)
    uart.write(DLM, 1, 0x01)
    assert uart.read(DLL, 1) == 0x0C
    assert uart.read(DLM, 1) == 0x01
    assert out == []  # the DLL write did not transmit
    uart.write(LCR, 1, 0x03)
    assert uart.read(IER, 1) == 0x05
    assert uart.read(LCR, 1) == 0x03
    uart.write(LCR, 1, 0x80)
    assert (uart.read(DLL, 1), uart.read(DLM, 1)) == (0x0C, 0x01)


def test_xv6_init_raises_thre_and_iir_read_clears_it() -> None:
    uart, irq, _ = make()
    xv6_init(uart)
    assert irq.calls == [True]
    assert uart.read(IIR, 1) == 0xC2  # FIFOs enabled, THR empty
    assert irq.calls == [True, False]
    assert uart.read(IIR, 1) == 0xC1  # nothing more
    assert uart.read(LSR, 1) == 0x60


def test_thr_write_transmits_and_raises_thre() -> None:
    uart, irq, out = make()
    xv6_init(uart)
    uart.read(IIR, 1)
    uart.write(THR, 1, ord("h"))
    assert out == [ord("h")]
    assert bytes(uart.output) == b"h"
    assert uart.read(LSR, 1) & 0x60 == 0x60  # THRE and TEMT
    assert irq.level is True
    assert uart.read(IIR, 1) == 0xC2
    assert irq.level is False
    uart.write(THR, 1, ord("i"))
    uart.write(THR, 1, ord("!"))
    assert bytes(uart.output) == b"hi!"
    assert irq.calls == [True, False, True, False, True]  # "!" found it high
    uart.read(IIR, 1)
    assert irq.calls == [True, False, True, False, True, False]


def test_thre_interrupt_needs_etbei() -> None:
    uart, irq, out = make()
    uart.write(FCR, 1, 0x07)
    uart.write(IER, 1, 0x01)  # RX only, as kernel printf polls LSR
    uart.write(THR, 1, 0x41)
    assert out == [0x41]
    assert irq.calls == []
    assert uart.read(IIR, 1) == 0xC1
    uart.write(IER, 1, 0x03)  # enabling ETBEI while THR is empty raises it
    assert irq.level is True
    assert uart.read(IIR, 1) == 0xC2
    uart.write(THR, 1, 0x42)
    assert irq.level is True
    uart.write(IER, 1, 0x01)  # disabling ETBEI drops it
    assert irq.level is False
    uart.write(IER, 1, 0x03)
    assert irq.level is True


def test_multi_byte_access_reaches_one_register() -> None:
    uart, _, out = make()
    uart.write(THR, 4, 0x1234_5678)
    assert out == [0x78]
    uart.write(SCR, 8, 0xAB_CD)
    assert uart.read(SCR, 4) == 0xCD


def test_receive_interrupt_from_feed() -> None:
    uart, irq, _ = make()
    xv6_init(uart)
    uart.read(IIR, 1)
    assert not uart.rx_waiting()
    uart.feed(b"ls\n")
    assert uart.rx_waiting()
    assert irq.level is True
    assert uart.read(IIR, 1) == 0xC4  # received data available
    assert uart.read(LSR, 1) == 0x61
    got = []
    while uart.read(LSR, 1) & 0x01:
        got.append(uart.read(RHR, 1))
    assert bytes(got) == b"ls\n"
    assert uart.read(LSR, 1) == 0x60
    assert not uart.rx_waiting()
    assert irq.level is False
    assert uart.read(IIR, 1) == 0xC1


def test_rx_has_priority_over_thre_and_iir_read_keeps_thre() -> None:
    uart, irq, _ = make()
    xv6_init(uart)  # THRE pending
    uart.feed(b"x")
    assert uart.read(IIR, 1) == 0xC4
    assert uart.read(IIR, 1) == 0xC4  # reading IIR does not clear RX data
    assert uart.read(RHR, 1) == ord("x")
    assert irq.level is True  # THRE still pending
    assert uart.read(IIR, 1) == 0xC2
    assert irq.level is False


def test_long_input_is_not_lost() -> None:
    uart, _, _ = make()
    xv6_init(uart)
    text = bytes(range(32, 32 + 40))
    uart.feed(text[:30])
    uart.feed(text[30:])
    assert len(uart.rx) == 16  # the FIFO holds 16, the rest waits
    got = bytearray()
    while uart.read(LSR, 1) & 0x01:
        got.append(uart.read(RHR, 1))
    assert bytes(got) == text
    assert uart.read(LSR, 1) & 0x02 == 0  # no overrun


def test_without_fifo_one_byte_at_a_time() -> None:
    uart, irq, _ = make()
    uart.write(IER, 1, 0x01)
    uart.feed(b"ab")
    assert len(uart.rx) == 1
    assert uart.read(IIR, 1) == 0x04  # no FIFO bits
    assert uart.read(RHR, 1) == ord("a")
    assert uart.read(RHR, 1) == ord("b")
    assert irq.level is False
    assert uart.read(RHR, 1) == ord("b")  # the holding register keeps its byte


def test_trigger_level_and_character_timeout() -> None:
    uart, irq, _ = make()
    uart.write(FCR, 1, 0x47)  # FIFO, trigger level 4
    uart.write(IER, 1, 0x01)
    uart.feed(b"ab")
    assert irq.level is True
    assert uart.read(IIR, 1) == 0xCC  # below the trigger level: timeout at once
    uart.feed(b"cd")
    assert uart.read(IIR, 1) == 0xC4


def test_fifo_reset_discards_received_bytes() -> None:
    uart, irq, _ = make()
    uart.write(FCR, 1, 0x01)
    uart.write(IER, 1, 0x01)
    uart.feed(b"abc")
    uart.write(FCR, 1, 0x03)  # clear the receive FIFO
    assert uart.read(LSR, 1) == 0x60
    assert irq.level is False
    assert not uart.rx_waiting()


def test_loopback_and_overrun() -> None:
    uart, irq, out = make()
    uart.write(MCR, 1, 0x1F)  # loopback with every output set
    assert uart.read(MSR, 1) == 0xF0
    uart.write(IER, 1, 0x05)  # RX data and line status interrupts
    uart.write(THR, 1, 0x55)
    assert out == []
    assert uart.read(LSR, 1) == 0x61
    uart.write(THR, 1, 0x66)  # no FIFO: overrun, the holding register is replaced
    assert uart.read(IIR, 1) == 0x06  # line status first
    assert uart.read(LSR, 1) == 0x63  # OE, cleared by this read
    assert uart.read(LSR, 1) == 0x61
    assert uart.read(IIR, 1) == 0x04
    assert uart.read(RHR, 1) == 0x66
    assert irq.level is False
    uart.write(MCR, 1, 0x00)
    assert uart.read(MSR, 1) == 0xB0


def test_loopback_holds_back_console_input() -> None:
    uart, _, _ = make()
    uart.write(MCR, 1, 0x10)
    uart.feed(b"q")
    assert uart.read(LSR, 1) & 0x01 == 0
    assert uart.rx_waiting()
    uart.write(MCR, 1, 0x08)
    assert uart.read(RHR, 1) == ord("q")


def test_scratch_and_aliasing() -> None:
    uart, _, _ = make()
    uart.write(SCR, 1, 0x5A)
    assert uart.read(SCR, 1) == 0x5A
    assert uart.read(0x0F, 1) == 0x5A  # registers repeat through the window
    uart.write(LSR, 1, 0)
    uart.write(MSR, 1, 0)
    assert uart.read(LSR, 1) == 0x60
    assert uart.read(MSR, 1) == 0xB0


def test_snapshot_restore() -> None:
    uart, _, _ = make()
    xv6_init(uart)
    uart.write(THR, 1, ord("$"))
    uart.feed(b"echo hi\n" * 3)
    state = uart.snapshot()
    other_irq = IrqRecorder()
    other = Uart16550(other_irq)
    other.restore(state)
    assert other_irq.calls == []
    assert other.irq_level is True
    assert bytes(other.output) == b"$"
    got = bytearray()
    while other.read(LSR, 1) & 0x01:
        got.append(other.read(RHR, 1))
    assert bytes(got) == b"echo hi\n" * 3
    assert other.read(IIR, 1) == 0xC2
    assert other_irq.calls == [False]
    assert other.snapshot()["fcr"] == 0x01
