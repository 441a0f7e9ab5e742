"""The test finisher ends the run: its status reaches ``Machine.exit_status``,
``run()`` says 'exit', and a Halted event carries it."""

from __future__ import annotations

import pytest

from machine.events import Halted

from .guest import MAIN, finish, icount_of, label_address, make_machine


@pytest.mark.parametrize("code, status", [(None, 0), (1, 1), (42, 42), (0xFFFF, 0xFFFF)])
def test_exit_status_reaches_the_machine(tmp_path, engine, code, status) -> None:
    program = f"li a0, 7\nli a1, 8\n{finish(code)}"
    machine = make_machine(tmp_path, {MAIN: program}, engine=engine)
    halted: list[Halted] = []
    machine.events.subscribe(Halted, halted.append)
    result = machine.run(max_instructions=1_000_000)
    assert result.reason == "exit"
    assert machine.exit_status == status
    # it stopped right after the finisher's store, not at the budget
    store = label_address(program.replace("sw t5, 0(t6)", "store: sw t5, 0(t6)"), "store", MAIN)
    assert result.instructions == machine.icount == icount_of(store) + 1
    assert machine.registers()[10:12] == [7, 8]
    assert halted == [Halted(icount_of(store), "exit", status)]
    # the machine stays halted: running again executes nothing
    again = machine.run(max_instructions=1000)
    assert (again.reason, again.instructions) == ("exit", 0)


def test_no_finisher_write_runs_to_the_budget(tmp_path, engine) -> None:
    machine = make_machine(tmp_path, {MAIN: "loop: addi a0, a0, 1\nj loop"}, engine=engine)
    result = machine.run(max_instructions=5000)
    assert (result.reason, result.instructions) == ("budget", 5000)
    assert machine.exit_status is None
