// Physical memory map of QEMU's virt machine, and the user address space.

#define FINISHER 0x100000L        // SiFive test device: write to power off
#define FINISHER_PASS 0x5555
#define FINISHER_FAIL 0x3333      // | exit code << 16

#define UART0 0x10000000L         // 16550
#define UART0_IRQ 10

#define VIRTIO0 0x10001000L       // virtio-mmio slot 0: the block device
#define VIRTIO0_IRQ 1

// CLINT: only the pre-2024 xv6 timer (-DCLINT_TIMER, start.c) uses it.
#define CLINT 0x2000000L
#define CLINT_MTIMECMP(hart) (CLINT + 0x4000 + 8 * (hart))
#define CLINT_MTIME (CLINT + 0xbff8)

// PLIC: hart h's S-mode is interrupt context 2h + 1 (QEMU virt); PLIC_HART is
// the calling hart (0 unless NCPU > 1, param.h).
#define PLIC 0x0c000000L
#define PLIC_PRIORITY(irq) (PLIC + 4 * (irq))
#define PLIC_SENABLE_OF(hart) (PLIC + 0x2080 + 0x100 * (hart))
#define PLIC_STHRESHOLD_OF(hart) (PLIC + 0x201000 + 0x2000 * (hart))
#define PLIC_SCLAIM_OF(hart) (PLIC_STHRESHOLD_OF(hart) + 4)
#define PLIC_SENABLE PLIC_SENABLE_OF(PLIC_HART)
#define PLIC_STHRESHOLD PLIC_STHRESHOLD_OF(PLIC_HART)
#define PLIC_SCLAIM PLIC_SCLAIM_OF(PLIC_HART)

// RAM: the kernel is loaded at KERNBASE; frames from `end` to PHYSTOP are
// handed out by kalloc. The kernel maps all of it at the same addresses.
#define KERNBASE 0x80000000L
#define PHYSTOP (KERNBASE + 128 * 1024 * 1024)
#define NFRAMES ((PHYSTOP - KERNBASE) / PGSIZE)

// Top of every address space (user and kernel): the trampoline page with the
// trap entry/exit code, and below it (user only) the process's trapframe.
#define TRAMPOLINE (MAXVA - PGSIZE)
#define TRAPFRAME (TRAMPOLINE - PGSIZE)

// User memory: ELF segments from 0, then an unmapped guard page, then a
// one-page stack; sbrk grows the heap above the stack.
#define USERSTACK 1
