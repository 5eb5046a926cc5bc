// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * mapfill PIN COUNT: fill the pinned hash map PIN with COUNT entries whose
 * __u32 keys can never be real pids (from 0x80000000 up) and zeroed values,
 * so a test can see what the guard does when the map is full. Prints how many
 * entries went in; exits 0 when the map refused the next one (full).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/bpf.h>

static long bpf(int cmd, union bpf_attr *a)
{
	return syscall(__NR_bpf, cmd, a, sizeof(*a));
}

int main(int argc, char **argv)
{
	struct bpf_map_info info = {};
	union bpf_attr a;
	unsigned long count, n = 0;
	unsigned char *val;
	int fd;

	if (argc != 3) {
		fprintf(stderr, "usage: mapfill PIN COUNT\n");
		return 2;
	}
	count = strtoul(argv[2], NULL, 10);
	memset(&a, 0, sizeof(a));
	a.pathname = (unsigned long)argv[1];
	fd = (int)bpf(BPF_OBJ_GET, &a);
	if (fd < 0) {
		perror(argv[1]);
		return 1;
	}
	memset(&a, 0, sizeof(a));
	a.info.bpf_fd = fd;
	a.info.info_len = sizeof(info);
	a.info.info = (unsigned long)&info;
	if (bpf(BPF_OBJ_GET_INFO_BY_FD, &a) || info.key_size != 4) {
		fprintf(stderr, "%s: not a map with __u32 keys\n", argv[1]);
		return 1;
	}
	val = calloc(1, info.value_size);
	if (!val)
		return 1;
	for (unsigned long i = 0; i <= count; i++) {
		unsigned int key = 0x80000000u + (unsigned int)i;

		memset(&a, 0, sizeof(a));
		a.map_fd = (unsigned int)fd;
		a.key = (unsigned long)&key;
		a.value = (unsigned long)val;
		a.flags = BPF_NOEXIST;
		if (bpf(BPF_MAP_UPDATE_ELEM, &a)) {
			printf("%lu entries, then: %s\n", n, strerror(errno));
			return errno == E2BIG ? 0 : 1;
		}
		n++;
	}
	printf("%lu entries, not full\n", n);
	return 1;
}
