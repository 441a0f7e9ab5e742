// M-mode setup: delegate traps and interrupts to S-mode, open physical memory
// to S/U through PMP, arm the Sstc timer, then mret into main() in S-mode.
#include "types.h"
#include "param.h"
#include "riscv.h"

void main(void);

__attribute__((aligned(16))) char stack0[4096];   // boot stack (entry.S)

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

  asm volatile("mv tp, %0" : : "r"(csrr(mhartid)));   // cpu id, kept in tp
  asm volatile("mret");
}
