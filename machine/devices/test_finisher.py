"""SiFive test finisher ("sifive,test0") of QEMU's virt board at 0x0010_0000.

A guest ends the emulation by writing one 32-bit word at offset 0:

* ``0x5555``               pass: exit status 0
* ``(code << 16) | 0x3333`` fail: exit status ``code`` (as in QEMU, a fail
  with code 0 therefore also exits with status 0; ``exit_kind`` still says
  ``"fail"``)
* ``0x7777``               reset request

Any other value, any other offset, and every read do nothing (reads are 0).
The finisher only records what the guest asked and calls a hook; stopping the
hart or resetting the board is the Machine's job.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

TEST_FINISHER_BASE = 0x0010_0000
TEST_FINISHER_SIZE = 0x1000

FINISHER_FAIL = 0x3333
FINISHER_PASS = 0x5555
FINISHER_RESET = 0x7777


class TestFinisher:
    """The guest's exit/reset register.

    Hooks: ``on_exit(status)`` after a pass or fail write, ``on_reset()``
    after a reset write. State: ``exit_status`` (``None`` until the guest
    exits), ``exit_kind`` (``"pass"``/``"fail"``/``None``) and
    ``reset_requested``.
    """

    __test__ = False  # not a pytest test class despite its name

    name = "test_finisher"

    def __init__(
        self,
        base: int = TEST_FINISHER_BASE,
        on_exit: Callable[[int], None] | None = None,
        on_reset: Callable[[], None] | None = None,
    ) -> None:
        self.base = base
        self.size = TEST_FINISHER_SIZE
        self.on_exit = on_exit
        self.on_reset = on_reset
        self.exit_status: int | None = None
        self.exit_kind: str | None = None
        self.reset_requested = False

    def reset(self) -> None:
        """Forget any exit or reset request."""
        self.exit_status = None
        self.exit_kind = None
        self.reset_requested = False

    def read(self, offset: int, size: int) -> int:
        return 0

    def write(self, offset: int, size: int, value: int) -> None:
        if offset != 0:
            return
        value &= 0xFFFF_FFFF
        command = value & 0xFFFF
        code = value >> 16
        if command == FINISHER_PASS:
            self._exit(0, "pass")
        elif command == FINISHER_FAIL:
            self._exit(code, "fail")
        elif command == FINISHER_RESET:
            self.reset_requested = True
            if self.on_reset is not None:
                self.on_reset()

    def _exit(self, status: int, kind: str) -> None:
        self.exit_status = status
        self.exit_kind = kind
        if self.on_exit is not None:
            self.on_exit(status)

    def snapshot(self) -> dict[str, Any]:
        return {
            "exit_status": self.exit_status,
            "exit_kind": self.exit_kind,
            "reset_requested": self.reset_requested,
        }

    def restore(self, state: dict[str, Any]) -> None:
        self.exit_status = state["exit_status"]
        self.exit_kind = state["exit_kind"]
        self.reset_requested = bool(state["reset_requested"])
