// Sizes of the kernel's fixed tables.
#ifndef NPROC
#define NPROC 32          // process table entries
#endif
#ifndef NCPU
#define NCPU 1            // harts that run the kernel; others are parked (-DNCPU=N below)
#endif
#define NOFILE 8          // open files per process
#define NFILE 64          // open files in the system
#define MAXARG 16         // exec arguments
#define MAXPATH 24        // program name length (the disk's directory entry)
#define KSTACKSIZE 4096   // kernel stack per process

// Timer tick in 10 MHz timebase ticks. xv6 uses 1,000,000 (0.1 s); we use
// 100,000 (10 ms under QEMU; 100 K instructions on cowtui's emulator, where one
// instruction is one tick) so that preemption happens often enough to see.
#define TICK_INTERVAL 100000

// Build knobs. None is set for the kernels in prebuilt/. `make variant` builds
// a kernel with some of them (e.g. CFLAGS_EXTRA=-DREFCOUNT_NAME=pgref), so that
// cowtui's tests can check its introspection on kernels laid out the way
// students' kernels are, and the xv6 platform paths this kernel does not use:
//   -DNPROC=N               another process table size (xv6: 64)
//   -DXV6_PROC_LAYOUT       struct proc as xv6-riscv lays it out (proc_layouts.h)
//   -DSHUFFLED_PROC_LAYOUT  struct proc with every member at another offset
//   -DREFCOUNT_NAME=NAME    the refcount array (kalloc.c) is NAME, not refcnt
//   -DREFCOUNT_IN_KMEM      ... and is a field of kmem: kmem.NAME
//   -DREFCOUNT_TYPE=T       its element type (int)
//   -DREFCOUNT_LEN=N        its length (NFRAMES); it is still indexed by frame
//   -DREFCOUNT_BY_PA        one entry per page of the physical address space,
//                           indexed by pa / PGSIZE, as many students write it
//   -DRSW_COW_BIT=9         PTE_COW is RSW bit 9, not 8 (riscv.h)
//   -DCLINT_TIMER           xv6's timer before 2024, no Sstc: M-mode programs
//                           the CLINT's mtimecmp and timervec (kernelvec.S)
//                           forwards each tick as a supervisor software interrupt
//   -DNCPU=N                the kernel on N harts, as xv6 runs (the SMP kernels
//                           in prebuilt/ are NCPU=3): a stack per hart, mycpu()
//                           by hart id, hart 0 initialises and the others wait
//                           for `started` (main.c), a PLIC context per hart
// A knob's code sits next to the code it replaces, without adding or removing
// lines above existing code: DWARF records line numbers and columns, and
// `make check-prebuilt` compares prebuilt/ byte for byte.
#ifdef REFCOUNT_BY_PA
#define REFCOUNT_BASE 0
#define REFCOUNT_LEN (PHYSTOP / PGSIZE)
#endif
#if defined(REFCOUNT_NAME) || defined(REFCOUNT_IN_KMEM) || defined(REFCOUNT_TYPE) || \
    defined(REFCOUNT_LEN)
#define REFCOUNT_KNOBS
#ifndef REFCOUNT_NAME
#define REFCOUNT_NAME refcnt
#endif
#ifndef REFCOUNT_TYPE
#define REFCOUNT_TYPE int
#endif
#ifndef REFCOUNT_LEN
#define REFCOUNT_LEN NFRAMES
#endif
#ifdef REFCOUNT_IN_KMEM
#define KMEM_REFCOUNT_FIELD REFCOUNT_TYPE REFCOUNT_NAME[REFCOUNT_LEN];
#define refcnt kmem.REFCOUNT_NAME
#else
#define refcnt REFCOUNT_NAME
#endif
#endif
#ifndef KMEM_REFCOUNT_FIELD
#define KMEM_REFCOUNT_FIELD
#endif
#ifndef REFCOUNT_BASE
#define REFCOUNT_BASE KERNBASE
#endif

// The kfree-ignores-count bug leaves the count at 0 by default; with
// -DKFREE_KEEPS_COUNT it pushes the frame and never touches the count, as
// some students' kfree does (cowtui must blame kfree either way).
#ifdef KFREE_KEEPS_COUNT
#define KFREE_IGNORED_COUNT(count) ((void)0)
#else
#define KFREE_IGNORED_COUNT(count) ((count) = 0)
#endif

// The copyout-stale-pa-freed bug: copyout's stale pa (BUG_COPYOUT_STALE_PA)
// with a COW fault handler that always copies, even for the last sharer, and
// frees the old frame: copyout then writes into a frame on the free list.
#ifdef BUG_COPYOUT_STALE_PA_FREED
#define BUG_COPYOUT_STALE_PA
#define COW_LAST_SHARER_SHORTCUT 0
#define COPYOUT_STALE_PA_VARIANT " [bug zoo: copyout-stale-pa-freed]"
#else
#define COW_LAST_SHARER_SHORTCUT 1
#define COPYOUT_STALE_PA_VARIANT " [bug zoo: copyout-stale-pa]"
#endif

// Several harts (-DNCPU=N, N > 1). The hooks below sit in lines of the
// one-hart kernel and expand to nothing (or to hart 0) there, so its code and
// line numbers stay as they are; the code they call is at the ends of files.
#if NCPU > 1
#define CPU_INDEX cpuid()                        // proc.c: tp holds the hart id
#define PLIC_HART cpuid()                        // memlayout.h: this hart's context
#define OTHER_HARTS_ENTRY other_harts            // entry.S: a stack each, then start()
#define OTHER_HARTS_JOIN() if (cpuid() != 0) otherhartmain();   // main.c
#define START_OTHER_HARTS() start_other_harts();  // main.c: hart 0 is done initialising
#define OTHER_HARTS_DO_NOT_COUNT() if (cpuid() != 0) { NEXT_TICK(); return; }   // trap.c
#define KVMMAP_OTHER_HARTS_PLIC(kpt) kvmmap_other_harts_plic(kpt);   // vm.c
#else
#define CPU_INDEX 0
#define PLIC_HART 0
#define OTHER_HARTS_ENTRY park
#define OTHER_HARTS_JOIN()
#define START_OTHER_HARTS()
#define OTHER_HARTS_DO_NOT_COUNT()
#define KVMMAP_OTHER_HARTS_PLIC(kpt)
#endif

// The multi-hart bug zoo (kernel-smp-NAME.elf, NCPU=3): races between harts on
// the refcounts. Each replaces kfree (kalloc.c) with the bug's own, at the end
// of kalloc.c; the correct one is left in, under another name.
//   -DBUG_REFCOUNT_UNLOCKED      kfree decrements the count without kmem.lock
//   -DBUG_FREE_CHECK_THEN_ACT    kfree decrements in one locked section and
//                                tests for zero in another
#if defined(BUG_REFCOUNT_UNLOCKED) || defined(BUG_FREE_CHECK_THEN_ACT)
#define KFREE kfree_as_it_should_be
#else
#define KFREE kfree
#endif
