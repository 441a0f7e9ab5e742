# The trampoline page: the code that switches between user and kernel page
# tables. It is mapped at TRAMPOLINE in every address space (user and kernel),
# so it keeps running across the satp write. stvec points at uservec while in
# user mode; usertrapret() jumps to userret.
#include "trapframe_va.h"

        .section trampsec
        .globl trampoline
        .globl uservec
        .globl userret
trampoline:
        .align 4
uservec:
        # Save every user register in the trapframe (xN at 32 + 8*N), using
        # sscratch to free a0 first.
        csrw sscratch, a0
        li a0, TRAPFRAME_VA
        .irp r, 1,2,3,4,5,6,7,8,9,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
        sd x\r, (32 + 8 * \r)(a0)
        .endr
        csrr t0, sscratch
        sd t0, 112(a0)
        # Enter the kernel: its stack, hart id, usertrap() and page table.
        ld sp, 8(a0)
        ld tp, 32(a0)
        ld t0, 16(a0)
        ld t1, 0(a0)
        sfence.vma zero, zero
        csrw satp, t1
        sfence.vma zero, zero
        jr t0

        # userret(satp): switch to the user page table, restore the user
        # registers from the trapframe and return to user mode at sepc.
userret:
        sfence.vma zero, zero
        csrw satp, a0
        sfence.vma zero, zero
        li a0, TRAPFRAME_VA
        .irp r, 1,2,3,4,5,6,7,8,9,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
        ld x\r, (32 + 8 * \r)(a0)
        .endr
        ld a0, 112(a0)
        sret
