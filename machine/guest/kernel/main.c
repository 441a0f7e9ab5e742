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

void main(void) {  OTHER_HARTS_JOIN()   // NCPU > 1: harts 1.. go to otherhartmain()
  uartinit();
  printf("\ncowtui teaching kernel: xv6-style, copy-on-write fork%s\n", variant);
  kinit();            // free list of physical frames
  kvminit();          // kernel page table
  kvminithart();      // paging on
  procinit();
  trapinithart();     // stvec
  plicinit();         // UART and disk interrupts
  virtio_disk_init();
  userinit(); START_OTHER_HARTS()   // first process (it execs init from the disk); NCPU > 1: the others go
  scheduler();
}

#if NCPU > 1
// The xv6 handshake: harts 1.. wait until hart 0 has set up memory, devices
// and the first process, then turn on paging with the kernel page table,
// take traps and interrupts, and schedule like hart 0. Unlike xv6 they wait
// in wfi, woken by each timer tick (interrupts stay off, so the tick is only
// re-armed), instead of spinning: a hart that spins takes its share of the
// time on a one-thread emulator, and on real hardware burns power.
static volatile int started;

void start_other_harts(void) {
  __sync_synchronize();   // everything hart 0 initialised is visible first
  started = 1;
}

void otherhartmain(void) {
  while (started == 0) {
    NEXT_TICK();
    asm volatile("wfi");
  }
  __sync_synchronize();
  kvminithart();
  trapinithart();
  plicinithart();
  scheduler();
}
#endif
