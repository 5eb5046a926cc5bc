// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <linux/magic.h>
#include <bpf/bpf.h>

#include "json.h"
#include "util.h"

/*
 * Messages quote names, paths and config values that anyone may have
 * chosen: the whole message goes through the one escaper, so it stays one
 * line and holds no control character.
 */
void p_err(const char *ctx, const char *fmt, ...)
{
	char *msg = NULL, *vis;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&msg, fmt, ap);
	va_end(ap);
	vis = n >= 0 ? malloc(6 * (size_t)n + 1) : NULL;
	if (vis)
		cg_text_esc(vis, 6 * (size_t)n + 1, msg, (size_t)n);
	fprintf(stderr, "connguard: %s: %s\n", ctx, vis ? vis : fmt);
	free(vis);
	if (n >= 0)
		free(msg);
}

int cg_cgroup2_root(char *buf, size_t len)
{
	char line[4096], dev[256], dir[PATH_MAX], type[64];
	FILE *f = fopen("/proc/self/mounts", "re");
	int found = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%255s %4095s %63s", dev, dir, type) != 3)
			continue;
		if (strcmp(type, "cgroup2") == 0 && strlen(dir) < len) {
			strcpy(buf, dir);
			found = 0;
			break;
		}
	}
	fclose(f);
	return found;
}

bool cg_is_cgroup2(const char *path)
{
	struct statfs s;

	return statfs(path, &s) == 0 && s.f_type == CGROUP2_SUPER_MAGIC;
}

int cg_cgroup_level(const char *path)
{
	char buf[PATH_MAX], *slash;
	struct stat st, up;
	int level = 0;

	if (!realpath(path, buf) || stat(buf, &st))
		return -1;
	/*
	 * Up one directory at a time while the parent is still on the same
	 * cgroup2 mount: the mount's root is level 0, as the kernel counts.
	 */
	while ((slash = strrchr(buf, '/')) && slash != buf) {
		*slash = '\0';
		if (stat(buf, &up) || up.st_dev != st.st_dev ||
		    !cg_is_cgroup2(buf))
			break;
		level++;
	}
	return level;
}

bool cg_is_bpffs(const char *path)
{
	struct statfs s;

	return statfs(path, &s) == 0 && s.f_type == BPF_FS_MAGIC;
}

int cg_ensure_bpffs(const char *path)
{
	const char *root = "/sys/fs/bpf";

	if (strncmp(path, root, strlen(root)) != 0 || cg_is_bpffs(root))
		return 0;
	if (mkdir(root, 0700) && errno != EEXIST)
		return -1;
	return mount("bpf", root, "bpf", 0, "mode=0700");
}

int cg_mkdir_p(const char *path, unsigned int mode)
{
	char tmp[PATH_MAX];
	size_t n = strlen(path);

	if (n == 0 || n >= sizeof(tmp)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(tmp, path, n + 1);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(tmp, mode) && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if (mkdir(tmp, mode) && errno != EEXIST)
		return -1;
	return 0;
}

static uint64_t ts_ns(const struct timespec *t)
{
	return (uint64_t)t->tv_sec * 1000000000ull + (uint64_t)t->tv_nsec;
}

int64_t cg_mono_to_real_offset(void)
{
	struct timespec r, m;

	clock_gettime(CLOCK_REALTIME, &r);
	clock_gettime(CLOCK_MONOTONIC, &m);
	return (int64_t)(ts_ns(&r) - ts_ns(&m));
}

uint64_t cg_now_real_ns(void)
{
	struct timespec r;

	clock_gettime(CLOCK_REALTIME, &r);
	return ts_ns(&r);
}

void cg_format_time(uint64_t real_ns, char *buf, size_t len)
{
	time_t sec = (time_t)(real_ns / 1000000000ull);
	unsigned int usec = (unsigned int)(real_ns % 1000000000ull / 1000);
	struct tm tm;

	gmtime_r(&sec, &tm);
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%06uZ",
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		 tm.tm_min, tm.tm_sec, usec);
}

static int digits(const char **s, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)**s))
			return -1;
		v = v * 10 + (*(*s)++ - '0');
	}
	*out = v;
	return 0;
}

int cg_parse_time(const char *s, uint64_t *real_ns)
{
	int y, mo, d, h, mi, sec, oh = 0, om = 0;
	uint64_t frac = 0, scale = 1000000000ull;
	struct tm tm = {};
	time_t t;
	int sign = 0;

	if (digits(&s, 4, &y) || *s++ != '-' || digits(&s, 2, &mo) ||
	    *s++ != '-' || digits(&s, 2, &d) || (*s != 'T' && *s != 't' &&
						 *s != ' '))
		return -1;
	s++;
	if (digits(&s, 2, &h) || *s++ != ':' || digits(&s, 2, &mi) ||
	    *s++ != ':' || digits(&s, 2, &sec))
		return -1;
	if (*s == '.') {
		s++;
		if (!isdigit((unsigned char)*s))
			return -1;
		while (isdigit((unsigned char)*s)) {
			if (scale > 1) {
				scale /= 10;
				frac += (uint64_t)(*s - '0') * scale;
			}
			s++;
		}
	}
	if (*s == 'Z' || *s == 'z') {
		s++;
	} else if (*s == '+' || *s == '-') {
		sign = *s++ == '-' ? -1 : 1;
		if (digits(&s, 2, &oh) || *s++ != ':' || digits(&s, 2, &om))
			return -1;
	} else {
		return -1;
	}
	if (*s || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 ||
	    sec > 60 || oh > 23 || om > 59)
		return -1;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	t = timegm(&tm);
	if (t == (time_t)-1)
		return -1;
	/* timegm() rolls Feb 30 over into March: refuse days that do not exist
	 * (a leap second, :60, rolls over the minute and is fine).
	 */
	if (sec < 60) {
		struct tm back;

		gmtime_r(&t, &back);
		if (back.tm_mday != d || back.tm_mon != mo - 1)
			return -1;
	}
	t -= sign * (oh * 3600 + om * 60);
	if (t < 0)
		return -1;
	*real_ns = (uint64_t)t * 1000000000ull + frac;
	return 0;
}

int cg_parse_since(const char *s, uint64_t *real_ns)
{
	uint64_t n, mult;
	size_t len = strlen(s);
	char num[32];

	if (cg_parse_time(s, real_ns) == 0)
		return 0;
	if (len < 2 || len >= sizeof(num))
		return -1;
	switch (s[len - 1]) {
	case 's': mult = 1; break;
	case 'm': mult = 60; break;
	case 'h': mult = 3600; break;
	case 'd': mult = 86400; break;
	default: return -1;
	}
	memcpy(num, s, len - 1);
	num[len - 1] = 0;
	if (cg_parse_u64(num, 0, UINT32_MAX, &n))
		return -1;
	/* Longer ago than the epoch means "everything". */
	*real_ns = cg_now_real_ns();
	if (n > *real_ns / (mult * 1000000000ull))
		*real_ns = 0;
	else
		*real_ns -= n * mult * 1000000000ull;
	return 0;
}

bool cg_daemon_alive(uint32_t pid)
{
	char path[64], comm[32] = "";
	FILE *f;

	if (!pid)
		return false;
	snprintf(path, sizeof(path), "/proc/%u/comm", pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	if (!fgets(comm, sizeof(comm), f))
		comm[0] = 0;
	fclose(f);
	return strncmp(comm, "connguard", 9) == 0;
}

int cg_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	unsigned long long v;
	char *end;

	if (!s || !isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

uint32_t cg_map_max_entries(int fd)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);

	if (fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &len))
		return 0;
	return info.max_entries;
}
