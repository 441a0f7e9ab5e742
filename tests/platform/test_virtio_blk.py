"""virtio-blk through a guest driver of our own: the modern virtio-mmio
handshake, then a read, a write and a read-back of sectors through a split
virtqueue of 3-descriptor chains, each completion signalled through the PLIC.
The disk file on the host never changes; ``save_overlay`` writes the modified
image elsewhere, only when asked."""

from __future__ import annotations

import hashlib
from pathlib import Path

from machine.events import MemoryWrite

from .guest import (
    DATA,
    HANDLER,
    MAIN,
    PLIC,
    PLIC_CLAIM_M,
    PLIC_ENABLE_M,
    PLIC_THRESHOLD_M,
    RAM,
    VIRTIO,
    VIRTIO_IRQ,
    finish,
    icount_of,
    label_address,
    li64,
    make_machine,
    read_u64,
)

DESC = RAM + 0x20000
AVAIL = RAM + 0x20100
USED = RAM + 0x21000
HEADERS = RAM + 0x22000
STATUS = RAM + 0x22100
BUF_A = RAM + 0x30000   # read of sectors 2..3 (1024 bytes)
BUF_B = RAM + 0x32000   # data written to sector 5
BUF_C = RAM + 0x34000   # read-back of sector 5
NEXT, WRITE = 1, 2
QUEUE = 8


def pattern() -> bytes:
    return bytes((i * 7 + 3) & 0xFF for i in range(512))


def disk_image() -> bytes:
    return b"".join(hashlib.sha256(i.to_bytes(4, "little")).digest() for i in range(1024))


def descriptor(index: int, address: int, length: int, flags: int, following: int) -> str:
    at = 16 * index
    return f"""
    {li64('t1', address)}
    sd t1, {at}(a4)
    li t1, {length}
    sw t1, {at + 8}(a4)
    li t1, {flags}
    sh t1, {at + 12}(a4)
    li t1, {following}
    sh t1, {at + 14}(a4)
    """


def request(number: int, kind: int, sector: int, data: int, length: int, data_flags: int,
            heads: tuple[int, int, int]) -> str:
    """Queue one request as a 3-descriptor chain (header, data, status), notify
    the device, and wfi until the interrupt handler has counted it."""
    header = HEADERS + 16 * number
    first, second, third = heads
    return f"""
    {li64('t2', header)}
    li t1, {kind}
    sw t1, 0(t2)
    sw zero, 4(t2)
    li t1, {sector}
    sd t1, 8(t2)
    {descriptor(first, header, 16, NEXT, second)}
    {descriptor(second, data, length, data_flags | NEXT, third)}
    {descriptor(third, STATUS + number, 1, WRITE, 0)}
    li t1, {first}
    sh t1, {4 + 2 * number}(a3)     # avail.ring[number]
    fence rw, rw
    li t1, {number + 1}
    sh t1, 2(a3)                    # avail.idx
    fence rw, rw
notify{number}:
    sw zero, 0x50(s0)               # QueueNotify
wait{number}:
    ld t1, 0(a5)                    # (checked before wfi: the interrupt may
    li t2, {number + 1}             #  already have been taken)
    bge t1, t2, done{number}
    wfi
    j wait{number}
done{number}:
    """


def fail(code: int, label: str) -> str:
    return f"{label}:\n{li64('t6', 0x100000)}\nli t5, {(code << 16) | 0x3333}\nsw t5, 0(t6)"


MAIN_CODE = f"""
    {li64('t0', HANDLER)}
    csrw mtvec, t0
    {li64('a5', DATA)}
    {li64('s0', VIRTIO)}
    {li64('s1', PLIC_CLAIM_M)}
    {li64('a4', DESC)}
    {li64('a3', AVAIL)}
    lw t1, 0(s0)
    {li64('t2', 0x74726976)}
    bne t1, t2, bad_magic
    lw t1, 4(s0)
    li t2, 2
    bne t1, t2, bad_version
    lw t1, 8(s0)
    bne t1, t2, bad_device
    sw zero, 0x70(s0)               # reset
    li t1, 1
    sw t1, 0x70(s0)                 # ACKNOWLEDGE
    li t1, 3
    sw t1, 0x70(s0)                 # DRIVER
    li t1, 1
    sw t1, 0x14(s0)                 # DeviceFeaturesSel = 1
    lw t2, 0x10(s0)
    andi t2, t2, 1
    beqz t2, bad_features           # VIRTIO_F_VERSION_1 offered
    sw t1, 0x24(s0)                 # DriverFeaturesSel = 1
    sw t1, 0x20(s0)                 # accept VERSION_1
    sw zero, 0x24(s0)
    sw zero, 0x20(s0)
    li t1, 11
    sw t1, 0x70(s0)                 # FEATURES_OK
    lw t1, 0x70(s0)
    andi t1, t1, 8
    beqz t1, bad_features
    sw zero, 0x30(s0)               # QueueSel = 0
    lw t1, 0x44(s0)
    bnez t1, bad_queue              # not ready yet
    lw t1, 0x34(s0)
    li t2, {QUEUE}
    blt t1, t2, bad_queue
    sw t2, 0x38(s0)                 # QueueNum
    {li64('t1', DESC)}
    sw t1, 0x80(s0)
    srli t1, t1, 32
    sw t1, 0x84(s0)
    {li64('t1', AVAIL)}
    sw t1, 0x90(s0)
    srli t1, t1, 32
    sw t1, 0x94(s0)
    {li64('t1', USED)}
    sw t1, 0xa0(s0)
    srli t1, t1, 32
    sw t1, 0xa4(s0)
    li t1, 1
    sw t1, 0x44(s0)                 # QueueReady
    li t1, 15
    sw t1, 0x70(s0)                 # DRIVER_OK
    {li64('t2', PLIC + 4 * VIRTIO_IRQ)}
    li t1, 1
    sw t1, 0(t2)
    {li64('t2', PLIC_ENABLE_M)}
    li t1, {1 << VIRTIO_IRQ}
    sw t1, 0(t2)
    {li64('t2', PLIC_THRESHOLD_M)}
    sw zero, 0(t2)
    li t1, 2048
    csrs mie, t1
    li t1, 8
    csrs mstatus, t1
    {li64('t2', STATUS)}
    li t1, -1
    sw t1, 0(t2)                    # status bytes: 0xff until the device writes them
    {request(0, 0, 2, BUF_A, 1024, WRITE, (0, 1, 2))}
    {li64('t2', BUF_B)}
    li t3, 0
    li t4, 3
    li t5, 512
fill:
    add t6, t2, t3
    sb t4, 0(t6)                    # B[i] = 7 i + 3
    addi t4, t4, 7
    addi t3, t3, 1
    blt t3, t5, fill
    {request(1, 1, 5, BUF_B, 512, 0, (3, 4, 5))}
    {request(2, 0, 5, BUF_C, 512, WRITE, (6, 7, 0))}
    {finish()}
    {fail(1, 'bad_magic')}
    {fail(2, 'bad_version')}
    {fail(3, 'bad_device')}
    {fail(4, 'bad_features')}
    {fail(5, 'bad_queue')}
"""

HANDLER_CODE = f"""
    lw t0, 0(s1)                    # claim
    li t2, {VIRTIO_IRQ}
    bne t0, t2, done
    lw t1, 0x60(s0)                 # InterruptStatus
    sd t1, 8(a5)
    sw t1, 0x64(s0)                 # InterruptACK
    ld t1, 0(a5)
    addi t1, t1, 1
    sd t1, 0(a5)
done:
    sw t0, 0(s1)                    # complete
    mret
"""


def make_disk(tmp_path: Path) -> Path:
    path = tmp_path / "disk.img"
    path.write_bytes(disk_image())
    return path


def run_driver(tmp_path: Path, disk: Path, engine: str | None = None):
    machine = make_machine(tmp_path, {MAIN: MAIN_CODE, HANDLER: HANDLER_CODE}, disk=disk,
                           engine=engine)
    result = machine.run(max_instructions=2_000_000)
    return machine, result


def test_read_write_and_read_back_through_the_virtqueue(tmp_path, engine) -> None:
    disk = make_disk(tmp_path)
    original = disk.read_bytes()
    stat_before = disk.stat()
    machine, result = run_driver(tmp_path, disk, engine)
    assert (result.reason, machine.exit_status) == ("exit", 0)
    assert machine.read_physical(BUF_A, 1024) == original[1024:2048]
    assert machine.read_physical(BUF_C, 512) == pattern()
    assert machine.read_physical(STATUS, 4) == bytes([0, 0, 0, 0xFF])
    # three completions, each through the PLIC, each acknowledged
    assert read_u64(machine, DATA) == 3
    assert read_u64(machine, DATA + 8) == 1
    assert machine.disk is not None and machine.disk.interrupt_status == 0
    # the used ring: head ids and the bytes written to the guest (data + status)
    used = machine.read_physical(USED, 4 + 8 * 3)
    assert int.from_bytes(used[2:4], "little") == 3
    elements = [(int.from_bytes(used[4 + 8 * i:8 + 8 * i], "little"),
                 int.from_bytes(used[8 + 8 * i:12 + 8 * i], "little")) for i in range(3)]
    assert elements == [(0, 1025), (3, 1), (6, 513)]
    # the write went to the overlay only
    assert machine.disk.modified_sectors() == [5]
    assert machine.disk.disk_bytes() == original[:2560] + pattern() + original[3072:]
    assert disk.read_bytes() == original
    assert disk.stat().st_mtime_ns == stat_before.st_mtime_ns
    # ... until the overlay is saved, to another file and only when asked
    saved = tmp_path / "saved.img"
    assert not saved.exists()
    machine.disk.save_overlay(saved)
    assert saved.read_bytes() == machine.disk.disk_bytes()
    assert disk.read_bytes() == original
    # the next run starts from the unchanged disk again
    again, _ = run_driver(tmp_path, disk, engine)
    assert again.read_physical(BUF_A, 1024) == original[1024:2048]
    assert again.disk is not None and again.disk.modified_sectors() == [5]


def test_dma_into_a_watched_page_emits_memory_writes(tmp_path, engine) -> None:
    disk = make_disk(tmp_path)
    original = disk.read_bytes()
    machine = make_machine(tmp_path, {MAIN: MAIN_CODE, HANDLER: HANDLER_CODE}, disk=disk,
                           engine=engine)
    writes: list[MemoryWrite] = []
    machine.events.subscribe(MemoryWrite, writes.append)
    machine.watch_physical_page(BUF_A >> 12)
    assert machine.run(max_instructions=2_000_000).reason == "exit"
    notify = label_address(MAIN_CODE, "notify0", MAIN)
    expected = [MemoryWrite(icount_of(notify), notify, BUF_A + i, 8, 0,
                            int.from_bytes(original[1024 + i:1032 + i], "little"), by_dma=True)
                for i in range(0, 1024, 8)]
    assert writes == expected
    # the guest's own stores elsewhere (buffer B, the rings) were not reported
    assert machine.read_physical(BUF_A, 1024) == original[1024:2048]
