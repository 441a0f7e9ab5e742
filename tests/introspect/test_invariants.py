"""The COW invariants on synthetic page-table facts."""

from __future__ import annotations

from machine.introspect.invariants import check_frames, check_pte_change, shared_cow_frames
from machine.mmu import PTE_R, PTE_U, PTE_V, PTE_W, PTE_X

COW = 1 << 8
FRAME = 0x87F00000


def pte(frame: int, flags: int) -> int:
    return ((frame >> 12) << 10) | flags | PTE_V


def rules(findings) -> list[str]:
    return sorted(f.rule for f in findings)


def test_a_correct_cow_share_breaks_nothing() -> None:
    shared = pte(FRAME, PTE_R | PTE_U | COW)
    mappings = {FRAME: [(3, 0x1000, shared), (4, 0x1000, shared)]}
    assert check_frames(mappings, lambda f: 2, 8) == []
    assert shared_cow_frames(mappings, 8) == {FRAME}


def test_refcount_must_equal_the_number_of_mappings() -> None:
    mappings = {FRAME: [(3, 0x1000, pte(FRAME, PTE_R | PTE_U | COW))]}
    findings = check_frames(mappings, lambda f: 2, 8)
    assert rules(findings) == ["refcount-mismatch"]
    assert findings[0].frames == (FRAME,) and findings[0].ptes == ((3, 0x1000),)


def test_a_freed_frame_must_not_be_mapped() -> None:
    mappings = {FRAME: [(3, 0x1000, pte(FRAME, PTE_R | PTE_W | PTE_U))]}
    assert rules(check_frames(mappings, lambda f: 0, 8)) == ["maps-free-frame"]


def test_a_shared_frame_must_not_be_writable() -> None:
    mappings = {FRAME: [(3, 0x1000, pte(FRAME, PTE_R | PTE_W | PTE_U)),
                        (4, 0x1000, pte(FRAME, PTE_R | PTE_U | COW))]}
    assert rules(check_frames(mappings, lambda f: 2, 8)) == ["shared-frame-writable"]


def test_unknown_refcounts_skip_only_the_refcount_rules() -> None:
    mappings = {FRAME: [(3, 0x1000, pte(FRAME, PTE_R | PTE_W | PTE_U)),
                        (4, 0x1000, pte(FRAME, PTE_R | PTE_W | PTE_U))]}
    assert rules(check_frames(mappings, lambda f: None, 8)) == ["shared-frame-writable"]


def test_pte_changes() -> None:
    text = pte(FRAME, PTE_R | PTE_X | PTE_U)
    data = pte(FRAME, PTE_R | PTE_W | PTE_U)
    # the correct uvmcopy: W cleared, COW set on a writable page
    assert check_pte_change(3, 0x1000, data, (data & ~PTE_W) | COW, 8) == []
    # COW on text: the text-becomes-writable bug
    assert rules(check_pte_change(3, 0x0, text, text | COW, 8)) == ["cow-on-readonly"]
    # W and COW at once
    assert rules(check_pte_change(3, 0x1000, data, data | COW, 8)) == ["w-and-cow"]
    # with COW in bit 9, bit 8 means nothing
    assert check_pte_change(3, 0x0, text, text | COW, 9) == []
    assert rules(check_pte_change(3, 0x0, text, text | (1 << 9), 9)) == ["cow-on-readonly"]
