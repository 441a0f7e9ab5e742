// Processes and the hart that runs them.

// Callee-saved registers, saved by swtch() when a kernel thread gives up the hart.
struct context {
  uint64 ra, sp;
  uint64 s0, s1, s2, s3, s4, s5, s6, s7, s8, s9, s10, s11;
};

struct cpu {
  struct proc *proc;        // running process, or 0 in the scheduler
  struct context context;   // scheduler's registers
  int noff;                 // depth of push_off()
  int intena;               // were interrupts on before the outermost push_off?
};

// Per-process page mapped at TRAPFRAME in the user page table: uservec
// (trampoline.S) saves user registers here. The first five fields tell it how
// to enter the kernel; user registers follow in x1..x31 order, so register
// xN lives at offset 32 + 8*N.
struct trapframe {
  uint64 kernel_satp;    //   0
  uint64 kernel_sp;      //   8 top of the process's kernel stack
  uint64 kernel_trap;    //  16 usertrap()
  uint64 epc;            //  24 user pc
  uint64 kernel_hartid;  //  32
  uint64 ra, sp, gp, tp, t0, t1, t2, s0, s1;              //  40 ..  104
  uint64 a0, a1, a2, a3, a4, a5, a6, a7;                  // 112 ..  168
  uint64 s2, s3, s4, s5, s6, s7, s8, s9, s10, s11;        // 176 ..  248
  uint64 t3, t4, t5, t6;                                  // 256 ..  288
};

enum procstate { UNUSED, USED, SLEEPING, RUNNABLE, RUNNING, ZOMBIE };
#include "proc_layouts.h"   // build knobs: struct proc as other kernels lay it out
struct proc {
  struct spinlock lock;

  // p->lock must be held to use these:
  enum procstate state;
  void *chan;              // sleeping on chan
  int killed;
  int xstate;              // exit status for the parent's wait()
  int pid;

  struct proc *parent;     // wait_lock must be held

  // Private to the process:
  uint64 kstack;           // bottom of its kernel stack
  uint64 sz;               // size of user memory (bytes)
  pagetable_t pagetable;   // user page table
  struct trapframe *trapframe;
  struct context context;  // swtch() here to run the process
  struct file *ofile[NOFILE];
  void *reserved;          // frames set aside by eatmem() (a list), freed at exit
  char name[16];
};
#undef proc   // (proc_layouts.h renames the struct above when it defines its own)
extern struct proc proc[NPROC];
