"""virtio-mmio block device, modern interface (Version 2), at 0x1000_1000.

What xv6 (``kernel/virtio_disk.c``) and any driver following the virtio 1.x
spec need: the MMIO register file (section 4.2.2 of the spec), the status and
feature handshake, one split virtqueue (queue 0) and block requests IN (read),
OUT (write), FLUSH and GET_ID. PLIC source 1 on the virt board.

Registers are 32 bits wide and, as in QEMU, only aligned 32-bit accesses reach
them (others read 0 and are ignored); the configuration space at 0x100 (the
64-bit capacity in 512-byte sectors, then zeros) reads with any size.
Write-only registers read 0.

Features: the device offers VIRTIO_F_VERSION_1 (bit 32) and nothing else.
FEATURES_OK is kept only if the driver accepted a subset of that; a driver
that, like xv6, only ever writes the low feature word (so it does not accept
VERSION_1) is accepted, as QEMU accepts it.

Requests: on QueueNotify (with DRIVER_OK set and the queue ready) every new
avail-ring entry is served in order. A descriptor chain (NEXT links; WRITE
marks device-writable buffers, which must follow the readable ones) may be
laid out in any way: the request header (type, reserved, sector: 16 bytes) is
the start of the readable bytes, an OUT request's data the rest of them; an
IN request's data fills the writable bytes but the last, and the last
writable byte receives the status (0 OK, 1 IOERR: the range goes past the
end of the disk, 2 UNSUPP: another request type). Data may have any length.
The used element's ``len`` is the number of bytes written to the guest. Then
InterruptStatus bit 0 is set and the IRQ line raised (unless the driver set
VIRTQ_AVAIL_F_NO_INTERRUPT); InterruptACK clears bits and the line drops when
none is left. A malformed queue (an index beyond the queue size, a loop, a
request without header or status byte, guest memory that cannot be read)
sets DEVICE_NEEDS_RESET in Status, records ``last_error`` and stops the
device until the driver resets it (writes 0 to Status).

The disk: built from a path or from bytes (disk_image.py: a file is read on
demand, never written back, and a file changed on the host during the run
stops it through ``on_host_error``): guest writes go to an in-memory overlay
of 512-byte sectors, so every run starts from the same disk and the user's
file is never modified.
``save_overlay(path)`` writes the modified image to another file, only when
asked. ``snapshot()`` holds the overlay (not the base image, which
``base_sha256`` identifies).
"""

from __future__ import annotations

import os
import struct
from collections.abc import Callable
from typing import Any

from machine.devices.base import IrqLine, PhysicalMemory
from machine.devices.disk_image import DiskImage, DiskImageChanged, DiskImageError

__all__ = ["DiskImageError", "VirtioBlk"]

VIRTIO_BLK_BASE = 0x1000_1000
VIRTIO_BLK_SIZE = 0x1000
VIRTIO_BLK_IRQ = 1

SECTOR_SIZE = 512

# MMIO register offsets (virtio 1.x, section 4.2.2)
MAGIC_VALUE = 0x000
VERSION = 0x004
DEVICE_ID = 0x008
VENDOR_ID = 0x00C
DEVICE_FEATURES = 0x010
DEVICE_FEATURES_SEL = 0x014
DRIVER_FEATURES = 0x020
DRIVER_FEATURES_SEL = 0x024
QUEUE_SEL = 0x030
QUEUE_NUM_MAX = 0x034
QUEUE_NUM = 0x038
QUEUE_READY = 0x044
QUEUE_NOTIFY = 0x050
INTERRUPT_STATUS = 0x060
INTERRUPT_ACK = 0x064
STATUS = 0x070
QUEUE_DESC_LOW = 0x080
QUEUE_DESC_HIGH = 0x084
QUEUE_DRIVER_LOW = 0x090
QUEUE_DRIVER_HIGH = 0x094
QUEUE_DEVICE_LOW = 0x0A0
QUEUE_DEVICE_HIGH = 0x0A4
SHM_SEL = 0x0AC
SHM_LEN_LOW = 0x0B0
SHM_LEN_HIGH = 0x0B4
SHM_BASE_LOW = 0x0B8
SHM_BASE_HIGH = 0x0BC
CONFIG_GENERATION = 0x0FC
CONFIG = 0x100

MAGIC = 0x7472_6976  # "virt"
VERSION_MODERN = 2
DEVICE_ID_BLOCK = 2
VENDOR_ID_QEMU = 0x554D_4551  # "QEMU"

# device status bits
STATUS_ACKNOWLEDGE = 1
STATUS_DRIVER = 2
STATUS_DRIVER_OK = 4
STATUS_FEATURES_OK = 8
STATUS_DEVICE_NEEDS_RESET = 0x40
STATUS_FAILED = 0x80

# feature bits
VIRTIO_F_VERSION_1 = 1 << 32
DEVICE_FEATURES_OFFERED = VIRTIO_F_VERSION_1

# interrupt status bits
INT_USED_BUFFER = 1
INT_CONFIG_CHANGE = 2

# descriptor flags
VIRTQ_DESC_F_NEXT = 1
VIRTQ_DESC_F_WRITE = 2
VIRTQ_DESC_F_INDIRECT = 4
VIRTQ_AVAIL_F_NO_INTERRUPT = 1

# block request types and status values
VIRTIO_BLK_T_IN = 0
VIRTIO_BLK_T_OUT = 1
VIRTIO_BLK_T_FLUSH = 4
VIRTIO_BLK_T_GET_ID = 8
VIRTIO_BLK_S_OK = 0
VIRTIO_BLK_S_IOERR = 1
VIRTIO_BLK_S_UNSUPP = 2
VIRTIO_BLK_ID_BYTES = 20
REQUEST_HEADER = struct.Struct("<IIQ")
DESCRIPTOR = struct.Struct("<QIHH")
USED_ELEMENT = struct.Struct("<II")

DEFAULT_QUEUE_NUM_MAX = 256  # as QEMU's virtio-blk; xv6 needs at least 8


class _QueueError(Exception):
    """The driver broke the virtqueue protocol: the device needs a reset."""


class VirtioBlk:
    """A virtio block device over an in-memory overlay of a disk image.

    Constructor: ``VirtioBlk(disk, memory, irq=None, base=..., queue_num_max=256,
    serial=b"cowtui")`` where ``disk`` is a path or the image bytes and
    ``memory`` the guest's ``PhysicalMemory`` (DMA). Queries: ``capacity``
    (sectors), ``read_disk(offset, length)``, ``disk_bytes()``,
    ``modified_sectors()``, ``last_error``. ``save_overlay(path)`` writes the
    modified image elsewhere.
    """

    name = "virtio_blk"

    def __init__(
        self,
        disk: str | os.PathLike[str] | bytes | bytearray | memoryview,
        memory: PhysicalMemory,
        irq: IrqLine | None = None,
        base: int = VIRTIO_BLK_BASE,
        queue_num_max: int = DEFAULT_QUEUE_NUM_MAX,
        serial: bytes = b"cowtui",
        on_host_error: Callable[[str], None] | None = None,
    ) -> None:
        if not 1 <= queue_num_max <= 32768:
            raise ValueError(
                f"virtio-blk: queue_num_max must be 1..32768, not {queue_num_max}"
            )
        self.base = base
        self.size = VIRTIO_BLK_SIZE
        self.memory = memory
        self.irq = irq
        self.queue_num_max = queue_num_max
        self.serial = bytes(serial[:VIRTIO_BLK_ID_BYTES])
        self.image = DiskImage(disk)
        self.disk_path = self.image.path
        self.on_host_error = on_host_error
        self.capacity = self.image.size // SECTOR_SIZE
        self._overlay: dict[int, bytes] = {}
        self._config = self.capacity.to_bytes(8, "little")
        self.irq_level = False  # the level last driven on ``irq``
        self.reset()

    # ----------------------------------------------------------- device reset
    def reset(self) -> None:
        """Device reset (Status written with 0): forget the negotiation and the
        queue, clear interrupts. The disk contents (overlay) stay."""
        self.status = 0
        self.device_features_sel = 0
        self.driver_features_sel = 0
        self.driver_features = [0, 0]
        self.queue_sel = 0
        self.queue_num = 0
        self.queue_ready = 0
        self.queue_desc = 0
        self.queue_driver = 0
        self.queue_device = 0
        self.last_avail_idx = 0
        self.used_idx = 0
        self.interrupt_status = 0
        self.shm_sel = 0
        self.last_error: str | None = None
        self._update_irq()

    @property
    def negotiated_features(self) -> int:
        return self.driver_features[0] | self.driver_features[1] << 32

    # ------------------------------------------------------------ register access
    def read(self, offset: int, size: int) -> int:
        if offset >= CONFIG:
            start = offset - CONFIG
            return int.from_bytes(self._config[start : start + size], "little")
        if size != 4 or offset & 3:
            return 0
        if offset == MAGIC_VALUE:
            return MAGIC
        if offset == VERSION:
            return VERSION_MODERN
        if offset == DEVICE_ID:
            return DEVICE_ID_BLOCK
        if offset == VENDOR_ID:
            return VENDOR_ID_QEMU
        if offset == DEVICE_FEATURES:
            if self.device_features_sel > 1:
                return 0
            return (
                DEVICE_FEATURES_OFFERED >> (32 * self.device_features_sel)
            ) & 0xFFFF_FFFF
        if offset == QUEUE_NUM_MAX:
            return self.queue_num_max if self.queue_sel == 0 else 0
        if offset == QUEUE_READY:
            return self.queue_ready if self.queue_sel == 0 else 0
        if offset == INTERRUPT_STATUS:
            return self.interrupt_status
        if offset == STATUS:
            return self.status
        if SHM_LEN_LOW <= offset <= SHM_BASE_HIGH:
            return 0xFFFF_FFFF  # no shared memory regions: length (and base) -1
        # CONFIG_GENERATION: the configuration never changes; write-only registers
        return 0

    def write(self, offset: int, size: int, value: int) -> None:
        if offset >= CONFIG or size != 4 or offset & 3:
            return  # the configuration space is read-only (no CONFIG_WCE)
        value &= 0xFFFF_FFFF
        if offset == DEVICE_FEATURES_SEL:
            self.device_features_sel = value
        elif offset == DRIVER_FEATURES:
            if self.driver_features_sel <= 1 and not self.status & STATUS_FEATURES_OK:
                self.driver_features[self.driver_features_sel] = value
        elif offset == DRIVER_FEATURES_SEL:
            self.driver_features_sel = value
        elif offset == QUEUE_SEL:
            self.queue_sel = value
        elif offset == QUEUE_NOTIFY:
            if value == 0:
                self.notify()
        elif offset == INTERRUPT_ACK:
            self.interrupt_status &= ~value
            self._update_irq()
        elif offset == STATUS:
            self._write_status(value & 0xFF)
        elif offset == SHM_SEL:
            self.shm_sel = value
        elif self.queue_sel == 0:
            self._write_queue_register(offset, value)

    def _write_queue_register(self, offset: int, value: int) -> None:
        if offset == QUEUE_NUM:
            if 1 <= value <= self.queue_num_max:
                self.queue_num = value
        elif offset == QUEUE_READY:
            self.queue_ready = value & 1
        elif offset == QUEUE_DESC_LOW:
            self.queue_desc = (self.queue_desc & ~0xFFFF_FFFF) | value
        elif offset == QUEUE_DESC_HIGH:
            self.queue_desc = (self.queue_desc & 0xFFFF_FFFF) | value << 32
        elif offset == QUEUE_DRIVER_LOW:
            self.queue_driver = (self.queue_driver & ~0xFFFF_FFFF) | value
        elif offset == QUEUE_DRIVER_HIGH:
            self.queue_driver = (self.queue_driver & 0xFFFF_FFFF) | value << 32
        elif offset == QUEUE_DEVICE_LOW:
            self.queue_device = (self.queue_device & ~0xFFFF_FFFF) | value
        elif offset == QUEUE_DEVICE_HIGH:
            self.queue_device = (self.queue_device & 0xFFFF_FFFF) | value << 32

    def _write_status(self, value: int) -> None:
        if value == 0:
            self.reset()
            return
        if (
            value & STATUS_FEATURES_OK
            and not self.status & STATUS_FEATURES_OK
            and self.negotiated_features & ~DEVICE_FEATURES_OFFERED
        ):
            value &= ~STATUS_FEATURES_OK  # the driver accepted what was not offered
        # DEVICE_NEEDS_RESET is the device's to set; only a reset clears it
        self.status = (
            value & ~STATUS_DEVICE_NEEDS_RESET | self.status & STATUS_DEVICE_NEEDS_RESET
        )

    # ------------------------------------------------------------- interrupts
    def _update_irq(self) -> None:
        level = self.interrupt_status != 0
        if level != self.irq_level:
            self.irq_level = level
            if self.irq is not None:
                self.irq(level)

    def _interrupt(self, bit: int) -> None:
        self.interrupt_status |= bit
        self._update_irq()

    # -------------------------------------------------------------- the queue
    def notify(self) -> None:
        """Serve every request the driver has made available on queue 0."""
        if (
            not self.status & STATUS_DRIVER_OK
            or self.status & STATUS_DEVICE_NEEDS_RESET
            or not self.queue_ready
            or not self.queue_num
        ):
            return
        try:
            served = self._serve_available()
            suppressed = self._read_u16(self.queue_driver) & VIRTQ_AVAIL_F_NO_INTERRUPT
        except _QueueError as error:
            self._needs_reset(str(error))
            return
        except DiskImageChanged as error:  # the host's fault, not the guest's: say so and stop
            self._needs_reset(str(error))
            if self.on_host_error is not None:
                self.on_host_error(str(error))
            return
        except Exception as error:  # noqa: BLE001 - a DMA the bus refused is the guest's error
            self._needs_reset(f"guest memory access failed: {error}")
            return
        if served and not suppressed:
            self._interrupt(INT_USED_BUFFER)

    def _needs_reset(self, reason: str) -> None:
        self.last_error = reason
        self.status |= STATUS_DEVICE_NEEDS_RESET
        self._interrupt(INT_CONFIG_CHANGE)

    def _read_u16(self, address: int) -> int:
        return int.from_bytes(self.memory.read_physical(address, 2), "little")

    def _serve_available(self) -> int:
        num = self.queue_num
        avail = self.queue_driver
        used = self.queue_device
        avail_idx = self._read_u16(avail + 2)
        waiting = (avail_idx - self.last_avail_idx) & 0xFFFF
        if waiting > num:
            raise _QueueError(
                f"avail idx {avail_idx} is {waiting} entries ahead of {self.last_avail_idx}"
                f" on a queue of {num}"
            )
        for _ in range(waiting):
            head = self._read_u16(avail + 4 + 2 * (self.last_avail_idx % num))
            written = self._serve_chain(head)
            element = used + 4 + USED_ELEMENT.size * (self.used_idx % num)
            self.memory.write_physical(element, USED_ELEMENT.pack(head, written))
            self.used_idx = (self.used_idx + 1) & 0xFFFF
            self.last_avail_idx = (self.last_avail_idx + 1) & 0xFFFF
            self.memory.write_physical(used + 2, self.used_idx.to_bytes(2, "little"))
        return waiting

    def _walk_chain(
        self, head: int
    ) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
        """The chain's device-readable and device-writable (address, length) buffers."""
        readable: list[tuple[int, int]] = []
        writable: list[tuple[int, int]] = []
        index = head
        for _ in range(self.queue_num):
            if index >= self.queue_num:
                raise _QueueError(
                    f"descriptor index {index} beyond queue size {self.queue_num}"
                )
            raw = self.memory.read_physical(
                self.queue_desc + DESCRIPTOR.size * index, DESCRIPTOR.size
            )
            address, length, flags, following = DESCRIPTOR.unpack(raw)
            if flags & VIRTQ_DESC_F_INDIRECT:
                raise _QueueError(f"descriptor {index} is indirect (not negotiated)")
            if flags & VIRTQ_DESC_F_WRITE:
                writable.append((address, length))
            elif writable:
                raise _QueueError(f"readable descriptor {index} after a writable one")
            else:
                readable.append((address, length))
            if not flags & VIRTQ_DESC_F_NEXT:
                return readable, writable
            index = following
        raise _QueueError(
            f"descriptor chain from {head} is longer than the queue (a loop)"
        )

    def _gather(self, buffers: list[tuple[int, int]], skip: int, length: int) -> bytes:
        """``length`` bytes of the buffers' concatenation, after ``skip`` bytes."""
        parts = []
        for address, size in buffers:
            if length <= 0:
                break
            if skip >= size:
                skip -= size
                continue
            take = min(size - skip, length)
            parts.append(self.memory.read_physical(address + skip, take))
            length -= take
            skip = 0
        return b"".join(parts)

    def _scatter(self, buffers: list[tuple[int, int]], data: bytes) -> None:
        position = 0
        for address, size in buffers:
            if position >= len(data):
                break
            take = min(size, len(data) - position)
            self.memory.write_physical(address, data[position : position + take])
            position += take

    def _serve_chain(self, head: int) -> int:
        """Serve one request; returns the number of bytes written to the guest."""
        readable, writable = self._walk_chain(head)
        readable_bytes = sum(length for _, length in readable)
        writable_bytes = sum(length for _, length in writable)
        if readable_bytes < REQUEST_HEADER.size or writable_bytes < 1:
            raise _QueueError(
                f"request at descriptor {head} lacks a header or a status byte"
            )
        kind, _reserved, sector = REQUEST_HEADER.unpack(
            self._gather(readable, 0, REQUEST_HEADER.size)
        )
        # the status byte is the last writable byte; the data buffers are the rest
        data_out = _trim(writable, writable_bytes - 1)
        status_address = _byte_address(writable, writable_bytes - 1)
        written = 0
        if kind == VIRTIO_BLK_T_IN:
            length = writable_bytes - 1
            if self._in_range(sector, length):
                self._scatter(data_out, self.read_disk(sector * SECTOR_SIZE, length))
                written = length
                status = VIRTIO_BLK_S_OK
            else:
                status = VIRTIO_BLK_S_IOERR
        elif kind == VIRTIO_BLK_T_OUT:
            length = readable_bytes - REQUEST_HEADER.size
            if self._in_range(sector, length):
                data = self._gather(readable, REQUEST_HEADER.size, length)
                self._write_disk(sector * SECTOR_SIZE, data)
                status = VIRTIO_BLK_S_OK
            else:
                status = VIRTIO_BLK_S_IOERR
        elif kind == VIRTIO_BLK_T_FLUSH:
            status = VIRTIO_BLK_S_OK  # the overlay is always "on disk"
        elif kind == VIRTIO_BLK_T_GET_ID:
            identity = self.serial.ljust(VIRTIO_BLK_ID_BYTES, b"\0")[
                : writable_bytes - 1
            ]
            self._scatter(data_out, identity)
            written = len(identity)
            status = VIRTIO_BLK_S_OK
        else:
            status = VIRTIO_BLK_S_UNSUPP
        self.memory.write_physical(status_address, bytes((status,)))
        return written + 1

    def _in_range(self, sector: int, length: int) -> bool:
        return sector * SECTOR_SIZE + length <= self.capacity * SECTOR_SIZE

    # --------------------------------------------------------------- the disk
    def read_disk(self, offset: int, length: int) -> bytes:
        """Current disk contents (base image with the overlay applied)."""
        end = offset + length
        first = offset // SECTOR_SIZE
        last = (end - 1) // SECTOR_SIZE
        overlay = self._overlay
        if length <= 0:
            return b""
        if not overlay or not any(
            sector in overlay for sector in range(first, last + 1)
        ):
            return self.image.read(offset, length)
        # one read of the base image for the whole span, then the overlay's sectors over it
        joined = bytearray(self.image.read(first * SECTOR_SIZE, (last + 1 - first) * SECTOR_SIZE))
        for sector in range(first, last + 1):
            if sector in overlay:
                at = (sector - first) * SECTOR_SIZE
                joined[at : at + SECTOR_SIZE] = overlay[sector]
        skip = offset - first * SECTOR_SIZE
        return bytes(joined[skip : skip + length])

    def _write_disk(self, offset: int, data: bytes) -> None:
        position = 0
        while position < len(data):
            sector, within = divmod(offset + position, SECTOR_SIZE)
            take = min(SECTOR_SIZE - within, len(data) - position)
            if take == SECTOR_SIZE:
                self._overlay[sector] = bytes(data[position : position + take])
            else:
                start = sector * SECTOR_SIZE
                current = bytearray(
                    self._overlay.get(sector) or self.image.read(start, SECTOR_SIZE)
                )
                current[within : within + take] = data[position : position + take]
                self._overlay[sector] = bytes(current)
            position += take

    @property
    def base_sha256(self) -> str:
        """Identifies the base image (snapshots hold only the overlay)."""
        return self.image.sha256

    def modified_sectors(self) -> list[int]:
        """Sectors the guest has written, in order."""
        return sorted(self._overlay)

    def disk_bytes(self) -> bytes:
        """The whole current image, the same length as the base image."""
        image = bytearray(self.image.read(0, self.image.size))
        for sector, content in self._overlay.items():
            image[sector * SECTOR_SIZE : (sector + 1) * SECTOR_SIZE] = content
        return bytes(image)

    def save_overlay(self, path: str | os.PathLike[str]) -> None:
        """Write the modified image to ``path``; never to the original image."""
        target = os.fspath(path)
        if (
            self.disk_path is not None
            and os.path.exists(target)
            and os.path.samefile(target, self.disk_path)
        ):
            raise ValueError(f"{target}: refusing to overwrite the original disk image")
        with open(target, "wb") as out:
            out.write(self.disk_bytes())

    # --------------------------------------------------------------- snapshots
    def snapshot(self) -> dict[str, Any]:
        return {
            "base_sha256": self.base_sha256,
            "status": self.status,
            "device_features_sel": self.device_features_sel,
            "driver_features_sel": self.driver_features_sel,
            "driver_features": list(self.driver_features),
            "queue_sel": self.queue_sel,
            "queue_num": self.queue_num,
            "queue_ready": self.queue_ready,
            "queue_desc": self.queue_desc,
            "queue_driver": self.queue_driver,
            "queue_device": self.queue_device,
            "last_avail_idx": self.last_avail_idx,
            "used_idx": self.used_idx,
            "interrupt_status": self.interrupt_status,
            "shm_sel": self.shm_sel,
            "last_error": self.last_error,
            "irq_level": self.irq_level,
            "overlay": dict(self._overlay),
        }

    def restore(self, state: dict[str, Any]) -> None:
        """Restore registers, queue and overlay. The IRQ line is not driven (the
        PLIC restores its own record of the line's level)."""
        if state["base_sha256"] != self.base_sha256:
            raise ValueError(
                "virtio-blk snapshot was taken over a different disk image"
            )
        overlay = {
            int(sector): bytes(content) for sector, content in state["overlay"].items()
        }
        if any(
            len(c) != SECTOR_SIZE or not 0 <= s < self.capacity
            for s, c in overlay.items()
        ):
            raise ValueError("virtio-blk snapshot holds a malformed overlay")
        self.status = int(state["status"])
        self.device_features_sel = int(state["device_features_sel"])
        self.driver_features_sel = int(state["driver_features_sel"])
        self.driver_features = [int(v) for v in state["driver_features"]]
        self.queue_sel = int(state["queue_sel"])
        self.queue_num = int(state["queue_num"])
        self.queue_ready = int(state["queue_ready"])
        self.queue_desc = int(state["queue_desc"])
        self.queue_driver = int(state["queue_driver"])
        self.queue_device = int(state["queue_device"])
        self.last_avail_idx = int(state["last_avail_idx"])
        self.used_idx = int(state["used_idx"])
        self.interrupt_status = int(state["interrupt_status"])
        self.shm_sel = int(state["shm_sel"])
        self.last_error = state["last_error"]
        self.irq_level = bool(state["irq_level"])
        self._overlay = overlay


def _trim(buffers: list[tuple[int, int]], length: int) -> list[tuple[int, int]]:
    """The first ``length`` bytes of ``buffers``, as buffers."""
    trimmed = []
    for address, size in buffers:
        if length <= 0:
            break
        take = min(size, length)
        trimmed.append((address, take))
        length -= take
    return trimmed


def _byte_address(buffers: list[tuple[int, int]], position: int) -> int:
    """Guest address of byte ``position`` of the buffers' concatenation."""
    for address, size in buffers:
        if position < size:
            return address + position
        position -= size
    raise _QueueError("byte beyond the buffers")  # not reached: callers check the total
