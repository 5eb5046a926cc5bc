/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The kernel BTF libbpf takes our object's CO-RE types from. At build time
 * `bpftool gen min_core_btf` keeps, of the build kernel's BTF, only the
 * types the object relocates against (about 1 KiB); it is embedded with a
 * fingerprint of the BTF it came from. At start, when the running kernel's
 * BTF has the same fingerprint, libbpf reads that instead of parsing the
 * kernel's 5 MiB (tens of ms); on any other kernel it parses the kernel's
 * own, as CO-RE intends.
 */
#ifndef CG_BTF_H
#define CG_BTF_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define CG_VMLINUX_BTF "/sys/kernel/btf/vmlinux"

/*
 * Fingerprint of a BTF blob: four interleaved multiply-xor lanes over its
 * 8-byte words, then the tail and the size. It tells kernel builds apart;
 * it is no defence against a forged file, and needs none: only root can
 * change the kernel's BTF.
 */
static inline uint64_t cg_btf_hash(const unsigned char *p, size_t n)
{
	const uint64_t m = 0x9e3779b97f4a7c15ull;
	uint64_t h[4] = { 1, 2, 3, 4 }, w, t = 0;
	size_t i = 0;

	for (; i + 32 <= n; i += 32) {
		for (int l = 0; l < 4; l++) {
			memcpy(&w, p + i + 8 * l, 8);
			h[l] = (h[l] ^ w) * m;
			h[l] ^= h[l] >> 29;
		}
	}
	for (; i < n; i++)
		t = (t ^ p[i]) * m;
	return ((h[0] * 31 + h[1]) * 31 + h[2]) * 31 + h[3] + t * 7 + n;
}

/*
 * When the running kernel's BTF is the one the embedded minimal BTF was
 * made from: a file holding it, its path in PATH (for libbpf's
 * btf_custom_path), and its fd to close after the load. Otherwise -1, and
 * libbpf uses the kernel's BTF.
 */
int cg_btf_min_open(char *path, size_t path_len);

#endif /* CG_BTF_H */
