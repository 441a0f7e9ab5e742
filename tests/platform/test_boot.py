"""The teaching kernel boots deterministically: two runs (and the reference
interpreter) reach the shell prompt at the same instruction count with the
same trace, and its disk image is left as it was."""

from __future__ import annotations

import hashlib

from machine.events import ConsoleOutput, TrapTaken
from machine.guest import bundled_disk, bundled_kernel
from machine.machine import Machine, MachineConfig

PROMPT = b"$ "


def boot(engine: str | None = None) -> tuple[Machine, str, list[TrapTaken]]:
    machine = Machine(MachineConfig(kernel=bundled_kernel(), disk=bundled_disk()))
    if engine is not None:
        machine.hart.engine = engine
    traps: list[TrapTaken] = []
    machine.events.subscribe(TrapTaken, traps.append)

    def at_prompt(event: ConsoleOutput) -> None:
        if machine.console.endswith(PROMPT):
            machine.request_stop()  # stops right after the instruction that printed it

    machine.events.subscribe(ConsoleOutput, at_prompt)
    result = machine.run(max_instructions=50_000_000)
    return machine, result.reason, traps


def test_boot_to_the_prompt_is_deterministic() -> None:
    disk_hash = hashlib.sha256(bundled_disk().read_bytes()).hexdigest()
    first, reason, traps = boot()
    assert reason == "stopped"
    assert first.console.endswith(PROMPT)
    assert first.console_text().count("$ ") == 1
    count = first.icount
    print(f"\nteaching kernel: '$ ' after {count} instructions "
          f"({first.hart.retired()} retired, {len(traps)} traps)")
    for engine in (None, "interp"):
        again, reason_again, traps_again = boot(engine)
        assert reason_again == reason
        assert again.icount == count
        assert again.hart.retired() == first.hart.retired()
        assert again.console == first.console
        assert traps_again == traps
    assert hashlib.sha256(bundled_disk().read_bytes()).hexdigest() == disk_hash
