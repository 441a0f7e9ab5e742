"""DWARF call-frame information read through ElfImage.unwind_rule."""

from __future__ import annotations

import subprocess

import pytest

from machine.elf import ElfImage
from machine.guest import bundled_kernel


def test_a_c_function_has_cfi_and_hand_written_assembly_has_none() -> None:
    kernel = ElfImage.open(bundled_kernel())
    copyout = kernel.symbol("copyout")
    at_entry = kernel.unwind_rule(copyout.address)
    assert at_entry is not None and at_entry.cfa_register == 2 and at_entry.cfa_offset == 0
    assert at_entry.return_register == 1 and not at_entry.return_address_undefined
    # past the prologue the frame is bigger and ra has a save slot below the CFA
    body = [kernel.unwind_rule(copyout.address + n) for n in range(0, copyout.size, 2)]
    assert any(r is not None and r.cfa_offset > 0 and r.saved.get(1, 0) < 0 for r in body)
    assert kernel.unwind_rule(kernel.symbol("kernelvec").address) is None
    assert kernel.unwind_rule(0x10) is None


@pytest.mark.toolchain
def test_an_image_without_cfi_answers_none(tmp_path) -> None:
    stripped = tmp_path / "kernel.stripped"
    subprocess.run(["riscv64-unknown-elf-strip", "-g", "-R", ".debug_frame", "-R", ".eh_frame",
                    "-o", str(stripped), str(bundled_kernel())], check=True)
    kernel = ElfImage.open(stripped)
    assert kernel.unwind_rule(kernel.symbol("copyout").address + 8) is None
