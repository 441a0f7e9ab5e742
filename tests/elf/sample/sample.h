/* Types shaped like xv6-riscv's kernel structures, for the ELF/DWARF tests.
 * Every layout fact the tests check is also compiled into tables in
 * layout.c (offsetof, sizeof, lengths), so the expected values come from
 * the compiler, never from the test's own arithmetic. */
#ifndef SAMPLE_H
#define SAMPLE_H

typedef unsigned int uint;
typedef unsigned long uint64;
typedef uint64 pte_t;
typedef uint64 *pagetable_t;

#define NPROC 64
#define NOFILE 16
#define NFRAMES 32768
#define PGSIZE 4096

struct cpu;
struct file;
struct inode;

struct spinlock {
  uint locked;
  char *name;
  struct cpu *cpu;
};

struct context {
  uint64 ra;
  uint64 sp;
  uint64 s[12];
};

struct trapframe {
  uint64 kernel_satp;
  uint64 kernel_sp;
  uint64 kernel_trap;
  uint64 epc;
  uint64 regs[31];
};

#define PROCSTATES(X) X(UNUSED) X(USED) X(SLEEPING) X(RUNNABLE) X(RUNNING) X(ZOMBIE)
#define ENUMERATOR(n) n,
enum procstate { PROCSTATES(ENUMERATOR) };

enum odd { ODD_NEGATIVE = -2, ODD_ZERO = 0, ODD_BIG = 1000 };

struct proc {
  struct spinlock lock;
  enum procstate state;
  void *chan;
  int killed;
  int xstate;
  int pid;
  struct proc *parent;
  uint64 kstack;
  uint64 sz;
  pagetable_t pagetable;
  struct trapframe *trapframe;
  struct context context;
  struct file *ofile[NOFILE];
  struct inode *cwd;
  char name[16];
};

struct cpu {
  struct proc *proc;
  struct context context;
  int noff;
  int intena;
};

struct run {
  struct run *next;
};

/* Bit-fields: DW_AT_bit_offset (DWARF 2/3) or DW_AT_data_bit_offset (4/5). */
struct pteflags {
  unsigned v : 1, r : 1, w : 1, x : 1, u : 1, g : 1, a : 1, d : 1;
  unsigned rsw : 2;
  unsigned long ppn : 44;
};

union word {
  uint64 whole;
  uint halves[2];
  unsigned char bytes[8];
};

typedef const volatile struct context cv_context_t;

/* Inlined into its callers (as xv6's riscv.h helpers are): their line rows
 * name this header, a file other than the unit's primary one. */
static inline int
pa2index(uint64 pa)
{
  return (pa - 0x80000000UL) / PGSIZE; /* LINE:pa2index */
}

extern struct proc proc[NPROC];
extern struct cpu cpus[8];
extern int refcnt[];          /* completed in kern.c: DW_AT_specification */
extern volatile int started;

void *kalloc(void);
void kfree(void *pa);
int incref(uint64 pa);
int fork_like(struct proc *p);
void start(void);

#endif
