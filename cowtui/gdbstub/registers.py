"""Register numbering and the target description gdb reads (qXfer:features).

Numbers follow gdb's RISC-V numbering, as QEMU's stub does: x0..x31 are
0..31, pc 32, a CSR is 65 + its number, and the virtual ``priv`` register
(the privilege level in its low two bits) comes after the 4096 CSR numbers.
The ``g`` packet carries the 33 core registers only; gdb reads the rest with
``p``, one at a time.
"""

from __future__ import annotations

from machine.isa.csr_names import CSR_NUMBERS

ABI_NAMES = ("zero", "ra", "sp", "gp", "tp", "t0", "t1", "t2", "fp", "s1",
             "a0", "a1", "a2", "a3", "a4", "a5", "a6", "a7", "s2", "s3", "s4", "s5",
             "s6", "s7", "s8", "s9", "s10", "s11", "t3", "t4", "t5", "t6")
PC = 32
FIRST_CSR = 65
PRIV = FIRST_CSR + 4096
CORE_COUNT = 33  # what a 'g' packet holds

# The CSRs a kernel debugger wants, in the order gdb lists them.
CSRS = ("sstatus", "sie", "stvec", "sscratch", "sepc", "scause", "stval", "sip", "satp",
        "mstatus", "misa", "medeleg", "mideleg", "mie", "mtvec", "mscratch", "mepc",
        "mcause", "mtval", "mip")


def csr_regnum(name: str) -> int:
    return FIRST_CSR + CSR_NUMBERS[name]


def csr_of_regnum(regnum: int) -> int | None:
    """The CSR number a register number names, or None."""
    if FIRST_CSR <= regnum < PRIV:
        return regnum - FIRST_CSR
    return None


def target_xml() -> str:
    core = [f'<reg name="{name}" bitsize="64" regnum="{i}" type="{_type(i)}"/>'
            for i, name in enumerate(ABI_NAMES)]
    core.append(f'<reg name="pc" bitsize="64" regnum="{PC}" type="code_ptr"/>')
    csrs = [f'<reg name="{name}" bitsize="64" regnum="{csr_regnum(name)}" group="csr"/>'
            for name in CSRS]
    return "\n".join([
        '<?xml version="1.0"?>',
        '<!DOCTYPE target SYSTEM "gdb-target.dtd">',
        "<target>",
        "<architecture>riscv:rv64</architecture>",
        '<feature name="org.gnu.gdb.riscv.cpu">', *core, "</feature>",
        '<feature name="org.gnu.gdb.riscv.csr">', *csrs, "</feature>",
        '<feature name="org.gnu.gdb.riscv.virtual">',
        f'<reg name="priv" bitsize="64" regnum="{PRIV}"/>', "</feature>",
        "</target>", ""])


def _type(index: int) -> str:
    if index == 2 or index == 8:
        return "data_ptr"
    if index == 1:
        return "code_ptr"
    return "int"
