/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Where a TLS write uprobe lands (user/elfsym.c, cg_elf_entry_skip()): past
 * a prologue the kernel would single-step, to the first instruction it
 * emulates, but only over instructions that keep the registers the program
 * reads. The byte strings are the entries of Debian 12's libssl.so.3 and
 * libgnutls.so.30 and made-up ones around them.
 *
 * Build and run: make test-build && .output/tests/test_entry_skip
 */
#include <stdint.h>
#include <string.h>

#include "elfsym.h"
#include "unit.h"

#define ARGS (CG_X86_RDI | CG_X86_RSI | CG_X86_RDX)
#define SKIP(code, keep) cg_elf_entry_skip(code, sizeof(code), keep)

/* SSL_write: sub, the stack protector's load and store, xor, test; js. */
static const uint8_t ssl_write[] = {
	0x48, 0x83, 0xec, 0x18, 0x64, 0x48, 0x8b, 0x04, 0x25, 0x28, 0x00,
	0x00, 0x00, 0x48, 0x89, 0x44, 0x24, 0x08, 0x31, 0xc0, 0x85, 0xd2,
	0x78, 0x2f, 0x48, 0x89, 0xe1,
};
/* SSL_write_ex: sub; call. */
static const uint8_t ssl_write_ex[] = { 0x48, 0x83, 0xec, 0x08, 0xe8,
					0x87, 0xfb, 0xff, 0xff };
/* gnutls_record_send: xor %r8d, xor %ecx; jmp gnutls_record_send2. */
static const uint8_t gnutls_send[] = { 0x45, 0x31, 0xc0, 0x31, 0xc9,
				       0xe9, 0x86, 0x9c, 0xff, 0xff };
/* getaddrinfo: push %rbp first, emulated already. */
static const uint8_t push_first[] = { 0x55, 0x48, 0x89, 0xe5 };
/* endbr64; push %r15. */
static const uint8_t endbr_push[] = { 0xf3, 0x0f, 0x1e, 0xfa, 0x41, 0x57 };
/* xor %edx,%edx before the call: the length the program reads is lost. */
static const uint8_t clobber_rdx[] = { 0x31, 0xd2, 0xe8, 0, 0, 0, 0 };
/* mov %rsi,%rdi (not known): stay at the entry. */
static const uint8_t unknown[] = { 0x48, 0x89, 0xf7, 0xe8, 0, 0, 0, 0 };
/* sub; jcc rel32. */
static const uint8_t jcc32[] = { 0x48, 0x83, 0xec, 0x08, 0x0f, 0x84,
				 1,    0,    0,	   0 };
/* Nine harmless instructions and no emulated one: too far, stay. */
static const uint8_t too_far[] = { 0x31, 0xc0, 0x31, 0xc0, 0x31, 0xc0,
				   0x31, 0xc0, 0x31, 0xc0, 0x31, 0xc0,
				   0x31, 0xc0, 0x31, 0xc0, 0x31, 0xc0,
				   0xe8, 0,    0,	 0,    0 };

static void test_tls_writes(void)
{
	CHECK(SKIP(ssl_write, ARGS) == 22, "SSL_write: %zu",
	      SKIP(ssl_write, ARGS));
	CHECK(SKIP(ssl_write_ex, ARGS) == 4, "SSL_write_ex: %zu",
	      SKIP(ssl_write_ex, ARGS));
	CHECK(SKIP(gnutls_send, ARGS) == 5, "gnutls_record_send: %zu",
	      SKIP(gnutls_send, ARGS));
	/* gnutls_record_send's prologue clears rcx and r8: not for them. */
	CHECK(SKIP(gnutls_send, ARGS | CG_X86_RCX) == 0, "rcx kept");
	CHECK(SKIP(gnutls_send, CG_X86_R8) == 0, "r8 kept");
}

static void test_stays(void)
{
	CHECK(SKIP(push_first, ARGS) == 0, "push first");
	CHECK(SKIP(endbr_push, ARGS) == 4, "endbr64: %zu",
	      SKIP(endbr_push, ARGS));
	CHECK(SKIP(clobber_rdx, ARGS) == 0, "rdx clobbered");
	CHECK(SKIP(clobber_rdx, CG_X86_RDI) == 2, "rdx not read");
	CHECK(SKIP(unknown, ARGS) == 0, "unknown instruction");
	CHECK(SKIP(jcc32, ARGS) == 4, "jcc rel32");
	CHECK(SKIP(too_far, ARGS) == 0, "too far");
}

/* An instruction cut off by the end of the readable bytes is not skipped. */
static void test_truncated(void)
{
	CHECK(cg_elf_entry_skip(ssl_write, 8, ARGS) == 0, "truncated");
	CHECK(cg_elf_entry_skip(ssl_write_ex, 4, ARGS) == 0, "ends at emulated");
	CHECK(cg_elf_entry_skip(ssl_write_ex, 5, ARGS) == 4, "call byte only");
	CHECK(cg_elf_entry_skip(NULL, 0, ARGS) == 0, "nothing");
	CHECK(cg_elf_entry_skip(ssl_write, 0, ARGS) == 0, "empty");
}

int main(void)
{
	RUN(test_tls_writes);
	RUN(test_stays);
	RUN(test_truncated);
	UNIT_DONE();
}
