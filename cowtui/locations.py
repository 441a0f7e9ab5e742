"""Where a pc is: the symbol+offset and file:line of kernel and user code.

Kernel pcs are looked up in the kernel's ELF. A user pc is looked up in the
ELF of the program the process runs, found where xv6 builds it: the process
``cowtest`` of ``xv6/kernel/kernel`` runs ``xv6/user/_cowtest`` (built with
-ggdb, as xv6's Makefile does). Without such a file (the teaching kernel's
programs ship stripped on its disk) a user pc has no symbol and no line.
"""

from __future__ import annotations

from pathlib import Path

from machine.elf import ElfError, ElfImage
from machine.introspect import trampoline
from machine.introspect.profiles import KERNBASE
from machine.machine import Machine


def _named(found) -> str | None:
    if found is None:
        return None
    symbol, offset = found
    return f"{symbol.name}+{offset:#x}" if offset else symbol.name


def _line(found: tuple[str, int] | None) -> str | None:
    return f"{found[0]}:{found[1]}" if found else None


class Locator:
    def __init__(self, machine: Machine, kernel: Path) -> None:
        self.machine = machine
        self.user_dir = Path(kernel).resolve().parent.parent / "user"
        self._programs: dict[str, ElfImage | None] = {}

    def program(self, name: str) -> ElfImage | None:
        """The user program ``name``'s ELF, if it lies where xv6 builds it."""
        if name not in self._programs:
            path = self.user_dir / f"_{name}"
            image = None
            if name and "/" not in name and path.is_file():
                try:
                    image = ElfImage.open(path)
                except ElfError:
                    image = None
            self._programs[name] = image
        return self._programs[name]

    def code_image(self, privilege: int, process: str | None) -> ElfImage:
        """The ELF of the code the hart runs: the kernel's, or in user mode the
        process's program (the kernel's when there is none: no user symbols)."""
        if privilege != 0 or not process:
            return self.machine.kernel
        return self.program(process) or self.machine.kernel

    def locate(self, pc: int, process: str | None = None) -> dict:
        """``{"pc", "symbol", "source"}`` for the trace format (None where unknown)."""
        alias = trampoline.kernel_address(self.machine.kernel, pc)
        if alias is not None:
            return {"pc": f"{pc:#x}", "symbol": trampoline.name(self.machine.kernel, pc),
                    "source": _line(self.machine.kernel.source_line(alias))}
        image = self.machine.kernel if pc >= KERNBASE else \
            self.program(process) if process is not None else None
        if image is None:
            return {"pc": f"{pc:#x}", "symbol": None, "source": None}
        return {"pc": f"{pc:#x}", "symbol": _named(image.symbol_at(pc)),
                "source": _line(image.source_line(pc))}
