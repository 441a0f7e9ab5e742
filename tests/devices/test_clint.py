import pytest

from machine.devices.clint import CLINT_BASE, CLINT_SIZE, MTIMECMP_NEVER, Clint

from .fakes import Counter, FakeClock


def make(now: int = 0, harts: int = 1) -> tuple[Clint, FakeClock, Counter]:
    clock = FakeClock(now)
    changes = Counter()
    return Clint(clock, num_harts=harts, on_change=changes), clock, changes


def test_window() -> None:
    clint, _, _ = make()
    assert (clint.base, clint.size) == (0x0200_0000, 0x1_0000)
    assert (CLINT_BASE, CLINT_SIZE) == (0x0200_0000, 0x1_0000)


def test_msip_only_bit_zero_and_on_change() -> None:
    clint, _, changes = make()
    assert clint.msip_pending() is False
    clint.write(0, 4, 0xFFFF_FFFF)
    assert clint.read(0, 4) == 1
    assert clint.msip_pending() is True
    assert changes.count == 1
    clint.write(0, 4, 2)
    assert clint.read(0, 4) == 0
    assert clint.msip_pending() is False
    assert changes.count == 2


def test_mtime_reads_the_clock_in_every_width() -> None:
    clint, clock, _ = make(0x1_2345_6789)
    assert clint.read(0xBFF8, 8) == 0x1_2345_6789
    assert clint.read(0xBFF8, 4) == 0x2345_6789
    assert clint.read(0xBFFC, 4) == 0x1
    assert clint.read(0xBFF9, 1) == 0x67
    clock.time = 0xABCD_0000_0000_0001
    assert clint.read(0xBFF8, 8) == 0xABCD_0000_0000_0001
    assert clint.mtime() == 0xABCD_0000_0000_0001


def test_mtime_writes_are_ignored() -> None:
    clint, _, changes = make(500)
    clint.write(0xBFF8, 8, 0)
    clint.write(0xBFFC, 4, 7)
    assert clint.read(0xBFF8, 8) == 500
    assert changes.count == 0


def test_mtimecmp_resets_to_never() -> None:
    clint, _, _ = make(2**63)
    assert clint.read(0x4000, 8) == MTIMECMP_NEVER == 2**64 - 1
    assert clint.mtip_pending() is False
    assert clint.next_deadline() is None


def test_mtimecmp_64_bit_and_halves() -> None:
    clint, _, changes = make(100)
    clint.write(0x4000, 8, 0x1_0000_0200)
    assert clint.read(0x4000, 8) == 0x1_0000_0200
    assert clint.read(0x4000, 4) == 0x0000_0200
    assert clint.read(0x4004, 4) == 0x1
    assert changes.count == 1
    clint.write(0x4004, 4, 0)  # high half: now 0x200
    assert clint.read(0x4000, 8) == 0x200
    clint.write(0x4000, 4, 0x150)  # low half
    assert clint.read(0x4000, 8) == 0x150
    assert changes.count == 3
    clint.write(0x4001, 1, 0x07)  # one byte merges into the register
    assert clint.read(0x4000, 8) == 0x750


def test_mtip_follows_time_and_deadline() -> None:
    clint, clock, _ = make(1000)
    clint.write(0x4000, 8, 1500)
    assert clint.mtip_pending() is False
    assert clint.next_deadline() == 1500
    clock.time = 1499
    assert clint.mtip_pending() is False
    clock.time = 1500
    assert clint.mtip_pending() is True
    assert clint.next_deadline() is None
    clint.write(0x4000, 8, 1_000_000 + 1500)  # the guest re-arms the timer
    assert clint.mtip_pending() is False
    assert clint.next_deadline() == 1_001_500


def test_second_hart_registers() -> None:
    clint, _, _ = make(10, harts=2)
    clint.write(4, 4, 1)
    clint.write(0x4008, 8, 5)
    assert clint.msip_pending(1) is True and clint.msip_pending(0) is False
    assert clint.mtip_pending(1) is True and clint.mtip_pending(0) is False
    assert clint.read(0x4008, 8) == 5
    assert clint.read(0, 8) == 1 << 32  # msip0 and msip1 in one 8-byte read


def test_unimplemented_offsets() -> None:
    clint, _, changes = make(5)
    clint.write(8, 4, 1)  # msip of a hart that does not exist
    clint.write(0x4010, 8, 3)
    clint.write(0xC000, 4, 1)
    assert clint.read(8, 4) == 0
    assert clint.read(0x4010, 8) == 0
    assert clint.read(0xC000, 4) == 0
    assert clint.read(0x2000, 2) == 0
    assert changes.count == 0


def test_snapshot_restore_reset() -> None:
    clint, _, _ = make(0)
    clint.write(0, 4, 1)
    clint.write(0x4000, 8, 77)
    state = clint.snapshot()
    assert state == {"msip": [1], "mtimecmp": [77]}
    other, _, _ = make(100)
    other.restore(state)
    assert other.msip_pending() and other.mtip_pending()
    other.reset()
    assert not other.msip_pending() and other.read(0x4000, 8) == MTIMECMP_NEVER
    with pytest.raises(ValueError):
        other.restore({"msip": [0, 0], "mtimecmp": [1, 1]})
