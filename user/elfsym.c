// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Reading ELF files for the uprobes: the function symbols of .dynsym (and
 * of .symtab, when kept) as file offsets, which is what a uprobe takes, and
 * a file's RUNPATH. (Not named elf.h: with -Iuser it would hide the
 * system's <elf.h>.)
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
 * Is MAP (SIZE bytes) a shared object or an executable of this process's
 * class, with its section header table inside it?
 */
static bool elf_ok(const uint8_t *map, size_t size)
{
	const ElfW(Ehdr) *eh = (const void *)map;

	return size >= sizeof(*eh) && !memcmp(eh->e_ident, ELFMAG, SELFMAG) &&
	       eh->e_ident[EI_CLASS] ==
		       (sizeof(void *) == 8 ? ELFCLASS64 : ELFCLASS32) &&
	       (eh->e_type == ET_DYN || eh->e_type == ET_EXEC) &&
	       eh->e_shoff != 0 && eh->e_shentsize == sizeof(ElfW(Shdr)) &&
	       eh->e_shoff <= size &&
	       (size - eh->e_shoff) / sizeof(ElfW(Shdr)) >= eh->e_shnum;
}

/*
 * The function symbols of the symbol table section SH (of TYPE: the
 * dynamic one, or the full one, whose local symbols are left) into FOUND
 * and OFF; ONLY_MISSING: names found already are kept.
 */
static void func_offsets(const uint8_t *map, size_t size,
			 const ElfW(Shdr) *sh, bool only_missing,
			 const char *const *names, const char *const *aliases,
			 size_t n, const char **found, uint64_t *off)
{
	const ElfW(Ehdr) *eh = (const void *)map;
	const ElfW(Shdr) *strs;
	const ElfW(Sym) *syms;
	const char *str;
	size_t nsym;

	if (sh->sh_link >= eh->e_shnum || sh->sh_offset > size ||
	    sh->sh_size > size - sh->sh_offset)
		return;
	strs = shdr(map, sh->sh_link);
	if (strs->sh_offset > size || strs->sh_size > size - strs->sh_offset ||
	    !strs->sh_size)
		return;
	str = (const char *)map + strs->sh_offset;
	syms = (const void *)(map + sh->sh_offset);
	nsym = sh->sh_size / sizeof(ElfW(Sym));
	for (size_t k = 0; k < nsym; k++) {
		const ElfW(Sym) *s = &syms[k];
		/* ELF32_ST_TYPE and ELF32_ST_BIND are the same macros */
		int type = ELF64_ST_TYPE(s->st_info);
		const ElfW(Shdr) *in; /* its section */
		const char *name;

		if (s->st_shndx == SHN_UNDEF || s->st_shndx >= eh->e_shnum ||
		    !s->st_value ||
		    (type != STT_FUNC && type != STT_GNU_IFUNC) ||
		    (sh->sh_type == SHT_SYMTAB &&
		     ELF64_ST_BIND(s->st_info) == STB_LOCAL) ||
		    s->st_name >= strs->sh_size ||
		    !memchr(str + s->st_name, 0, strs->sh_size - s->st_name))
			continue;
		in = shdr(map, s->st_shndx);
		/* Code inside its section, and its section inside the file. */
		if (in->sh_type == SHT_NOBITS || s->st_value < in->sh_addr ||
		    s->st_value - in->sh_addr >= in->sh_size ||
		    in->sh_offset > size ||
		    s->st_value - in->sh_addr >= size - in->sh_offset)
			continue;
		name = str + s->st_name;
		for (size_t f = 0; f < n; f++) {
			bool plain = !strcmp(name, names[f]);

			if (only_missing && found[f])
				continue;
			/* The plain name wins over the alias. */
			if (plain || (aliases[f] && !found[f] &&
				      !strcmp(name, aliases[f]))) {
				found[f] = plain ? names[f] : aliases[f];
				off[f] = s->st_value - in->sh_addr +
					 in->sh_offset;
			}
		}
	}
}

/*
 * The offsets are the symbol's address within its section plus the
 * section's offset: what libbpf would compute from the name. Attaching by
 * offset spares libbpf reopening and parsing the library once per function.
 * An executable (ET_EXEC or a PIE) is read as a library is: a TLS library
 * linked in statically is found by its symbols.
 */
void cg_elf_func_offsets(const uint8_t *map, size_t size, uint16_t machine,
			 const char *const *names, const char *const *aliases,
			 size_t n, const char **found, uint64_t *off)
{
	static const unsigned int types[] = { SHT_DYNSYM, SHT_SYMTAB };
	const ElfW(Ehdr) *eh = (const void *)map;

	if (!elf_ok(map, size) || eh->e_machine != machine)
		return;
	/* The dynamic symbols first; the full table (when kept) for the rest. */
	for (size_t t = 0; t < 2; t++)
		for (unsigned int i = 0; i < eh->e_shnum; i++)
			if (shdr(map, i)->sh_type == types[t])
				func_offsets(map, size, shdr(map, i), t > 0,
					     names, aliases, n, found, off);
}

int cg_elf_runpath(const uint8_t *map, size_t size, char *out, size_t len)
{
	const ElfW(Ehdr) *eh = (const void *)map;
	int found = 0;

	if (!len || !elf_ok(map, size))
		return -1;
	for (unsigned int i = 0; i < eh->e_shnum; i++) {
		const ElfW(Shdr) *sh = shdr(map, i), *strs;
		const ElfW(Dyn) *d;
		size_t nd;

		if (sh->sh_type != SHT_DYNAMIC || sh->sh_link >= eh->e_shnum ||
		    sh->sh_offset > size || sh->sh_size > size - sh->sh_offset)
			continue;
		strs = shdr(map, sh->sh_link);
		if (strs->sh_offset > size ||
		    strs->sh_size > size - strs->sh_offset || !strs->sh_size)
			continue;
		d = (const void *)(map + sh->sh_offset);
		nd = sh->sh_size / sizeof(ElfW(Dyn));
		for (size_t k = 0; k < nd && d[k].d_tag != DT_NULL; k++) {
			const char *str = (const char *)map + strs->sh_offset;
			size_t at = (size_t)d[k].d_un.d_val, n;

			/* DT_RUNPATH wins over DT_RPATH, as for ld.so. */
			if ((d[k].d_tag != DT_RUNPATH &&
			     (d[k].d_tag != DT_RPATH || found == 2)) ||
			    at >= strs->sh_size)
				continue;
			n = strnlen(str + at, strs->sh_size - at);
			if (n == strs->sh_size - at || n >= len)
				continue; /* unterminated, or too long */
			memcpy(out, str + at, n + 1);
			found = d[k].d_tag == DT_RUNPATH ? 2 : 1;
		}
	}
	return found ? 0 : -1;
}

/*
 * A prologue instruction known to be harmless to skip: BYTES (LEN of them,
 * then IMM bytes of immediate or displacement) writing WRITES (CG_X86_*,
 * besides the stack pointer, rax, rbp and flags, which no probe reads).
 */
struct entry_insn {
	uint8_t bytes[6];
	uint8_t len, imm;
	unsigned int writes;
};

static const struct entry_insn entry_insns[] = {
	{ { 0xf3, 0x0f, 0x1e, 0xfa }, 4, 0, 0 },	     /* endbr64 */
	{ { 0x48, 0x83, 0xec }, 3, 1, 0 },		     /* sub $i8,%rsp */
	{ { 0x48, 0x81, 0xec }, 3, 4, 0 },		     /* sub $i32,%rsp */
	{ { 0x48, 0x89, 0xe5 }, 3, 0, 0 },		     /* mov %rsp,%rbp */
	{ { 0x64, 0x48, 0x8b, 0x04, 0x25 }, 5, 4, 0 },	     /* mov %fs:d32,%rax */
	{ { 0x48, 0x89, 0x44, 0x24 }, 4, 1, 0 },	     /* mov %rax,d8(%rsp) */
	{ { 0x48, 0x89, 0x04, 0x24 }, 4, 0, 0 },	     /* mov %rax,(%rsp) */
	{ { 0x31, 0xc0 }, 2, 0, 0 },			     /* xor %eax,%eax */
	{ { 0x31, 0xc9 }, 2, 0, CG_X86_RCX },		     /* xor %ecx,%ecx */
	{ { 0x31, 0xd2 }, 2, 0, CG_X86_RDX },		     /* xor %edx,%edx */
	{ { 0x45, 0x31, 0xc0 }, 3, 0, CG_X86_R8 },	     /* xor %r8d,%r8d */
	{ { 0x45, 0x31, 0xc9 }, 3, 0, CG_X86_R9 },	     /* xor %r9d,%r9d */
	{ { 0x85, 0xd2 }, 2, 0, 0 },			     /* test %edx,%edx */
	{ { 0x85, 0xf6 }, 2, 0, 0 },			     /* test %esi,%esi */
	{ { 0x85, 0xff }, 2, 0, 0 },			     /* test %edi,%edi */
	{ { 0x48, 0x85, 0xd2 }, 3, 0, 0 },		     /* test %rdx,%rdx */
	{ { 0x48, 0x85, 0xf6 }, 3, 0, 0 },		     /* test %rsi,%rsi */
	{ { 0x48, 0x85, 0xff }, 3, 0, 0 },		     /* test %rdi,%rdi */
};

#define ENTRY_INSNS_MAX 8

/* Does the kernel emulate the instruction at C (N bytes readable)? */
static bool entry_emulated(const uint8_t *c, size_t n)
{
	if (n < 1)
		return false;
	if (c[0] == 0xe8 || c[0] == 0xe9 || c[0] == 0xeb || /* call, jmp */
	    (c[0] >= 0x70 && c[0] <= 0x7f) ||		  /* jcc rel8 */
	    (c[0] >= 0x50 && c[0] <= 0x57) ||		  /* push %r64 */
	    c[0] == 0x90)				  /* nop */
		return true;
	if (n < 2)
		return false;
	return (c[0] == 0x0f && c[1] >= 0x80 && c[1] <= 0x8f) || /* jcc rel32 */
	       (c[0] == 0x41 && c[1] >= 0x50 && c[1] <= 0x57);	  /* push %r8-15 */
}

size_t cg_elf_entry_skip(const uint8_t *code, size_t len, unsigned int keep)
{
#if defined(__x86_64__)
	size_t at = 0;

	if (!code || entry_emulated(code, len))
		return 0;
	for (int k = 0; k < ENTRY_INSNS_MAX; k++) {
		const struct entry_insn *in = NULL;

		for (size_t i = 0;
		     i < sizeof(entry_insns) / sizeof(entry_insns[0]); i++) {
			const struct entry_insn *e = &entry_insns[i];

			if (len - at >= (size_t)e->len + e->imm &&
			    !memcmp(code + at, e->bytes, e->len)) {
				in = e;
				break;
			}
		}
		if (!in || (in->writes & keep))
			return 0;
		at += (size_t)in->len + in->imm;
		if (entry_emulated(code + at, len - at))
			return at;
	}
#else
	(void)code;
	(void)len;
	(void)keep;
#endif
	return 0;
}
