/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Where functions are in an ELF file (user/elfsym.c,
 * cg_elf_func_offsets()), read from this test's own executable: a PIE that
 * keeps its full symbol table (.symtab) beside the dynamic one. A global
 * function only .symtab names is found, at the file offset that holds its
 * code; a local one is not; a damaged copy of the file finds nothing and
 * reads nothing outside it. And cg_tls_file_kind() (user/tlsprobe.c) on
 * this executable: it defines a function named like GnuTLS's write, as a
 * program with GnuTLS linked in does.
 *
 * Build and run: make test-build && .output/tests/test_elfsym
 */
#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "connguard.h"
#include "elfsym.h"
#include "tlsprobe.h"
#include "unit.h"

__attribute__((noinline, used)) int cg_unit_global_fn(int x)
{
	return x * 7 + 3;
}

__attribute__((noinline, used)) static int cg_unit_local_fn(int x)
{
	return x * 5 + 1;
}

/* What a program with GnuTLS linked in has among its symbols. */
__attribute__((noinline, used)) long gnutls_record_send(void *s,
							const void *b,
							size_t n)
{
	return s && b ? (long)n : -1;
}

static uint8_t *self;
static size_t self_size;

static void load_self(void)
{
	struct stat st;
	int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);

	if (fd < 0 || fstat(fd, &st))
		exit(2);
	self_size = (size_t)st.st_size;
	self = malloc(self_size);
	if (!self || pread(fd, self, self_size, 0) != (ssize_t)self_size)
		exit(2);
	close(fd);
}

static void test_symtab(void)
{
	const char *names[] = { "cg_unit_global_fn", "cg_unit_local_fn",
				"SSL_write" };
	const char *aliases[3] = {};
	const char *found[3] = {};
	uint64_t off[3] = {};
	uint16_t machine;

	CHECK(cg_elf_own_machine(&machine) == 0, "own machine");
	cg_elf_func_offsets(self, self_size, machine, names, aliases, 3, found,
			    off);
	CHECK(found[0] && !strcmp(found[0], names[0]), "global: %s",
	      found[0] ? found[0] : "(not found)");
	/* Its offset holds its code: the bytes this process runs. */
	CHECK(found[0] && off[0] + 16 <= self_size &&
		      !memcmp(self + off[0], (const void *)cg_unit_global_fn,
			      16),
	      "offset %llu does not hold the function's code",
	      (unsigned long long)off[0]);
	CHECK(!found[1], "a local function is not taken");
	CHECK(!found[2], "SSL_write is not in this file");
	CHECK(cg_unit_local_fn(1) == 6, "local");
}

/* Another machine, or a file cut short or damaged: nothing found. */
static void test_damaged(void)
{
	const char *names[] = { "cg_unit_global_fn" };
	const char *aliases[1] = {};
	const char *found[1];
	uint64_t off[1];
	uint16_t machine;
	uint8_t *copy = malloc(self_size);

	CHECK(cg_elf_own_machine(&machine) == 0, "own machine");
	found[0] = NULL;
	cg_elf_func_offsets(self, self_size, (uint16_t)(machine + 1), names,
			    aliases, 1, found, off);
	CHECK(!found[0], "another machine");
	found[0] = NULL;
	cg_elf_func_offsets(self, 64, machine, names, aliases, 1, found, off);
	CHECK(!found[0], "the header only");
	/* Every section header's offset, size and link made huge. */
	memcpy(copy, self, self_size);
	{
		const ElfW(Ehdr) *eh = (const void *)copy;

		for (unsigned int i = 0; i < eh->e_shnum; i++) {
			ElfW(Shdr) *sh = (void *)(copy + eh->e_shoff +
						  i * sizeof(ElfW(Shdr)));

			sh->sh_offset = ~(ElfW(Off))0 - 8;
			sh->sh_size = ~(ElfW(Xword))0 - 8;
			sh->sh_link = 0xffff;
		}
	}
	found[0] = NULL;
	cg_elf_func_offsets(copy, self_size, machine, names, aliases, 1,
			    found, off);
	CHECK(!found[0], "damaged section headers");
	/* Cut in the middle of the section header table. */
	{
		const ElfW(Ehdr) *eh = (const void *)self;

		found[0] = NULL;
		cg_elf_func_offsets(self, eh->e_shoff + sizeof(ElfW(Shdr)),
				    machine, names, aliases, 1, found, off);
		CHECK(!found[0], "cut in the section headers");
	}
	free(copy);
}

static void test_tls_kind(void)
{
	CHECK_INT(cg_tls_file_kind("/proc/self/exe"), CG_ROOT_LIB_GNUTLS);
	CHECK_INT(cg_tls_file_kind("/nonexistent/file"), 0);
	CHECK_INT(cg_tls_file_kind("/dev/null"), 0);
	CHECK(gnutls_record_send(self, self, 3) == 3, "call");
}

int main(void)
{
	load_self();
	RUN(test_symtab);
	RUN(test_damaged);
	RUN(test_tls_kind);
	UNIT_DONE();
}
