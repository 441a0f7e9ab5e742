"""A disk's base image: the user's file, read on demand and never written.

Reading the image whole would cost its size in memory (a 4 GiB file, 4 GiB of
RSS), so only the sectors the guest asks for are read, with ``os.pread`` on
a descriptor held open for the run. The guest's writes never reach this
object (virtio_blk.py keeps them in an overlay).

A file read lazily can change under the run (``make`` rebuilds fs.img in
place): every read checks the file's size and modification time against
those it had when opened, and a changed file raises ``DiskImageChanged``
rather than handing the guest a mix of two file systems. The image's
SHA-256, which snapshots use to recognise it, is computed when first asked
for, by streaming the file.
"""

from __future__ import annotations

import hashlib
import os

HASH_CHUNK = 1 << 20


class DiskImageError(ValueError):
    """The disk image named by the user cannot be read (one-line message)."""


class DiskImageChanged(DiskImageError):
    """The image file changed on the host while the machine was reading it."""


class DiskImage:
    """``DiskImage(path_or_bytes)``: ``size``, ``read(offset, length)``,
    ``sha256``, ``path`` (None for bytes), ``close()``."""

    def __init__(self, source: str | os.PathLike[str] | bytes | bytearray | memoryview) -> None:
        self._sha256: str | None = None
        self._fd: int | None = None
        if isinstance(source, (bytes, bytearray, memoryview)):
            self.path: str | None = None
            self._bytes: bytes | None = bytes(source)
            self.size = len(self._bytes)
            return
        self.path = os.fspath(source)
        self._bytes = None
        try:
            self._fd = os.open(self.path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
            status = os.fstat(self._fd)
        except OSError as error:
            raise DiskImageError(f"{self.path}: cannot read disk image: "
                                 f"{error.strerror or error}") from None
        self._stamp = (status.st_size, status.st_mtime_ns)
        self.size = status.st_size

    def read(self, offset: int, length: int) -> bytes:
        """``length`` bytes at ``offset`` (fewer past the end)."""
        if self._bytes is not None:
            return self._bytes[offset:offset + length]
        self._check_unchanged()
        chunks, end = [], min(offset + length, self.size)
        while offset < end:
            chunk = os.pread(self._fd, end - offset, offset)
            if not chunk:
                break
            chunks.append(chunk)
            offset += len(chunk)
        return b"".join(chunks)

    @property
    def sha256(self) -> str:
        if self._sha256 is None:
            digest = hashlib.sha256()
            for offset in range(0, self.size, HASH_CHUNK):
                digest.update(self.read(offset, HASH_CHUNK))
            self._sha256 = digest.hexdigest()
        return self._sha256

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __del__(self) -> None:
        self.close()

    def _check_unchanged(self) -> None:
        if self._fd is None:
            raise DiskImageError(f"{self.path}: disk image already closed")
        try:
            status = os.fstat(self._fd)
        except OSError as error:
            raise DiskImageChanged(f"{self.path}: disk image unreadable during the run: "
                                   f"{error.strerror or error}") from None
        if (status.st_size, status.st_mtime_ns) != self._stamp:
            raise DiskImageChanged(
                f"{self.path}: the disk image changed on the host during the run "
                f"(was {self._stamp[0]} bytes, now {status.st_size}; rebuilt by make?): "
                "cowtui reads it on demand, so the run stopped rather than mix two file "
                "systems; start it again")
