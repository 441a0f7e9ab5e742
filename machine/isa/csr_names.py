"""CSR numbers and their names (the privileged specification's table)."""

from __future__ import annotations

CSR_NUMBERS: dict[str, int] = {
    # unprivileged counters
    "cycle": 0xC00, "time": 0xC01, "instret": 0xC02,
    # supervisor
    "sstatus": 0x100, "sie": 0x104, "stvec": 0x105, "scounteren": 0x106,
    "senvcfg": 0x10A, "sscratch": 0x140, "sepc": 0x141, "scause": 0x142,
    "stval": 0x143, "sip": 0x144, "stimecmp": 0x14D, "satp": 0x180,
    # machine
    "mvendorid": 0xF11, "marchid": 0xF12, "mimpid": 0xF13, "mhartid": 0xF14,
    "mconfigptr": 0xF15,
    "mstatus": 0x300, "misa": 0x301, "medeleg": 0x302, "mideleg": 0x303, "mie": 0x304,
    "mtvec": 0x305, "mcounteren": 0x306, "menvcfg": 0x30A, "mcountinhibit": 0x320,
    "mscratch": 0x340, "mepc": 0x341, "mcause": 0x342, "mtval": 0x343, "mip": 0x344,
    "mcycle": 0xB00, "minstret": 0xB02,
}
CSR_NUMBERS.update({f"pmpcfg{i}": 0x3A0 + i for i in range(0, 16, 2)})
CSR_NUMBERS.update({f"pmpaddr{i}": 0x3B0 + i for i in range(64)})
CSR_NAMES: dict[int, str] = {number: name for name, number in CSR_NUMBERS.items()}
