# First instructions: QEMU's -bios none (and cowtui) start every hart here, at
# 0x80000000 in M-mode. Hart 0 gets the boot stack and runs start(); the others park (NCPU > 1: param.h, end of file)
#include "param.h"
        .section .text.entry
        .globl _entry
_entry:
        csrr t0, mhartid
        bnez t0, OTHER_HARTS_ENTRY
        la sp, stack0
        li t0, 4096
        add sp, sp, t0
        call start
park:
        wfi
        j park
#if NCPU > 1
# Harts 1 .. NCPU-1 take stack hartid of stack0 (start.c) and run start() too;
# harts beyond NCPU park.
other_harts:
        li t1, NCPU
        bgeu t0, t1, park
        la sp, stack0
        addi t0, t0, 1
        slli t0, t0, 12
        add sp, sp, t0
        call start
        j park
#endif
