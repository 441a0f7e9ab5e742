"""Call stacks unwound from the live registers of the bundled kernel (DWARF
CFI, the trap vector's saved registers), and never an exception on a stack
that is garbage."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from machine.elf import ElfImage
from machine.guest import bundled_disk, bundled_kernel
from machine.introspect.callstack import StackFrame, call_stack, format_call_stack
from machine.machine import Machine, MachineConfig

BOOT_BUDGET = 2_000_000_000


def booted_to_shell() -> Machine:
    machine = Machine(MachineConfig(kernel=bundled_kernel(), disk=bundled_disk()))
    result = machine.run(BOOT_BUDGET, until=lambda: "$ " in machine.console_text())
    assert result.reason == "until", result
    return machine


def stacks_at(machine: Machine, function: str, count: int) -> list[list[StackFrame]]:
    machine.add_breakpoint(machine.symbol(function))
    found = []
    for _ in range(count):
        result = machine.run(BOOT_BUDGET)
        if result.reason != "breakpoint":
            break
        found.append(call_stack(machine, machine.kernel))
    machine.remove_breakpoint(machine.symbol(function))
    return found


def names(frames: list[StackFrame]) -> list[str | None]:
    return [f.symbol for f in frames]


@pytest.fixture(scope="module")
def forked() -> Machine:
    machine = booted_to_shell()
    machine.feed_console("cowdemo\n")
    return machine


def test_the_cow_fault_handler_is_called_by_usertrap(forked: Machine) -> None:
    stacks = stacks_at(forked, "cowfault", 1)
    assert stacks, "cowdemo takes no COW fault"
    frames = stacks[0]
    assert names(frames) == ["cowfault", "usertrap"]
    assert frames[0].offset == 0 and frames[0].file == "kernel/cow.c"
    assert frames[1].file == "kernel/trap.c"
    # the line of the call to cowfault, not the line after it
    source = (bundled_kernel().parents[1] / "kernel" / "trap.c").read_text().splitlines()
    assert "cowfault(" in source[frames[1].line - 1]


def test_memmove_inside_copyout_names_copyout_and_the_system_call(forked: Machine) -> None:
    stacks = [s for s in stacks_at(forked, "memmove", 40) if "copyout" in names(s)]
    assert stacks, "no copyout ran memmove"
    frames = stacks[0]
    assert frames[0].symbol == "memmove" and frames[1].symbol == "copyout"
    assert names(frames)[-1] == "usertrap"
    assert "syscall" in names(frames)
    text = format_call_stack(frames)
    assert text.startswith("memmove (kernel/string.c:")
    assert " ← copyout (kernel/vm.c:" in text


def test_a_trap_taken_in_the_kernel_continues_into_the_interrupted_code() -> None:
    machine = booted_to_shell()
    machine.add_breakpoint(machine.symbol("kerneltrap"))
    for _ in range(5):
        assert machine.run(BOOT_BUDGET).reason == "breakpoint"
        frames = call_stack(machine, machine.kernel)
        assert names(frames)[:2] == ["kerneltrap", "kernelvec"]
        # above the vector: the interrupted function, at sepc exactly
        assert frames[2].pc == machine.read_csr("sepc")
        assert frames[2].symbol not in (None, "kernelvec")
        assert names(frames)[-1] == "_entry"   # down to the boot stack


def test_format_limits_and_marks_what_it_leaves_out() -> None:
    frames = [StackFrame(0x80001f56, "memmove", 0x60, "kernel/string.c", 34),
              StackFrame(0x80003150, "copyout", 0x56, "kernel/vm.c", 412),
              StackFrame(0x80004000, "sys_read", 0x20, "kernel/sysfile.c", 80),
              StackFrame(0x1234, None, 0, None, None)]
    assert format_call_stack(frames) == (
        "memmove+0x60 (kernel/string.c:34) ← copyout (kernel/vm.c:412) "
        "← sys_read (kernel/sysfile.c:80) ← 0x1234")
    assert format_call_stack(frames, limit=2) == (
        "memmove+0x60 (kernel/string.c:34) ← copyout (kernel/vm.c:412) ← …")


class GarbageMachine:
    """Registers and memory of random values: the unwinder must stay bounded."""

    def __init__(self, kernel: ElfImage, seed: int, privilege: int) -> None:
        rng = random.Random(seed)
        self.kernel = kernel
        code = [s.address for s in kernel.symbols() if s.is_function]
        self.pc = rng.choice(code) + rng.randrange(0, 64, 2)
        self.privilege = privilege
        self._regs = [0] + [rng.choice([rng.getrandbits(64), 0x87F00000 + rng.randrange(0, 1 << 14, 8),
                                        rng.choice(code)]) for _ in range(31)]
        self._rng = rng

    def registers(self) -> list[int]:
        return list(self._regs)

    def read_csr(self, name: str) -> int | None:
        return {"satp": 0, "stvec": self.kernel.symbol("kernelvec").address,
                "sepc": self._rng.getrandbits(64)}.get(name)

    def read_virtual(self, va: int, length: int, satp: int) -> bytes | None:
        if self._rng.random() < 0.1:
            return None
        return self._rng.getrandbits(8 * length).to_bytes(length, "little")


@settings(max_examples=200, deadline=None)
@given(seed=st.integers(0, 1 << 32), privilege=st.sampled_from([0, 1, 3]),
       max_frames=st.integers(0, 40))
def test_garbage_stacks_give_a_short_stack_never_an_exception(seed: int, privilege: int,
                                                             max_frames: int) -> None:
    kernel = _kernel()
    frames = call_stack(GarbageMachine(kernel, seed, privilege), kernel, max_frames=max_frames)
    assert 1 <= len(frames) <= max(1, max_frames)
    format_call_stack(frames)


_KERNEL: list[ElfImage] = []


def _kernel() -> ElfImage:
    if not _KERNEL:
        _KERNEL.append(ElfImage.open(bundled_kernel()))
    return _KERNEL[0]


def test_an_inlined_function_is_a_frame_of_its_own_named_at_its_call_line() -> None:
    # devintr() is static and inlined into usertrap and kerneltrap: a device
    # interrupt's plic_claim() is called from devintr's line, and devintr from
    # the trap handler's, at one pc (gdb shows the same two frames)
    machine = booted_to_shell()
    machine.feed_console("echo inlined\n")   # UART interrupts
    stacks = stacks_at(machine, "plic_claim", 1)
    assert stacks, "no device interrupt claimed"
    frames = stacks[0]
    assert names(frames)[:2] == ["plic_claim", "devintr"]
    devintr, handler = frames[1], frames[2]
    assert devintr.inlined and not handler.inlined and devintr.pc == handler.pc
    assert handler.symbol in ("usertrap", "kerneltrap")
    assert devintr.file == handler.file == "kernel/trap.c"
    source = (bundled_kernel().parents[1] / "kernel" / "trap.c").read_text().splitlines()
    assert "plic_claim()" in source[devintr.line - 1]
    assert "devintr()" in source[handler.line - 1]
    assert f" ← devintr (kernel/trap.c:{devintr.line}) ← {handler.symbol} (kernel/trap.c:" \
        in format_call_stack(frames)
