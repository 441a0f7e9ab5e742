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
