"""Sv39 address translation: one page-table walk for fetch, load and store.

The steps follow the privileged specification, section "Virtual Address
Translation Process" (4.3.2), adapted to Sv39 (LEVELS = 3, PTESIZE = 8):

  VA:  | 63..39 sign | VPN[2] 38..30 | VPN[1] 29..21 | VPN[0] 20..12 | offset |
  PTE: | 63..54 reserved/N/PBMT | PPN 53..10 | RSW 9..8 | D A G U X W R V |

Hardware sets A and D (as QEMU does; xv6 never sets them itself); the RSW
bits (8-9, where the cow lab keeps PTE_COW) are ignored by hardware.
"""

from __future__ import annotations

from typing import Callable

from .trap import ACCESS_FAULT_FOR, FETCH, PAGE_FAULT_FOR, STORE, SUPERVISOR, USER, Trap

PTE_V, PTE_R, PTE_W, PTE_X, PTE_U, PTE_G, PTE_A, PTE_D = (1 << i for i in range(8))
PTE_RSW_SHIFT = 8
PTE_PPN_SHIFT = 10
PTE_PPN_MASK = (1 << 44) - 1
PTE_HIGH_RESERVED = 0x3FF << 54  # N, PBMT and reserved bits: must be zero here

SATP_MODE_SHIFT = 60
SATP_MODE_BARE = 0
SATP_MODE_SV39 = 8
SATP_PPN_MASK = (1 << 44) - 1

PAGE_SIZE = 4096
LEVELS = 3

PhysicalRead = Callable[[int], int]         # 8-byte PTE at a physical address
PhysicalWrite = Callable[[int, int], None]  # write back a PTE (A/D update)


def is_canonical_sv39(va: int) -> bool:
    top = va >> 38  # bits 63..38 must be all zeros or all ones
    return top == 0 or top == (1 << 26) - 1


def vpn(va: int, level: int) -> int:
    return (va >> (12 + 9 * level)) & 0x1FF


def walk(va: int, access: int, privilege: int, satp: int, sum_: bool, mxr: bool,
         read_pte: PhysicalRead, write_pte: PhysicalWrite) -> int:
    """Translate ``va`` for ``access`` (FETCH/LOAD/STORE) at ``privilege``
    (USER or SUPERVISOR; M-mode never translates, except loads/stores under
    MPRV, which the caller passes with the MPP privilege). Returns the
    physical address or raises the page fault (tval = va) or, when a PTE
    cannot be read, the access fault of this access kind."""
    page_fault = PAGE_FAULT_FOR[access]
    va &= 0xFFFFFFFFFFFFFFFF
    if not is_canonical_sv39(va):
        raise Trap(page_fault, va)
    # 1. a = satp.ppn * PAGESIZE; i = LEVELS - 1
    table = (satp & SATP_PPN_MASK) * PAGE_SIZE
    level = LEVELS - 1
    while True:
        # 2. pte = the PTE at a + va.vpn[i] * PTESIZE (an access fault if unreadable)
        pte_address = table + vpn(va, level) * 8
        try:
            pte = read_pte(pte_address)
        except Trap:
            raise Trap(ACCESS_FAULT_FOR[access], va) from None
        # 3. invalid, or W without R, or reserved bits set: page fault
        if not pte & PTE_V or (pte & (PTE_R | PTE_W)) == PTE_W or pte & PTE_HIGH_RESERVED:
            raise Trap(page_fault, va)
        # 4. R = X = 0: a pointer to the next level
        if pte & (PTE_R | PTE_X):
            break
        level -= 1
        if level < 0:
            raise Trap(page_fault, va)
        table = ((pte >> PTE_PPN_SHIFT) & PTE_PPN_MASK) * PAGE_SIZE
    # 5. a leaf: check the permissions for this access and privilege
    if privilege == USER and not pte & PTE_U:
        raise Trap(page_fault, va)
    if privilege == SUPERVISOR and pte & PTE_U and (access == FETCH or not sum_):
        raise Trap(page_fault, va)
    if access == FETCH:
        allowed = pte & PTE_X
    elif access == STORE:
        allowed = pte & PTE_W
    else:
        allowed = pte & PTE_R or (mxr and pte & PTE_X)
    if not allowed:
        raise Trap(page_fault, va)
    # 6. a superpage must be aligned: the low PPN fields must be zero
    ppn = (pte >> PTE_PPN_SHIFT) & PTE_PPN_MASK
    if level > 0 and ppn & ((1 << (9 * level)) - 1):
        raise Trap(page_fault, va)
    # 7. set A, and D on a store, in the PTE itself
    wanted = PTE_A | (PTE_D if access == STORE else 0)
    if pte & wanted != wanted:
        write_pte(pte_address, pte | wanted)
    # 8. the physical address: superpages take the low VPN fields from the VA
    low_bits = 12 + 9 * level
    return ((ppn << 12) & ~((1 << low_bits) - 1)) | (va & ((1 << low_bits) - 1))
