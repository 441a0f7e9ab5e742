// RISC-V privileged architecture: CSR access, status bits, Sv39 page tables.

#define STR_(x) #x
#define STR(x) STR_(x)
// csrr(name) / csrw(name, value): name may be a CSR name or a number macro.
#define csrr(csr) ({ uint64 v_; asm volatile("csrr %0, " STR(csr) : "=r"(v_)); v_; })
#define csrw(csr, v) asm volatile("csrw " STR(csr) ", %0" : : "r"((uint64)(v)))

#define CSR_MENVCFG 0x30a   // M-mode environment config (STCE enables Sstc)
#define CSR_STIMECMP 0x14d  // Sstc: S-timer interrupt pending while time >= stimecmp

#define MSTATUS_MPP_MASK (3L << 11)
#define MSTATUS_MPP_S (1L << 11)
#define MENVCFG_STCE (1UL << 63)
#define MCOUNTEREN_TM (1L << 1)
#define MIE_STIE (1L << 5)

#define SSTATUS_SPP (1L << 8)   // previous mode: 1 = S, 0 = U
#define SSTATUS_SPIE (1L << 5)  // interrupts enabled before the trap
#define SSTATUS_SIE (1L << 1)   // S-mode interrupts enabled
#define SIE_SEIE (1L << 9)      // external (PLIC)
#define SIE_STIE (1L << 5)      // timer

#define SCAUSE_INTR (1UL << 63)
#define SCAUSE_STI (SCAUSE_INTR | 5)
#define SCAUSE_SEI (SCAUSE_INTR | 9)
#define SCAUSE_ECALL_U 8
#define SCAUSE_STORE_PAGE_FAULT 15

static inline void intr_on(void) { csrw(sstatus, csrr(sstatus) | SSTATUS_SIE); }
static inline void intr_off(void) { csrw(sstatus, csrr(sstatus) & ~SSTATUS_SIE); }
static inline int intr_get(void) { return (csrr(sstatus) & SSTATUS_SIE) != 0; }

// Flush all TLB entries: needed after any PTE change the hart may have cached.
static inline void sfence_vma(void) { asm volatile("sfence.vma zero, zero"); }

// Sv39: a virtual address has three 9-bit page-table indexes (levels 2, 1, 0)
// above a 12-bit page offset; bits 63..39 must copy bit 38. A PTE holds the
// physical page number in bits 53..10 and flags in bits 9..0.
#define PGSIZE 4096
#define PGSHIFT 12
#define PGROUNDUP(a) (((uint64)(a) + PGSIZE - 1) & ~(uint64)(PGSIZE - 1))
#define PGROUNDDOWN(a) ((uint64)(a) & ~(uint64)(PGSIZE - 1))

#define PTE_V (1L << 0)
#define PTE_R (1L << 1)
#define PTE_W (1L << 2)
#define PTE_X (1L << 3)
#define PTE_U (1L << 4)
#ifndef RSW_COW_BIT
#define RSW_COW_BIT 8   // the cow lab's choice; some students use 9 (a build knob, param.h)
#endif
#define PTE_COW (1L << RSW_COW_BIT)   // RSW bit: shared copy-on-write page (ignored by hardware)

#define PA2PTE(pa) ((((uint64)(pa)) >> 12) << 10)
#define PTE2PA(pte) (((pte) >> 10) << 12)
#define PTE_FLAGS(pte) ((pte) & 0x3FF)
#define PX(level, va) ((((uint64)(va)) >> (PGSHIFT + 9 * (level))) & 0x1FF)

// One bit less than Sv39 allows, so user addresses never need sign extension.
#define MAXVA (1L << 38)

#define SATP_SV39 (8L << 60)
#define MAKE_SATP(pt) (SATP_SV39 | (((uint64)(pt)) >> 12))

// The timer tick. With Sstc, a supervisor timer interrupt: S-mode sets
// stimecmp for the next one. With -DCLINT_TIMER (param.h), as in xv6 before
// 2024, timervec (kernelvec.S) takes the CLINT's machine timer interrupt in
// M-mode, moves mtimecmp on and raises a supervisor software interrupt, which
// S-mode acknowledges by clearing SSIP. start() calls CLINT_TIMERINIT().
#define MIE_MTIE (1L << 7)
#define SIE_SSIE (1L << 1)
#define SIP_SSIP (1L << 1)
#define SCAUSE_SSI (SCAUSE_INTR | 1)
#ifdef CLINT_TIMER
#define SCAUSE_TICK SCAUSE_SSI
#define NEXT_TICK() csrw(sip, csrr(sip) & ~SIP_SSIP)
#define CLINT_TIMERINIT() timerinit();
void timerinit(void);
#else
#define SCAUSE_TICK SCAUSE_STI
#define NEXT_TICK() csrw(CSR_STIMECMP, csrr(time) + TICK_INTERVAL)
#define CLINT_TIMERINIT()   // nothing: not even a `;`, which would get a line-table entry
#endif
