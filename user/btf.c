// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The minimal CO-RE BTF made at build time, used when it fits (btf.h). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "btf.h"
#include "connguard.minbtf.h" /* generated: cg_min_btf and its kernel's */

/* Fingerprint of the file at PATH; 0 when it cannot be read. */
static int hash_file(const char *path, uint64_t *hash, uint64_t *size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	unsigned char *buf = NULL;
	struct stat st;
	size_t n = 0;
	void *map;

	if (fd < 0)
		return -1;
	if (fstat(fd, &st) || st.st_size <= 0) {
		close(fd);
		return -1;
	}
	*size = (uint64_t)st.st_size;
	/* Kernels since 6.15 map their BTF; older ones are read. */
	map = mmap(NULL, (size_t)st.st_size, PROT_READ,
		   MAP_PRIVATE | MAP_POPULATE, fd, 0);
	if (map != MAP_FAILED) {
		*hash = cg_btf_hash(map, (size_t)st.st_size);
		munmap(map, (size_t)st.st_size);
		close(fd);
		return 0;
	}
	buf = malloc((size_t)st.st_size);
	while (buf && n < (size_t)st.st_size) {
		ssize_t r = read(fd, buf + n, (size_t)st.st_size - n);

		if (r <= 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	if (!buf || n != (size_t)st.st_size) {
		free(buf);
		return -1;
	}
	*hash = cg_btf_hash(buf, n);
	free(buf);
	return 0;
}

int cg_btf_min_open(char *path, size_t path_len)
{
	uint64_t hash, size;
	int fd;

	if (!sizeof(cg_min_btf) || !CG_MIN_BTF_KERNEL_SIZE ||
	    getenv("CONNGUARD_KERNEL_BTF"))
		return -1;
	if (hash_file(CG_VMLINUX_BTF, &hash, &size) ||
	    size != CG_MIN_BTF_KERNEL_SIZE || hash != CG_MIN_BTF_KERNEL_HASH)
		return -1;
	fd = memfd_create("connguard-core-btf", MFD_CLOEXEC);
	if (fd < 0)
		return -1;
	if (write(fd, cg_min_btf, sizeof(cg_min_btf)) !=
	    (ssize_t)sizeof(cg_min_btf)) {
		close(fd);
		return -1;
	}
	snprintf(path, path_len, "/proc/self/fd/%d", fd);
	return fd;
}
