// S-mode entry: bring up each subsystem, start the first process, schedule.
#include "types.h"
#include "param.h"
#include "riscv.h"
#include "defs.h"

// The bug-zoo build this is (see the Makefile's BUGS), shown in the banner.
static const char *variant =
#if defined(BUG_COPYOUT_IGNORES_COW)
  " [bug zoo: copyout-ignores-cow]"
#elif defined(BUG_REFCOUNT_LEAK)
  " [bug zoo: refcount-leak]"
#elif defined(BUG_DOUBLE_FREE)
  " [bug zoo: double-free]"
#elif defined(BUG_TEXT_BECOMES_WRITABLE)
  " [bug zoo: text-becomes-writable]"
#elif defined(BUG_NO_MAXVA_CHECK)
  " [bug zoo: no-maxva-check]"
#elif defined(BUG_OOM_PANICS)
  " [bug zoo: oom-panics]"
#elif defined(BUG_COPYOUT_STALE_PA)
  COPYOUT_STALE_PA_VARIANT
#elif defined(BUG_PARENT_LEFT_WRITABLE)
  " [bug zoo: parent-left-writable]"
#elif defined(BUG_KALLOC_NO_COUNT)
  " [bug zoo: kalloc-no-count]"
#elif defined(BUG_KFREE_IGNORES_COUNT)
  " [bug zoo: kfree-ignores-count]"
#elif defined(BUG_NO_COW_CHECK)
  " [bug zoo: no-cow-check]"
#else
  ""
#endif
  ;

void main(void) {
  uartinit();
  printf("\ncowtui teaching kernel: xv6-style, copy-on-write fork%s\n", variant);
  kinit();            // free list of physical frames
  kvminit();          // kernel page table
  kvminithart();      // paging on
  procinit();
  trapinithart();     // stvec
  plicinit();         // UART and disk interrupts
  virtio_disk_init();
  userinit();         // first process; it execs init from the disk
  scheduler();
}
