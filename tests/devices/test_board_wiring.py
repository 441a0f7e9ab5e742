"""The devices wired as on the virt board, driven the way xv6 drives them."""

from machine.devices.plic import Plic
from machine.devices.uart16550 import UART_IRQ, Uart16550
from machine.devices.virtio_blk import VIRTIO_BLK_IRQ, VirtioBlk

from .fakes import Counter, FakeMemory
from .test_uart16550 import xv6_init as uart_init
from .test_virtio_blk import DATA, Driver, disk_image

S_CONTEXT = 1
S_ENABLE, S_THRESHOLD, S_CLAIM = 0x2080, 0x20_1000, 0x20_1004
ISR, LSR, RHR, THR = 2, 5, 0, 0


def board() -> tuple[Plic, Uart16550, VirtioBlk, FakeMemory, Counter]:
    changes = Counter()
    plic = Plic(on_change=changes)
    memory = FakeMemory()
    uart = Uart16550(plic.irq_line(UART_IRQ))
    disk = VirtioBlk(disk_image(), memory, plic.irq_line(VIRTIO_BLK_IRQ))
    plic.write(4 * UART_IRQ, 4, 1)
    plic.write(4 * VIRTIO_BLK_IRQ, 4, 1)
    plic.write(S_ENABLE, 4, (1 << UART_IRQ) | (1 << VIRTIO_BLK_IRQ))
    plic.write(S_THRESHOLD, 4, 0)
    return plic, uart, disk, memory, changes


def uartintr(uart: Uart16550, received: bytearray) -> bool:
    """xv6's uartintr: ack via ISR, note TX idle, drain RX."""
    uart.read(ISR, 1)
    tx_idle = bool(uart.read(LSR, 1) & 0x20)
    while uart.read(LSR, 1) & 0x01:
        received.append(uart.read(RHR, 1))
    return tx_idle


def test_interrupt_driven_write_of_a_line() -> None:
    plic, uart, _, _, _ = board()
    uart_init(uart)
    received = bytearray()
    # the first interrupt comes as soon as TX interrupts are enabled
    assert plic.context_pending(S_CONTEXT)
    assert plic.read(S_CLAIM, 4) == UART_IRQ
    uartintr(uart, received)
    plic.write(S_CLAIM, 4, UART_IRQ)
    assert not plic.context_pending(S_CONTEXT)
    for byte in b"$ ls\n":
        uart.write(THR, 1, byte)  # then write() sleeps until the TX interrupt
        assert plic.context_pending(S_CONTEXT)
        assert plic.read(S_CLAIM, 4) == UART_IRQ
        assert uartintr(uart, received) is True
        plic.write(S_CLAIM, 4, UART_IRQ)
        assert not plic.context_pending(S_CONTEXT)
    assert bytes(uart.output) == b"$ ls\n"
    assert received == b""


def test_typing_while_writing() -> None:
    plic, uart, _, _, _ = board()
    uart_init(uart)
    received = bytearray()
    assert plic.read(S_CLAIM, 4) == UART_IRQ
    uartintr(uart, received)
    plic.write(S_CLAIM, 4, UART_IRQ)
    uart.write(THR, 1, ord("a"))
    uart.feed(b"xy")
    assert plic.read(S_CLAIM, 4) == UART_IRQ
    uart.read(ISR, 1)  # reports RX data: THRE stays pending
    while uart.read(LSR, 1) & 0x01:
        received.append(uart.read(RHR, 1))
    plic.write(S_CLAIM, 4, UART_IRQ)  # the line is still high (THRE): pending again
    assert plic.context_pending(S_CONTEXT)
    assert plic.read(S_CLAIM, 4) == UART_IRQ
    assert uart.read(ISR, 1) == 0xC2
    plic.write(S_CLAIM, 4, UART_IRQ)
    assert not plic.context_pending(S_CONTEXT)
    assert received == b"xy"


def test_disk_interrupt_through_the_plic() -> None:
    plic, _, disk, memory, changes = board()
    driver = Driver(disk, memory)
    driver.handshake()
    driver.request(0, 2)
    assert plic.context_pending(S_CONTEXT)
    assert plic.read(S_CLAIM, 4) == VIRTIO_BLK_IRQ
    # virtio_disk_intr
    driver.w(0x064, driver.r(0x060) & 3)
    assert memory.get(DATA, 1024) == disk_image()[1024:2048]
    assert driver.used_idx() == 1
    plic.write(S_CLAIM, 4, VIRTIO_BLK_IRQ)
    assert not plic.context_pending(S_CONTEXT)
    assert changes.count == 2
