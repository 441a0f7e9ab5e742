// Mutual exclusion lock; holding one also keeps interrupts off on this hart.
struct spinlock {
  uint locked;
  char *name;
  struct cpu *cpu;   // holder, for debugging
};
