"""The COW invariants cowtui checks, each a named rule with its explanation."""

from __future__ import annotations

RULES: dict[str, str] = {
    "refcount-mismatch":
        "a frame's refcount must equal the number of user PTEs that map it",
    "shared-frame-writable":
        "a frame mapped by more than one user PTE must not be writable through any of them",
    "maps-free-frame":
        "no user PTE may map a frame that has been freed (refcount 0 / on the free list)",
    "double-free":
        "a frame must not be freed twice, nor its refcount drop below zero",
    "w-and-cow":
        "no PTE may have both W and the COW bit set",
    "cow-on-readonly":
        "only pages that were writable may become COW: read-only pages (text) stay read-only",
    "shared-frame-written":
        "the kernel must not store into a frame shared copy-on-write (copyout must copy first)",
    "stale-translation":
        "after changing a PTE the kernel must sfence.vma before returning to user mode",
    "frame-leak":
        "once forked children have exited, the free frames must return to their count",
    "foreign-frame-written":
        "the kernel, running for a process, must store only into frames that process maps",
    "write-granted-without-cow":
        "a page fault may make writable only a page that is COW: text and read-only pages stay so",
    "kernel-panic":
        "a COW fault must kill the faulting process, never panic the kernel",
}
