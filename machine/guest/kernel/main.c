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
