"""What gdb costs the machine: the time to run cowstress to its 30th COW
fault stopping at each (a breakpoint on cowfault) directly and through the
stub, and the speed of a continue while a read watchpoint makes every
instruction a step.

  python bench/gdb_stub.py [--engine native|fast]

In-process, behind a real socket and a raw client. Wall time.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from cowtui.gdbstub.server import GdbServer
from cowtui.scenario import BUNDLED_DIR, load_scenario
from cowtui.session import Session
from tests.gdb.rawclient import RawClient

HITS = 30            # cowfault breakpoint stops to run through
SECONDS = 3.0        # how long the read-watchpoint run is timed


def session(engine: str) -> Session:
    scenario = load_scenario(BUNDLED_DIR / "cowstress.yaml")
    scenario.engine = engine
    return Session(scenario)


def direct(engine: str) -> tuple[float, int]:
    """Seconds to the HITS-th cowfault with the machine run directly."""
    s = session(engine)
    s.machine.add_breakpoint(s.machine.symbol("cowfault"))
    start = time.perf_counter()
    for _ in range(HITS):
        while s.run(max_instructions=50_000_000).reason != "breakpoint":
            pass
    return time.perf_counter() - start, s.machine.icount


def through_gdb(engine: str) -> tuple[float, int]:
    """The same through the stub: Z0 at cowfault, then 'c' HITS times."""
    s = session(engine)
    server = GdbServer(s, "127.0.0.1", 0, log=lambda line: None)
    server.start()
    client = RawClient(server.port)
    assert client.ask(f"Z0,{s.machine.symbol('cowfault'):x},2") == b"OK"
    start = time.perf_counter()
    for _ in range(HITS):
        assert b"swbreak" in client.ask("c")
    elapsed = time.perf_counter() - start
    client.close()
    server.shutdown()
    return elapsed, s.machine.icount


def read_watching(engine: str) -> float:
    """Instructions per second while a read watchpoint (never hit) is set."""
    s = session(engine)
    server = GdbServer(s, "127.0.0.1", 0, log=lambda line: None)
    server.start()
    client = RawClient(server.port)
    assert client.ask(f"Z3,{s.machine.symbol('kmem'):x},1") == b"OK"
    client.send_raw(b"$c#63")
    assert client.read_ack() == b"+"
    start = time.perf_counter()
    time.sleep(SECONDS)
    client.send_raw(b"\x03")
    client.read_packet()
    rate = s.machine.icount / (time.perf_counter() - start)
    client.close()
    server.shutdown()
    return rate


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--engine", default="native")
    engine = parser.parse_args().engine
    print(f"engine {engine}: cowstress from reset to its {HITS}th cowfault")
    for name, (seconds, icount) in (("machine run directly", direct(engine)),
                                    ("gdb: Z0 cowfault, c", through_gdb(engine))):
        print(f"  {name:24} {seconds:6.2f} s  {icount:,} instructions  "
              f"{icount / seconds / 1e6:7.1f} MIPS")
    print(f"  gdb: c with an rwatch set: {read_watching(engine) / 1e3:.1f} k instructions/s")


if __name__ == "__main__":
    main()
