"""Names to try when reading an xv6-style kernel: no layouts, only names.

Layouts (offsets, sizes, enum values) always come from the kernel's DWARF.
"""

from __future__ import annotations

KERNBASE = 0x8000_0000  # xv6's KERNBASE: a macro, so not in the DWARF
MAXVA = 1 << 38         # xv6's MAXVA (one bit less than Sv39 allows)

# Refcount arrays as students and our teaching kernel name them, most common first.
REFCOUNT_NAMES = (
    "refcnt", "ref_count", "refcount", "refcounts", "pgref", "page_ref", "pageref",
    "ref_cnt", "refs", "ref", "cow_refcnt", "cowref", "pa_ref", "page_refcnt",
    "kmem.ref", "kmem.refcnt", "kmem.refcount", "kmem.ref_count", "kmem.refs",
    "kmem.pgref", "ref.count", "refc.count", "pageref.count",
)

