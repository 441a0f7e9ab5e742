"""Debian's real gdb-multiarch, in batch mode, against ``cowtui --headless --gdb``
on the teaching kernel: the cow-lab debugging session the issue asks for."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from .support import GDB, KERNEL, REPO, CowtuiGdb, GdbBatch, needs_gdb, run_gdb

pytestmark = needs_gdb

SESSION = """\
set pagination off
set confirm off
directory {source}
target remote 127.0.0.1:{port}
break cowfault
continue
bt
info registers sepc scause stval
x/4gx $stval
eval "monitor pte %#lx", $stval
monitor check
next
next
set $frame = (*pte >> 10) << 12
eval "monitor refcount %#lx", $frame
print &refcnt[($frame - 0x80000000) >> 12]
rwatch -l *pte
continue
delete 2
eval "watch *(long *)%#lx", pte
continue
delete
watch refcnt[($frame - 0x80000000) >> 12]
continue
delete
finish
finish
delete
stepi
echo STEPPED\\n
info registers pc
continue
echo INTERRUPTED\\n
info registers priv
detach
"""


def _line_of(source: str, text: str) -> int:
    """The number of the line of the teaching kernel's ``source`` that holds ``text``."""
    lines = (REPO / "machine" / "guest" / source).read_text().splitlines()
    return next(number for number, line in enumerate(lines, 1) if text in line)


@pytest.fixture(params=["native", "fast"])
def cowtui(request):
    """On the C core and on the Python engine: the stub only uses the Machine's API."""
    server = CowtuiGdb("--engine", request.param)
    yield server
    server.kill()


def test_a_cow_lab_gdb_session(tmp_path: Path, cowtui: CowtuiGdb) -> None:
    gdb = GdbBatch(tmp_path, SESSION.format(source=REPO / "machine" / "guest", port=cowtui.port))
    try:
        lines = gdb.read_until(lambda lines: lines[-1].startswith("pc ") and
                               "STEPPED" in lines)
        # The last continue never stops by itself: once cowtui says it runs
        # from the pc gdb just showed, Ctrl-C gdb as a user would.
        pc = int(lines[-1].split()[1], 16)
        cowtui.wait_for(f"gdb: running from pc {pc:#x}")
        gdb.interrupt()
    finally:
        output = gdb.finish(timeout=120)
    lines = output.splitlines()
    status, trace = cowtui.finish()

    assert "Breakpoint 1, cowfault (" in output
    frames = [line for line in lines if re.match(r"#\d+ ", line)]
    assert frames[0].startswith("#0  cowfault (") and " in usertrap () at kernel/trap.c" \
        in frames[1], frames
    registers = {line.split()[0]: line.split()[1] for line in lines
                 if re.match(r"(sepc|scause|stval) +0x", line)}
    assert registers["scause"] == "0xf"          # a store page fault ...
    stval = int(registers["stval"], 16)
    # ... at a user address, which x/4gx reads in the faulting process's page
    assert re.search(rf"^{stval:#x}:\s+0x[0-9a-f]{{16}}\s+0x[0-9a-f]{{16}}$", output, re.MULTILINE)
    pte = re.search(r"^pid (\d+)  va (0x[0-9a-f]+)  \(4 KiB page, L0 entry at (0x[0-9a-f]+)\)$",
                    output, re.MULTILINE)
    assert pte and int(pte.group(2), 16) == stval & ~0xFFF, output
    assert re.search(r"^PTE 0x[0-9a-f]{16}  VR-?.U-?A.? ?.*COW", output, re.MULTILINE), output
    assert re.search(r"checked \d+ process\(es\), \d+ user frame\(s\): no violation", output)
    # the watchpoint on the PTE fires at cowfault's store, W set and COW cleared
    check = _line_of("kernel/cow.c", "(*pte & (PTE_V | PTE_U | PTE_COW))")
    read = re.search(r"Hardware read watchpoint 2: -location \*pte\s+Value = (\d+)\s+"
                     rf"0x[0-9a-f]+ in cowfault .* at kernel/cow.c:{check}", output)
    assert read, output     # the load of *pte in the COW check, seen as it happens
    watch = re.search(r"Hardware watchpoint 3: \*\(long \*\)(0x[0-9a-f]+)\s+Old value = (\d+)\s+"
                      r"New value = (\d+)", output)
    assert watch, output
    assert int(watch.group(1), 16) == int(pte.group(3), 16)   # the address monitor pte named
    old, new = int(watch.group(2)), int(watch.group(3))
    assert int(read.group(1)) == old
    assert old >> 8 & 1 and not old & 4 and new & 4 and not new >> 8 & 1
    assert int(pte.group(3), 16) > 0x80000000
    # the refcount: where monitor refcount says it lives, and its watchpoint fires in kfree
    where = re.search(r"refcnt's entry for it at (0x[0-9a-f]+) \(4 bytes\)", output)
    pointer = re.search(r"= \(int \*\) (0x[0-9a-f]+) <refcnt\+\d+>", output)
    assert where and pointer and where.group(1) == pointer.group(1), output
    count = re.search(r"Hardware watchpoint 4: refcnt\[.*\]\s+Old value = (\d+)\s+"
                      r"New value = (\d+)\s+.*kfree", output)
    assert count and (int(count.group(1)), int(count.group(2))) == (2, 1), output
    # finish: back in usertrap with cowfault's return value (0: resolved)
    # (gdb may put "warning: Source file is more recent than executable." before
    # the source line: a checkout's file times are in no particular order)
    assert re.search(r"in usertrap \(\) at kernel/trap.c:\d+\n(?:.*\n){1,2}"
                     r"Value returned is \$\d+ = 0", output), output
    assert "Program received signal SIGINT" in output, output
    assert re.search(r"^priv +0x[013]\s", output, re.MULTILINE), output
    assert "[Inferior 1 (Remote target) detached]" in output
    assert status in (0, 1) and "summary: instructions=" in trace, trace
    assert "Traceback" not in "\n".join(cowtui.stderr)


# What the xv6 lab's .gdbinit (from .gdbinit.tmpl-riscv) says, port filled in.
LAB_GDBINIT = """\
set confirm off
set architecture riscv:rv64
target remote 127.0.0.1:{port}
symbol-file kernel/kernel
set disassemble-next-line auto
set riscv use-compressed-breakpoints yes
"""


def test_the_lab_gdbinit_attaches(tmp_path: Path) -> None:
    """gdb-multiarch started in an xv6 directory with the lab's .gdbinit."""
    server = CowtuiGdb()
    try:
        (tmp_path / "kernel").mkdir()
        (tmp_path / "kernel" / "kernel").write_bytes(KERNEL.read_bytes())
        (tmp_path / ".gdbinit").write_text(LAB_GDBINIT.format(port=server.port))
        result = subprocess.run(
            [GDB, "-batch", "-iex", f"set auto-load safe-path {tmp_path}",
             "-ex", "break cowfault", "-ex", "continue", "-ex", "monitor faults", "-ex", "detach"],
            cwd=tmp_path, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120,
            check=False)
        _, trace = server.finish()
    finally:
        server.kill()
    output = result.stdout + result.stderr   # monitor output goes to gdb's stderr here
    assert "Breakpoint 1, cowfault (" in output, output
    assert "1 page fault(s), the last 1:" in output
    assert "[Inferior 1 (Remote target) detached]" in output
    assert "end=gdb-detached" in trace


def test_a_user_breakpoint_set_from_the_kernel(tmp_path: Path) -> None:
    """In cowfault, a breakpoint at sepc (a user address the kernel's table
    lacks) lands in the faulting process's text: continuing stops in U-mode
    at the store being retried, now that its page is private."""
    server = CowtuiGdb()
    try:
        output = run_gdb(tmp_path, f"target remote 127.0.0.1:{server.port}\n"
                         "break cowfault\ncontinue\ndelete\n"
                         'eval "break *%#lx", $sepc\ncontinue\n'
                         "info registers priv\nx/i $pc\ndetach\n", timeout=120)
        server.finish()
    finally:
        server.kill()
    user_break = re.search(r"Breakpoint 2 at (0x[0-9a-f]+)", output)
    assert user_break and int(user_break.group(1), 16) < 0x80000000, output
    assert f"Breakpoint 2, 0x{int(user_break.group(1), 16):016x} in ?? ()" in output, output
    assert re.search(r"^priv +0x0\s+prv:0 \[User/Application\]", output, re.MULTILINE), output
    assert re.search(rf"=> {user_break.group(1)}:\s+s[bhwd]\s", output), output   # a store
