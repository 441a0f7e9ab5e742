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


def _python_view(word: int) -> dict | None:
    from machine.isa.decoder import decode
    from machine.isa.fields import SNIPPET_NAME
    decoded = decode(word)
    if decoded is None:
        return None
    operands = {SNIPPET_NAME.get(k, k): v for k, v in decoded.base_operands.items()}
    view = {"name": decoded.base.name, "length": decoded.length}
    for key in ("rd", "rs1", "rs2", "imm", "shamt", "csr", "zimm"):
        view[key] = operands.get(key, 0)
    return view


def test_the_generated_decoder_agrees_with_the_python_one() -> None:
    import random

    import pytest

    from machine.native import NativeEngine
    if NativeEngine is None:
        pytest.skip("the native core is not built")
    from machine.native import _core
    words = list(range(0x10000))                       # every 16-bit word
    draw = random.Random(12)
    words += [draw.getrandbits(32) | 3 for _ in range(100_000)]
    for word in words:
        assert _core.decode(word) == _python_view(word), hex(word)
