// Kernel-wide function declarations, grouped by file.
struct context;
struct cpu;
struct file;
struct pipe;
struct proc;
struct spinlock;
struct dirent;

// console.c
void consoleintr(int c);
int consoleread(uint64 dst, int n);
int consolewrite(uint64 src, int n);

// cow.c
int uvmcopy(pagetable_t old, pagetable_t new, uint64 sz);
int cowfault(pagetable_t pagetable, uint64 va);

// exec.c
int exec(char *path, char **argv);

// file.c
struct file *filealloc(void);
struct file *filedup(struct file *f);
void fileclose(struct file *f);
int fileread(struct file *f, uint64 addr, int n);
int filewrite(struct file *f, uint64 addr, int n);
struct file *consolefile(void);

// fs.c
void fsinit(void);
int fs_lookup(char *name, struct dirent *out);
int fs_read(struct dirent *f, char *dst, uint off, uint n);

// kalloc.c
void kinit(void);
void *kalloc(void);
void kfree(void *pa);
void kref(void *pa);
int krefcount(void *pa);
int kfreecount(void);
int kreserve(void **list, int n);
void kunreserve(void **list);

// pipe.c
int pipealloc(struct file **f0, struct file **f1);
void pipeclose(struct pipe *pi, int writable);
int piperead(struct pipe *pi, uint64 addr, int n);
int pipewrite(struct pipe *pi, uint64 addr, int n);

// plic.c
void plicinit(void);
int plic_claim(void);
void plic_complete(int irq);

// printf.c
void printf(const char *fmt, ...);
void panic(const char *s) __attribute__((noreturn));
extern volatile int panicked;

// proc.c
void procinit(void);
struct cpu *mycpu(void);
struct proc *myproc(void);
pagetable_t proc_pagetable(struct proc *p);
void proc_freepagetable(pagetable_t pagetable, uint64 sz);
void userinit(void);
int fork(void);
void exit(int status) __attribute__((noreturn));
int wait(uint64 addr);
int growproc(int n);
int kill(int pid);
void setkilled(struct proc *p);
int killed(struct proc *p);
void scheduler(void) __attribute__((noreturn));
void sched(void);
void yield(void);
void sleep(void *chan, struct spinlock *lk);
void wakeup(void *chan);

// spinlock.c
void initlock(struct spinlock *lk, char *name);
void acquire(struct spinlock *lk);
void release(struct spinlock *lk);
int holding(struct spinlock *lk);
void push_off(void);
void pop_off(void);

// string.c
void *memset(void *dst, int c, uint64 n);
void *memmove(void *dst, const void *src, uint64 n);
void *memcpy(void *dst, const void *src, uint64 n);
int memcmp(const void *a, const void *b, uint64 n);
int strncmp(const char *a, const char *b, uint n);
char *safestrcpy(char *dst, const char *src, int n);
int strlen(const char *s);

// swtch.S
void swtch(struct context *old, struct context *new);

// syscall.c
void syscall(void);
void argint(int n, int *ip);
void argaddr(int n, uint64 *ap);
int argstr(int n, char *buf, int max);
int fetchaddr(uint64 addr, uint64 *ip);
int fetchstr(uint64 addr, char *buf, int max);

// trap.c
extern uint64 ticks;
void trapinithart(void);
void usertrapret(void) __attribute__((noreturn));

// uart.c
void uartinit(void);
void uartputc_sync(int c);
void uartwrite(char *buf, int n);
void uartintr(void);

// virtio.c
void virtio_disk_init(void);
void virtio_disk_read(uint blockno, char *dst, uint off, uint n);
void virtio_disk_intr(void);

// vm.c
void kvminit(void);
void kvminithart(void);
pte_t *walk(pagetable_t pagetable, uint64 va, int alloc);
uint64 walkaddr(pagetable_t pagetable, uint64 va);
int mappages(pagetable_t pagetable, uint64 va, uint64 size, uint64 pa, int perm);
void uvmunmap(pagetable_t pagetable, uint64 va, uint64 npages, int do_free);
pagetable_t uvmcreate(void);
uint64 uvmalloc(pagetable_t pagetable, uint64 oldsz, uint64 newsz, int xperm);
uint64 uvmdealloc(pagetable_t pagetable, uint64 oldsz, uint64 newsz);
void uvmfree(pagetable_t pagetable, uint64 sz);
int copyout(pagetable_t pagetable, uint64 dstva, char *src, uint64 len);
int copyin(pagetable_t pagetable, char *dst, uint64 srcva, uint64 len);
int copyinstr(pagetable_t pagetable, char *dst, uint64 srcva, uint64 max);

#define NELEM(x) (sizeof(x) / sizeof((x)[0]))

#if NCPU > 1
// Several harts (param.h)
int cpuid(void);                  // proc.c
void otherhartmain(void);         // main.c
void start_other_harts(void);     // main.c
void plicinithart(void);          // plic.c
void kvmmap_other_harts_plic(pagetable_t kpt);   // vm.c
#endif
