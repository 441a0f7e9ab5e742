import hashlib
import struct
from pathlib import Path

import pytest

from machine.devices.virtio_blk import (
    VIRTIO_BLK_BASE,
    VIRTIO_BLK_SIZE,
    DiskImageError,
    VirtioBlk,
)

from .fakes import FakeMemory, IrqRecorder

# MMIO registers
MAGIC, VERSION, DEVICE_ID, VENDOR_ID = 0x000, 0x004, 0x008, 0x00C
DEVICE_FEATURES, DEVICE_FEATURES_SEL = 0x010, 0x014
DRIVER_FEATURES, DRIVER_FEATURES_SEL = 0x020, 0x024
QUEUE_SEL, QUEUE_NUM_MAX, QUEUE_NUM, QUEUE_READY, QUEUE_NOTIFY = (
    0x030,
    0x034,
    0x038,
    0x044,
    0x050,
)
INTERRUPT_STATUS, INTERRUPT_ACK, STATUS = 0x060, 0x064, 0x070
DESC_LOW, DESC_HIGH, DRIVER_LOW, DRIVER_HIGH, DEVICE_LOW, DEVICE_HIGH = (
    0x080,
    0x084,
    0x090,
    0x094,
    0x0A0,
    0x0A4,
)
CONFIG = 0x100

ACKNOWLEDGE, DRIVER, DRIVER_OK, FEATURES_OK, NEEDS_RESET = 1, 2, 4, 8, 0x40
NEXT, WRITE = 1, 2
IN, OUT, FLUSH, GET_ID = 0, 1, 4, 8

SECTORS = 64
RAM = 0x8000_0000
DESC = RAM + 0x1000
AVAIL = RAM + 0x2000
USED = RAM + 0x3000
HEADER = RAM + 0x4000
DATA = RAM + 0x5000
STATUS_BYTE = RAM + 0x7000
NUM = 8


def disk_image() -> bytes:
    return b"".join(
        bytes((sector * 7 + i) & 0xFF for i in range(512)) for sector in range(SECTORS)
    )


def header(kind: int, sector: int) -> bytes:
    return struct.pack("<IIQ", kind, 0, sector)


class Driver:
    """A virtio driver in the test: xv6's handshake and a split virtqueue in FakeMemory."""

    def __init__(self, device: VirtioBlk, memory: FakeMemory) -> None:
        self.device = device
        self.memory = memory
        self.next_desc = 0
        self.avail_idx = 0

    def w(self, offset: int, value: int) -> None:
        self.device.write(offset, 4, value)

    def r(self, offset: int) -> int:
        return self.device.read(offset, 4)

    def handshake(self) -> list[int]:
        """xv6's virtio_disk_init; returns Status as read after each step."""
        seen = []
        self.w(STATUS, 0)
        status = ACKNOWLEDGE
        self.w(STATUS, status)
        seen.append(self.r(STATUS))
        status |= DRIVER
        self.w(STATUS, status)
        seen.append(self.r(STATUS))
        features = self.r(DEVICE_FEATURES)
        for bit in (
            5,
            7,
            11,
            22,
            27,
            28,
            29,
        ):  # RO SCSI CONFIG_WCE MQ ANY_LAYOUT EVENT_IDX INDIRECT
            features &= ~(1 << bit)
        self.w(DRIVER_FEATURES, features)
        status |= FEATURES_OK
        self.w(STATUS, status)
        seen.append(self.r(STATUS))
        self.w(QUEUE_SEL, 0)
        assert self.r(QUEUE_READY) == 0
        assert self.r(QUEUE_NUM_MAX) >= NUM
        self.w(QUEUE_NUM, NUM)
        self.w(DESC_LOW, DESC & 0xFFFF_FFFF)
        self.w(DESC_HIGH, DESC >> 32)
        self.w(DRIVER_LOW, AVAIL & 0xFFFF_FFFF)
        self.w(DRIVER_HIGH, AVAIL >> 32)
        self.w(DEVICE_LOW, USED & 0xFFFF_FFFF)
        self.w(DEVICE_HIGH, USED >> 32)
        self.w(QUEUE_READY, 1)
        status |= DRIVER_OK
        self.w(STATUS, status)
        seen.append(self.r(STATUS))
        return seen

    def make_chain(self, buffers: list[tuple[int, int, int]]) -> int:
        """Write descriptors for [(address, length, flags)] linked with NEXT; returns the head."""
        indices = [(self.next_desc + k) % NUM for k in range(len(buffers))]
        self.next_desc = (self.next_desc + len(buffers)) % NUM
        for k, (address, length, flags) in enumerate(buffers):
            last = k == len(buffers) - 1
            following = 0 if last else indices[k + 1]
            entry = struct.pack(
                "<QIHH", address, length, flags | (0 if last else NEXT), following
            )
            self.memory.put(DESC + 16 * indices[k], entry)
        return indices[0]

    def offer(self, head: int) -> None:
        self.memory.put(AVAIL + 4 + 2 * (self.avail_idx % NUM), struct.pack("<H", head))
        self.avail_idx = (self.avail_idx + 1) & 0xFFFF
        self.memory.put(AVAIL + 2, struct.pack("<H", self.avail_idx))

    def notify(self) -> None:
        self.w(QUEUE_NOTIFY, 0)

    def request(
        self, kind: int, sector: int, length: int = 1024, data: bytes | None = None
    ) -> int:
        """xv6's 3-descriptor request; ``data`` is written to DATA first."""
        self.memory.put(HEADER, header(kind, sector))
        if data is not None:
            self.memory.put(DATA, data)
        self.memory.put(STATUS_BYTE, b"\xff")
        data_flags = WRITE if kind in (IN, GET_ID) else 0
        head = self.make_chain(
            [(HEADER, 16, 0), (DATA, length, data_flags), (STATUS_BYTE, 1, WRITE)]
        )
        self.offer(head)
        self.notify()
        return head

    def used_idx(self) -> int:
        return self.memory.u16(USED + 2)

    def used(self, slot: int) -> tuple[int, int]:
        return struct.unpack("<II", self.memory.get(USED + 4 + 8 * slot, 8))

    def status_byte(self) -> int:
        return self.memory.get(STATUS_BYTE, 1)[0]


@pytest.fixture
def image_file(tmp_path: Path) -> Path:
    path = tmp_path / "fs.img"
    path.write_bytes(disk_image())
    return path


def make(
    disk: bytes | Path | None = None,
) -> tuple[VirtioBlk, FakeMemory, IrqRecorder, Driver]:
    memory = FakeMemory()
    irq = IrqRecorder()
    device = VirtioBlk(disk_image() if disk is None else disk, memory, irq)
    return device, memory, irq, Driver(device, memory)


def ready() -> tuple[VirtioBlk, FakeMemory, IrqRecorder, Driver]:
    device, memory, irq, driver = make()
    driver.handshake()
    return device, memory, irq, driver


def test_identity_registers() -> None:
    device, _, _, _ = make()
    assert (device.base, device.size) == (0x1000_1000, 0x1000)
    assert (VIRTIO_BLK_BASE, VIRTIO_BLK_SIZE) == (0x1000_1000, 0x1000)
    assert device.read(MAGIC, 4) == 0x7472_6976
    assert device.read(VERSION, 4) == 2
    assert device.read(DEVICE_ID, 4) == 2
    assert device.read(VENDOR_ID, 4) == 0x554D_4551
    assert device.read(MAGIC, 2) == 0  # registers answer 32-bit accesses only
    assert device.read(MAGIC, 8) == 0
    assert device.read(0x0FC, 4) == 0  # ConfigGeneration
    assert device.read(0x0B0, 4) == 0xFFFF_FFFF  # no shared memory region


def test_features_offer_version_1_only() -> None:
    _, _, _, driver = make()
    assert driver.r(DEVICE_FEATURES) == 0
    driver.w(DEVICE_FEATURES_SEL, 1)
    assert driver.r(DEVICE_FEATURES) == 1  # VIRTIO_F_VERSION_1 is bit 32
    driver.w(DEVICE_FEATURES_SEL, 2)
    assert driver.r(DEVICE_FEATURES) == 0


def test_xv6_handshake() -> None:
    device, _, irq, driver = make()
    assert driver.handshake() == [0x1, 0x3, 0xB, 0xF]
    assert driver.r(QUEUE_READY) == 1
    assert device.queue_num == 8
    assert (device.queue_desc, device.queue_driver, device.queue_device) == (
        DESC,
        AVAIL,
        USED,
    )
    assert irq.calls == []


def test_driver_accepting_version_1_is_fine() -> None:
    _, _, _, driver = make()
    driver.w(STATUS, ACKNOWLEDGE | DRIVER)
    driver.w(DRIVER_FEATURES_SEL, 1)
    driver.w(DRIVER_FEATURES, 1)
    driver.w(STATUS, ACKNOWLEDGE | DRIVER | FEATURES_OK)
    assert driver.r(STATUS) == 0xB


def test_features_ok_refused_for_features_not_offered() -> None:
    _, _, _, driver = make()
    driver.w(STATUS, ACKNOWLEDGE | DRIVER)
    driver.w(DRIVER_FEATURES, 1 << 9)  # FLUSH was not offered
    driver.w(STATUS, ACKNOWLEDGE | DRIVER | FEATURES_OK)
    assert driver.r(STATUS) == 0x3


def test_queue_registers() -> None:
    device, _, _, driver = make()
    assert driver.r(QUEUE_NUM_MAX) == 256
    driver.w(QUEUE_NUM, 512)  # above the maximum: ignored
    assert device.queue_num == 0
    driver.w(QUEUE_NUM, 8)
    assert device.queue_num == 8
    assert driver.r(QUEUE_NUM) == 0  # write-only
    driver.w(QUEUE_SEL, 1)  # there is only queue 0
    assert driver.r(QUEUE_NUM_MAX) == 0
    driver.w(QUEUE_READY, 1)
    assert driver.r(QUEUE_READY) == 0
    driver.w(QUEUE_SEL, 0)
    assert driver.r(QUEUE_READY) == 0


def test_config_space_capacity() -> None:
    device, _, _, _ = make()
    assert device.capacity == SECTORS
    assert device.read(CONFIG, 8) == SECTORS
    assert device.read(CONFIG, 4) == SECTORS
    assert device.read(CONFIG + 4, 4) == 0
    assert device.read(CONFIG, 1) == SECTORS
    assert device.read(CONFIG + 8, 4) == 0
    device.write(CONFIG, 8, 5)
    assert device.read(CONFIG, 8) == SECTORS


def test_read_request_through_the_virtqueue() -> None:
    _, memory, irq, driver = ready()
    head = driver.request(IN, 3)
    assert head == 0
    assert memory.get(DATA, 1024) == disk_image()[3 * 512 : 5 * 512]
    assert driver.status_byte() == 0
    assert driver.used_idx() == 1
    assert driver.used(0) == (0, 1025)  # 1024 data bytes and the status byte
    assert driver.r(INTERRUPT_STATUS) == 1
    assert irq.calls == [True]
    driver.w(INTERRUPT_ACK, driver.r(INTERRUPT_STATUS) & 3)
    assert driver.r(INTERRUPT_STATUS) == 0
    assert irq.calls == [True, False]


def test_write_request_goes_to_the_overlay(image_file: Path) -> None:
    device, memory, irq, driver = make(image_file)
    driver.handshake()
    payload = bytes(range(256)) * 4
    head = driver.request(OUT, 5, data=payload)
    assert driver.status_byte() == 0
    assert driver.used(0) == (head, 1)
    assert irq.level is True
    assert device.read_disk(5 * 512, 1024) == payload
    assert device.modified_sectors() == [5, 6]
    # the file the user named is untouched
    assert image_file.read_bytes() == disk_image()
    # reading it back through the queue gives the new data
    memory.put(DATA, bytes(1024))
    driver.request(IN, 5)
    assert memory.get(DATA, 1024) == payload
    assert driver.used_idx() == 2
    assert driver.used(1) == (3, 1025)
    # a partial sector write merges into the sector
    driver.request(OUT, 7, length=10, data=b"0123456789")
    expected = b"0123456789" + disk_image()[7 * 512 + 10 : 8 * 512]
    assert device.read_disk(7 * 512, 512) == expected
    assert image_file.read_bytes() == disk_image()


def test_save_overlay_writes_elsewhere_only(image_file: Path, tmp_path: Path) -> None:
    device, _, _, driver = make(image_file)
    driver.handshake()
    driver.request(OUT, 1, length=512, data=b"\xaa" * 512)
    with pytest.raises(ValueError, match="original"):
        device.save_overlay(image_file)
    assert image_file.read_bytes() == disk_image()
    saved = tmp_path / "saved.img"
    device.save_overlay(saved)
    expected = bytearray(disk_image())
    expected[512:1024] = b"\xaa" * 512
    assert saved.read_bytes() == bytes(expected)
    assert device.disk_bytes() == bytes(expected)


def test_out_of_range_is_ioerr() -> None:
    device, memory, _, driver = ready()
    memory.put(DATA, b"\x11" * 1024)
    driver.request(IN, SECTORS - 1)  # second sector is past the end
    assert driver.status_byte() == 1
    assert driver.used(0) == (0, 1)
    assert memory.get(DATA, 1024) == b"\x11" * 1024
    driver.request(OUT, 2**40, data=b"\x22" * 1024)
    assert driver.status_byte() == 1
    assert device.modified_sectors() == []
    driver.request(IN, SECTORS - 2)  # the last two sectors: fine
    assert driver.status_byte() == 0
    assert memory.get(DATA, 1024) == disk_image()[-1024:]


def test_unsupported_flush_and_get_id() -> None:
    _, memory, _, driver = ready()
    driver.request(11, 0)  # DISCARD was not negotiated
    assert driver.status_byte() == 2
    assert driver.used(0) == (0, 1)
    memory.put(HEADER, header(FLUSH, 0))
    driver.offer(driver.make_chain([(HEADER, 16, 0), (STATUS_BYTE, 1, WRITE)]))
    driver.notify()
    assert driver.status_byte() == 0
    assert driver.used(1) == (3, 1)
    driver.request(GET_ID, 0, length=20)
    assert memory.get(DATA, 20) == b"cowtui" + bytes(14)
    assert driver.used(2) == (5, 21)


def test_several_requests_per_notify_and_ring_wrap() -> None:
    device, memory, irq, driver = ready()
    heads = []
    for k, sector in enumerate((0, 10, 20)):
        memory.put(HEADER + 16 * k, header(IN, sector))
        # data and status byte share one writable buffer
        chain = [(HEADER + 16 * k, 16, 0), (DATA + 0x400 * k, 513, WRITE)]
        heads.append(driver.make_chain(chain))
        driver.offer(heads[-1])
    assert driver.used_idx() == 0
    driver.notify()
    assert driver.used_idx() == 3
    assert irq.calls == [True]
    assert [driver.used(k) for k in range(3)] == [(0, 513), (2, 513), (4, 513)]
    for k, sector in enumerate((0, 10, 20)):
        assert (
            memory.get(DATA + 0x400 * k, 512)
            == disk_image()[sector * 512 : (sector + 1) * 512]
        )
        assert memory.get(DATA + 0x400 * k + 512, 1) == b"\x00"
    # keep going round the 8-entry rings: descriptors 6,7,0 then 1,2,3 ...
    for n in range(10):
        head = driver.request(IN, n)
        assert head == (6 + 3 * n) % NUM
        assert memory.get(DATA, 1024) == disk_image()[n * 512 : (n + 2) * 512]
        assert driver.used_idx() == 4 + n
        assert driver.used((3 + n) % NUM) == (head, 1025)
    assert device.last_avail_idx == 13
    assert device.used_idx == 13


def test_any_layout_of_buffers() -> None:
    _, memory, _, driver = ready()
    request = header(IN, 4)
    memory.put(HEADER, request[:8])
    memory.put(HEADER + 0x100, request[8:])
    chain = [
        (HEADER, 8, 0),
        (HEADER + 0x100, 8, 0),
        (DATA + 0x800, 512, WRITE),
        (DATA, 300, WRITE),
        (STATUS_BYTE, 1, WRITE),
    ]
    driver.offer(driver.make_chain(chain))
    driver.notify()
    expected = disk_image()[4 * 512 : 4 * 512 + 812]
    assert memory.get(DATA + 0x800, 512) + memory.get(DATA, 300) == expected
    assert driver.status_byte() == 0
    assert driver.used(0) == (0, 813)
    # data and status byte in one writable buffer
    memory.put(HEADER, header(IN, 9))
    driver.offer(driver.make_chain([(HEADER, 16, 0), (DATA, 513, WRITE)]))
    driver.notify()
    assert memory.get(DATA, 512) == disk_image()[9 * 512 : 10 * 512]
    assert memory.get(DATA + 512, 1) == b"\x00"
    assert driver.used(1) == (5, 513)


def test_no_interrupt_flag_suppresses_the_interrupt() -> None:
    _, memory, irq, driver = ready()
    memory.put(AVAIL, struct.pack("<H", 1))
    driver.request(IN, 0)
    assert driver.used_idx() == 1
    assert driver.r(INTERRUPT_STATUS) == 0
    assert irq.calls == []


def test_nothing_served_before_driver_ok() -> None:
    _, _, irq, driver = make()
    driver.request(IN, 0)
    assert driver.used_idx() == 0
    assert driver.status_byte() == 0xFF
    assert irq.calls == []


def test_bad_descriptor_index_needs_reset() -> None:
    device, memory, irq, driver = ready()
    memory.put(HEADER, header(IN, 0))
    memory.put(DESC, struct.pack("<QIHH", HEADER, 16, NEXT, 9))  # index 9 >= 8
    driver.offer(0)
    driver.notify()
    assert driver.r(STATUS) == 0xF | NEEDS_RESET
    assert driver.r(INTERRUPT_STATUS) == 2  # configuration change
    assert irq.level is True
    assert "index 9" in device.last_error
    assert driver.used_idx() == 0
    driver.w(STATUS, 0xF)  # the driver cannot clear it
    assert driver.r(STATUS) & NEEDS_RESET
    driver.w(STATUS, 0)  # reset
    assert driver.r(STATUS) == 0
    assert driver.r(INTERRUPT_STATUS) == 0
    assert irq.level is False
    assert device.last_error is None


def test_descriptor_loop_needs_reset() -> None:
    device, memory, _, driver = ready()
    memory.put(DESC, struct.pack("<QIHH", HEADER, 16, NEXT, 0))
    driver.offer(0)
    driver.notify()
    assert driver.r(STATUS) & NEEDS_RESET
    assert "loop" in device.last_error


def test_avail_index_too_far_ahead_needs_reset() -> None:
    _, memory, _, driver = ready()
    memory.put(AVAIL + 2, struct.pack("<H", 9))
    driver.notify()
    assert driver.r(STATUS) & NEEDS_RESET
    assert driver.used_idx() == 0


def test_request_without_status_byte_needs_reset() -> None:
    _, memory, _, driver = ready()
    memory.put(HEADER, header(IN, 0))
    driver.offer(driver.make_chain([(HEADER, 16, 0)]))
    driver.notify()
    assert driver.r(STATUS) & NEEDS_RESET


def test_unreadable_guest_memory_needs_reset_not_an_exception() -> None:
    device, _, _, driver = ready()
    driver.offer(driver.make_chain([(0x1234_0000, 16, 0), (STATUS_BYTE, 1, WRITE)]))
    driver.notify()
    assert driver.r(STATUS) & NEEDS_RESET
    assert device.last_error.startswith("guest memory access failed")
    driver.notify()  # ignored until reset


def test_status_zero_resets_the_device() -> None:
    device, _, irq, driver = ready()
    driver.request(IN, 0)
    assert irq.level is True
    driver.w(STATUS, 0)
    assert driver.r(STATUS) == 0
    assert driver.r(INTERRUPT_STATUS) == 0
    assert driver.r(QUEUE_READY) == 0
    assert irq.level is False
    assert (device.queue_num, device.last_avail_idx, device.used_idx) == (0, 0, 0)


def test_snapshot_restore_keeps_overlay_and_queue() -> None:
    device, memory, _, driver = ready()
    driver.request(OUT, 2, length=512, data=b"\x5a" * 512)
    state = device.snapshot()
    assert state["overlay"] == {2: b"\x5a" * 512}
    other_memory = FakeMemory()
    other_memory.data[:] = memory.data
    other_irq = IrqRecorder()
    other = VirtioBlk(disk_image(), other_memory, other_irq)
    other.restore(state)
    assert other_irq.calls == []
    assert other.read(STATUS, 4) == 0xF
    assert other.read(INTERRUPT_STATUS, 4) == 1
    assert other.read_disk(2 * 512, 512) == b"\x5a" * 512
    driver.memory = other_memory
    driver.device = other
    driver.request(IN, 2, length=512)
    assert other_memory.get(DATA, 512) == b"\x5a" * 512
    assert struct.unpack("<H", other_memory.get(USED + 2, 2)) == (2,)
    different = VirtioBlk(bytes(1024), FakeMemory())
    with pytest.raises(ValueError):
        different.restore(state)


def test_missing_disk_image_is_a_one_line_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope.img"
    with pytest.raises(DiskImageError) as error:
        VirtioBlk(missing, FakeMemory())
    assert str(error.value).startswith(f"{missing}: cannot read disk image")
    assert "\n" not in str(error.value)


def test_ring_indices_wrap_at_16_bits() -> None:
    device, memory, _, driver = ready()
    state = device.snapshot()
    state["last_avail_idx"] = state["used_idx"] = 0xFFFE
    device.restore(state)
    driver.avail_idx = 0xFFFE
    memory.put(USED + 2, struct.pack("<H", 0xFFFE))
    for n in range(3):
        head = driver.request(IN, n)
        assert driver.used((0xFFFE + n) % NUM) == (head, 1025)
    assert driver.used_idx() == 1
    assert device.last_avail_idx == 1
    assert device.last_error is None


def test_file_image_is_read_on_demand_and_hashed_by_streaming(image_file: Path) -> None:
    device, memory, _, driver = make(image_file)
    driver.handshake()
    driver.request(IN, 3)
    assert memory.get(DATA, 1024) == disk_image()[3 * 512 : 5 * 512]
    assert device.base_sha256 == hashlib.sha256(disk_image()).hexdigest()
    assert device.base_sha256 == make(disk_image())[0].base_sha256


def test_image_changed_on_the_host_stops_instead_of_mixing_file_systems(
        image_file: Path) -> None:
    errors: list[str] = []
    memory, irq = FakeMemory(), IrqRecorder()
    device = VirtioBlk(image_file, memory, irq, on_host_error=errors.append)
    driver = Driver(device, memory)
    driver.handshake()
    driver.request(IN, 0)
    assert errors == [] and driver.status_byte() == 0
    image_file.write_bytes(bytes(len(disk_image()) * 2))   # make rebuilt fs.img in place
    driver.request(IN, 3)
    assert len(errors) == 1
    assert errors[0].startswith(f"{image_file}: the disk image changed on the host during the run")
    assert device.last_error == errors[0]
    assert driver.r(STATUS) & 0x40   # DEVICE_NEEDS_RESET: the guest is not served stale data
