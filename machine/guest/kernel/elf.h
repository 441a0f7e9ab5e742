// The parts of the ELF64 format exec() needs.
#define ELF_MAGIC 0x464C457FU   // "\x7FELF" little-endian

struct elfhdr {
  uint magic;
  uint8 elf[12];
  uint16 type, machine;
  uint version;
  uint64 entry, phoff, shoff;
  uint flags;
  uint16 ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
};

struct proghdr {
  uint32 type, flags;
  uint64 off, vaddr, paddr, filesz, memsz, align;
};

#define ELF_PROG_LOAD 1
#define ELF_PROG_FLAG_EXEC 1
#define ELF_PROG_FLAG_WRITE 2
