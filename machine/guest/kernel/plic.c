// Platform-level interrupt controller: route the UART and disk interrupts to
// hart 0's S-mode context.
#include "types.h"
#include "param.h"
#include "riscv.h"
#include "memlayout.h"
#include "defs.h"

#define W32(addr) (*(volatile uint32 *)(addr))

void plicinit(void) {
  W32(PLIC_PRIORITY(UART0_IRQ)) = 1;
  W32(PLIC_PRIORITY(VIRTIO0_IRQ)) = 1;
  W32(PLIC_SENABLE) = (1 << UART0_IRQ) | (1 << VIRTIO0_IRQ);
  W32(PLIC_STHRESHOLD) = 0;
}

int plic_claim(void) {
  return W32(PLIC_SCLAIM);
}

void plic_complete(int irq) {
  W32(PLIC_SCLAIM) = irq;
}

#if NCPU > 1
// Harts 1..: the same interrupts, to this hart's S-mode context. Whichever
// hart claims an interrupt first handles it; the others claim 0.
void plicinithart(void) {
  W32(PLIC_SENABLE) = (1 << UART0_IRQ) | (1 << VIRTIO0_IRQ);
  W32(PLIC_STHRESHOLD) = 0;
}
#endif
