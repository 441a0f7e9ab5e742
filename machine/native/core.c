/* The native core: one RISC-V hart in C, run by machine/native/engine.py.
 *
 * What the instructions mean is generated (gen_decode.h, gen_execute.h, from
 * machine/isa/ by generate.py). What is written here mirrors the Python
 * reference line for line, and lockstep tests hold the two together:
 *   hart.py    trap entry and return, interrupt priority, ecall/ebreak, sfence
 *   csr.py     the CSR file: permissions, views, side effects
 *   mmu.py     the Sv39 walk with A/D updates
 *   engine/memory.py  loads, stores, AMOs, LR/SC, soft TLBs, code invalidation
 * Devices stay in Python: an instruction that touches anything but RAM (and
 * WFI, which needs the board's deadlines) is handed back before it has any
 * effect ("fallback"), and the reference interpreter executes it.
 *
 * The Python Hart object holds the state between runs: ``push`` copies it in,
 * ``pull`` copies it back. A run stops at its limit, before a fallback or a
 * breakpoint, or just after an instruction that produced an event someone
 * observes (trap, trap return, satp write, sfence, store into a watched page).
 *
 * Guest addresses are always checked against RAM before the host touches
 * memory: the guest cannot make this code read or write outside the buffer.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define UNLIKELY(x) __builtin_expect(!!(x), 0)
#define LIKELY(x) __builtin_expect(!!(x), 1)

/* --- Python's integer semantics, 128 bits wide (see generate.py) --------- */
typedef __int128 I;
typedef unsigned __int128 U;
#define ADD(a, b) ((I)((U)(a) + (U)(b)))
#define SUB(a, b) ((I)((U)(a) - (U)(b)))
#define MUL(a, b) ((I)((U)(a) * (U)(b)))
#define SHL(a, b) ((I)((U)(a) << (int)(b)))
#define S64(e) SUB(((I)(e) ^ (I)0x8000000000000000ULL), (I)0x8000000000000000ULL)
#define SX32(e) SUB((((I)(e) & (I)0xFFFFFFFFULL) ^ (I)0x80000000ULL), (I)0x80000000ULL)
static inline I ABS(I a) { return a < 0 ? SUB((I)0, a) : a; }
static inline I FLOORDIV(I a, I b) {
    I q = a / b;
    if (a % b != 0 && ((a < 0) != (b < 0))) q -= 1;
    return q;
}
static inline I MOD(I a, I b) {
    I r = a % b;
    if (r != 0 && ((r < 0) != (b < 0))) r += b;
    return r;
}
static inline int64_t sext(int64_t value, int width) {
    int64_t sign = (int64_t)1 << (width - 1);
    return (value ^ sign) - sign;
}

enum { CSR_OP_WRITE, CSR_OP_SET, CSR_OP_CLEAR };

/* --- the decoded instruction ------------------------------------------ */
typedef struct {
    uint16_t handler, real; /* real: the handler behind a breakpoint */
    uint8_t len, rd, rdw, rs1, rs2, shamt, zimm, aq, rl, pred, succ, fm;
    uint16_t csr;
    uint16_t idiom;         /* a branch: IDIOM_ASK; an OP_IDIOM head: its table index + 1 */
    uint32_t insn;
    int64_t imm;
} Op;
#define IDIOM_ASK 0xFFFF

#include "gen_decode.h"

/* --- constants (csr.py, trap.py, mmu.py) ------------------------------- */
#define M64 0xFFFFFFFFFFFFFFFFULL
enum { USER = 0, SUPERVISOR = 1, MACHINE = 3 };
enum { FETCH = 0, LOAD = 1, STORE = 2 };
#define INTERRUPT_BIT (1ULL << 63)
enum {
    ILLEGAL_INSTRUCTION = 2, BREAKPOINT = 3, LOAD_MISALIGNED = 4, STORE_MISALIGNED = 6,
    ECALL_FROM_U = 8, INSTRUCTION_ACCESS_FAULT = 1, LOAD_ACCESS_FAULT = 5,
    STORE_ACCESS_FAULT = 7, INSTRUCTION_PAGE_FAULT = 12, LOAD_PAGE_FAULT = 13,
    STORE_PAGE_FAULT = 15,
};
static const int PAGE_FAULT_FOR[3] = {INSTRUCTION_PAGE_FAULT, LOAD_PAGE_FAULT, STORE_PAGE_FAULT};
static const int ACCESS_FAULT_FOR[3] = {INSTRUCTION_ACCESS_FAULT, LOAD_ACCESS_FAULT,
                                        STORE_ACCESS_FAULT};
static const int INTERRUPT_PRIORITY[6] = {11, 3, 7, 9, 1, 5}; /* MEI MSI MTI SEI SSI STI */

#define SIE (1ULL << 1)
#define MIE (1ULL << 3)
#define SPIE (1ULL << 5)
#define UBE (1ULL << 6)
#define MPIE (1ULL << 7)
#define SPP (1ULL << 8)
#define MPP_SHIFT 11
#define MPP (3ULL << 11)
#define FS (3ULL << 13)
#define XS (3ULL << 15)
#define VS (3ULL << 9)
#define MPRV (1ULL << 17)
#define SUM (1ULL << 18)
#define MXR (1ULL << 19)
#define TVM (1ULL << 20)
#define TW (1ULL << 21)
#define TSR (1ULL << 22)
#define SD (1ULL << 63)
#define MSTATUS_WRITABLE (SIE | MIE | SPIE | MPIE | SPP | MPP | MPRV | SUM | MXR | TVM | TW | TSR)
#define SSTATUS_VIEW (SIE | SPIE | UBE | SPP | VS | FS | XS | SUM | MXR | (3ULL << 32) | SD)
#define SSTATUS_WRITABLE (SIE | SPIE | SPP | SUM | MXR)
#define SSIP (1ULL << 1)
#define MSIP (1ULL << 3)
#define STIP (1ULL << 5)
#define MTIP (1ULL << 7)
#define SEIP (1ULL << 9)
#define MEIP (1ULL << 11)
#define S_INTERRUPTS (SSIP | STIP | SEIP)
#define ALL_INTERRUPTS (S_INTERRUPTS | MSIP | MTIP | MEIP)
#define MISA ((2ULL << 62) | (1ULL << 0) | (1ULL << 2) | (1ULL << 8) | (1ULL << 12) | \
              (1ULL << 18) | (1ULL << 20))
#define MEDELEG_WRITABLE 0xB3FFULL
#define MENVCFG_STCE (1ULL << 63)
#define MENVCFG_WRITABLE (MENVCFG_STCE | 1)
#define PMPADDR_MASK ((1ULL << 54) - 1)
#define PMPCFG_MASK 0x9F9F9F9F9F9F9F9FULL
#define NEVER (1ULL << 63)

#define PTE_V 1ULL
#define PTE_R 2ULL
#define PTE_W 4ULL
#define PTE_X 8ULL
#define PTE_U 16ULL
#define PTE_A 64ULL
#define PTE_D 128ULL
#define PTE_HIGH_RESERVED (0x3FFULL << 54)
#define PPN_MASK ((1ULL << 44) - 1)

/* page flags: what a RAM page is to the core */
#define PAGE_WATCHED 1   /* stores become MemoryWrite events */
#define PAGE_CODE 2      /* holds decoded instructions */
#define PAGE_TABLE 4     /* a walk read a PTE from it: stores flush the TLBs */
#define PAGE_PARTIAL 8   /* watched in parts: only stores touching a watched range are events */

/* --- status and exits ---------------------------------------------------- */
enum { ST_OK = 0, ST_EXCEPTION = 1, ST_FALLBACK = 2 };
enum {
    EXIT_LIMIT = 0, EXIT_FALLBACK, EXIT_BREAKPOINT, EXIT_TRAP, EXIT_RETURN, EXIT_SATP,
    EXIT_SFENCE, EXIT_WRITE, EXIT_IDIOM,
};
/* what each exit reports besides its kind */
enum { WANT_TRAP = 1, WANT_RETURN = 2, WANT_SATP = 4, WANT_SFENCE = 8, WANT_WRITE = 16 };

#define TLB_SIZE 256
typedef struct { uint64_t tag; uint64_t offset; } TlbEntry; /* tag: vpn + 1 (0 = empty) */

#define MAX_TABLE_PAGES 64

typedef struct {
    uint64_t x[33]; /* x0..x31, and a sink for writes to x0 */
    uint64_t pc, icount, not_retired;
    int privilege;
    /* CSR file (csr.py's CsrFile fields) */
    uint64_t mstatus, medeleg, mideleg, mie, mip_software, mtvec, stvec, mepc, sepc, mcause,
        scause, mtval, stval, mscratch, sscratch, satp, mcounteren, scounteren, menvcfg,
        senvcfg, stimecmp, cycle_offset, instret_offset, hartid;
    uint64_t pmpcfg[16], pmpaddr[64];
    int pmp_dirty;           /* written since the last pull */
    uint64_t external_lines; /* MEIP/SEIP/MTIP/MSIP from the devices, fixed during a run */
    int has_reservation;
    uint64_t reservation;
    /* memory */
    uint8_t *ram;
    uint64_t ram_base, ram_size, npages;
    uint8_t *page_flags;
    uint8_t *dirty;          /* per RAM page: stored into since take_dirty (time travel) */
    uint8_t *stored;         /* per RAM page: stored into since take_stored (other harts' code) */
    uint32_t *stored_list;   /* the pages marked in stored, nstored of them */
    uint64_t nstored;
    Op **code;               /* per RAM page: PAGE_SLOTS decoded ops, or NULL */
    uint32_t *code_gen;      /* generation the page's ops were decoded in */
    uint32_t generation;
    TlbEntry tlb[3][TLB_SIZE];
    uint64_t table_pages[MAX_TABLE_PAGES];
    int ntable, table_overflow;
    /* run control */
    int status;
    uint64_t exc_cause, exc_tval;
    int recheck;
    int fallback_store;      /* the fallback was a store: RAM may change behind us */
    uint64_t deferred[16];   /* code pages a store hit, invalidated after it */
    int ndeferred;
    int wants;
    int exit_kind;
    uint64_t exit_args[5];
    uint64_t event_icount, event_pc;
    uint64_t stop_at, py_deadline, chunk_end;
    struct Idiom *idioms;
    int nidioms;
    uint64_t *ranges;        /* watched [start, end) pairs of PAGE_PARTIAL pages, sorted */
    Py_ssize_t nranges;
    uint64_t *breakpoints;
    Py_ssize_t nbreakpoints;
    int resume_valid;
    uint64_t resume_pc;
} Hart;

#define PAGE_SLOTS 2048

/* --- caches ------------------------------------------------------------------ */
static void tlb_flush(Hart *h) { memset(h->tlb, 0, sizeof h->tlb); }
static void tlb_flush_stores(Hart *h) { memset(h->tlb[STORE], 0, sizeof h->tlb[STORE]); }

/* A RAM page stored into by this hart: for time travel (dirty) and for the
   other harts, which drop what they decoded or translated there (stored). */
static inline void mark_stored(Hart *h, uint64_t page) {
    h->dirty[page] = 1;
    if (!h->stored[page]) {
        h->stored[page] = 1;
        h->stored_list[h->nstored++] = (uint32_t)page;
    }
}

/* memory.py flush(): translations and the table pages they were read from */
static void flush_translations(Hart *h) {
    tlb_flush(h);
    if (h->table_overflow) {
        for (uint64_t p = 0; p < h->npages; p++) h->page_flags[p] &= ~PAGE_TABLE;
    } else {
        for (int i = 0; i < h->ntable; i++) h->page_flags[h->table_pages[i]] &= ~PAGE_TABLE;
    }
    h->ntable = 0;
    h->table_overflow = 0;
}

static void mark_table_page(Hart *h, uint64_t page) {
    if (h->page_flags[page] & PAGE_TABLE) return;
    h->page_flags[page] |= PAGE_TABLE;
    if (h->ntable < MAX_TABLE_PAGES) h->table_pages[h->ntable++] = page;
    else h->table_overflow = 1;
    tlb_flush_stores(h); /* its stores must now take the slow path */
}

static void invalidate_code_page(Hart *h, uint64_t page) {
    if (h->code[page] && h->code_gen[page] == h->generation)
        memset(h->code[page], 0, PAGE_SLOTS * sizeof(Op));
    h->page_flags[page] &= ~PAGE_CODE;
}

static void invalidate_all_code(Hart *h) {
    h->generation++;
    h->nidioms = 0; /* every op that named one is stale now */
    for (uint64_t p = 0; p < h->npages; p++) h->page_flags[p] &= ~PAGE_CODE;
    tlb_flush(h);
}

/* The decoded ops of a RAM page, allocated on first use. NULL if out of memory. */
static Op *code_page(Hart *h, uint64_t page) {
    Op *ops = h->code[page];
    if (!ops) {
        ops = calloc(PAGE_SLOTS, sizeof(Op));
        if (!ops) return NULL;
        h->code[page] = ops;
        h->code_gen[page] = h->generation;
    } else if (h->code_gen[page] != h->generation) {
        memset(ops, 0, PAGE_SLOTS * sizeof(Op));
        h->code_gen[page] = h->generation;
    }
    if (!(h->page_flags[page] & PAGE_CODE)) {
        h->page_flags[page] |= PAGE_CODE;
        tlb_flush_stores(h); /* stores to this page must now see the code */
    }
    return ops;
}

static inline int is_ram(const Hart *h, uint64_t pa, uint64_t size) {
    return pa >= h->ram_base && pa - h->ram_base <= h->ram_size && size <= h->ram_size - (pa - h->ram_base);
}

static inline void raise_trap(Hart *h, uint64_t cause, uint64_t tval) {
    h->status = ST_EXCEPTION;
    h->exc_cause = cause;
    h->exc_tval = tval;
}

static inline void fallback(Hart *h) { h->status = ST_FALLBACK; }

static inline uint64_t read_le(const uint8_t *p, int size) {
    uint64_t v = 0;
    memcpy(&v, p, (size_t)size); /* little-endian host (checked at import) */
    return v;
}
static inline void write_le(uint8_t *p, int size, uint64_t v) { memcpy(p, &v, (size_t)size); }

/* --- privilege and translation context (hart.py) -------------------------- */
static inline int data_privilege(const Hart *h) {
    if (h->privilege == MACHINE && (h->mstatus & MPRV)) return (int)((h->mstatus >> MPP_SHIFT) & 3);
    return h->privilege;
}

static void set_privilege(Hart *h, int privilege) {
    if (privilege != h->privilege) tlb_flush(h);
    h->privilege = privilege;
}

/* --- Sv39 (mmu.py walk + memory.py translate) ------------------------------ */
/* Returns 1 with *pa set, or 0 with the trap raised. */
static int translate(Hart *h, uint64_t va, int access, int privilege, int update_ad, uint64_t *pa) {
    if (privilege == MACHINE || (h->satp >> 60) == 0) {
        *pa = va;
        return 1;
    }
    int page_fault = PAGE_FAULT_FOR[access];
    uint64_t top = va >> 38;
    if (!(top == 0 || top == (1ULL << 26) - 1)) {
        raise_trap(h, (uint64_t)page_fault, va);
        return 0;
    }
    uint64_t table = (h->satp & PPN_MASK) * 4096;
    int level = 2;
    uint64_t pte, pte_address;
    for (;;) {
        pte_address = table + ((va >> (12 + 9 * level)) & 0x1FF) * 8;
        if (!is_ram(h, pte_address, 8)) {
            raise_trap(h, (uint64_t)ACCESS_FAULT_FOR[access], va);
            return 0;
        }
        mark_table_page(h, (pte_address - h->ram_base) >> 12);
        pte = read_le(h->ram + (pte_address - h->ram_base), 8);
        if (!(pte & PTE_V) || (pte & (PTE_R | PTE_W)) == PTE_W || (pte & PTE_HIGH_RESERVED)) {
            raise_trap(h, (uint64_t)page_fault, va);
            return 0;
        }
        if (pte & (PTE_R | PTE_X)) break;
        level -= 1;
        if (level < 0) {
            raise_trap(h, (uint64_t)page_fault, va);
            return 0;
        }
        table = ((pte >> 10) & PPN_MASK) * 4096;
    }
    int sum = (h->mstatus & SUM) != 0, mxr = (h->mstatus & MXR) != 0;
    if (privilege == USER && !(pte & PTE_U)) goto fault;
    if (privilege == SUPERVISOR && (pte & PTE_U) && (access == FETCH || !sum)) goto fault;
    uint64_t allowed;
    if (access == FETCH) allowed = pte & PTE_X;
    else if (access == STORE) allowed = pte & PTE_W;
    else allowed = (pte & PTE_R) || (mxr && (pte & PTE_X));
    if (!allowed) goto fault;
    uint64_t ppn = (pte >> 10) & PPN_MASK;
    if (level > 0 && (ppn & ((1ULL << (9 * level)) - 1))) goto fault;
    uint64_t wanted = PTE_A | (access == STORE ? PTE_D : 0);
    /* the hardware's A/D update: not a store by an instruction, no event */
    if ((pte & wanted) != wanted && update_ad) {
        write_le(h->ram + (pte_address - h->ram_base), 8, pte | wanted);
        mark_stored(h, (pte_address - h->ram_base) >> 12);
    }
    int low_bits = 12 + 9 * level;
    uint64_t low_mask = (1ULL << low_bits) - 1;
    *pa = ((ppn << 12) & ~low_mask) | (va & low_mask);
    return 1;
fault:
    raise_trap(h, (uint64_t)page_fault, va);
    return 0;
}

/* --- loads ------------------------------------------------------------------- */
static uint64_t load_slow(Hart *h, uint64_t a, int size) {
    if ((a & 4095) + (uint64_t)size > 4096) { /* crosses a page: byte by byte, as QEMU */
        uint64_t value = 0;
        for (int i = 0; i < size; i++) {
            uint64_t byte = load_slow(h, a + (uint64_t)i, 1);
            if (h->status) return 0;
            value |= byte << (8 * i);
        }
        return value;
    }
    uint64_t pa;
    if (!translate(h, a, LOAD, data_privilege(h), 1, &pa)) return 0;
    if (!is_ram(h, pa, (uint64_t)size)) {
        fallback(h); /* a device: the board answers, in Python */
        return 0;
    }
    uint64_t offset = pa - h->ram_base;
    TlbEntry *e = &h->tlb[LOAD][(a >> 12) % TLB_SIZE];
    e->tag = (a >> 12) + 1;
    e->offset = offset & ~4095ULL;
    return read_le(h->ram + offset, size);
}

static inline uint64_t load(Hart *h, uint64_t a, int size) {
    TlbEntry *e = &h->tlb[LOAD][(a >> 12) % TLB_SIZE];
    if (LIKELY(e->tag == (a >> 12) + 1) && (a & 4095) + (uint64_t)size <= 4096)
        return read_le(h->ram + e->offset + (a & 4095), size);
    return load_slow(h, a, size);
}

static inline I mem_load_u8(Hart *h, uint64_t a) { return (I)load(h, a, 1); }
static inline I mem_load_u16(Hart *h, uint64_t a) { return (I)load(h, a, 2); }
static inline I mem_load_u32(Hart *h, uint64_t a) { return (I)load(h, a, 4); }
static inline I mem_load_u64(Hart *h, uint64_t a) { return (I)load(h, a, 8); }
static inline I mem_load_s8(Hart *h, uint64_t a) { return (I)(int8_t)load(h, a, 1); }
static inline I mem_load_s16(Hart *h, uint64_t a) { return (I)(int16_t)load(h, a, 2); }
static inline I mem_load_s32(Hart *h, uint64_t a) { return (I)(int32_t)load(h, a, 4); }

/* --- stores ------------------------------------------------------------------ */
static void record_write(Hart *h, uint64_t pa, int size, uint64_t old, uint64_t value) {
    h->exit_kind = EXIT_WRITE;
    h->exit_args[0] = pa;
    h->exit_args[1] = (uint64_t)size;
    h->exit_args[2] = old;
    h->exit_args[3] = value;
}

/* Bus.watches: does a store of size bytes at pa touch watched bytes? */
static int watched_bytes(const Hart *h, uint64_t pa, int size) {
    uint64_t end = pa + (uint64_t)size;
    for (int k = 0; k < 2; k++) {
        uint64_t page = ((k ? end - 1 : pa) - h->ram_base) >> 12;
        int flags = h->page_flags[page];
        if (!(flags & PAGE_WATCHED)) continue;
        if (!(flags & PAGE_PARTIAL)) return 1;
        Py_ssize_t lo = 0, hi = h->nranges; /* the first range ending after pa */
        while (lo < hi) {
            Py_ssize_t mid = (lo + hi) / 2;
            if (h->ranges[2 * mid + 1] <= pa) lo = mid + 1;
            else hi = mid;
        }
        for (Py_ssize_t i = lo; i < h->nranges && h->ranges[2 * i] < end; i++)
            if (pa < h->ranges[2 * i + 1]) return 1;
    }
    return 0;
}

/* memory.py store_physical for RAM (the caller checked pa is RAM). Returns
   the page's flags before the store. */
static int store_ram(Hart *h, uint64_t pa, int size, uint64_t value) {
    if (h->ndeferred > 12) { /* never: at most two pages per store, one store per instruction */
        h->ndeferred = 0;
        invalidate_all_code(h);
    }
    uint64_t offset = pa - h->ram_base;
    uint64_t page = offset >> 12;
    uint64_t last = (offset + (uint64_t)size - 1) >> 12;
    int flags = h->page_flags[page] | h->page_flags[last];
    uint8_t *p = h->ram + offset;
    mark_stored(h, page);
    mark_stored(h, last);
    if ((flags & PAGE_WATCHED) && (h->wants & WANT_WRITE) && watched_bytes(h, pa, size)) {
        uint64_t old = read_le(p, size);
        write_le(p, size, value);
        record_write(h, pa, size, old, value);
    } else {
        write_le(p, size, value);
    }
    if (flags & PAGE_CODE) {
        /* After the instruction: its own decoded op may lie in that page. */
        h->deferred[h->ndeferred++] = page;
        if (last != page) h->deferred[h->ndeferred++] = last;
    }
    if (flags & PAGE_TABLE) flush_translations(h); /* a PTE may have changed */
    if (h->has_reservation && (h->reservation >> 3) == (pa >> 3)) h->has_reservation = 0;
    return flags;
}

static void store_slow(Hart *h, uint64_t a, int size, uint64_t value) {
    int privilege = data_privilege(h);
    if ((a & 4095) + (uint64_t)size > 4096) {
        /* Translate both pages first so a fault leaves memory untouched. */
        uint64_t first, second, split = 4096 - (a & 4095);
        if (!translate(h, a, STORE, privilege, 1, &first)) return;
        if (!translate(h, a + split, STORE, privilege, 1, &second)) return;
        for (int i = 0; i < size; i++) {
            uint64_t pa = (uint64_t)i < split ? first + (uint64_t)i : second + ((uint64_t)i - split);
            if (!is_ram(h, pa, 1) || (h->page_flags[(pa - h->ram_base) >> 12] & PAGE_WATCHED)) {
                fallback(h); /* a device, or byte-wise events: the reference does it */
                h->fallback_store = 1;
                return;
            }
        }
        for (int i = 0; i < size; i++) {
            uint64_t pa = (uint64_t)i < split ? first + (uint64_t)i : second + ((uint64_t)i - split);
            store_ram(h, pa, 1, (value >> (8 * i)) & 0xFF);
        }
        return;
    }
    uint64_t pa;
    if (!translate(h, a, STORE, privilege, 1, &pa)) return;
    if (!is_ram(h, pa, (uint64_t)size)) {
        fallback(h);
        return;
    }
    int flags = store_ram(h, pa, size, value);
    /* Only a page that was nothing special before this store enters the fast
       map: a store into a page table flushes the TLBs, and the flush must not
       be followed by a fast mapping made from the walk before it. */
    uint64_t page = (pa - h->ram_base) >> 12;
    if (!flags && !h->page_flags[page] &&
        !(h->has_reservation && (h->reservation >> 12) == (pa >> 12))) {
        TlbEntry *e = &h->tlb[STORE][(a >> 12) % TLB_SIZE];
        e->tag = (a >> 12) + 1;
        e->offset = (pa - h->ram_base) & ~4095ULL;
    }
}

static inline void store(Hart *h, uint64_t a, int size, uint64_t value) {
    TlbEntry *e = &h->tlb[STORE][(a >> 12) % TLB_SIZE];
    if (LIKELY(e->tag == (a >> 12) + 1) && (a & 4095) + (uint64_t)size <= 4096) {
        write_le(h->ram + e->offset + (a & 4095), size, value);
        return;
    }
    store_slow(h, a, size, value);
}

static inline void mem_store_8(Hart *h, uint64_t a, uint64_t v) { store(h, a, 1, v & 0xFF); }
static inline void mem_store_16(Hart *h, uint64_t a, uint64_t v) { store(h, a, 2, v & 0xFFFF); }
static inline void mem_store_32(Hart *h, uint64_t a, uint64_t v) { store(h, a, 4, v & 0xFFFFFFFFULL); }
static inline void mem_store_64(Hart *h, uint64_t a, uint64_t v) { store(h, a, 8, v); }

/* --- atomics (aligned only; an AMO needs store permission) ----------------- */
typedef uint64_t (*AmoUpdate)(const Op *, const uint64_t *, uint64_t);

static uint64_t amo(Hart *h, uint64_t a, int size, AmoUpdate update, const Op *op, const uint64_t *x) {
    uint64_t mask = size == 8 ? M64 : 0xFFFFFFFFULL;
    if (a & (uint64_t)(size - 1)) {
        raise_trap(h, STORE_MISALIGNED, a);
        return 0;
    }
    TlbEntry *e = &h->tlb[STORE][(a >> 12) % TLB_SIZE];
    if (e->tag == (a >> 12) + 1) {
        uint8_t *p = h->ram + e->offset + (a & 4095);
        uint64_t old = read_le(p, size);
        write_le(p, size, update(op, x, old) & mask);
        return old;
    }
    uint64_t pa;
    if (!translate(h, a, STORE, data_privilege(h), 1, &pa)) return 0;
    if (!is_ram(h, pa, (uint64_t)size)) {
        fallback(h);
        return 0;
    }
    uint64_t old = read_le(h->ram + (pa - h->ram_base), size);
    store_ram(h, pa, size, update(op, x, old) & mask);
    return old;
}

static inline I mem_amo_32(Hart *h, uint64_t a, AmoUpdate f, const Op *op, const uint64_t *x) {
    return (I)amo(h, a, 4, f, op, x);
}
static inline I mem_amo_64(Hart *h, uint64_t a, AmoUpdate f, const Op *op, const uint64_t *x) {
    return (I)amo(h, a, 8, f, op, x);
}

static uint64_t load_reserved(Hart *h, uint64_t a, int size) {
    if (a & (uint64_t)(size - 1)) {
        raise_trap(h, LOAD_MISALIGNED, a);
        return 0;
    }
    uint64_t pa;
    if (!translate(h, a, LOAD, data_privilege(h), 1, &pa)) return 0;
    uint64_t value = load_slow(h, a, size);
    if (h->status) return 0;
    h->has_reservation = 1;
    h->reservation = pa;
    tlb_flush_stores(h); /* stores to the reserved page must be seen */
    return value;
}

static uint64_t store_conditional(Hart *h, uint64_t a, int size, uint64_t value) {
    if (a & (uint64_t)(size - 1)) {
        raise_trap(h, STORE_MISALIGNED, a);
        return 0;
    }
    int had = h->has_reservation;
    uint64_t reservation = h->reservation;
    int privilege = data_privilege(h);
    uint64_t pa;
    /* The address is checked as a store even when the SC fails; a failing
       one sets no A/D bits (memory.py says why). */
    if (!translate(h, a, STORE, privilege, 0, &pa)) return 0;
    if (!had || pa != reservation) {
        if (!is_ram(h, pa, (uint64_t)size)) {
            fallback(h); /* device or nothing: the reference knows which */
            return 0;
        }
        h->has_reservation = 0;
        return 1;
    }
    if (!translate(h, a, STORE, privilege, 1, &pa)) return 0;
    if (!is_ram(h, pa, (uint64_t)size)) {
        fallback(h);
        return 0;
    }
    h->has_reservation = 0;
    uint64_t mask = size == 8 ? M64 : 0xFFFFFFFFULL;
    store_ram(h, pa, size, value & mask);
    return 0;
}

static inline I mem_load_reserved_32(Hart *h, uint64_t a) { return (I)load_reserved(h, a, 4); }
static inline I mem_load_reserved_64(Hart *h, uint64_t a) { return (I)load_reserved(h, a, 8); }
static inline I mem_store_conditional_32(Hart *h, uint64_t a, uint64_t v) {
    return (I)store_conditional(h, a, 4, v);
}
static inline I mem_store_conditional_64(Hart *h, uint64_t a, uint64_t v) {
    return (I)store_conditional(h, a, 8, v);
}

/* --- CSRs (csr.py) ---------------------------------------------------------------- */
static inline int stimecmp_pending(const Hart *h) {
    return (h->menvcfg & MENVCFG_STCE) && h->icount >= h->stimecmp;
}

static uint64_t read_mip(const Hart *h) {
    uint64_t value = h->mip_software | h->external_lines;
    if (h->menvcfg & MENVCFG_STCE) value = (value & ~STIP) | (stimecmp_pending(h) ? STIP : 0);
    return value;
}

static uint64_t counter(const Hart *h, int which) {
    if (which == 1) return h->icount;
    if (which == 0) return h->icount + h->cycle_offset;
    return h->icount - h->not_retired + h->instret_offset;
}

static inline uint64_t with_sd(uint64_t status) {
    return status | ((status & (FS | XS | VS)) == (FS | XS | VS) ? SD : 0);
}

/* 1 with *value set if the CSR exists (csr.py _READERS) */
static int csr_read(const Hart *h, unsigned number, uint64_t *value) {
    switch (number) {
    case 0x300: *value = with_sd(h->mstatus); return 1;
    case 0x100: *value = with_sd(h->mstatus) & SSTATUS_VIEW; return 1;
    case 0x301: *value = MISA; return 1;
    case 0xF14: *value = h->hartid; return 1;
    case 0xF11: case 0xF12: case 0xF13: case 0xF15: *value = 0; return 1;
    case 0x302: *value = h->medeleg; return 1;
    case 0x303: *value = h->mideleg; return 1;
    case 0x304: *value = h->mie; return 1;
    case 0x344: *value = read_mip(h); return 1;
    case 0x104: *value = h->mie & h->mideleg; return 1;
    case 0x144: *value = read_mip(h) & h->mideleg; return 1;
    case 0x305: *value = h->mtvec; return 1;
    case 0x105: *value = h->stvec; return 1;
    case 0x341: *value = h->mepc; return 1;
    case 0x141: *value = h->sepc; return 1;
    case 0x342: *value = h->mcause; return 1;
    case 0x142: *value = h->scause; return 1;
    case 0x343: *value = h->mtval; return 1;
    case 0x143: *value = h->stval; return 1;
    case 0x340: *value = h->mscratch; return 1;
    case 0x140: *value = h->sscratch; return 1;
    case 0x180: *value = h->satp; return 1;
    case 0x306: *value = h->mcounteren; return 1;
    case 0x106: *value = h->scounteren; return 1;
    case 0x30A: *value = h->menvcfg; return 1;
    case 0x10A: *value = h->senvcfg; return 1;
    case 0x14D: *value = h->stimecmp; return 1;
    case 0xC00: case 0xB00: *value = counter(h, 0); return 1;
    case 0xC01: *value = counter(h, 1); return 1;
    case 0xC02: case 0xB02: *value = counter(h, 2); return 1;
    default:
        if (number >= 0x3A0 && number < 0x3B0 && !(number & 1)) {
            *value = h->pmpcfg[number - 0x3A0];
            return 1;
        }
        if (number >= 0x3B0 && number < 0x3F0) {
            *value = h->pmpaddr[number - 0x3B0];
            return 1;
        }
        return 0;
    }
}

static void write_mstatus(Hart *h, uint64_t value) {
    if (((value & MPP) >> MPP_SHIFT) == 2) value = (value & ~MPP) | (h->mstatus & MPP);
    uint64_t changed = (h->mstatus ^ value) & (MPRV | SUM | MXR | MPP);
    h->mstatus = (h->mstatus & ~MSTATUS_WRITABLE) | (value & MSTATUS_WRITABLE);
    if (changed) flush_translations(h); /* hart.translation_changed() */
}

static inline uint64_t mip_writable(const Hart *h) {
    return SSIP | SEIP | ((h->menvcfg & MENVCFG_STCE) ? 0 : STIP);
}

static void csr_write(Hart *h, unsigned number, uint64_t v) {
    switch (number) {
    case 0x300: write_mstatus(h, v); return;
    case 0x100: write_mstatus(h, (h->mstatus & ~SSTATUS_WRITABLE) | (v & SSTATUS_WRITABLE)); return;
    case 0x302: h->medeleg = v & MEDELEG_WRITABLE; return;
    case 0x303: h->mideleg = v & S_INTERRUPTS; return;
    case 0x304: h->mie = v & ALL_INTERRUPTS; return;
    case 0x344: {
        uint64_t w = mip_writable(h);
        h->mip_software = (h->mip_software & ~w) | (v & w);
        return;
    }
    case 0x104: h->mie = (h->mie & ~h->mideleg) | (v & h->mideleg); return;
    case 0x144: {
        uint64_t w = h->mideleg & SSIP;
        h->mip_software = (h->mip_software & ~w) | (v & w);
        return;
    }
    case 0x305: if ((v & 3) < 2) h->mtvec = v; return;
    case 0x105: if ((v & 3) < 2) h->stvec = v; return;
    case 0x341: h->mepc = v & ~1ULL; return;
    case 0x141: h->sepc = v & ~1ULL; return;
    case 0x342: h->mcause = v; return;
    case 0x142: h->scause = v; return;
    case 0x343: h->mtval = v; return;
    case 0x143: h->stval = v; return;
    case 0x340: h->mscratch = v; return;
    case 0x140: h->sscratch = v; return;
    case 0x180: {
        uint64_t mode = v >> 60;
        if (mode != 0 && mode != 8) return; /* unsupported mode: no effect */
        h->satp = v & ((0xFULL << 60) | (0xFFFFULL << 44) | ((1ULL << 44) - 1));
        tlb_flush(h); /* hart.address_space_changed() */
        return;
    }
    case 0x306: h->mcounteren = v & 0xFFFFFFFFULL; return;
    case 0x106: h->scounteren = v & 0xFFFFFFFFULL; return;
    case 0x30A: h->menvcfg = v & MENVCFG_WRITABLE; return;
    case 0x10A: h->senvcfg = v & 1; return;
    case 0x14D: h->stimecmp = v; return;
    case 0xB00: h->cycle_offset = v - h->icount - 1; return;
    case 0xB02: h->instret_offset = v - (h->icount - h->not_retired) - 1; return;
    default:
        if (number >= 0x3A0 && number < 0x3B0 && !(number & 1)) {
            h->pmpcfg[number - 0x3A0] = v & PMPCFG_MASK;
            h->pmp_dirty = 1;
        } else if (number >= 0x3B0 && number < 0x3F0) {
            h->pmpaddr[number - 0x3B0] = v & PMPADDR_MASK;
            h->pmp_dirty = 1;
        }
        return; /* read-only CSRs (misa, ids, counters) ignore writes */
    }
}

static int csr_permitted(const Hart *h, unsigned number, int privilege) {
    if (number >= 0xC00 && number <= 0xC02 && privilege < MACHINE) {
        uint64_t bit = 1ULL << (number - 0xC00);
        if (!(h->mcounteren & bit)) return 0;
        if (privilege == USER && !(h->scounteren & bit)) return 0;
    }
    if (number == 0x14D && privilege < MACHINE)
        return (h->menvcfg & MENVCFG_STCE) && (h->mcounteren & 2);
    if (number == 0x180 && privilege == SUPERVISOR && (h->mstatus & TVM)) return 0;
    return 1;
}

static int recheck_after_write(unsigned number) {
    switch (number) {
    case 0x304: case 0x104: case 0x344: case 0x144: case 0x303: case 0x302: case 0x14D:
    case 0x30A: case 0x180: case 0x306:
        return 1;
    default:
        return 0;
    }
}

/* CSRs that the interpreter executes synced (it looks around after them). */
static int synced_csr(unsigned number) {
    switch (number) {
    case 0xC00: case 0xC01: case 0xC02: case 0xB00: case 0xB02: case 0x344: case 0x144:
    case 0x180:
        return 1;
    default:
        return 0;
    }
}

static I hart_csr_access(Hart *h, uint64_t number64, int op, uint64_t operand, uint64_t reads,
                         uint64_t writes, uint64_t instruction) {
    unsigned number = (unsigned)number64;
    int privilege = h->privilege;
    (void)reads;
    if (privilege < (int)((number >> 8) & 3) || (writes && (number >> 10) == 3)) {
        raise_trap(h, ILLEGAL_INSTRUCTION, instruction);
        return 0;
    }
    uint64_t old;
    if (!csr_read(h, number, &old) || !csr_permitted(h, number, privilege)) {
        raise_trap(h, ILLEGAL_INSTRUCTION, instruction);
        return 0;
    }
    if (writes) {
        uint64_t value = op == CSR_OP_WRITE ? operand : op == CSR_OP_SET ? old | operand : old & ~operand;
        uint64_t status_before = h->mstatus;
        csr_write(h, number, value);
        if (recheck_after_write(number) ||
            ((number == 0x300 || number == 0x100) && ((h->mstatus & ~status_before) & (SIE | MIE))))
            h->recheck = 1;
        if (number == 0x180 && (h->wants & WANT_SATP)) {
            h->exit_kind = EXIT_SATP;
            h->exit_args[0] = h->satp;
        }
    }
    if (synced_csr(number)) h->recheck = 1;
    return (I)old;
}

/* --- traps (hart.py) --------------------------------------------------------------- */
static uint64_t trap_vector(uint64_t base, uint64_t cause, int interrupt) {
    if ((base & 3) == 1 && interrupt) return (base & ~3ULL) + 4 * cause;
    return base & ~3ULL;
}

static uint64_t enter_trap(Hart *h, uint64_t cause, uint64_t tval, uint64_t epc, int interrupt) {
    int from = h->privilege, to;
    uint64_t vector;
    h->has_reservation = 0;
    uint64_t delegated = interrupt ? h->mideleg : h->medeleg;
    uint64_t code = cause | (interrupt ? INTERRUPT_BIT : 0);
    if (from <= SUPERVISOR && ((delegated >> cause) & 1)) {
        h->scause = code;
        h->sepc = epc;
        h->stval = tval;
        uint64_t status = h->mstatus;
        status = (status & ~SPIE) | ((status & SIE) ? SPIE : 0);
        status = (status & ~SPP) | (from == SUPERVISOR ? SPP : 0);
        h->mstatus = status & ~SIE;
        to = SUPERVISOR;
        vector = h->stvec;
    } else {
        h->mcause = code;
        h->mepc = epc;
        h->mtval = tval;
        uint64_t status = h->mstatus;
        status = (status & ~MPIE) | ((status & MIE) ? MPIE : 0);
        status = (status & ~MPP) | ((uint64_t)from << MPP_SHIFT);
        h->mstatus = status & ~MIE;
        to = MACHINE;
        vector = h->mtvec;
    }
    set_privilege(h, to);
    tlb_flush(h); /* the data privilege may change with MPP even when the mode does not */
    if (h->wants & WANT_TRAP) {
        h->exit_kind = EXIT_TRAP;
        h->exit_args[0] = code;
        h->exit_args[1] = tval;
        h->exit_args[2] = epc;
        h->exit_args[3] = (uint64_t)from;
        h->exit_args[4] = (uint64_t)to;
    }
    return trap_vector(vector, cause, interrupt);
}

/* the interrupt to take now (-1: none), by the spec's enable and priority rules */
static int pending_interrupt(const Hart *h) {
    uint64_t pending = read_mip(h) & h->mie;
    if (!pending) return -1;
    uint64_t status = h->mstatus;
    int privilege = h->privilege;
    int m_enabled = privilege < MACHINE || (status & MIE);
    int s_enabled = privilege < SUPERVISOR || (privilege == SUPERVISOR && (status & SIE));
    uint64_t levels[2] = {m_enabled ? pending & ~h->mideleg : 0,
                          (s_enabled && privilege <= SUPERVISOR) ? pending & h->mideleg : 0};
    for (int l = 0; l < 2; l++) {
        if (!levels[l]) continue;
        for (int i = 0; i < 6; i++)
            if ((levels[l] >> INTERRUPT_PRIORITY[i]) & 1) return INTERRUPT_PRIORITY[i];
    }
    return -1;
}

static void hart_ecall(Hart *h) { raise_trap(h, ECALL_FROM_U + (uint64_t)h->privilege, 0); }
static void hart_ebreak(Hart *h) { raise_trap(h, BREAKPOINT, 0); }

static uint64_t return_to(Hart *h, int privilege, uint64_t pc) {
    int from = h->privilege;
    h->has_reservation = 0;
    set_privilege(h, privilege);
    tlb_flush(h);
    if (h->wants & WANT_RETURN) {
        h->exit_kind = EXIT_RETURN;
        h->exit_args[0] = (uint64_t)from;
        h->exit_args[1] = (uint64_t)privilege;
        h->exit_args[2] = pc;
    }
    return pc;
}

static I hart_mret(Hart *h, uint64_t instruction) {
    if (h->privilege < MACHINE) {
        raise_trap(h, ILLEGAL_INSTRUCTION, instruction);
        return 0;
    }
    uint64_t status = h->mstatus;
    int target = (int)((status & MPP) >> MPP_SHIFT);
    status = (status & ~MIE) | ((status & MPIE) ? MIE : 0);
    status = (status | MPIE) & ~MPP;
    if (target != MACHINE) status &= ~MPRV;
    h->mstatus = status;
    return (I)return_to(h, target, h->mepc);
}

static I hart_sret(Hart *h, uint64_t instruction) {
    if (h->privilege < SUPERVISOR || (h->privilege == SUPERVISOR && (h->mstatus & TSR))) {
        raise_trap(h, ILLEGAL_INSTRUCTION, instruction);
        return 0;
    }
    uint64_t status = h->mstatus;
    int target = (status & SPP) ? SUPERVISOR : USER;
    status = (status & ~SIE) | ((status & SPIE) ? SIE : 0);
    status = (status | SPIE) & ~SPP & ~MPRV;
    h->mstatus = status;
    return (I)return_to(h, target, h->sepc);
}

/* WFI needs the board's deadlines (and may idle forever): the reference runs it. */
static void hart_wfi(Hart *h, uint64_t instruction) {
    (void)instruction;
    fallback(h);
}

static void hart_sfence_vma(Hart *h, int has_address, uint64_t address, int has_asid,
                            uint64_t asid, uint64_t instruction) {
    (void)has_address; (void)address; (void)has_asid; (void)asid;
    if (h->privilege == USER || (h->privilege == SUPERVISOR && (h->mstatus & TVM))) {
        raise_trap(h, ILLEGAL_INSTRUCTION, instruction);
        return;
    }
    /* Nothing to drop: the TLBs follow every store into a page-table page. */
    if (h->wants & WANT_SFENCE) h->exit_kind = EXIT_SFENCE;
}

static void hart_fence_i(Hart *h) { invalidate_all_code(h); }


/* --- loop idioms (machine/native/loops.py encodes them; engine/idioms.py's
   IdiomRunner is the reference this mirrors) ---------------------------------- */
#define MAX_TERMS 8
#define MAX_IDIOMS 4096
typedef struct {
    int n;
    uint8_t reg[MAX_TERMS];
    uint64_t coef[MAX_TERMS];
    uint64_t constant;
} Linear;

typedef struct Idiom {
    uint64_t head;          /* physical address of the loop's first instruction */
    int length, end, branch;
    int nlive;
    uint8_t live[32];
    uint64_t step[32];
    int nfinal;
    uint8_t final_reg[32], final_is_load[32];
    Linear final[32];
    int store_width;
    Linear store;
    int value_is_load;
    Linear value;
    int load_width, load_signed;
    Linear load;
    Linear left, right;
} Idiom;

enum { BR_BNE, BR_BLTU, BR_BGEU, BR_BLT, BR_BGE };

/* value and per-iteration step of a linear expression over the live-ins */
typedef struct { uint64_t v0, step; } Affine;

static Affine affine(const Idiom *d, const Linear *e, const uint64_t *x) {
    Affine a = {e->constant, 0};
    for (int i = 0; i < e->n; i++) {
        a.v0 += e->coef[i] * x[e->reg[i]];
        for (int k = 0; k < d->nlive; k++)
            if (d->live[k] == e->reg[i]) a.step += e->coef[i] * d->step[k];
    }
    return a;
}
static inline uint64_t at(Affine a, uint64_t i) { return a.v0 + i * a.step; }

static int continues(int branch, uint64_t a, uint64_t b) {
    if (branch == BR_BLT || branch == BR_BGE) {
        a ^= 1ULL << 63;
        b ^= 1ULL << 63;
    }
    return (branch == BR_BLTU || branch == BR_BLT) ? a < b : a >= b;
}

/* (iterations until the loop exits) or 0 when it cannot be known */
static uint64_t exit_after(const Idiom *d, Affine left, Affine right) {
    uint64_t a0 = at(left, 0), b0 = at(right, 0);
    uint64_t da = at(left, 1) - a0, db = at(right, 1) - b0;
    if (db && da) return 0;
    uint64_t step = da ? da : (uint64_t)0 - db;
    uint64_t gap = a0 - b0;
    if (step == 0) return 0;
    if (d->branch == BR_BNE) {
        int64_t step_signed = (int64_t)step;
        uint64_t distance = step_signed > 0 ? (uint64_t)0 - gap : gap;
        uint64_t magnitude = step_signed > 0 ? step : (uint64_t)0 - step;
        if (distance % magnitude) return 0;
        return distance / magnitude + 1;
    }
    if (!continues(d->branch, at(left, 0), at(right, 0))) return 1;
    uint64_t high = 1;
    while (continues(d->branch, at(left, high), at(right, high)) && high < (1ULL << 62)) high *= 2;
    uint64_t low = high / 2;
    while (low + 1 < high) {
        uint64_t middle = (low + high) / 2;
        if (continues(d->branch, at(left, middle), at(right, middle))) low = middle;
        else high = middle;
    }
    return high + 1;
}

static inline TlbEntry *tlb_hit(Hart *h, int access, uint64_t va) {
    TlbEntry *e = &h->tlb[access][(va >> 12) % TLB_SIZE];
    return e->tag == (va >> 12) + 1 ? e : NULL;
}

/* Whole iterations as bulk copies or fills, page by page; returns how many.
   *loaded: the value the last iteration's load read (before its store). */
static uint64_t idiom_bulk(Hart *h, const Idiom *d, const uint64_t *x, uint64_t total,
                           uint64_t *loaded) {
    uint64_t width = (uint64_t)d->store_width;
    Affine s = affine(d, &d->store, x);
    uint64_t s_step = total > 1 ? s.step : width;
    if (s_step != width && s_step != (uint64_t)0 - width) return 0;
    int forward = s_step == width;
    Affine l = {0, 0};
    uint8_t pattern[8] = {0};
    if (d->load_width) {
        l = affine(d, &d->load, x);
        uint64_t l_step = total > 1 ? l.step : s_step;
        if (l_step != s_step) return 0;
        uint64_t gap = at(s, 0) - at(l, 0);
        uint64_t distance = gap < (uint64_t)0 - gap ? gap : (uint64_t)0 - gap;
        /* a slice equals the loop unless a store lands on a byte a later
           iteration still has to read (total <= CHUNK: no overflow) */
        if (distance < total * width && ((gap >> 63) == 0) == forward && gap) return 0;
    } else {
        Affine v = affine(d, &d->value, x);
        if (total > 1 && v.step != 0) return 0; /* the value changes: not a memset */
        write_le(pattern, 8, v.v0);
    }
    uint64_t done = 0;
    while (done < total) {
        uint64_t sa = at(s, done);
        if ((sa & (width - 1)) || (sa & 4095) > 4096 - width) break;
        uint64_t room = ((forward ? (4096 - (sa & 4095)) : ((sa & 4095) + width))) / width;
        uint64_t la = 0;
        if (d->load_width) {
            la = at(l, done);
            if ((la & 4095) > 4096 - width) break;
            uint64_t lroom = ((forward ? (4096 - (la & 4095)) : ((la & 4095) + width))) / width;
            if (lroom < room) room = lroom;
        }
        uint64_t count = room < total - done ? room : total - done;
        TlbEntry *se = tlb_hit(h, STORE, sa);
        if (!se) break;
        uint64_t first_store = forward ? sa : sa - (count - 1) * width;
        uint8_t *dst = h->ram + se->offset + (first_store & 4095);
        if (!d->load_width) {
            if (width == 1) {
                memset(dst, pattern[0], count);
            } else {
                for (uint64_t i = 0; i < count; i++) memcpy(dst + i * width, pattern, width);
            }
        } else {
            TlbEntry *le = tlb_hit(h, LOAD, la);
            if (!le) break;
            uint64_t first_load = forward ? la : la - (count - 1) * width;
            const uint8_t *src = h->ram + le->offset + (first_load & 4095);
            /* the chunk's last load, read before any of its stores can clobber it */
            *loaded = read_le(forward ? src + (count - 1) * width : src, (int)width);
            memmove(dst, src, count * width);
        }
        done += count;
    }
    return done;
}

/* Runs the loop at *pc in bulk: 1 with x, *pc and *n advanced, 0 to run its
   first instruction ordinarily instead. */
static int idiom_run(Hart *h, const Idiom *d, uint64_t *x, uint64_t *pc, uint64_t *n, uint64_t limit) {
    uint64_t budget = limit - *n;
    if (budget < (uint64_t)d->length) return 0;
    uint64_t values[33];
    memcpy(values, x, sizeof values);
    Affine left = affine(d, &d->left, values), right = affine(d, &d->right, values);
    uint64_t exits = exit_after(d, left, right);
    if (!exits) return 0;
    uint64_t allowed = budget / (uint64_t)d->length;
    uint64_t total = exits < allowed ? exits : allowed;
    uint64_t loaded = 0;
    uint64_t done = idiom_bulk(h, d, values, total, &loaded);
    if (done == 0) return 0;
    for (int k = 0; k < d->nlive; k++) {
        int r = d->live[k];
        if (r) x[r] = values[r] + d->step[k] * done;
    }
    for (int k = 0; k < d->nfinal; k++) {
        int r = d->final_reg[k];
        uint64_t value;
        if (d->final_is_load[k]) {
            value = loaded;
            if (d->load_signed) value = (uint64_t)sext((int64_t)value, 8 * d->load_width);
        } else {
            value = at(affine(d, &d->final[k], values), done - 1);
        }
        if (r) x[r] = value;
    }
    *pc = done == exits ? *pc + (uint64_t)d->end : *pc;
    *n += done * (uint64_t)d->length;
    return 1;
}

#define GEN_HELPERS
#include "gen_execute.h"
#undef GEN_HELPERS

/* --- the loop ---------------------------------------------------------------------- */
static uint64_t next_limit(const Hart *h, uint64_t n) {
    uint64_t limit = h->stop_at;
    if (h->py_deadline < limit) limit = h->py_deadline;
    if (h->chunk_end < limit) limit = h->chunk_end;
    if ((h->menvcfg & MENVCFG_STCE) && n < h->stimecmp && h->stimecmp < NEVER && h->stimecmp < limit)
        limit = h->stimecmp;
    return limit;
}

static int is_breakpoint(const Hart *h, uint64_t physical) {
    Py_ssize_t lo = 0, hi = h->nbreakpoints;
    while (lo < hi) {
        Py_ssize_t mid = (lo + hi) / 2;
        if (h->breakpoints[mid] < physical) lo = mid + 1;
        else hi = mid;
    }
    return lo < h->nbreakpoints && h->breakpoints[lo] == physical;
}

/* Fetch and decode the instruction at pc into *out (0 with a trap raised).
   *cacheable: whether it may stay in the page's slot. */
static int fetch_decode(Hart *h, uint64_t pc, uint64_t page_pa, Op *out) {
    uint64_t offset = page_pa - h->ram_base + (pc & 4095);
    uint32_t word = (uint32_t)read_le(h->ram + offset, 2);
    if ((word & 3) == 3) {
        if ((pc & 4095) == 4094) {
            uint64_t pa2;
            if (!translate(h, pc + 2, FETCH, h->privilege, 1, &pa2)) return 0;
            if (!is_ram(h, pa2, 2)) {
                raise_trap(h, INSTRUCTION_ACCESS_FAULT, pc + 2);
                return 0;
            }
            word |= (uint32_t)read_le(h->ram + (pa2 - h->ram_base), 2) << 16;
        } else {
            word |= (uint32_t)read_le(h->ram + offset + 2, 2) << 16;
        }
    }
    memset(out, 0, sizeof *out);
    if (!decode_word(word, out)) {
        out->handler = OP_ILLEGAL;
        out->len = (word & 3) == 3 ? 4 : 2;
    }
    out->insn = (word & 3) == 3 ? word : (word & 0xFFFF);
    /* a short backward branch within the page may close a loop worth bulk */
    if (OP_IS_BRANCH[out->handler] && out->imm < 0 && out->imm >= -256 &&
        ((pc + (uint64_t)out->imm) >> 12) == (pc >> 12))
        out->idiom = IDIOM_ASK;
    out->rdw = out->rd ? out->rd : 32;
    if (h->nbreakpoints && is_breakpoint(h, page_pa + (pc & 4095))) {
        out->real = out->handler;
        out->handler = OP_BREAKPOINT;
    }
    return 1;
}

#define CHECK_STATUS() do { if (UNLIKELY(h->status)) goto status; } while (0)
#define SYNC_HART() do { h->icount = n; } while (0)
#define INSN(name) L_##name:
/* The next instruction: straight to its handler while it is in the same page
   and decoded (threaded dispatch: one indirect jump per handler). */
#define DISPATCH() do { \
        if (UNLIKELY(n >= limit || (pc >> 12) != fetch_vpn)) goto next; \
        op = &page_ops[(pc & 4095) >> 1]; \
        this_pc = pc; \
        goto *labels[op->handler]; \
    } while (0)
#define AFTER_PLAIN() do { n++; DISPATCH(); } while (0)
#define AFTER_STORE() do { n++; if (UNLIKELY(h->exit_kind | h->ndeferred)) goto after_store; DISPATCH(); } while (0)
#define AFTER_SYSTEM() do { n++; goto after_system; } while (0)
#define AFTER_BRANCH() do { \
        n++; \
        if (UNLIKELY(op->idiom == IDIOM_ASK) && pc < this_pc) goto idiom_query; \
        DISPATCH(); \
    } while (0)
#define AFTER_CSR() do { n++; if (h->recheck || h->exit_kind) goto after_system; DISPATCH(); } while (0)
#define NO_PAGE (~0ULL) /* never equal to pc >> 12 */

static int run(Hart *h) {
    static const void *const labels[OP_COUNT] = {
        [OP_NONE] = &&next_slot,
        [OP_ILLEGAL] = &&L_OP_ILLEGAL,
        [OP_BREAKPOINT] = &&next_slot,
        [OP_IDIOM] = &&op_idiom,
#define GEN_LABELS
#include "gen_execute.h"
#undef GEN_LABELS
    };
    uint64_t *x = h->x;
    uint64_t pc = h->pc, n = h->icount, limit, this_pc = pc;
    uint64_t fetch_vpn = NO_PAGE, fetch_pa = 0;
    Op *page_ops = NULL, scratch;
    const Op *op;
    h->exit_kind = EXIT_LIMIT;

look_around: {
        h->icount = n;
        fetch_vpn = NO_PAGE;
        if (n >= h->stop_at) goto out; /* the interpreter looks around only inside a run */
        int number = pending_interrupt(h);
        if (number >= 0) pc = enter_trap(h, (uint64_t)number, 0, pc, 1);
        fetch_vpn = NO_PAGE;
        h->recheck = 0;
        if (h->exit_kind) {
            h->event_icount = n;
            h->event_pc = pc;
            goto out;
        }
        limit = next_limit(h, n);
    }
next:
    if (UNLIKELY(n >= limit)) goto out;
    if (UNLIKELY((pc >> 12) != fetch_vpn)) {
        TlbEntry *e = &h->tlb[FETCH][(pc >> 12) % TLB_SIZE];
        uint64_t page_offset;
        if (LIKELY(e->tag == (pc >> 12) + 1)) {
            page_offset = e->offset;
        } else {
            uint64_t pa;
            h->icount = n;
            if (!translate(h, pc, FETCH, h->privilege, 1, &pa)) goto exception;
            if (!is_ram(h, pa, 2)) {
                raise_trap(h, INSTRUCTION_ACCESS_FAULT, pc);
                goto exception;
            }
            page_offset = (pa - h->ram_base) & ~4095ULL;
            e->tag = (pc >> 12) + 1;
            e->offset = page_offset;
        }
        page_ops = code_page(h, page_offset >> 12);
        if (!page_ops) { /* out of host memory: let the reference run it */
            fallback(h);
            goto status;
        }
        fetch_vpn = pc >> 12;
        fetch_pa = h->ram_base + page_offset;
    }
next_slot:
    op = &page_ops[(pc & 4095) >> 1];
    if (UNLIKELY(!op->handler)) {
        uint64_t page = (fetch_pa - h->ram_base) >> 12;
        if (!(h->page_flags[page] & PAGE_CODE)) { /* a store invalidated it meanwhile */
            h->page_flags[page] |= PAGE_CODE;
            tlb_flush_stores(h);
        }
        h->icount = n;
        if (!fetch_decode(h, pc, fetch_pa, &scratch)) goto exception;
        if ((pc & 4095) == 4094 && scratch.len == 4) {
            op = &scratch; /* its second half lies on another page */
        } else {
            page_ops[(pc & 4095) >> 1] = scratch;
            op = &page_ops[(pc & 4095) >> 1];
        }
    }
    this_pc = pc;
    if (UNLIKELY(op->handler == OP_BREAKPOINT)) {
        if (h->resume_valid && h->resume_pc == pc) {
            h->resume_valid = 0;
            goto *labels[op->real];
        }
        h->exit_kind = EXIT_BREAKPOINT;
        goto out;
    }
    goto *labels[op->handler];

#include "gen_execute.h"
L_OP_ILLEGAL:
    raise_trap(h, ILLEGAL_INSTRUCTION, op->insn);
    goto status;

op_idiom:
    if (idiom_run(h, &h->idioms[op->idiom - 1], x, &pc, &n, limit)) DISPATCH();
    goto *labels[op->real];

idiom_query:
    ((Op *)op)->idiom = 0; /* asked once per decoding */
    h->exit_kind = EXIT_IDIOM;
    h->exit_args[0] = pc;
    h->exit_args[1] = fetch_pa + (pc & 4095); /* the target is in the branch's page */
    h->event_icount = n;
    h->event_pc = pc;
    goto out;

after_store:
    for (int i = 0; i < h->ndeferred; i++) invalidate_code_page(h, h->deferred[i]);
    h->ndeferred = 0;
    if (!h->exit_kind) goto next;
after_system:
    if (h->exit_kind) {
        h->event_icount = n - 1;
        h->event_pc = this_pc;
        goto out;
    }
    goto look_around;

status:
    if (h->status == ST_FALLBACK) {
        h->status = ST_OK;
        h->exit_kind = EXIT_FALLBACK;
        goto out;
    }
exception:
    h->status = ST_OK;
    h->not_retired += 1;
    h->icount = n;
    h->exit_kind = EXIT_LIMIT; /* a store's event cannot survive its own fault */
    this_pc = pc; /* the trapping instruction: the event's pc */
    pc = enter_trap(h, h->exc_cause, h->exc_tval, pc, 0);
    n += 1;
    if (h->exit_kind) {
        h->event_icount = n - 1;
        h->event_pc = this_pc;
        goto out;
    }
    goto look_around;

out:
    h->pc = pc;
    h->icount = n;
    return h->exit_kind;
}

/* ============================ Python bindings ============================ */
typedef struct {
    PyObject_HEAD
    Hart h;
    Py_buffer ram;
    int has_ram;
} CoreObject;

static const char *const CSR_NAMES[] = {
    "mstatus", "medeleg", "mideleg", "mie", "mip_software", "mtvec", "stvec", "mepc", "sepc",
    "mcause", "scause", "mtval", "stval", "mscratch", "sscratch", "satp", "mcounteren",
    "scounteren", "menvcfg", "senvcfg", "stimecmp", "cycle_offset", "instret_offset", NULL};

static uint64_t *csr_slot(Hart *h, int i) {
    uint64_t *slots[] = {&h->mstatus, &h->medeleg, &h->mideleg, &h->mie, &h->mip_software,
                         &h->mtvec, &h->stvec, &h->mepc, &h->sepc, &h->mcause, &h->scause,
                         &h->mtval, &h->stval, &h->mscratch, &h->sscratch, &h->satp,
                         &h->mcounteren, &h->scounteren, &h->menvcfg, &h->senvcfg,
                         &h->stimecmp, &h->cycle_offset, &h->instret_offset};
    return slots[i];
}

static int core_init(CoreObject *self, PyObject *args, PyObject *kwds) {
    PyObject *ram;
    unsigned long long base;
    static char *kwlist[] = {"ram", "ram_base", NULL};
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "OK", kwlist, &ram, &base)) return -1;
    if (PyObject_GetBuffer(ram, &self->ram, PyBUF_WRITABLE | PyBUF_SIMPLE) < 0) return -1;
    self->has_ram = 1;
    Hart *h = &self->h;
    memset(h, 0, sizeof *h);
    h->ram = self->ram.buf;
    h->ram_base = base;
    h->ram_size = (uint64_t)self->ram.len;
    h->npages = (h->ram_size + 4095) / 4096;
    h->page_flags = calloc(h->npages ? h->npages : 1, 1);
    h->code = calloc(h->npages ? h->npages : 1, sizeof(Op *));
    h->code_gen = calloc(h->npages ? h->npages : 1, sizeof(uint32_t));
    h->dirty = calloc(h->npages ? h->npages : 1, 1);
    h->stored = calloc(h->npages ? h->npages : 1, 1);
    h->stored_list = calloc(h->npages ? h->npages : 1, sizeof(uint32_t));
    if (!h->page_flags || !h->code || !h->code_gen || !h->dirty || !h->stored || !h->stored_list) {
        PyErr_NoMemory();
        return -1;
    }
    return 0;
}

static void core_dealloc(CoreObject *self) {
    Hart *h = &self->h;
    if (h->code) {
        for (uint64_t p = 0; p < h->npages; p++) free(h->code[p]);
    }
    free(h->code);
    free(h->code_gen);
    free(h->page_flags);
    free(h->dirty);
    free(h->stored);
    free(h->stored_list);
    free(h->breakpoints);
    free(h->idioms);
    free(h->ranges);
    if (self->has_ram) PyBuffer_Release(&self->ram);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* Attribute names as interned strings, made once (a lookup by C string
   would build a new str at every push and pull). */
static PyObject *interned(const char *name) {
    static const char *names[128];
    static PyObject *objects[128];
    static int count;
    for (int i = 0; i < count; i++)
        if (names[i] == name) return objects[i];
    PyObject *object = PyUnicode_InternFromString(name);
    if (object && count < 128) {
        names[count] = name;
        objects[count++] = object; /* kept for the life of the process */
    }
    return object;
}

static int get_u64(PyObject *obj, const char *name, uint64_t *out) {
    PyObject *key = interned(name);
    PyObject *v = key ? PyObject_GetAttr(obj, key) : NULL;
    if (!v) return -1;
    *out = (uint64_t)PyLong_AsUnsignedLongLongMask(v);
    Py_DECREF(v);
    return PyErr_Occurred() ? -1 : 0;
}

/* Sets an attribute only when its value (mod 2**64) changed: a Python int
   such as a negative counter offset keeps its own spelling. */
static int set_u64(PyObject *obj, const char *name, uint64_t value, int as_signed) {
    PyObject *key = interned(name);
    PyObject *old = key ? PyObject_GetAttr(obj, key) : NULL;
    if (!old) return -1;
    uint64_t before = (uint64_t)PyLong_AsUnsignedLongLongMask(old);
    Py_DECREF(old);
    if (PyErr_Occurred()) return -1;
    if (before == value) return 0;
    PyObject *v = as_signed ? PyLong_FromLongLong((long long)value) : PyLong_FromUnsignedLongLong(value);
    if (!v) return -1;
    int r = PyObject_SetAttr(obj, key, v);
    Py_DECREF(v);
    return r;
}

static int get_list(PyObject *obj, const char *name, uint64_t *out, Py_ssize_t count) {
    PyObject *key = interned(name);
    PyObject *list = key ? PyObject_GetAttr(obj, key) : NULL;
    if (!list) return -1;
    if (!PyList_Check(list) || PyList_GET_SIZE(list) < count) {
        Py_DECREF(list);
        PyErr_Format(PyExc_TypeError, "%s must be a list of at least %zd ints", name, count);
        return -1;
    }
    for (Py_ssize_t i = 0; i < count; i++)
        out[i] = (uint64_t)PyLong_AsUnsignedLongLongMask(PyList_GET_ITEM(list, i));
    Py_DECREF(list);
    return PyErr_Occurred() ? -1 : 0;
}

static int set_list(PyObject *obj, const char *name, const uint64_t *values, Py_ssize_t count) {
    PyObject *key = interned(name);
    PyObject *list = key ? PyObject_GetAttr(obj, key) : NULL;
    if (!list) return -1;
    if (!PyList_Check(list) || PyList_GET_SIZE(list) < count) {
        Py_DECREF(list);
        PyErr_Format(PyExc_TypeError, "%s must be a list of at least %zd ints", name, count);
        return -1;
    }
    for (Py_ssize_t i = 0; i < count; i++) {
        uint64_t before = (uint64_t)PyLong_AsUnsignedLongLongMask(PyList_GET_ITEM(list, i));
        if (before == values[i]) continue;
        PyObject *v = PyLong_FromUnsignedLongLong(values[i]);
        if (!v) { Py_DECREF(list); return -1; }
        PyList_SetItem(list, i, v); /* steals v */
    }
    Py_DECREF(list);
    return PyErr_Occurred() ? -1 : 0;
}

/* push(hart, csr, reservation, with_pmp): the Python hart's state in (the
   PMP registers only when asked: nothing but a CSR instruction changes them) */
static PyObject *core_push(CoreObject *self, PyObject *args) {
    PyObject *hart, *csr, *reservation;
    int with_pmp;
    if (!PyArg_ParseTuple(args, "OOOp", &hart, &csr, &reservation, &with_pmp)) return NULL;
    Hart *h = &self->h;
    uint64_t privilege;
    if (get_list(hart, "x", h->x, 32) < 0 || get_u64(hart, "pc", &h->pc) < 0 ||
        get_u64(hart, "icount", &h->icount) < 0 || get_u64(hart, "not_retired", &h->not_retired) < 0 ||
        get_u64(hart, "privilege", &privilege) < 0 || get_u64(csr, "hartid", &h->hartid) < 0)
        return NULL;
    h->x[0] = 0;
    if (privilege != (uint64_t)h->privilege) tlb_flush(h);
    h->privilege = (int)privilege;
    uint64_t satp_before = h->satp, status_before = h->mstatus;
    for (int i = 0; CSR_NAMES[i]; i++)
        if (get_u64(csr, CSR_NAMES[i], csr_slot(h, i)) < 0) return NULL;
    if (with_pmp && (get_list(csr, "pmpcfg", h->pmpcfg, 16) < 0 ||
                     get_list(csr, "pmpaddr", h->pmpaddr, 64) < 0))
        return NULL;
    if (h->satp != satp_before || ((h->mstatus ^ status_before) & (MPRV | SUM | MXR | MPP)))
        flush_translations(h);
    if (reservation == Py_None) {
        h->has_reservation = 0;
    } else {
        h->has_reservation = 1;
        h->reservation = (uint64_t)PyLong_AsUnsignedLongLongMask(reservation);
        if (PyErr_Occurred()) return NULL;
    }
    Py_RETURN_NONE;
}

/* pull(hart, csr) -> reservation (None or int): the state back out (the PMP
   registers when a CSR instruction wrote them since the last pull) */
static PyObject *core_pull(CoreObject *self, PyObject *args) {
    PyObject *hart, *csr;
    if (!PyArg_ParseTuple(args, "OO", &hart, &csr)) return NULL;
    Hart *h = &self->h;
    if (set_list(hart, "x", h->x, 32) < 0 || set_u64(hart, "pc", h->pc, 0) < 0 ||
        set_u64(hart, "icount", h->icount, 0) < 0 || set_u64(hart, "not_retired", h->not_retired, 0) < 0 ||
        set_u64(hart, "privilege", (uint64_t)h->privilege, 0) < 0)
        return NULL;
    for (int i = 0; CSR_NAMES[i]; i++) {
        int as_signed = strcmp(CSR_NAMES[i], "cycle_offset") == 0 || strcmp(CSR_NAMES[i], "instret_offset") == 0;
        if (set_u64(csr, CSR_NAMES[i], *csr_slot(h, i), as_signed) < 0) return NULL;
    }
    if (h->pmp_dirty && (set_list(csr, "pmpcfg", h->pmpcfg, 16) < 0 ||
                         set_list(csr, "pmpaddr", h->pmpaddr, 64) < 0))
        return NULL;
    h->pmp_dirty = 0;
    if (!h->has_reservation) Py_RETURN_NONE;
    return PyLong_FromUnsignedLongLong(h->reservation);
}

/* What a store's call stack is memoised by, without a whole pull:
   (privilege, sp, ra, s0). */
static PyObject *core_unwind_registers(CoreObject *self, PyObject *unused) {
    (void)unused;
    Hart *h = &self->h;
    return Py_BuildValue("(iKKK)", (int)h->privilege, (unsigned long long)h->x[2],
                         (unsigned long long)h->x[1], (unsigned long long)h->x[8]);
}

/* run(stop_at, py_deadline, chunk_end, wants, resume_pc or None, external_lines)
   -> (exit kind, event icount, event pc, args tuple, resume still pending,
       a fallback store, icount after) */
static PyObject *core_run(CoreObject *self, PyObject *args) {
    unsigned long long stop_at, deadline, chunk_end, lines;
    int wants;
    PyObject *resume;
    if (!PyArg_ParseTuple(args, "KKKiOK", &stop_at, &deadline, &chunk_end, &wants, &resume, &lines))
        return NULL;
    Hart *h = &self->h;
    h->external_lines = lines;
    h->stop_at = stop_at;
    h->py_deadline = deadline;
    h->chunk_end = chunk_end;
    h->wants = wants;
    h->resume_valid = resume != Py_None;
    if (h->resume_valid) {
        h->resume_pc = (uint64_t)PyLong_AsUnsignedLongLongMask(resume);
        if (PyErr_Occurred()) return NULL;
    }
    h->status = ST_OK;
    h->fallback_store = 0;
    int kind;
    Py_BEGIN_ALLOW_THREADS
    kind = run(h);
    Py_END_ALLOW_THREADS
    return Py_BuildValue("(iKK(KKKKK)OiK)", kind, (unsigned long long)h->event_icount,
                         (unsigned long long)h->event_pc, (unsigned long long)h->exit_args[0],
                         (unsigned long long)h->exit_args[1], (unsigned long long)h->exit_args[2],
                         (unsigned long long)h->exit_args[3], (unsigned long long)h->exit_args[4],
                         h->resume_valid ? Py_True : Py_False, h->fallback_store,
                         (unsigned long long)h->icount);
}

/* watch_pages(pages, on): set or clear the watched flag of these page numbers */
static PyObject *core_watch_pages(CoreObject *self, PyObject *args) {
    PyObject *pages;
    int on;
    if (!PyArg_ParseTuple(args, "Op", &pages, &on)) return NULL;
    Hart *h = &self->h;
    PyObject *iter = PyObject_GetIter(pages);
    if (!iter) return NULL;
    PyObject *item;
    uint64_t first = h->ram_base >> 12;
    while ((item = PyIter_Next(iter))) {
        uint64_t page = (uint64_t)PyLong_AsUnsignedLongLongMask(item);
        Py_DECREF(item);
        if (page < first || page - first >= h->npages) continue;
        if (on) h->page_flags[page - first] |= PAGE_WATCHED;
        else h->page_flags[page - first] &= ~PAGE_WATCHED;
    }
    Py_DECREF(iter);
    if (PyErr_Occurred()) return NULL;
    if (on) tlb_flush_stores(h);
    Py_RETURN_NONE;
}

static void mark_partial(Hart *h, int on) {
    for (Py_ssize_t i = 0; i < h->nranges; i++) {
        uint64_t start = h->ranges[2 * i], end = h->ranges[2 * i + 1];
        for (uint64_t a = start & ~4095ULL; a < end; a += 4096) {
            if (a < h->ram_base || a - h->ram_base >= h->ram_size) continue;
            uint8_t *flags = &h->page_flags[(a - h->ram_base) >> 12];
            *flags = on ? (uint8_t)(*flags | PAGE_PARTIAL) : (uint8_t)(*flags & ~PAGE_PARTIAL);
        }
    }
}

/* set_ranges(flat): the sorted, disjoint [start, end, ...] byte ranges of the
   pages watched only in parts */
static PyObject *core_set_ranges(CoreObject *self, PyObject *arg) {
    Hart *h = &self->h;
    PyObject *seq = PySequence_Fast(arg, "ranges must be a sequence");
    if (!seq) return NULL;
    Py_ssize_t count = PySequence_Fast_GET_SIZE(seq) / 2;
    uint64_t *list = count ? malloc((size_t)count * 2 * sizeof(uint64_t)) : NULL;
    if (count && !list) { Py_DECREF(seq); return PyErr_NoMemory(); }
    for (Py_ssize_t i = 0; i < 2 * count; i++)
        list[i] = (uint64_t)PyLong_AsUnsignedLongLongMask(PySequence_Fast_GET_ITEM(seq, i));
    Py_DECREF(seq);
    if (PyErr_Occurred()) { free(list); return NULL; }
    mark_partial(h, 0);
    free(h->ranges);
    h->ranges = list;
    h->nranges = count;
    mark_partial(h, 1);
    tlb_flush_stores(h);
    Py_RETURN_NONE;
}

static PyObject *core_set_breakpoints(CoreObject *self, PyObject *arg) {
    Hart *h = &self->h;
    PyObject *seq = PySequence_Fast(arg, "breakpoints must be a sequence");
    if (!seq) return NULL;
    Py_ssize_t count = PySequence_Fast_GET_SIZE(seq);
    uint64_t *list = count ? malloc((size_t)count * sizeof(uint64_t)) : NULL;
    if (count && !list) { Py_DECREF(seq); return PyErr_NoMemory(); }
    for (Py_ssize_t i = 0; i < count; i++)
        list[i] = (uint64_t)PyLong_AsUnsignedLongLongMask(PySequence_Fast_GET_ITEM(seq, i));
    Py_DECREF(seq);
    if (PyErr_Occurred()) { free(list); return NULL; }
    for (Py_ssize_t i = 1; i < count; i++) { /* insertion sort: a handful of entries */
        uint64_t v = list[i];
        Py_ssize_t j = i - 1;
        while (j >= 0 && list[j] > v) { list[j + 1] = list[j]; j--; }
        list[j + 1] = v;
    }
    free(h->breakpoints);
    h->breakpoints = list;
    h->nbreakpoints = count;
    invalidate_all_code(h); /* decoded ops carry their breakpoint flag */
    Py_RETURN_NONE;
}

static PyObject *core_ram_changed(CoreObject *self, PyObject *args) {
    unsigned long long address, length;
    if (!PyArg_ParseTuple(args, "KK", &address, &length)) return NULL;
    Hart *h = &self->h;
    if (length == 0) Py_RETURN_NONE;
    uint64_t end = address + length;
    if (end < address) end = M64;
    for (uint64_t a = address & ~4095ULL; a < end; a += 4096) {
        if (a >= h->ram_base && a - h->ram_base < h->ram_size) {
            uint64_t page = (a - h->ram_base) >> 12;
            h->dirty[page] = 1;
            if (h->page_flags[page] & PAGE_CODE) invalidate_code_page(h, page);
            if (h->page_flags[page] & PAGE_TABLE) flush_translations(h);
        }
        if (a > M64 - 4096) break;
    }
    if (h->has_reservation && address <= h->reservation && h->reservation < end) h->has_reservation = 0;
    Py_RETURN_NONE;
}

/* take_dirty(): the RAM page numbers stored into since the last call, and
   forget them. Stores through the store TLB write without looking, so it is
   emptied: each page's next store takes the slow path, which marks it. */
static PyObject *core_take_dirty(CoreObject *self, PyObject *unused) {
    (void)unused;
    Hart *h = &self->h;
    PyObject *pages = PyList_New(0);
    if (!pages) return NULL;
    for (uint64_t p = 0; p < h->npages; p++) {
        if (!h->dirty[p]) continue;
        PyObject *number = PyLong_FromUnsignedLongLong(p);
        if (!number || PyList_Append(pages, number) < 0) {
            Py_XDECREF(number);
            Py_DECREF(pages);
            return NULL;
        }
        Py_DECREF(number);
    }
    memset(h->dirty, 0, h->npages);
    tlb_flush_stores(h);
    return pages;
}

/* take_stored(): the RAM page numbers this hart stored into since the last
   call, and forget them; with several harts the others drop their decoded
   code and translations there. It never touches take_dirty's marks. Like
   take_dirty it empties the store TLB, so each page's next store marks it. */
static PyObject *core_take_stored(CoreObject *self, PyObject *unused) {
    (void)unused;
    Hart *h = &self->h;
    PyObject *pages = PyList_New((Py_ssize_t)h->nstored);
    if (!pages) return NULL;
    for (uint64_t i = 0; i < h->nstored; i++) {
        uint32_t page = h->stored_list[i];
        h->stored[page] = 0;
        PyObject *number = PyLong_FromUnsignedLong(page);
        if (!number) {
            for (uint64_t j = i + 1; j < h->nstored; j++) h->stored[h->stored_list[j]] = 0;
            h->nstored = 0;
            Py_DECREF(pages);
            return NULL;
        }
        PyList_SET_ITEM(pages, (Py_ssize_t)i, number);
    }
    h->nstored = 0;
    tlb_flush_stores(h);
    return pages;
}

static int read_linear(PyObject *seq, Py_ssize_t *i, Linear *out) {
    Py_ssize_t size = PySequence_Fast_GET_SIZE(seq);
#define NEXT_INT(var) do { \
        if (*i >= size) goto bad; \
        var = (uint64_t)PyLong_AsUnsignedLongLongMask(PySequence_Fast_GET_ITEM(seq, (*i)++)); \
    } while (0)
    uint64_t count, v;
    NEXT_INT(count);
    if (count > MAX_TERMS) goto bad;
    out->n = (int)count;
    for (uint64_t k = 0; k < count; k++) {
        NEXT_INT(v);
        if (v > 31) goto bad;
        out->reg[k] = (uint8_t)v;
        NEXT_INT(out->coef[k]);
    }
    NEXT_INT(out->constant);
    return 0;
bad:
    PyErr_SetString(PyExc_ValueError, "malformed idiom encoding");
    return -1;
}

/* install_idiom(head_physical, encoding): make the op there run the loop in bulk */
static PyObject *core_install_idiom(CoreObject *self, PyObject *args) {
    unsigned long long head;
    PyObject *encoding;
    if (!PyArg_ParseTuple(args, "KO", &head, &encoding)) return NULL;
    Hart *h = &self->h;
    if (!is_ram(h, head, 2)) Py_RETURN_FALSE;
    uint64_t page = (head - h->ram_base) >> 12;
    Op *ops = h->code[page];
    if (!ops || h->code_gen[page] != h->generation) Py_RETURN_FALSE;
    Op *op = &ops[(head & 4095) >> 1];
    if (op->handler == OP_NONE || op->handler == OP_BREAKPOINT || op->handler == OP_IDIOM)
        Py_RETURN_FALSE;
    if (!h->idioms) {
        h->idioms = calloc(MAX_IDIOMS, sizeof(Idiom));
        if (!h->idioms) return PyErr_NoMemory();
    }
    if (h->nidioms >= MAX_IDIOMS) Py_RETURN_FALSE;
    PyObject *seq = PySequence_Fast(encoding, "an idiom encoding is a sequence");
    if (!seq) return NULL;
    Py_ssize_t size = PySequence_Fast_GET_SIZE(seq), pos = 0, *i = &pos;
    Idiom d;
    memset(&d, 0, sizeof d);
    d.head = head;
    uint64_t v;
    NEXT_INT(v); d.length = (int)v;
    NEXT_INT(v); d.end = (int)v;
    NEXT_INT(v); d.branch = (int)v;
    NEXT_INT(v); if (v > 32) goto bad; d.nlive = (int)v;
    for (int k = 0; k < d.nlive; k++) {
        NEXT_INT(v); if (v > 31) goto bad; d.live[k] = (uint8_t)v;
        NEXT_INT(d.step[k]);
    }
    NEXT_INT(v); if (v > 32) goto bad; d.nfinal = (int)v;
    for (int k = 0; k < d.nfinal; k++) {
        NEXT_INT(v); if (v > 31) goto bad; d.final_reg[k] = (uint8_t)v;
        NEXT_INT(v); d.final_is_load[k] = (uint8_t)(v != 0);
        if (read_linear(seq, i, &d.final[k]) < 0) goto fail;
    }
    NEXT_INT(v); if (v != 1 && v != 2 && v != 4 && v != 8) goto bad; d.store_width = (int)v;
    if (read_linear(seq, i, &d.store) < 0) goto fail;
    NEXT_INT(v); d.value_is_load = v != 0;
    if (read_linear(seq, i, &d.value) < 0) goto fail;
    NEXT_INT(v); if (v != 0 && v != 1 && v != 2 && v != 4 && v != 8) goto bad; d.load_width = (int)v;
    NEXT_INT(v); d.load_signed = v != 0;
    if (read_linear(seq, i, &d.load) < 0) goto fail;
    if (read_linear(seq, i, &d.left) < 0 || read_linear(seq, i, &d.right) < 0) goto fail;
    if (d.length < 2 || d.branch < BR_BNE || d.branch > BR_BGE || pos != size ||
        (d.value_is_load && d.load_width != d.store_width))
        goto bad;
    Py_DECREF(seq);
    h->idioms[h->nidioms++] = d;
    op->real = op->handler;
    op->handler = OP_IDIOM;
    op->idiom = (uint16_t)h->nidioms;
    Py_RETURN_TRUE;
#undef NEXT_INT
bad:
    PyErr_SetString(PyExc_ValueError, "malformed idiom encoding");
fail:
    Py_DECREF(seq);
    return NULL;
}

static PyObject *core_invalidate(CoreObject *self, PyObject *unused) {
    (void)unused;
    invalidate_all_code(&self->h);
    flush_translations(&self->h);
    Py_RETURN_NONE;
}

static PyObject *core_decode(PyObject *module, PyObject *arg) {
    (void)module;
    unsigned long word = PyLong_AsUnsignedLongMask(arg);
    if (PyErr_Occurred()) return NULL;
    Op op;
    memset(&op, 0, sizeof op);
    if (!decode_word((uint32_t)word, &op)) Py_RETURN_NONE;
    return Py_BuildValue("{s:s,s:i,s:i,s:i,s:i,s:L,s:i,s:i,s:i}", "name", OP_NAMES[op.handler],
                         "length", op.len, "rd", op.rd, "rs1", op.rs1, "rs2", op.rs2,
                         "imm", (long long)op.imm, "shamt", op.shamt, "csr", op.csr, "zimm", op.zimm);
}

static PyMethodDef core_methods[] = {
    {"push", (PyCFunction)core_push, METH_VARARGS, "Copy the Python hart's state in."},
    {"pull", (PyCFunction)core_pull, METH_VARARGS, "Copy the state back; returns the reservation."},
    {"unwind_registers", (PyCFunction)core_unwind_registers, METH_NOARGS,
     "(privilege, sp, ra, s0) now, for a store's call stack."},
    {"run", (PyCFunction)core_run, METH_VARARGS, "Run until a limit, a fallback, a breakpoint or an event."},
    {"watch_pages", (PyCFunction)core_watch_pages, METH_VARARGS, "Watch or unwatch these pages."},
    {"set_ranges", (PyCFunction)core_set_ranges, METH_O, "The watched byte ranges of partly watched pages."},
    {"set_breakpoints", (PyCFunction)core_set_breakpoints, METH_O, "Breakpoint physical addresses."},
    {"ram_changed", (PyCFunction)core_ram_changed, METH_VARARGS, "RAM written behind the core's back."},
    {"invalidate", (PyCFunction)core_invalidate, METH_NOARGS, "Drop every decoded op and translation."},
    {"take_dirty", (PyCFunction)core_take_dirty, METH_NOARGS, "RAM pages stored into since the last call."},
    {"take_stored", (PyCFunction)core_take_stored, METH_NOARGS, "RAM pages this hart stored into since the last call (take_dirty's marks untouched)."},
    {"install_idiom", (PyCFunction)core_install_idiom, METH_VARARGS, "Run the loop at a physical pc in bulk."},
    {NULL, NULL, 0, NULL}};

static PyTypeObject CoreType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "machine.native._core.Core",
    .tp_basicsize = sizeof(CoreObject),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)core_init,
    .tp_dealloc = (destructor)core_dealloc,
    .tp_methods = core_methods,
    .tp_doc = "One RISC-V hart in C (see core.c).",
};

static PyMethodDef module_methods[] = {
    {"decode", core_decode, METH_O, "Decode a word with the generated decoder (for tests)."},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef core_module = {PyModuleDef_HEAD_INIT, "_core", NULL, -1, module_methods};

PyMODINIT_FUNC PyInit__core(void) {
    const uint16_t probe = 1;
    if (*(const uint8_t *)&probe != 1) {
        PyErr_SetString(PyExc_ImportError, "the native core assumes a little-endian host");
        return NULL;
    }
    if (PyType_Ready(&CoreType) < 0) return NULL;
    PyObject *m = PyModule_Create(&core_module);
    if (!m) return NULL;
    Py_INCREF(&CoreType);
    if (PyModule_AddObject(m, "Core", (PyObject *)&CoreType) < 0) return NULL;
    PyModule_AddIntConstant(m, "EXIT_LIMIT", EXIT_LIMIT);
    PyModule_AddIntConstant(m, "EXIT_FALLBACK", EXIT_FALLBACK);
    PyModule_AddIntConstant(m, "EXIT_BREAKPOINT", EXIT_BREAKPOINT);
    PyModule_AddIntConstant(m, "EXIT_TRAP", EXIT_TRAP);
    PyModule_AddIntConstant(m, "EXIT_RETURN", EXIT_RETURN);
    PyModule_AddIntConstant(m, "EXIT_SATP", EXIT_SATP);
    PyModule_AddIntConstant(m, "EXIT_SFENCE", EXIT_SFENCE);
    PyModule_AddIntConstant(m, "EXIT_WRITE", EXIT_WRITE);
    PyModule_AddIntConstant(m, "EXIT_IDIOM", EXIT_IDIOM);
    PyModule_AddIntConstant(m, "WANT_TRAP", WANT_TRAP);
    PyModule_AddIntConstant(m, "WANT_RETURN", WANT_RETURN);
    PyModule_AddIntConstant(m, "WANT_SATP", WANT_SATP);
    PyModule_AddIntConstant(m, "WANT_SFENCE", WANT_SFENCE);
    PyModule_AddIntConstant(m, "WANT_WRITE", WANT_WRITE);
    return m;
}
