"""Platform-level interrupt controller (SiFive PLIC) at 0x0c00_0000.

Laid out as on QEMU's virt board: 96 sources (ids 1..95; id 0 means "no
interrupt"), 7 priority levels, and two contexts per hart: context ``2*h`` is
hart h's M-mode (MEIP), context ``2*h + 1`` its S-mode (SEIP).

Registers (all 32-bit; other access sizes are split over them):

* ``0x000000 + 4*id``                 priority of source id (0 = never)
* ``0x001000 + 4*w``                  pending bits, ids 32w..32w+31 (read-only)
* ``0x002000 + 0x80*ctx + 4*w``       enable bits of context ctx
* ``0x200000 + 0x1000*ctx``           priority threshold of context ctx
* ``0x200004 + 0x1000*ctx``           claim (read) / complete (write)

Priority and threshold are WARL: only the low 3 bits are kept.

Gateways (level-triggered, as QEMU's sifive_plic): every source has an input
line, given to its device by ``irq_line(id)``. While a source is not in
flight (claimed and not yet completed) its pending bit follows the line: set
when the line is high, cleared when it drops. A claim returns the pending,
enabled source with the highest priority above the context's threshold (ties:
the lowest id), clears its pending bit and puts it in flight: the line is then
ignored. Completing it ends the flight; if the line is still high the source
is pending again at once. A completion naming a source that is not in flight
or not enabled for that context is ignored (PLIC spec).

A context's output (``context_pending(ctx)``) is asserted while a claim would
return a source. ``on_change()`` is called whenever some context's output
flips.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from machine.devices.base import IrqLine
from machine.devices.regaccess import read_split, write_split

PLIC_BASE = 0x0C00_0000
PLIC_SIZE = 0x0400_0000

PRIORITY_BASE = 0x0000
PENDING_BASE = 0x1000
ENABLE_BASE = 0x2000
ENABLE_STRIDE = 0x80
CONTEXT_BASE = 0x20_0000
CONTEXT_STRIDE = 0x1000

NUM_SOURCES = 96  # QEMU virt: VIRT_IRQCHIP_NUM_SOURCES (ids 1..95)
PRIORITY_MASK = 7  # QEMU virt: 7 priorities, 3-bit WARL registers


class Plic:
    """The PLIC: sources' gateways and per-context enable/threshold/claim.

    Wiring: ``irq_line(id)`` returns the callable ``level -> None`` a device
    drives. Query: ``context_pending(ctx)``. Hook: ``on_change()``.
    Contexts: ``2*hart`` (M) and ``2*hart + 1`` (S).
    """

    name = "plic"

    def __init__(
        self,
        base: int = PLIC_BASE,
        num_harts: int = 1,
        num_sources: int = NUM_SOURCES,
        on_change: Callable[[], None] | None = None,
    ) -> None:
        if not 2 <= num_sources <= 1024:
            raise ValueError(f"PLIC: num_sources must be 2..1024, not {num_sources}")
        if not 1 <= num_harts <= 7936:
            raise ValueError(f"PLIC: num_harts must be 1..7936, not {num_harts}")
        self.base = base
        self.size = PLIC_SIZE
        self.num_sources = num_sources
        self.num_contexts = 2 * num_harts
        self.on_change = on_change
        self._words = (num_sources + 31) // 32
        # sources 1..num_sources-1 exist; bit 0 of every mask stays clear
        self._valid = ((1 << num_sources) - 1) & ~1
        self.level = 0  # input line levels, one bit per source
        self.reset()

    def reset(self) -> None:
        """Power-on state: every register 0, no source pending or in flight.

        Input line levels are kept: they belong to the devices."""
        self.priority = [0] * self.num_sources
        self.enable = [0] * self.num_contexts
        self.threshold = [0] * self.num_contexts
        self.claimed = 0
        self.pending = self.level & self._valid
        self._outputs = [False] * self.num_contexts
        self._update()

    # ------------------------------------------------------------ wiring
    def irq_line(self, source: int) -> IrqLine:
        """The input line of ``source`` (1..num_sources-1)."""
        if not 1 <= source < self.num_sources:
            raise ValueError(
                f"PLIC: no interrupt source {source} (1..{self.num_sources - 1})"
            )

        def set_level(level: bool) -> None:
            self.set_level(source, level)

        return set_level

    def set_level(self, source: int, level: bool) -> None:
        bit = 1 << source
        if level:
            self.level |= bit
        else:
            self.level &= ~bit
        if not self.claimed & bit:
            if level:
                self.pending |= bit
            else:
                self.pending &= ~bit
            self._update()

    # ----------------------------------------------------------- queries
    def context_pending(self, context: int) -> bool:
        """Whether context's external interrupt line (MEIP/SEIP) is asserted."""
        return self._outputs[context]

    def best_source(self, context: int) -> int:
        """The id a claim by ``context`` would return now (0: none), no side effect."""
        candidates = self.pending & ~self.claimed & self.enable[context]
        best = 0
        best_priority = self.threshold[context]
        priority = self.priority
        while candidates:
            low = candidates & -candidates
            source = low.bit_length() - 1
            if priority[source] > best_priority:
                best = source
                best_priority = priority[source]
            candidates ^= low
        return best

    def in_flight(self, source: int) -> bool:
        return bool(self.claimed >> source & 1)

    # ------------------------------------------------------ claim/complete
    def claim(self, context: int) -> int:
        source = self.best_source(context)
        if source:
            bit = 1 << source
            self.pending &= ~bit
            self.claimed |= bit
            self._update()
        return source

    def complete(self, context: int, source: int) -> None:
        if not 1 <= source < self.num_sources:
            return
        bit = 1 << source
        if not self.claimed & bit or not self.enable[context] & bit:
            return
        self.claimed &= ~bit
        if self.level & bit:
            self.pending |= bit
        self._update()

    def _update(self) -> None:
        outputs = [
            self.best_source(context) != 0 for context in range(self.num_contexts)
        ]
        if outputs != self._outputs:
            self._outputs = outputs
            if self.on_change is not None:
                self.on_change()

    # ------------------------------------------------------------ access
    def read(self, offset: int, size: int) -> int:
        return read_split(offset, size, 4, self._read_word)

    def write(self, offset: int, size: int, value: int) -> None:
        write_split(offset, size, value, 4, self._peek_word, self._write_word)

    def _read_word(self, offset: int) -> int:
        if offset >= CONTEXT_BASE:
            context, register = divmod(offset - CONTEXT_BASE, CONTEXT_STRIDE)
            if context < self.num_contexts and register == 4:
                return self.claim(context)
        return self._peek_word(offset)

    def _peek_word(self, offset: int) -> int:
        """A register's value without side effects (the claim register reads 0)."""
        if offset < PENDING_BASE:
            source = offset >> 2
            return self.priority[source] if source < self.num_sources else 0
        if offset < ENABLE_BASE:
            word = (offset - PENDING_BASE) >> 2
            return (
                (self.pending >> (32 * word)) & 0xFFFF_FFFF if word < self._words else 0
            )
        if offset < CONTEXT_BASE:
            context, register = divmod(offset - ENABLE_BASE, ENABLE_STRIDE)
            word = register >> 2
            if context < self.num_contexts and word < self._words:
                return (self.enable[context] >> (32 * word)) & 0xFFFF_FFFF
            return 0
        context, register = divmod(offset - CONTEXT_BASE, CONTEXT_STRIDE)
        if context < self.num_contexts and register == 0:
            return self.threshold[context]
        return 0

    def _write_word(self, offset: int, value: int) -> None:
        if offset < PENDING_BASE:
            source = offset >> 2
            if source < self.num_sources:
                self.priority[source] = value & PRIORITY_MASK
                self._update()
        elif offset < ENABLE_BASE:
            pass  # pending bits are read-only
        elif offset < CONTEXT_BASE:
            context, register = divmod(offset - ENABLE_BASE, ENABLE_STRIDE)
            word = register >> 2
            if context < self.num_contexts and word < self._words:
                shift = 32 * word
                mask = 0xFFFF_FFFF << shift
                enable = (self.enable[context] & ~mask) | ((value << shift) & mask)
                self.enable[context] = enable & self._valid
                self._update()
        else:
            context, register = divmod(offset - CONTEXT_BASE, CONTEXT_STRIDE)
            if context >= self.num_contexts:
                return
            if register == 0:
                self.threshold[context] = value & PRIORITY_MASK
                self._update()
            elif register == 4:
                self.complete(context, value)

    # --------------------------------------------------------- snapshots
    def snapshot(self) -> dict[str, Any]:
        return {
            "priority": list(self.priority),
            "enable": list(self.enable),
            "threshold": list(self.threshold),
            "pending": self.pending,
            "claimed": self.claimed,
            "level": self.level,
        }

    def restore(self, state: dict[str, Any]) -> None:
        """Restore registers and gateway state; no hook is called (the
        Machine re-evaluates interrupts after restoring every device)."""
        if (
            len(state["priority"]) != self.num_sources
            or len(state["enable"]) != self.num_contexts
        ):
            raise ValueError("PLIC snapshot is for a different configuration")
        self.priority = [int(v) & PRIORITY_MASK for v in state["priority"]]
        self.enable = [int(v) & self._valid for v in state["enable"]]
        self.threshold = [int(v) & PRIORITY_MASK for v in state["threshold"]]
        self.pending = int(state["pending"]) & self._valid
        self.claimed = int(state["claimed"]) & self._valid
        self.level = int(state["level"]) & self._valid
        self._outputs = [self.best_source(c) != 0 for c in range(self.num_contexts)]
