// TRAPFRAME as a plain number for trampoline.S (trap.c checks it matches).
#define TRAPFRAME_VA 0x3fffffe000
