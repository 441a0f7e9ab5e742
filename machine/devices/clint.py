"""Core-local interruptor (CLINT / ACLINT MSWI + MTIMER) at 0x0200_0000.

Layout as on QEMU's virt board, one set of registers per hart ``h``:

* ``0x0000 + 4*h``     msip[h]      32-bit, only bit 0 is writable (MSIP)
* ``0x4000 + 8*h``     mtimecmp[h]  64-bit, also as two 32-bit halves
* ``0xbff8``           mtime        64-bit, also as two 32-bit halves

Time: ``mtime`` is ``clock.now()``, the deterministic time derived from the
retired-instruction count, so the ``time`` CSR and ``mtime`` can never
disagree. **Writes to mtime are ignored** (xv6 never writes it; keeping one
source of time keeps runs deterministic and the Sstc ``time`` CSR equal to
mtime).

``mtimecmp`` resets to 2**64 - 1 ("never"); QEMU raises no MTIP until the guest
first writes mtimecmp either. MTIP is level: pending while
``mtime >= mtimecmp``. The hart asks ``mtip_pending()`` (and uses
``next_deadline()`` to fast-forward idle time); ``on_change()`` is called
after every write to msip or mtimecmp so it re-evaluates at once.

Accesses of any size are split over the 32-bit registers (see regaccess);
offsets with no register read 0 and ignore writes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from machine.devices.base import Clock
from machine.devices.regaccess import read_split, write_split

CLINT_BASE = 0x0200_0000
CLINT_SIZE = 0x1_0000

MSIP_BASE = 0x0000
MTIMECMP_BASE = 0x4000
MTIME = 0xBFF8

MTIMECMP_NEVER = (1 << 64) - 1
_MASK64 = (1 << 64) - 1


class Clint:
    """msip, mtimecmp and mtime for ``num_harts`` harts.

    Queries: ``msip_pending(hart)``, ``mtip_pending(hart)``,
    ``next_deadline(hart)``, ``mtime()``. Hook: ``on_change()``.
    """

    name = "clint"

    def __init__(
        self,
        clock: Clock,
        base: int = CLINT_BASE,
        num_harts: int = 1,
        on_change: Callable[[], None] | None = None,
    ) -> None:
        if not 1 <= num_harts <= 4095:
            raise ValueError(f"CLINT: num_harts must be 1..4095, not {num_harts}")
        self.base = base
        self.size = CLINT_SIZE
        self.clock = clock
        self.num_harts = num_harts
        self.on_change = on_change
        self.msip = [0] * num_harts
        self.mtimecmp = [MTIMECMP_NEVER] * num_harts

    def reset(self) -> None:
        self.msip = [0] * self.num_harts
        self.mtimecmp = [MTIMECMP_NEVER] * self.num_harts

    # ----------------------------------------------------------- queries
    def mtime(self) -> int:
        return self.clock.now() & _MASK64

    def msip_pending(self, hart: int = 0) -> bool:
        return bool(self.msip[hart])

    def mtip_pending(self, hart: int = 0) -> bool:
        return self.mtime() >= self.mtimecmp[hart]

    def next_deadline(self, hart: int = 0) -> int | None:
        """The mtime at which MTIP next becomes pending.

        ``None`` when MTIP is already pending (no future edge) or mtimecmp
        holds its "never" value 2**64 - 1."""
        compare = self.mtimecmp[hart]
        if compare == MTIMECMP_NEVER or self.mtime() >= compare:
            return None
        return compare

    # ------------------------------------------------------------ access
    def read(self, offset: int, size: int) -> int:
        if offset == MTIME and size == 8:
            return self.mtime()
        return read_split(offset, size, 4, self._read_word)

    def write(self, offset: int, size: int, value: int) -> None:
        if size == 8 and MTIMECMP_BASE <= offset < MTIME and not offset & 7:
            hart = (offset - MTIMECMP_BASE) >> 3
            if hart < self.num_harts:
                self.mtimecmp[hart] = value & _MASK64  # both halves at once
                self._changed()
            return
        write_split(offset, size, value, 4, self._read_word, self._write_word)

    def _read_word(self, offset: int) -> int:
        if offset < MTIMECMP_BASE:
            hart = offset >> 2
            return self.msip[hart] if hart < self.num_harts else 0
        if offset < MTIME:
            hart = (offset - MTIMECMP_BASE) >> 3
            if hart >= self.num_harts:
                return 0
            return (self.mtimecmp[hart] >> (32 if offset & 4 else 0)) & 0xFFFF_FFFF
        if offset == MTIME:
            return self.mtime() & 0xFFFF_FFFF
        if offset == MTIME + 4:
            return self.mtime() >> 32
        return 0

    def _write_word(self, offset: int, value: int) -> None:
        if offset < MTIMECMP_BASE:
            hart = offset >> 2
            if hart < self.num_harts:
                self.msip[hart] = value & 1
                self._changed()
        elif offset < MTIME:
            hart = (offset - MTIMECMP_BASE) >> 3
            if hart < self.num_harts:
                old = self.mtimecmp[hart]
                if offset & 4:
                    self.mtimecmp[hart] = (old & 0xFFFF_FFFF) | (value << 32)
                else:
                    self.mtimecmp[hart] = (old & ~0xFFFF_FFFF & _MASK64) | value
                self._changed()
        # mtime (0xbff8/0xbffc) and every other offset: ignored

    def _changed(self) -> None:
        if self.on_change is not None:
            self.on_change()

    # --------------------------------------------------------- snapshots
    def snapshot(self) -> dict[str, Any]:
        return {"msip": list(self.msip), "mtimecmp": list(self.mtimecmp)}

    def restore(self, state: dict[str, Any]) -> None:
        msip = [int(v) & 1 for v in state["msip"]]
        mtimecmp = [int(v) & _MASK64 for v in state["mtimecmp"]]
        if len(msip) != self.num_harts or len(mtimecmp) != self.num_harts:
            raise ValueError("CLINT snapshot is for a different number of harts")
        self.msip = msip
        self.mtimecmp = mtimecmp
