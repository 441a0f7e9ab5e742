"""Seeded schedules: which hart runs next, and for how long, drawn from a
seeded generator (``--schedule seed=K``), so one seed is one interleaving
that replays exactly on every engine.

The generator is splitmix64 over one 64-bit integer: its whole state is that
integer, which snapshots and checkpoints keep (time travel in a seeded run
lands where a straight run was). Draws happen only at decisions the
scheduler takes at instruction counts (a quantum used up, a hart going to
sleep, a preemption asked at a watched store), never at host-side stops, so
every engine draws the same numbers at the same instructions.
"""

from __future__ import annotations

from dataclasses import dataclass

M64 = 0xFFFF_FFFF_FFFF_FFFF


class SeededDraws:
    """splitmix64: small, fast, and good enough to spread interleavings."""

    def __init__(self, seed: int) -> None:
        self.state = seed & M64

    def next(self) -> int:
        self.state = (self.state + 0x9E37_79B9_7F4A_7C15) & M64
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58_476D_1CE4_E5B9) & M64
        z = ((z ^ (z >> 27)) * 0x94D0_49BB_1331_11EB) & M64
        return z ^ (z >> 31)

    def below(self, bound: int) -> int:
        """A number in [0, bound), bound >= 1."""
        return self.next() % bound

    def chance(self, per_thousand: int) -> bool:
        return self.below(1000) < per_thousand


KINDS = ("round-robin", "seed", "pct")


@dataclass(frozen=True)
class Schedule:
    """How harts take turns:
      - ``round-robin``: in hart-id order, ``quantum`` ticks each;
      - ``seed=K``: quanta of 1..2*quantum ticks and the next hart drawn from K;
      - ``pct=K``: as seed=K, and besides, right after a store to a refcount
        or a PTE the hart may be preempted and the next turns made short, so
        harts interleave finely where COW races happen (what --explore runs;
        the preemptions are drawn from the same generator)."""

    quantum: int
    kind: str = "round-robin"
    seed: int | None = None

    def text(self) -> str:
        return self.kind if self.seed is None else f"{self.kind}={self.seed}"

    def describe(self) -> str:
        """The words that replay it: ``--quantum N`` and ``--schedule KIND=K``."""
        text = f"--quantum {self.quantum}"
        return text + (f" --schedule {self.text()}" if self.seed is not None else "")


class ScheduleError(ValueError):
    """A schedule written wrong (one line, for the CLI and scenarios)."""


def parse_schedule(text: str) -> tuple[str, int | None]:
    """``round-robin`` -> ('round-robin', None); ``seed=K`` / ``pct=K`` (K a
    non-negative integer) -> (kind, K)."""
    text = text.strip()
    if text == "round-robin":
        return "round-robin", None
    name, _, value = text.partition("=")
    name = name.strip()
    if name not in KINDS[1:] or not value.strip():
        raise ScheduleError(f"schedule must be 'round-robin', 'seed=K' or 'pct=K', not {text!r}")
    try:
        seed = int(value.strip(), 0)
    except ValueError:
        raise ScheduleError(f"schedule seed must be an integer, not {value.strip()!r}") from None
    if not 0 <= seed <= M64:
        raise ScheduleError(f"schedule seed must be 0..2**64-1, not {seed}")
    return name, seed
