"""The native core's generated C is what machine/isa/ declares today."""

from __future__ import annotations

from machine.native.generate import OUTPUTS, sources


def test_generated_c_is_up_to_date() -> None:
    for key, text in sources().items():
        assert OUTPUTS[key].read_text() == text, (
            f"{OUTPUTS[key].name} is stale: run python -m machine.native.generate")


def test_every_declared_instruction_has_a_generated_case() -> None:
    from machine.isa.decoder import ALL_SPECS
    from machine.native.generate import c_ident
    execute = sources()["execute"]
    for spec in ALL_SPECS:
        if spec.semantics is not None:
            assert f"INSN({c_ident(spec.name)})" in execute, spec.name
