# First instructions. QEMU's -bios none (and cowtui) jump here, to 0x80000000,
# in M-mode. Hart 0 gets the boot stack and runs start(); any other hart is
# parked, since this kernel runs on one hart.
        .section .text.entry
        .globl _entry
_entry:
        csrr t0, mhartid
        bnez t0, park
        la sp, stack0
        li t0, 4096
        add sp, sp, t0
        call start
park:
        wfi
        j park
