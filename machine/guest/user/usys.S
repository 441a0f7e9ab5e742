# System call stubs: number in a7, ecall, result in a0.
#include "kernel/syscall.h"

#define SYSCALL(name) \
        .globl name; \
name:   li a7, SYS_##name; \
        ecall; \
        ret

SYSCALL(fork)
SYSCALL(exit)
SYSCALL(wait)
SYSCALL(pipe)
SYSCALL(read)
SYSCALL(write)
SYSCALL(close)
SYSCALL(kill)
SYSCALL(exec)
SYSCALL(getpid)
SYSCALL(sbrk)
SYSCALL(freemem)
SYSCALL(eatmem)
SYSCALL(halt)
