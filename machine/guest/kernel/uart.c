// 16550 UART at UART0. Kernel printf polls the transmitter (uartputc_sync);
// user writes are interrupt driven: one byte goes to THR, then the writer
// sleeps until the transmitter-empty interrupt. Received bytes go to the
// console line discipline from the receive interrupt.
#include "types.h"
#include "param.h"
#include "riscv.h"
#include "memlayout.h"
#include "spinlock.h"
#include "defs.h"

#define Reg(r) ((volatile uint8 *)(UART0 + (r)))
#define RHR 0   // receive holding (read)
#define THR 0   // transmit holding (write)
#define DLL 0   // divisor latch, low byte (when LCR_DLAB)
#define IER 1   // interrupt enable
#define DLM 1   // divisor latch, high byte (when LCR_DLAB)
#define FCR 2   // FIFO control (write)
#define ISR 2   // interrupt status (read)
#define LCR 3   // line control
#define LSR 5   // line status

#define IER_RX_ENABLE (1 << 0)
#define IER_TX_ENABLE (1 << 1)
#define FCR_FIFO_ENABLE_CLEAR 0x07
#define LCR_EIGHT_BITS 0x03
#define LCR_DLAB 0x80
#define LSR_RX_READY (1 << 0)
#define LSR_TX_IDLE (1 << 5)

static struct spinlock tx_lock;
static int tx_busy;   // a byte is in THR and its TX-empty interrupt has not come yet

void uartinit(void) {
  *Reg(IER) = 0;
  *Reg(LCR) = LCR_DLAB;
  *Reg(DLL) = 3;   // 38.4 kbaud (QEMU ignores the rate)
  *Reg(DLM) = 0;
  *Reg(LCR) = LCR_EIGHT_BITS;
  *Reg(FCR) = FCR_FIFO_ENABLE_CLEAR;
  *Reg(IER) = IER_RX_ENABLE | IER_TX_ENABLE;
  initlock(&tx_lock, "uart");
}

// Polled output for kernel printf and echo; works with interrupts off.
void uartputc_sync(int c) {
  push_off();
  while ((*Reg(LSR) & LSR_TX_IDLE) == 0)
    ;
  *Reg(THR) = c;
  pop_off();
}

// Interrupt-driven output for write(): returns once the last byte is in THR.
void uartwrite(char *buf, int n) {
  acquire(&tx_lock);
  for (int i = 0; i < n; i++) {
    while (tx_busy)
      sleep(&tx_busy, &tx_lock);
    *Reg(THR) = buf[i];
    tx_busy = 1;
  }
  release(&tx_lock);
}

void uartintr(void) {
  (void)*Reg(ISR);   // reading ISR acknowledges a TX-empty interrupt
  if (*Reg(LSR) & LSR_TX_IDLE) {
    acquire(&tx_lock);
    tx_busy = 0;
    wakeup(&tx_busy);
    release(&tx_lock);
  }
  while (*Reg(LSR) & LSR_RX_READY)
    consoleintr(*Reg(RHR));
}
