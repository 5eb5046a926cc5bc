// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The ELF symbol reader (user/elfsym.c) under libFuzzer: the daemon reads
 * every executable a guarded process execs, any file at all, for a TLS
 * library's functions. Whatever the bytes, it reads nothing outside them,
 * and every offset it gives lies inside the file; a RUNPATH it copies out
 * fits and ends. The prologue skipper
 * (cg_elf_entry_skip()) gets the same bytes as code, and never skips past
 * them.
 *
 * Build: make test-build. Run: FUZZER=.output/tests/fuzz_elf tests/fuzz/run.sh
 */
#include <elf.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../user/elfsym.c"

static const char *const names[] = { "SSL_write", "SSL_write_ex",
				     "gnutls_record_send", "getaddrinfo" };
static const char *const aliases[] = { NULL, NULL, NULL,
				       "__GI_getaddrinfo" };
#define N (sizeof(names) / sizeof(names[0]))

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* A buffer of exactly SIZE bytes: a read past it is caught. */
	uint8_t *buf = malloc(size ? size : 1);
	const char *found[N] = {};
	uint64_t off[N] = {};
	uint16_t machine = EM_X86_64;

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	if (size >= sizeof(ElfW(Ehdr)))
		machine = ((const ElfW(Ehdr) *)(const void *)buf)->e_machine;
	cg_elf_func_offsets(buf, size, machine, names, aliases, N, found, off);
	for (size_t i = 0; i < N; i++)
		if (found[i] && off[i] >= size)
			abort();
	{
		char rp[64];

		memset(rp, 'x', sizeof(rp));
		if (cg_elf_runpath(buf, size, rp, sizeof(rp)) == 0 &&
		    !memchr(rp, 0, sizeof(rp)))
			abort();
	}
	for (unsigned int keep = 0; keep < 4; keep++)
		if (cg_elf_entry_skip(buf, size, keep * 0x43) > size)
			abort();
	free(buf);
	return 0;
}
