// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Reading ELF shared objects for the libc uprobes: the function symbols of
 * .dynsym as file offsets, which is what a uprobe takes. (Not named elf.h:
 * with -Iuser it would hide the system's <elf.h>.)
 */
#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#include "elfsym.h"

int cg_elf_own_machine(uint16_t *machine)
{
	ElfW(Ehdr) eh;
	int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, &eh, sizeof(eh));
	close(fd);
	if (n != sizeof(eh))
		return -1;
	*machine = eh.e_machine;
	return 0;
}

/* Section I of the ELF image MAP (bounds checked by the caller). */
static const ElfW(Shdr) *shdr(const uint8_t *map, unsigned int i)
{
	const ElfW(Ehdr) *eh = (const void *)map;

	return (const void *)(map + eh->e_shoff + i * sizeof(ElfW(Shdr)));
}

/*
 * The offsets are the symbol's address within its section plus the
 * section's offset: what libbpf would compute from the name. Attaching by
 * offset spares libbpf reopening and parsing the library once per function.
 */
void cg_elf_func_offsets(const uint8_t *map, size_t size, uint16_t machine,
			 const char *const *names, const char *const *aliases,
			 size_t n, const char **found, uint64_t *off)
{
	const ElfW(Ehdr) *eh = (const void *)map;
	const ElfW(Shdr) *sh, *strs;
	const ElfW(Sym) *syms;
	const char *str;
	size_t nsym;

	if (size < sizeof(*eh) || memcmp(eh->e_ident, ELFMAG, SELFMAG) ||
	    eh->e_ident[EI_CLASS] !=
		    (sizeof(void *) == 8 ? ELFCLASS64 : ELFCLASS32) ||
	    eh->e_type != ET_DYN || eh->e_machine != machine)
		return;
	if (eh->e_shoff == 0 || eh->e_shentsize != sizeof(ElfW(Shdr)) ||
	    eh->e_shoff > size ||
	    (size - eh->e_shoff) / sizeof(ElfW(Shdr)) < eh->e_shnum)
		return;
	for (unsigned int i = 0; i < eh->e_shnum; i++) {
		sh = shdr(map, i);
		if (sh->sh_type != SHT_DYNSYM || sh->sh_link >= eh->e_shnum ||
		    sh->sh_offset > size || sh->sh_size > size - sh->sh_offset)
			continue;
		strs = shdr(map, sh->sh_link);
		if (strs->sh_offset > size ||
		    strs->sh_size > size - strs->sh_offset || !strs->sh_size)
			continue;
		str = (const char *)map + strs->sh_offset;
		syms = (const void *)(map + sh->sh_offset);
		nsym = sh->sh_size / sizeof(ElfW(Sym));
		for (size_t k = 0; k < nsym; k++) {
			const ElfW(Sym) *s = &syms[k];
			/* ELF32_ST_TYPE is the same macro */
			int type = ELF64_ST_TYPE(s->st_info);
			const ElfW(Shdr) *in; /* its section */
			const char *name;

			if (s->st_shndx == SHN_UNDEF ||
			    s->st_shndx >= eh->e_shnum || !s->st_value ||
			    (type != STT_FUNC && type != STT_GNU_IFUNC) ||
			    s->st_name >= strs->sh_size ||
			    !memchr(str + s->st_name, 0,
				    strs->sh_size - s->st_name))
				continue;
			in = shdr(map, s->st_shndx);
			if (s->st_value < in->sh_addr ||
			    s->st_value - in->sh_addr >= in->sh_size)
				continue;
			name = str + s->st_name;
			for (size_t f = 0; f < n; f++) {
				bool plain = !strcmp(name, names[f]);

				/* The plain name wins over the alias. */
				if (plain || (aliases[f] && !found[f] &&
					      !strcmp(name, aliases[f]))) {
					found[f] = plain ? names[f] :
							   aliases[f];
					off[f] = s->st_value - in->sh_addr +
						 in->sh_offset;
				}
			}
		}
	}
}
