"""The call stack of the current hart, for messages that say who called whom:
``memmove+0x60 (kernel/string.c:34) ← copyout (kernel/vm.c:412) ← sys_read``.

Unwinding, one frame at a time, from the live registers:
- DWARF CFI (``ElfImage.unwind_rule``) says where the function at a pc keeps
  its caller's sp (the CFA), ra and callee-saved registers;
- assembly without CFI (xv6's kernelvec, swtch) is read instead: the
  instructions from its symbol up to the pc are scanned for ``addi sp, sp, -N``
  and ``sd reg, off(sp)``. When that function is the trap vector (stvec), the
  frame above it is the interrupted code: its pc is sepc and its registers
  are the saved ones, so a stack continues across a trap taken in the kernel;
- failing both, frame pointers (s0 = the CFA; ra at s0-8, the caller's s0 at
  s0-16), as kernels built with -fno-omit-frame-pointer (xv6) keep them.
A caller frame counts only if the instruction before its return address is a
call (jal/jalr/c.jalr writing ra), so the bottom of a stack (usertrap entered
by a jump from the trampoline, forkret entered from swtch) ends it cleanly
instead of adding a garbage frame. Every memory read goes through
``Machine.read_virtual`` (None when unmapped) and the number of frames is
bounded: a garbage stack gives a short stack, never an exception.

A caller frame's ``pc`` is its return address; its symbol and line are looked
up at ``pc - 1`` (the call instruction), so a call that is a function's last
instruction (a noreturn ``panic(...)``) names the right function and line.
Functions the compiler inlined at a pc are frames of their own, as in gdb
(``r_stval (kernel/riscv.h:260) ← usertrap (kernel/trap.c:73)``): same pc,
``inlined`` set, and the frame around each names the line of the inlined call.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, replace
from typing import Protocol

from machine.elf import ElfImage
from machine.isa.decoder import decode

_MASK = (1 << 64) - 1
RA, SP, FP = 1, 2, 8
_PRIV_USER, _PRIV_MACHINE = 0, 3
_SCAN_LIMIT = 64  # instructions read when looking for an assembly prologue


class _Machine(Protocol):  # what unwinding needs of machine.Machine
    kernel: ElfImage
    pc: int
    privilege: int

    def registers(self) -> list[int]: ...
    def read_csr(self, name_or_number: str | int) -> int | None: ...
    def read_virtual(self, va: int, length: int, satp: int) -> bytes | None: ...


@dataclass(frozen=True, slots=True)
class StackFrame:
    pc: int
    symbol: str | None  # function name, None if unknown
    offset: int  # pc - symbol start (0 if unknown)
    file: str | None  # source file as DWARF names it (e.g. "kernel/vm.c")
    line: int | None
    inlined: bool = False  # a function inlined into the next frame, which has the same pc


def call_stack(machine: _Machine, image: ElfImage, *, max_frames: int = 32) -> list[StackFrame]:
    """Frame 0 is the current pc. In the kernel, the kernel's stack (read
    with the kernel's ELF); in user mode, the user program's stack, read with
    ``image`` when it is that program's ELF (given the kernel's, a user pc
    gets one frame with no symbol)."""
    user = machine.privilege == _PRIV_USER
    code = image if user else machine.kernel
    if user and code is machine.kernel:
        return [StackFrame(machine.pc, None, 0, None, None)]
    satp = 0 if machine.privilege == _PRIV_MACHINE else (machine.read_csr("satp") or 0)
    unwinder = _Unwinder(machine, code, satp)
    regs = dict(enumerate(machine.registers()))
    pc, is_return = machine.pc, False
    frames: list[StackFrame] = []
    visited: set[tuple[int, int]] = set()
    while len(frames) < max(1, max_frames):
        frames.extend(_described(code, pc, is_return))
        visited.add((pc, regs.get(SP, 0)))
        step = unwinder.caller(pc, regs, is_return)
        if step is None:
            break
        pc, regs, is_return = step
        if (pc, regs.get(SP, 0)) in visited:
            break
    return frames[:max(1, max_frames)]


def format_call_stack(frames: list[StackFrame], *, limit: int | None = None) -> str:
    """Innermost first, joined by arrows; frame 0 keeps its offset."""
    shown = frames if limit is None else frames[:limit]
    parts = []
    for i, frame in enumerate(shown):
        if frame.symbol is None:
            name = f"{frame.pc:#x}"
        elif i == 0 and frame.offset:
            name = f"{frame.symbol}+{frame.offset:#x}"
        else:
            name = frame.symbol
        if frame.file is not None and frame.line is not None:
            name += f" ({frame.file}:{frame.line})"
        parts.append(name)
    if len(shown) < len(frames):
        parts.append("…")
    return " ← ".join(parts)


def call_address(image: ElfImage, return_address: int) -> int:
    """The address of the call instruction that returns to ``return_address``
    (4 bytes before it, or 2 for a compressed c.jalr)."""
    for length in (4, 2):
        if _is_call(image, return_address - length, length):
            return return_address - length
    return return_address


def _is_call(image: ElfImage, address: int, length: int) -> bool:
    data = image.read(address, 4) or image.read(address, 2)
    if data is None:
        return False
    decoded = decode(int.from_bytes(data, "little"))
    return (decoded is not None and decoded.length == length
            and decoded.base.name in ("jal", "jalr") and decoded.base_operands.get("rd") == RA)


# Per image, the frames at each (pc, is_return) seen: a pc always has the same
# ones, and sharing them keeps every recorded store's stack small (time
# travel pickles thousands of them per checkpoint; a shared frame is one).
_DESCRIBED: weakref.WeakKeyDictionary[ElfImage, dict[tuple[int, bool], tuple[StackFrame, ...]]] \
    = weakref.WeakKeyDictionary()


def _described(image: ElfImage, pc: int, is_return: bool) -> tuple[StackFrame, ...]:
    known = _DESCRIBED.get(image)
    if known is None:
        known = _DESCRIBED[image] = {}
    frames = known.get((pc, is_return))
    if frames is None:
        frames = known[(pc, is_return)] = tuple(_describe(image, pc, is_return))
    return frames


def _describe(image: ElfImage, pc: int, is_return: bool) -> list[StackFrame]:
    """The frames at one pc: the functions inlined there, innermost first,
    then the real function."""
    lookup = pc - 1 if is_return else pc
    found = image.symbol_at(lookup)
    symbol, offset = (found[0].name, pc - found[0].address) if found else (None, 0)
    enclosing = image.inlined_at(lookup)
    if enclosing is None:
        where = image.source_line(lookup)
        file, line = where if where else (None, None)
        return [StackFrame(pc, symbol, offset, file, line)]
    innermost = enclosing.inlined[0].file if enclosing.inlined else enclosing.file
    where = image.source_line_in(lookup, innermost) if innermost else image.source_line(lookup)
    file, line = where if where else (None, None)
    frames: list[StackFrame] = []
    for call in enclosing.inlined:
        frames.append(StackFrame(pc, call.function, 0, file, line, inlined=True))
        file, line = call.call_file, call.call_line
    frames.append(StackFrame(pc, symbol, offset, file, line))
    # GCC's clones inline the function into its own clone (mappages ←
    # mappages): one frame, at the inner line
    for i in range(len(frames) - 1, 0, -1):
        if frames[i - 1].inlined and frames[i - 1].symbol == frames[i].symbol:
            frames[i - 1:i + 1] = [replace(frames[i], file=frames[i - 1].file,
                                           line=frames[i - 1].line)]
    return frames


class _Unwinder:
    def __init__(self, machine: _Machine, image: ElfImage, satp: int) -> None:
        self.machine = machine
        self.image = image
        self.satp = satp
        # Memory does not change during one unwind: each page of the stack is
        # translated and read once (a walk per 8-byte read made unwinding slow).
        self._pages: dict[int, bytes | None] = {}

    def caller(self, pc: int, regs: dict[int, int], is_return: bool
               ) -> tuple[int, dict[int, int], bool] | None:
        """(the caller's pc, its registers, whether that pc is a return
        address), or None where the stack ends or cannot be read."""
        lookup = pc - 1 if is_return else pc
        rule = self.image.unwind_rule(lookup)
        if rule is not None:
            if rule.return_address_undefined:
                return None
            cfa = (regs.get(rule.cfa_register, 0) + rule.cfa_offset) & _MASK
            return self._finish(regs, cfa, rule.saved, None)
        found = self.image.symbol_at(lookup)
        if found is not None:
            sym, _ = found
            scanned = self._scan_prologue(sym.address, pc, regs.get(SP, 0))
            if scanned is not None:
                cfa, saved = scanned
                if self._is_trap_vector(sym.address):
                    return self._across_trap(regs, cfa, saved)
                if RA in saved or not is_return:
                    return self._finish(regs, cfa, saved, None)
        if not is_return:  # a leaf without CFI: ra still holds the return address
            return self._finish(regs, regs.get(SP, 0), {}, None)
        return self._by_frame_pointer(regs)

    def _finish(self, regs: dict[int, int], cfa: int, saved: dict[int, int],
                ra: int | None) -> tuple[int, dict[int, int], bool] | None:
        caller = dict(regs)
        for register, offset in saved.items():
            value = self._read_u64(cfa + offset)
            if value is None:
                return None
            caller[register] = value
        caller[SP] = cfa
        if cfa < regs.get(SP, 0):  # the stack grows down: a caller's frame is above
            return None
        return_address = caller.get(RA, 0) if ra is None else ra
        if not self._follows_call(return_address):
            return None
        return return_address, caller, True

    def _by_frame_pointer(self, regs: dict[int, int]
                          ) -> tuple[int, dict[int, int], bool] | None:
        fp, sp = regs.get(FP, 0), regs.get(SP, 0)
        if fp & 7 or not sp < fp <= sp + (1 << 16):
            return None
        return self._finish(regs, fp, {RA: -8, FP: -16}, None)

    def _across_trap(self, regs: dict[int, int], cfa: int, saved: dict[int, int]
                     ) -> tuple[int, dict[int, int], bool] | None:
        """Above the trap vector's frame: the interrupted code, at sepc, with
        the registers the vector saved."""
        interrupted = dict(regs)
        for register, offset in saved.items():
            value = self._read_u64(cfa + offset)
            if value is None:
                return None
            interrupted[register] = value
        interrupted[SP] = cfa
        sepc = self.machine.read_csr("sepc")
        if sepc is None or self.image.symbol_at(sepc) is None:
            return None
        return sepc, interrupted, False

    def _is_trap_vector(self, start: int) -> bool:
        stvec = self.machine.read_csr("stvec")
        if stvec is None:
            return False
        base = stvec & ~3
        found = self.image.symbol_at(base)
        return found is not None and found[0].address == start

    def _scan_prologue(self, start: int, stop: int, sp: int
                       ) -> tuple[int, dict[int, int]] | None:
        """(CFA, register -> slot offset from the CFA) for assembly that
        moves sp down and stores registers below it, from what the
        instructions before ``stop`` (they have run) did; None if they do
        not look like that."""
        adjust = 0
        slots: dict[int, int] = {}
        address = start
        for _ in range(_SCAN_LIMIT):
            if address >= stop:
                break
            decoded = self._decode_at(address)
            if decoded is None:
                return None
            name, ops = decoded.base.name, decoded.base_operands
            if name == "addi" and ops.get("rd") == SP and ops.get("rs1") == SP:
                adjust += ops["imm_i"]
            elif name == "sd" and ops.get("rs1") == SP and ops.get("rs2") not in slots:
                slots[ops["rs2"]] = ops["imm_s"] + adjust  # relative to the entry sp
            elif name in ("jal", "jalr"):
                break
            address += decoded.length
        if adjust >= 0:
            return None
        cfa = (sp - adjust) & _MASK
        return cfa, {r: off for r, off in slots.items() if r != SP}

    def _follows_call(self, return_address: int) -> bool:
        return call_address(self.image, return_address) != return_address

    def _decode_at(self, address: int):
        data = self.image.read(address, 4) or self.image.read(address, 2)
        return decode(int.from_bytes(data, "little")) if data is not None else None

    def _read_u64(self, address: int) -> int | None:
        address &= _MASK
        if address & 7:
            return None
        page = address & ~0xFFF
        if page not in self._pages:
            self._pages[page] = self.machine.read_virtual(page, 4096, self.satp)
        data = self._pages[page]
        if data is None or len(data) != 4096:
            return None
        offset = address - page
        return int.from_bytes(data[offset:offset + 8], "little")
