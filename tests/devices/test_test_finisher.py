from machine.devices.test_finisher import (
    TEST_FINISHER_BASE,
    TEST_FINISHER_SIZE,
    TestFinisher,
)


def make() -> tuple[TestFinisher, list[int], list[str]]:
    exits: list[int] = []
    resets: list[str] = []
    device = TestFinisher(on_exit=exits.append, on_reset=lambda: resets.append("reset"))
    return device, exits, resets


def test_window() -> None:
    device = TestFinisher()
    assert (device.base, device.size) == (0x0010_0000, 0x1000)
    assert (TEST_FINISHER_BASE, TEST_FINISHER_SIZE) == (0x0010_0000, 0x1000)


def test_pass_exits_with_status_zero() -> None:
    device, exits, resets = make()
    device.write(0, 4, 0x5555)
    assert exits == [0]
    assert device.exit_status == 0
    assert device.exit_kind == "pass"
    assert resets == []


def test_fail_exits_with_its_code() -> None:
    device, exits, _ = make()
    device.write(0, 4, (42 << 16) | 0x3333)
    assert exits == [42]
    assert (device.exit_status, device.exit_kind) == (42, "fail")


def test_fail_with_largest_code() -> None:
    device, exits, _ = make()
    device.write(0, 4, 0xFFFF_3333)
    assert exits == [0xFFFF]


def test_fail_code_zero_is_status_zero_but_kind_fail() -> None:
    device, exits, _ = make()
    device.write(0, 4, 0x3333)
    assert exits == [0]
    assert device.exit_kind == "fail"


def test_reset_request() -> None:
    device, exits, resets = make()
    device.write(0, 4, 0x7777)
    assert resets == ["reset"]
    assert device.reset_requested is True
    assert exits == []
    assert device.exit_status is None


def test_other_values_offsets_and_reads_do_nothing() -> None:
    device, exits, resets = make()
    device.write(0, 4, 0x1234)
    device.write(4, 4, 0x5555)
    device.write(0xFFC, 4, 0x5555)
    assert exits == [] and resets == []
    assert device.exit_status is None
    for size in (1, 2, 4, 8):
        assert device.read(0, size) == 0
    assert device.read(0x800, 4) == 0


def test_eight_byte_write_uses_low_word() -> None:
    device, exits, _ = make()
    device.write(0, 8, 0xDEAD_BEEF_0007_3333)
    assert exits == [7]


def test_works_without_hooks() -> None:
    device = TestFinisher()
    device.write(0, 4, (3 << 16) | 0x3333)
    assert device.exit_status == 3


def test_snapshot_restore_and_reset() -> None:
    device, _, _ = make()
    device.write(0, 4, (9 << 16) | 0x3333)
    state = device.snapshot()
    assert state == {"exit_status": 9, "exit_kind": "fail", "reset_requested": False}
    other = TestFinisher()
    other.restore(state)
    assert (other.exit_status, other.exit_kind) == (9, "fail")
    other.reset()
    assert other.exit_status is None and other.exit_kind is None
