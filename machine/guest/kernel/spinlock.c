// Spinlocks. Interrupts stay off while any lock is held (push_off/pop_off), so
// an interrupt handler can never spin on a lock its own hart holds.
#include "types.h"
#include "param.h"
#include "riscv.h"
#include "spinlock.h"
#include "proc.h"
#include "defs.h"

void initlock(struct spinlock *lk, char *name) {
  lk->name = name;
  lk->locked = 0;
  lk->cpu = 0;
}

void acquire(struct spinlock *lk) {
  push_off();
  if (holding(lk))
    panic(lk->name);   // would deadlock
  while (__sync_lock_test_and_set(&lk->locked, 1) != 0)   // amoswap.w.aq
    ;
  __sync_synchronize();
  lk->cpu = mycpu();
}

void release(struct spinlock *lk) {
  if (!holding(lk))
    panic("release");
  lk->cpu = 0;
  __sync_synchronize();
  __sync_lock_release(&lk->locked);
  pop_off();
}

int holding(struct spinlock *lk) {
  return lk->locked && lk->cpu == mycpu();
}

// Like intr_off()/intr_on(), but nested: two push_off()s need two pop_off()s,
// and interrupts come back on only if they were on before the first.
void push_off(void) {
  int old = intr_get();
  intr_off();
  struct cpu *c = mycpu();
  if (c->noff == 0)
    c->intena = old;
  c->noff++;
}

void pop_off(void) {
  struct cpu *c = mycpu();
  if (intr_get())
    panic("pop_off: interruptible");
  if (c->noff < 1)
    panic("pop_off");
  if (--c->noff == 0 && c->intena)
    intr_on();
}
