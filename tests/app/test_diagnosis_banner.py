"""The violation banner names the store to blame: who stored, the call stack,
the source line, the rule's two lines; a store found during a kernel
operation shows when that operation ends."""

from __future__ import annotations

from machine.introspect.rules import MISTAKES, RULES

from .conftest import SIZE, finish_run, make_app


async def test_stale_pa_copyout_is_shown_at_copyout_with_its_stack():
    app = make_app("bug-copyout-stale-pa")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("c")
        await finish_run(pilot)
        assert app.last_stop.reason == "violation"
        violation = app.last_stop.violation
        assert violation.rule == "foreign-frame-written"
        assert [f.symbol for f in violation.blame.stack[:2]] == ["memmove", "copyout"]
        text = app.query_one("#banner").content.plain
        assert "[foreign-frame-written] the kernel, running for pid" in text
        assert RULES["foreign-frame-written"] in text and MISTAKES["foreign-frame-written"] in text
        assert "← copyout (kernel/vm.c:" in text
        assert "kernel/string.c:" in text       # the blamed line's text, from the source tree
        assert f"pc {violation.pc:#x} memmove+0x" in text
