// Other layouts of struct proc, picked by a build knob (param.h): kernels built
// with them show that cowtui finds the members of struct proc through DWARF,
// never at fixed offsets. proc.h includes this file just before its own
// struct proc. When a knob defines struct proc here, the macro below renames
// proc.h's definition to struct proc_ours (unused), and the #undef after it
// ends the renaming. proc.h's text is left as it was because the default
// build (prebuilt/) must stay byte for byte the same.

#if defined(XV6_PROC_LAYOUT)
// xv6-riscv's struct proc (2020 to 2025): its members, order and sizes, so the
// offsets are xv6's (pagetable at 80, name at 344). xv6 has 16 open files per
// process and a current directory; this kernel uses the first NOFILE of them
// and has no directories. Our one extra member goes last.
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
  struct file *ofile[16];
  struct inode *cwd;         // unused
  char name[16];
  void *reserved;            // frames set aside by eatmem()
};
#define proc proc_ours

#elif defined(SHUFFLED_PROC_LAYOUT)
// proc.h's members in reverse order: every one at another offset.
struct proc {
  char name[16];
  void *reserved;
  struct file *ofile[NOFILE];
  struct context context;
  struct trapframe *trapframe;
  pagetable_t pagetable;
  uint64 sz;
  uint64 kstack;
  struct proc *parent;
  int pid;
  int xstate;
  int killed;
  void *chan;
  enum procstate state;
  struct spinlock lock;
};
#define proc proc_ours
#endif
