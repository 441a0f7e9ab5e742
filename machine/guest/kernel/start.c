// M-mode setup: delegate traps and interrupts to S-mode, open physical memory
// to S/U through PMP, arm the Sstc timer, then mret into main() in S-mode.
#include "types.h"
#include "param.h"
#include "riscv.h"

void main(void);

__attribute__((aligned(16))) char stack0[4096 * NCPU];   // boot stacks, one per hart (entry.S)

void start(void) {
  csrw(mstatus, (csrr(mstatus) & ~MSTATUS_MPP_MASK) | MSTATUS_MPP_S);
  csrw(mepc, (uint64)main);
  csrw(satp, 0);   // paging off until kvminithart()

  // All exceptions and interrupts go to S-mode.
  csrw(medeleg, 0xffff);
  csrw(mideleg, 0xffff);
  csrw(sie, csrr(sie) | SIE_SEIE | SIE_STIE);

  // PMP entry 0 (TOR up to the top of the address space) allows everything.
  csrw(pmpaddr0, 0x3fffffffffffffUL);
  csrw(pmpcfg0, 0xf);

  // Sstc: S-mode reads `time` and programs stimecmp itself; no M-mode timer code.
  csrw(mie, csrr(mie) | MIE_STIE);
  csrw(CSR_MENVCFG, csrr(CSR_MENVCFG) | MENVCFG_STCE);
  csrw(mcounteren, csrr(mcounteren) | MCOUNTEREN_TM);
  csrw(CSR_STIMECMP, csrr(time) + TICK_INTERVAL);
  CLINT_TIMERINIT()   // -DCLINT_TIMER: xv6's CLINT timer instead (end of file)
  asm volatile("mv tp, %0" : : "r"(csrr(mhartid)));   // cpu id, kept in tp
  asm volatile("mret");
}

#ifdef CLINT_TIMER
// xv6's timer before 2024 (-DCLINT_TIMER, param.h): no Sstc. Undo the Sstc
// setup above, program the CLINT's mtimecmp for the first tick and send
// machine timer interrupts to timervec (kernelvec.S), which moves mtimecmp on
// by TICK_INTERVAL and raises a supervisor software interrupt for trap.c.
#include "memlayout.h"

void timervec(void);

// Per hart, for timervec: a save area for 3 registers, &mtimecmp, the interval.
uint64 timer_scratch[NCPU][5];

void timerinit(void) {
  uint64 hart = csrr(mhartid);
  csrw(CSR_MENVCFG, csrr(CSR_MENVCFG) & ~MENVCFG_STCE);
  csrw(mie, csrr(mie) & ~MIE_STIE);
  csrw(sie, csrr(sie) | SIE_SSIE);

  *(volatile uint64 *)CLINT_MTIMECMP(hart) = *(volatile uint64 *)CLINT_MTIME + TICK_INTERVAL;
  uint64 *scratch = timer_scratch[hart];
  scratch[3] = CLINT_MTIMECMP(hart);
  scratch[4] = TICK_INTERVAL;
  csrw(mscratch, (uint64)scratch);
  csrw(mtvec, (uint64)timervec);
  // xv6 also sets mstatus.MIE here, but machine interrupts are taken in S and U
  // mode whatever MIE says, and one taken before start()'s mret would clobber
  // mepc and MPP.
  csrw(mie, csrr(mie) | MIE_MTIE);
}
#endif
