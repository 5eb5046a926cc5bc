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
 * In the ELF image MAP of SIZE bytes, when it is a shared object of this
 * process's class and of MACHINE: for each i < N, find the function
 * NAMES[i] in its .dynsym, or ALIASES[i] (may be NULL) when NAMES[i] is not
 * there. FOUND[i] is set to the name found (NAMES[i] or ALIASES[i]) and
 * OFF[i] to its file offset, or FOUND[i] is left NULL. Every offset and
 * index read from the image is checked against SIZE.
 */
void cg_elf_func_offsets(const uint8_t *map, size_t size, uint16_t machine,
			 const char *const *names, const char *const *aliases,
			 size_t n, const char **found, uint64_t *off);

#endif /* CG_ELFSYM_H */
