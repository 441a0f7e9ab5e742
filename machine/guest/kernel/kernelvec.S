# Trap vector while in the kernel: save the registers a C call may clobber on
# the current kernel stack, run kerneltrap(), restore them and sret.
        .globl kerneltrap
        .globl kernelvec
        .align 4
kernelvec:
        addi sp, sp, -256
        .irp r, 1,5,6,7,10,11,12,13,14,15,16,17,28,29,30,31
        sd x\r, (8 * \r)(sp)
        .endr
        call kerneltrap
        .irp r, 1,5,6,7,10,11,12,13,14,15,16,17,28,29,30,31
        ld x\r, (8 * \r)(sp)
        .endr
        addi sp, sp, 256
        sret

#ifdef CLINT_TIMER
# Machine timer interrupt, with -DCLINT_TIMER (xv6 before 2024). mscratch holds
# timer_scratch[hart] (start.c): 3 saved registers, then the address of this
# hart mtimecmp, then the tick interval. Move mtimecmp on by one interval and
# raise a supervisor software interrupt: S-mode takes it as the tick (trap.c)
# once mret has returned to S or U mode.
        .globl timervec
        .align 4
timervec:
        csrrw a0, mscratch, a0
        sd a1, 0(a0)
        sd a2, 8(a0)
        sd a3, 16(a0)
        ld a1, 24(a0)
        ld a2, 32(a0)
        ld a3, 0(a1)
        add a3, a3, a2
        sd a3, 0(a1)
        li a1, 2
        csrs sip, a1
        ld a3, 16(a0)
        ld a2, 8(a0)
        ld a1, 0(a0)
        csrrw a0, mscratch, a0
        mret
#endif
