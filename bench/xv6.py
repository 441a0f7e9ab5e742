"""A student's own xv6-riscv cow-lab build, on cowtui and on QEMU, in one run.

  python bench/xv6.py XV6_DIR [--engine native] [--skip-usertests]
                       [--time-travel N]

XV6_DIR is a built xv6 lab tree (kernel/kernel and fs.img, with user programs
cowtest and usertests): yours, or a handout you built outside this repository
(none is shipped: only our own teaching kernel is). Prints wall times of:
  - boot to the first `$ `, on the Machine alone and on QEMU (`make qemu`'s
    command line, 1 hart);
  - `cowtest`: on the Machine alone, headless with every invariant live
    (`cowtui --headless`), and on QEMU;
  - `usertests -q` the same way (unless --skip-usertests; it takes minutes).
QEMU runs only where qemu-system-riscv64 is installed.
With --time-travel N, only `cowtest` headless, without and with checkpoints
every N instructions (`--checkpoint-every N`): wall time and peak RSS of
each, so the difference is what time travel's history costs on that run.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

DONE = {"cowtest": ["ALL COW TESTS PASSED", "FAILED", "panic"],
        "usertests -q": ["ALL TESTS PASSED", "FAILED", "panic"]}


def qemu_seconds(xv6: Path, command: str | None) -> float | None:
    """Wall time of QEMU booting (and running ``command``) to its verdict."""
    qemu = shutil.which("qemu-system-riscv64")
    if qemu is None:
        return None
    args = [qemu, "-machine", "virt", "-bios", "none", "-kernel", str(xv6 / "kernel/kernel"),
            "-m", "128M", "-smp", "1", "-nographic", "-global", "virtio-mmio.force-legacy=false",
            "-drive", f"file={xv6 / 'fs.img'},if=none,format=raw,id=x0,snapshot=on",
            "-device", "virtio-blk-device,drive=x0,bus=virtio-mmio-bus.0"]
    start = time.perf_counter()
    process = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL)
    seen = b""
    want = [b"$ "] if command is None else [d.encode() for d in DONE[command]]
    typed = command is None
    try:
        while True:
            chunk = process.stdout.read1(4096)  # type: ignore[union-attr]
            if not chunk:
                return None
            seen += chunk
            if not typed and b"$ " in seen:
                process.stdin.write(command.encode() + b"\n")  # type: ignore[union-attr]
                process.stdin.flush()  # type: ignore[union-attr]
                typed, seen = True, b""
            if typed and any(w in seen for w in want):
                return time.perf_counter() - start
    finally:
        process.kill()
        process.wait()


def machine_seconds(xv6: Path, engine: str, command: str | None) -> tuple[float, float, int]:
    """(boot seconds, command seconds, command instructions) on the Machine alone."""
    from machine.machine import Machine, MachineConfig
    m = Machine(MachineConfig(kernel=xv6 / "kernel/kernel", disk=xv6 / "fs.img", engine=engine))
    start = time.perf_counter()
    m.run(max_instructions=5_000_000_000, until=lambda: m.console_text().endswith("$ "))
    boot = time.perf_counter() - start
    if command is None:
        return boot, 0.0, 0
    m.feed_console(command + "\n")
    first = m.icount
    start = time.perf_counter()
    m.run(max_instructions=200_000_000_000,
          until=lambda: any(d in m.console_text()[-400:] for d in DONE[command]))
    return boot, time.perf_counter() - start, m.icount - first


def headless_seconds(xv6: Path, engine: str, command: str,
                     *options: str) -> tuple[float, str, float]:
    """Wall time of ``cowtui --headless [options]`` running ``command``, its
    summary line and its peak RSS in MiB."""
    stop = ", ".join(f'"{d}"' for d in DONE[command])
    scenario = Path(tempfile.mkdtemp()) / "bench.yaml"
    scenario.write_text(f"""name: bench
kernel: {xv6 / 'kernel/kernel'}
disk: {xv6 / 'fs.img'}
console:
  - {{wait: "$ ", type: "{command}\\n"}}
stop:
  console: [{stop}]
  instructions: 200000000000
""")
    start = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        child = subprocess.Popen([sys.executable, "-m", "cowtui.cli", "--headless", "--engine",
                                  engine, *options, str(scenario)], stdout=out, stderr=err,
                                 text=True)
        _, status, usage = os.wait4(child.pid, 0)   # (this child's own peak RSS)
        child.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.perf_counter() - start
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    summary = next((line for line in reversed(stdout.splitlines())
                    if line.startswith("summary")), stderr.strip()[-200:])
    return seconds, summary, usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("xv6", type=Path)
    parser.add_argument("--engine", default="native")
    parser.add_argument("--skip-usertests", action="store_true")
    parser.add_argument("--time-travel", metavar="N", type=int)
    args = parser.parse_args()
    xv6 = args.xv6.resolve()
    if args.time_travel:
        time_travel(xv6, args.engine, args.time_travel)
        return
    boot, _, _ = machine_seconds(xv6, args.engine, None)
    qemu_boot = qemu_seconds(xv6, None)
    print(f"boot to $: machine {boot:.2f} s, QEMU {qemu_boot and f'{qemu_boot:.2f} s'}")
    commands = ["cowtest"] + ([] if args.skip_usertests else ["usertests -q"])
    for command in commands:
        _, alone, instructions = machine_seconds(xv6, args.engine, command)
        live, summary, _ = headless_seconds(xv6, args.engine, command)
        qemu = qemu_seconds(xv6, command)
        print(f"{command}: machine {alone:.1f} s ({instructions / 1e9:.2f} G instructions), "
              f"headless with invariants {live:.1f} s, QEMU {qemu and f'{qemu:.1f} s'}")
        print(f"  {summary}")


def time_travel(xv6: Path, engine: str, every: int) -> None:
    plain, summary, plain_rss = headless_seconds(xv6, engine, "cowtest")
    print(f"cowtest headless without checkpoints: {plain:.1f} s, peak RSS {plain_rss:.0f} MiB")
    print(f"  {summary}")
    timed, summary, rss = headless_seconds(xv6, engine, "cowtest", "--checkpoint-every",
                                           str(every))
    print(f"cowtest headless, a checkpoint every {every:,}: {timed:.1f} s, peak RSS "
          f"{rss:.0f} MiB: +{rss - plain_rss:.0f} MiB of history beyond the run without")
    print(f"  {summary}")


if __name__ == "__main__":
    main()
