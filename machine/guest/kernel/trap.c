// Traps: from user mode (system calls, page faults, interrupts) and from the
// kernel (interrupts only).
#include "types.h"
#include "param.h"
#include "riscv.h"
#include "memlayout.h"
#include "spinlock.h"
#include "proc.h"
#include "trapframe_va.h"
#include "defs.h"

_Static_assert(TRAPFRAME_VA == TRAPFRAME, "trapframe_va.h disagrees with memlayout.h");

uint64 ticks;

extern char trampoline[], uservec[], userret[];
void kernelvec(void);

void trapinithart(void) {
  csrw(stvec, (uint64)kernelvec);
}

// Timer interrupt: count the tick and ask for the next one.
static void clockintr(void) {  OTHER_HARTS_DO_NOT_COUNT()   // NCPU > 1: hart 0 counts, as in xv6
  ticks++;
  NEXT_TICK();   // Sstc: stimecmp = time + TICK_INTERVAL; CLINT: clear SSIP (riscv.h)
}

// Handle a device or timer interrupt. Returns 2 for the timer, 1 for another
// device, 0 if the trap was not an interrupt we know.
static int devintr(void) {
  uint64 scause = csrr(scause);
  if (scause == SCAUSE_SEI) {
    int irq = plic_claim();
    if (irq == UART0_IRQ)
      uartintr();
    else if (irq == VIRTIO0_IRQ)
      virtio_disk_intr();
    if (irq)
      plic_complete(irq);
    return 1;
  }
  if (scause == SCAUSE_TICK) {
    clockintr();
    return 2;
  }
  return 0;
}

// uservec (trampoline.S) jumps here on any trap from user mode.
void usertrap(void) {
  if (csrr(sstatus) & SSTATUS_SPP)
    panic("usertrap: not from user mode");
  csrw(stvec, (uint64)kernelvec);   // traps from now on are kernel traps

  struct proc *p = myproc();
  p->trapframe->epc = csrr(sepc);
  uint64 scause = csrr(scause);
  int which = 0;

  if (scause == SCAUSE_ECALL_U) {
    if (killed(p))
      exit(-1);
    p->trapframe->epc += 4;   // return after the ecall
    intr_on();
    syscall();
  } else if ((which = devintr()) != 0) {
    // handled
  } else if (scause == SCAUSE_STORE_PAGE_FAULT && cowfault(p->pagetable, csrr(stval)) == 0) {
    // a copy-on-write page is now writable: retry the store
  } else {
    printf("usertrap(): unexpected scause 0x%lx pid=%d\n", scause, p->pid);
    printf("            sepc=0x%lx stval=0x%lx\n", csrr(sepc), csrr(stval));
    setkilled(p);
  }

  if (killed(p))
    exit(-1);
  if (which == 2)
    yield();   // time slice over
  usertrapret();
}

// Return to user mode through userret in the trampoline.
void usertrapret(void) {
  struct proc *p = myproc();
  intr_off();   // until sret; a trap now would go to uservec with kernel state
  csrw(stvec, TRAMPOLINE + (uservec - trampoline));

  p->trapframe->kernel_satp = csrr(satp);
  p->trapframe->kernel_sp = p->kstack + KSTACKSIZE;
  p->trapframe->kernel_trap = (uint64)usertrap;
  uint64 tp;
  asm volatile("mv %0, tp" : "=r"(tp));
  p->trapframe->kernel_hartid = tp;

  csrw(sstatus, (csrr(sstatus) & ~SSTATUS_SPP) | SSTATUS_SPIE);   // to U, interrupts on
  csrw(sepc, p->trapframe->epc);

  void (*fn)(uint64) = (void (*)(uint64))(TRAMPOLINE + (userret - trampoline));
  fn(MAKE_SATP(p->pagetable));
  __builtin_unreachable();
}

// kernelvec (kernelvec.S) calls here for traps while in the kernel.
void kerneltrap(void) {
  uint64 sepc = csrr(sepc);
  uint64 sstatus = csrr(sstatus);
  uint64 scause = csrr(scause);
  if ((sstatus & SSTATUS_SPP) == 0)
    panic("kerneltrap: not from supervisor mode");
  if (intr_get())
    panic("kerneltrap: interrupts enabled");
  int which = devintr();
  if (which == 0) {
    printf("scause=0x%lx sepc=0x%lx stval=0x%lx\n", scause, sepc, csrr(stval));
    panic("kerneltrap");
  }
  if (which == 2 && myproc() != 0)
    yield();
  // yield() may have taken other traps: restore what sret needs.
  csrw(sepc, sepc);
  csrw(sstatus, sstatus);
}
