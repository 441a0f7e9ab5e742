"""The COW invariants cowtui checks, each a named rule with its explanation:
``RULES`` states the invariant, ``MISTAKES`` the usual cow-lab mistake that
breaks it and where in the lab code to look."""

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
        "no store, by the kernel or user code, may go into a frame shared copy-on-write",
    "stale-translation":
        "after changing a PTE the kernel must sfence.vma before returning to user mode",
    "frame-leak":
        "once forked children have exited, the free frames must return to their count",
    "foreign-frame-written":
        "the kernel, running for a process, must store only into frames that process maps",
    "write-granted-without-cow":
        "a page fault may make writable only a page that is COW: text and read-only pages stay so",
    "allocated-without-count":
        "a frame taken off the free list must get refcount 1 before the allocator returns it",
    "free-frame-written":
        "the kernel must not store into a frame on the free list, outside kfree and kalloc",
    "kernel-panic":
        "a COW fault must kill the faulting process, never panic the kernel",
    "refcount-race":
        "two harts must not store to the same frame's refcount without a spinlock in common held",
}

MISTAKES: dict[str, str] = {
    "refcount-mismatch":
        "usual mistake: a kref/kfree missing or doubled in uvmcopy, the COW fault handler or "
        "kfree; look at the blamed store and its callers",
    "shared-frame-writable":
        "usual mistake: uvmcopy clears PTE_W in the child but leaves the parent's PTE writable; "
        "look at uvmcopy (kernel/vm.c)",
    "maps-free-frame":
        "usual mistake: kfree frees a frame whose count is still above 0, a reference dropped "
        "twice, or kalloc not setting the count to 1; look at kfree/kalloc (kernel/kalloc.c)",
    "double-free":
        "usual mistake: the fault handler or uvmunmap drops the old frame's reference twice; "
        "look at the kfree calls in the blamed call stack",
    "w-and-cow":
        "usual mistake: uvmcopy sets PTE_COW without clearing PTE_W, or the fault handler sets "
        "PTE_W without clearing PTE_COW; look at uvmcopy and the COW fault handler",
    "cow-on-readonly":
        "usual mistake: uvmcopy marks every page COW, not only the writable ones, so a fault "
        "later makes text writable; look at the PTE_W test in uvmcopy",
    "shared-frame-written":
        "usual mistake: copyout writes into a COW page without first giving the process its own "
        "copy; look at copyout (kernel/vm.c)",
    "stale-translation":
        "usual mistake: a PTE changed in the fault handler or uvmcopy with no sfence_vma() after "
        "it; look at the blamed store's function",
    "frame-leak":
        "usual mistake: the COW fault handler copies the page but never kfree()s the old frame; "
        "look at the end of the COW fault handler",
    "allocated-without-count":
        "usual mistake: kalloc pops the frame but never sets its count to 1, so the first kfree "
        "or kref of it finds it free; look at kalloc (kernel/kalloc.c)",
    "free-frame-written":
        "usual mistake: copyout looks up the physical address, the COW fault handler copies the "
        "page and frees the old frame, then copyout writes through the old address; look up "
        "the pa again after the copy (copyout)",
    "kernel-panic":
        "usual mistake: no va >= MAXVA / PTE_V / PTE_U check before walk(), or panic() when "
        "kalloc() returns 0; look at the caller of panic named in the message",
    "refcount-race":
        "usual mistake: kref (or the count's update in kfree or the COW fault handler) changes "
        "refcnt[] without the lock kalloc/kfree take, so two harts lose an update; look at the "
        "two stores named (several harts only: --harts N)",
    "foreign-frame-written":
        "usual mistake: copyout looks up the physical address, handles the COW fault, then "
        "writes through the old address; look up the pa again after the copy (copyout)",
    "write-granted-without-cow":
        "usual mistake: the fault handler does not check PTE_COW (or handles load faults, "
        "scause 13, as COW); look at the checks at the top of the COW fault handler",
}
assert MISTAKES.keys() == RULES.keys(), "every rule has both lines"
