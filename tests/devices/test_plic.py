import pytest

from machine.devices.plic import PLIC_BASE, PLIC_SIZE, Plic

from .fakes import Counter

# xv6's addresses, relative to the PLIC base, for hart 0
PRIORITY = 0x0
PENDING = 0x1000
M_ENABLE = 0x2000
S_ENABLE = 0x2080
M_THRESHOLD = 0x20_0000
M_CLAIM = 0x20_0004
S_THRESHOLD = 0x20_1000
S_CLAIM = 0x20_1004
M, S = 0, 1
UART, VIRTIO = 10, 1


def make(harts: int = 1) -> tuple[Plic, Counter]:
    changes = Counter()
    return Plic(num_harts=harts, on_change=changes), changes


def xv6_init(plic: Plic) -> None:
    """What xv6's plicinit and plicinithart write."""
    plic.write(PRIORITY + 4 * UART, 4, 1)
    plic.write(PRIORITY + 4 * VIRTIO, 4, 1)
    plic.write(S_ENABLE, 4, (1 << UART) | (1 << VIRTIO))
    plic.write(S_THRESHOLD, 4, 0)


def test_window_and_contexts() -> None:
    plic, _ = make(harts=2)
    assert (plic.base, plic.size) == (0x0C00_0000, 0x0400_0000)
    assert (PLIC_BASE, PLIC_SIZE) == (0x0C00_0000, 0x0400_0000)
    assert plic.num_contexts == 4


def test_priority_and_threshold_are_3_bit_warl() -> None:
    plic, _ = make()
    plic.write(PRIORITY + 4 * 5, 4, 0xFF)
    plic.write(S_THRESHOLD, 4, 0x1D)
    assert plic.read(PRIORITY + 4 * 5, 4) == 7
    assert plic.read(S_THRESHOLD, 4) == 5
    assert plic.read(PRIORITY + 4 * 95, 4) == 0
    plic.write(PRIORITY + 4 * 96, 4, 3)  # no source 96
    assert plic.read(PRIORITY + 4 * 96, 4) == 0


def test_pending_bits_follow_the_line_and_are_read_only() -> None:
    plic, _ = make()
    uart = plic.irq_line(UART)
    line_40 = plic.irq_line(40)
    uart(True)
    line_40(True)
    assert plic.read(PENDING, 4) == 1 << UART
    assert plic.read(PENDING + 4, 4) == 1 << 8
    assert plic.read(PENDING, 8) == (1 << UART) | (1 << 40)
    plic.write(PENDING, 4, 0)
    assert plic.read(PENDING, 4) == 1 << UART
    uart(False)  # not claimed yet: the pending bit follows the line down
    assert plic.read(PENDING, 4) == 0


def test_enable_registers_per_context() -> None:
    plic, _ = make()
    plic.write(S_ENABLE, 4, 0xFFFF_FFFF)
    plic.write(S_ENABLE + 4, 4, 0x8000_0001)
    plic.write(S_ENABLE + 8, 4, 0xFFFF_FFFF)
    assert plic.read(S_ENABLE, 4) == 0xFFFF_FFFE  # no source 0
    assert plic.read(S_ENABLE + 4, 4) == 0x8000_0001
    assert plic.read(S_ENABLE + 8, 4) == 0xFFFF_FFFF  # sources 64..95
    assert plic.read(S_ENABLE + 12, 4) == 0  # no sources beyond 95
    assert plic.read(S_ENABLE, 8) == 0x8000_0001_FFFF_FFFE
    assert plic.read(M_ENABLE, 4) == 0


def test_xv6_uart_interrupt_claim_complete() -> None:
    plic, changes = make()
    xv6_init(plic)
    uart = plic.irq_line(UART)
    assert not plic.context_pending(S)
    uart(True)
    assert plic.context_pending(S) is True
    assert plic.context_pending(M) is False  # not enabled for M mode
    assert changes.count == 1
    assert plic.read(S_CLAIM, 4) == UART
    assert plic.read(PENDING, 4) == 0
    assert plic.context_pending(S) is False
    assert changes.count == 2
    assert plic.read(S_CLAIM, 4) == 0  # nothing left to claim
    uart(False)  # the driver serviced the device
    plic.write(S_CLAIM, 4, UART)
    assert plic.read(PENDING, 4) == 0
    assert not plic.context_pending(S)


def test_gateway_repends_on_complete_while_line_high() -> None:
    plic, _ = make()
    xv6_init(plic)
    uart = plic.irq_line(UART)
    uart(True)
    assert plic.read(S_CLAIM, 4) == UART
    uart(False)
    uart(True)  # in flight: the gateway ignores the line
    assert plic.read(PENDING, 4) == 0
    assert not plic.context_pending(S)
    plic.write(S_CLAIM, 4, UART)  # complete: the line is high, so pending again
    assert plic.read(PENDING, 4) == 1 << UART
    assert plic.context_pending(S)
    assert plic.read(S_CLAIM, 4) == UART


def test_claim_takes_highest_priority_then_lowest_id() -> None:
    plic, _ = make()
    for source, priority in ((3, 2), (7, 5), (9, 5), (20, 1)):
        plic.write(PRIORITY + 4 * source, 4, priority)
        plic.irq_line(source)(True)
    plic.write(S_ENABLE, 4, (1 << 3) | (1 << 7) | (1 << 9) | (1 << 20))
    assert plic.read(S_CLAIM, 4) == 7
    assert plic.read(S_CLAIM, 4) == 9
    assert plic.read(S_CLAIM, 4) == 3
    assert plic.read(S_CLAIM, 4) == 20
    assert plic.read(S_CLAIM, 4) == 0


def test_threshold_and_zero_priority_mask_sources() -> None:
    plic, _ = make()
    plic.write(S_ENABLE, 4, (1 << 4) | (1 << 5) | (1 << 6))
    plic.write(PRIORITY + 4 * 4, 4, 3)
    plic.write(PRIORITY + 4 * 5, 4, 2)
    # source 6 keeps priority 0: never delivered
    for source in (4, 5, 6):
        plic.irq_line(source)(True)
    plic.write(S_THRESHOLD, 4, 3)
    assert not plic.context_pending(S)
    assert plic.read(S_CLAIM, 4) == 0
    plic.write(S_THRESHOLD, 4, 2)
    assert plic.context_pending(S)
    assert plic.read(S_CLAIM, 4) == 4
    assert plic.read(S_CLAIM, 4) == 0  # 5 is at the threshold, not above
    plic.write(S_THRESHOLD, 4, 0)
    assert plic.read(S_CLAIM, 4) == 5
    assert plic.read(S_CLAIM, 4) == 0
    assert plic.read(PENDING, 4) == 1 << 6


def test_complete_ignored_unless_in_flight_and_enabled() -> None:
    plic, _ = make()
    xv6_init(plic)
    uart = plic.irq_line(UART)
    uart(True)
    plic.write(S_CLAIM, 4, UART)  # not claimed yet: no effect
    assert plic.read(S_CLAIM, 4) == UART
    plic.write(M_CLAIM, 4, UART)  # not enabled for the M context: ignored
    assert plic.in_flight(UART)
    plic.write(S_CLAIM, 4, 200)  # no such source
    assert plic.in_flight(UART)
    plic.write(S_CLAIM, 4, UART)
    assert not plic.in_flight(UART)


def test_m_and_s_contexts_are_independent() -> None:
    plic, _ = make()
    plic.write(PRIORITY + 4 * 2, 4, 1)
    plic.write(M_ENABLE, 4, 1 << 2)
    plic.write(M_THRESHOLD, 4, 0)
    plic.irq_line(2)(True)
    assert plic.context_pending(M) and not plic.context_pending(S)
    assert plic.read(S_CLAIM, 4) == 0
    assert plic.read(M_CLAIM, 4) == 2


def test_second_hart_s_context_addresses() -> None:
    plic, _ = make(harts=2)
    plic.write(PRIORITY + 4 * UART, 4, 1)
    plic.write(S_ENABLE + 0x100, 4, 1 << UART)  # hart 1 S: 0x0c002180
    plic.irq_line(UART)(True)
    assert plic.context_pending(3) and not plic.context_pending(1)
    assert plic.read(S_CLAIM + 0x2000, 4) == UART  # hart 1 S: 0x0c203004


def test_on_change_only_when_an_output_flips() -> None:
    plic, changes = make()
    xv6_init(plic)
    assert changes.count == 0
    plic.irq_line(VIRTIO)(True)
    assert changes.count == 1
    plic.irq_line(UART)(True)  # output already asserted
    assert changes.count == 1
    plic.write(S_THRESHOLD, 4, 1)  # masks both
    assert changes.count == 2
    assert not plic.context_pending(S)


def test_irq_line_rejects_missing_sources() -> None:
    plic, _ = make()
    with pytest.raises(ValueError):
        plic.irq_line(0)
    with pytest.raises(ValueError):
        plic.irq_line(96)


def test_unimplemented_offsets_read_zero() -> None:
    plic, _ = make()
    plic.write(0x20_2000, 4, 7)  # context 2 does not exist with one hart
    plic.write(0x2100, 4, 0xFF)
    plic.write(0x3F_FFFC, 4, 1)
    assert plic.read(0x20_2000, 4) == 0
    assert plic.read(0x2100, 4) == 0
    assert plic.read(0x20_0008, 4) == 0
    assert plic.read(0x3FF_FFFC, 4) == 0


def test_snapshot_restore() -> None:
    plic, _ = make()
    xv6_init(plic)
    plic.irq_line(UART)(True)
    plic.irq_line(VIRTIO)(True)
    assert plic.read(S_CLAIM, 4) == VIRTIO
    state = plic.snapshot()
    other, changes = make()
    other.restore(state)
    assert changes.count == 0
    assert other.context_pending(S)
    assert other.read(S_CLAIM, 4) == UART
    other.write(S_CLAIM, 4, VIRTIO)  # completes the claim made before the snapshot
    assert other.read(S_CLAIM, 4) == VIRTIO  # its line is still high
    assert other.snapshot()["priority"][UART] == 1
