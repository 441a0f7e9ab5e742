// Fixed-size integer names used throughout the kernel (RV64, LP64).
typedef unsigned char uint8;
typedef unsigned short uint16;
typedef unsigned int uint32;
typedef unsigned int uint;
typedef unsigned long uint64;

typedef uint64 pte_t;
typedef uint64 *pagetable_t; // 512 PTEs in one 4 KiB page
