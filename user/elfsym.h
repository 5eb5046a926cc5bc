/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Reading ELF shared objects: the daemon's own machine, and where functions
 * are in a library's file (what a uprobe attaches to).
 */
#ifndef CG_ELFSYM_H
#define CG_ELFSYM_H

#include <stddef.h>
#include <stdint.h>

/* The daemon's own e_machine: a uprobe reads a native calling convention. */
int cg_elf_own_machine(uint16_t *machine);

/*
 * In the ELF image MAP of SIZE bytes, when it is a shared object or an
 * executable of this process's class and of MACHINE: for each i < N, find
 * the function NAMES[i] in its .dynsym, or ALIASES[i] (may be NULL) when
 * NAMES[i] is not there; a name in neither is looked for in .symtab (its
 * global functions), when the file keeps one. FOUND[i] is set to the name found (NAMES[i] or ALIASES[i]) and
 * OFF[i] to its file offset, or FOUND[i] is left NULL. Every offset and
 * index read from the image is checked against SIZE.
 */
void cg_elf_func_offsets(const uint8_t *map, size_t size, uint16_t machine,
			 const char *const *names, const char *const *aliases,
			 size_t n, const char **found, uint64_t *off);

/*
 * The library search path the ELF image MAP of SIZE bytes names for itself
 * (DT_RUNPATH, else DT_RPATH: colon-separated, $ORIGIN unexpanded), copied
 * into OUT (LEN bytes). 0, or -1 when it has none (or one longer than LEN).
 */
int cg_elf_runpath(const uint8_t *map, size_t size, char *out, size_t len);

/* x86-64 registers, numbered as in the instruction encoding. */
#define CG_X86_RCX (1u << 1)
#define CG_X86_RDX (1u << 2)
#define CG_X86_RSI (1u << 6)
#define CG_X86_RDI (1u << 7)
#define CG_X86_R8 (1u << 8)
#define CG_X86_R9 (1u << 9)

/*
 * Where an entry uprobe on the function whose code starts at CODE (LEN
 * bytes readable) is cheapest without changing what it reads: the number
 * of bytes to skip. The kernel emulates a call, a jump, a push or a nop at
 * a uprobe, but copies most other instructions out of line and single-steps
 * them, a second trap (on a virtual machine the dearer half). A prologue
 * that starts with such an instruction and reaches an emulated one within a
 * few known instructions that leave the registers KEEP (CG_X86_*) as they
 * were, and write no memory but the function's own new stack frame, is
 * skipped up to it. 0 when
 * the entry is already emulated, or anything on the way is not known to
 * be harmless, or this is not x86-64. Not for a uretprobe's function: it
 * takes the return address from the stack pointer at the probe.
 */
size_t cg_elf_entry_skip(const uint8_t *code, size_t len, unsigned int keep);

#endif /* CG_ELFSYM_H */
