# The first instructions, as in xv6's kernel/entry.S: an assembly
# compilation unit (its DWARF may differ in version from the C units').
        .section .text.entry
        .globl _entry
_entry:
        la sp, stack0           # LINE:entry-first
        li a0, 4096
        add sp, sp, a0
        call start
spin:
        j spin

        .section .bss
        .align 4
        .globl stack0
stack0:
        .space 4096
