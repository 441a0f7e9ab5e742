// A tiny multi-hart "kernel" for the race tools' tests, built at test time
// (tests/platform/race_guest.py): NCPU harts take turns taking and dropping
// references to a few frames, the xv6 way (refcnt[] under kmem.lock, a
// struct spinlock with locked and cpu, struct cpu cpus[NCPU]).
// -DREFCOUNT_WITHOUT_LOCK: kref() updates the count without the lock, the
// classic multi-hart cow-lab mistake; an update is lost when another hart
// stores between its load and its store, and a count can drop below zero
// (the tracker's double-free).
// Hart 0 finishes through the test finisher once every hart is done.

#define NCPU 3
#define NFRAMES 8
#define ROUNDS 40
#define KERNBASE 0x80000000UL

struct cpu { int id; void *proc; };
struct spinlock { unsigned int locked; char *name; struct cpu *cpu; };
struct run { struct run *next; };

struct cpu cpus[NCPU];
struct { struct spinlock lock; struct run *freelist; } kmem = { { 0, "kmem", 0 }, 0 };
int refcnt[NFRAMES];
volatile int started, done;
char stacks[NCPU][4096] __attribute__((aligned(16)));

static inline unsigned long hartid(void) {
  unsigned long id;
  asm volatile("csrr %0, mhartid" : "=r"(id));
  return id;
}

void acquire(struct spinlock *lk) {
  while (__sync_lock_test_and_set(&lk->locked, 1) != 0)
    ;
  __sync_synchronize();
  lk->cpu = &cpus[hartid()];
}

void release(struct spinlock *lk) {
  lk->cpu = 0;
  __sync_synchronize();
  __sync_lock_release(&lk->locked);
}

static void pause_a_little(int n) {
  for (volatile int i = 0; i < n; i++)
    ;
}

// The count's update: a load, a pause (another hart may store meanwhile),
// a store. kderef's pause is long, kref's short: a kref that another hart
// runs inside a kderef's window is lost, so the count drops below zero.
void kref(int frame) {
#ifndef REFCOUNT_WITHOUT_LOCK
  acquire(&kmem.lock);
#endif
  int count = *(volatile int *)&refcnt[frame];
  *(volatile int *)&refcnt[frame] = count + 1;
#ifndef REFCOUNT_WITHOUT_LOCK
  release(&kmem.lock);
#endif
}

void kderef(int frame) {
  acquire(&kmem.lock);
  int count = *(volatile int *)&refcnt[frame];
  pause_a_little(8);
  *(volatile int *)&refcnt[frame] = count - 1;
  release(&kmem.lock);
}

void kmain(unsigned long id) {
  if (id == 0) {
    acquire(&kmem.lock);
    for (int f = 0; f < NFRAMES; f++)
      refcnt[f] = 1;  // allocated: one reference each
    release(&kmem.lock);
    __sync_synchronize();
    started = 1;  // the others may start
  } else {
    while (!started)
      ;
  }
  for (int round = 0; round < ROUNDS; round++) {
    int frame = round % 2;  // every hart on the same two frames
    kref(frame);
    pause_a_little(id + 1);
    kderef(frame);
  }
  __sync_fetch_and_add(&done, 1);
  if (id == 0) {
    while (done != NCPU)
      ;
    int ok = 1;
    for (int f = 0; f < NFRAMES; f++)
      ok = ok && refcnt[f] == 1;
    *(volatile unsigned int *)0x100000UL = ok ? 0x5555 : (1 << 16) | 0x3333;
  }
  for (;;)
    asm volatile("wfi");
}

asm(".section .text.entry\n"
    ".globl _start\n"
    "_start:\n"
    "  csrr a0, mhartid\n"
    "  la sp, stacks\n"
    "  addi t0, a0, 1\n"
    "  slli t0, t0, 12\n"
    "  add sp, sp, t0\n"
    "  call kmain\n"
    "1: j 1b\n");
