// Sizes of the kernel's fixed tables.
#define NPROC 32          // process table entries
#define NCPU 1            // one hart runs the kernel; others are parked
#define NOFILE 8          // open files per process
#define NFILE 64          // open files in the system
#define MAXARG 16         // exec arguments
#define MAXPATH 24        // program name length (the disk's directory entry)
#define KSTACKSIZE 4096   // kernel stack per process

// Timer tick in 10 MHz timebase ticks. xv6 uses 1,000,000 (0.1 s); we use
// 100,000 (10 ms under QEMU; 100 K instructions on cowtui's emulator, where one
// instruction is one tick) so that preemption happens often enough to see.
#define TICK_INTERVAL 100000
