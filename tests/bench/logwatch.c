// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * logwatch LOG READY QUIET_S MAX_S: follow the event log from its current end
 * (inotify, no polling) and, for every `connect` line that appears, take the
 * kernel-to-log delay: the time the line became readable (CLOCK_REALTIME at
 * read) minus the event's "time" (the kernel's CLOCK_MONOTONIC stamp, which
 * the daemon turns into real time). Touches READY once it watches. Stops
 * QUIET_S seconds after the last line (once there was one), or after MAX_S.
 *
 * Prints one line:
 *   connect=N lost=N lines=N p50_us=X p99_us=X max_us=X span_s=X rate=X
 * rate is connect lines per second between the first and the last arrival.
 * The delay includes this reader's own wake-up; it runs on the other CPU.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <time.h>
#include <unistd.h>

#define DELAYS_MAX (32u << 20)

static uint64_t real_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_REALTIME, &t);
	return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

static int num(const char *p, int n)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		v = v * 10 + (p[i] - '0');
	}
	return v;
}

/* Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm). */
static int64_t days_from_civil(int y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* "YYYY-MM-DDTHH:MM:SS.uuuuuuZ" to ns since the epoch; 0 when malformed. */
static uint64_t parse_time(const char *s)
{
	int y = num(s, 4), mo = num(s + 5, 2), d = num(s + 8, 2);
	int h = num(s + 11, 2), mi = num(s + 14, 2), se = num(s + 17, 2);
	int us = num(s + 20, 6);

	if (y < 0 || mo < 1 || d < 1 || h < 0 || mi < 0 || se < 0 || us < 0 ||
	    s[26] != 'Z')
		return 0;
	return ((uint64_t)days_from_civil(y, mo, d) * 86400 + (uint64_t)h * 3600 +
		(uint64_t)mi * 60 + (uint64_t)se) * 1000000000ull +
	       (uint64_t)us * 1000;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	static char buf[1 << 20];
	int64_t *delays;
	size_t have = 0, nd = 0;
	uint64_t lines = 0, connects = 0, lost = 0, first = 0, last = 0, start;
	double quiet, max_s;
	int fd, in;

	if (argc != 5) {
		fprintf(stderr, "usage: logwatch LOG READY QUIET_S MAX_S\n");
		return 2;
	}
	quiet = atof(argv[3]);
	max_s = atof(argv[4]);
	delays = malloc(DELAYS_MAX * sizeof(*delays));
	in = inotify_init1(IN_CLOEXEC);
	fd = open(argv[1], O_RDONLY | O_CLOEXEC);
	if (!delays || in < 0 || fd < 0 ||
	    inotify_add_watch(in, argv[1], IN_MODIFY) < 0 ||
	    lseek(fd, 0, SEEK_END) < 0) {
		fprintf(stderr, "logwatch: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	close(open(argv[2], O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
	start = real_ns();
	for (;;) {
		struct pollfd p = { .fd = in, .events = POLLIN };
		uint64_t now = real_ns();
		double idle = last ? (double)(now - last) / 1e9 : 0;
		char ev[4096];
		ssize_t n;
		int r;

		if ((last && idle >= quiet) || (double)(now - start) / 1e9 >= max_s)
			break;
		r = poll(&p, 1, 100);
		if (r > 0 && read(in, ev, sizeof(ev)) < 0 && errno != EAGAIN)
			break;
		/* Read everything there is; each whole line is one arrival. */
		while ((n = read(fd, buf + have, sizeof(buf) - have)) > 0) {
			char *s = buf, *nl;

			now = real_ns();
			have += (size_t)n;
			while ((nl = memchr(s, '\n', have - (size_t)(s - buf)))) {
				const char *t = strstr(s, "\"time\":\"");

				*nl = 0;
				lines++;
				if (!first)
					first = now;
				last = now;
				if (strstr(s, "\"type\":\"connect\"") && t) {
					uint64_t when = parse_time(t + 8);

					connects++;
					if (when && nd < DELAYS_MAX)
						delays[nd++] = (int64_t)(now - when);
				} else if (strstr(s, "\"type\":\"lost\"")) {
					const char *c = strstr(s, "\"count\":");

					if (c)
						lost += strtoull(c + 8, NULL, 10);
				}
				s = nl + 1;
			}
			have -= (size_t)(s - buf);
			memmove(buf, s, have);
			if (have == sizeof(buf))
				have = 0; /* a line longer than 1 MiB: drop it */
		}
	}
	qsort(delays, nd, sizeof(*delays), cmp_i64);
	{
		double span = first && last > first ? (double)(last - first) / 1e9 : 0;
		double p50 = nd ? (double)delays[nd / 2] / 1e3 : 0;
		double p99 = nd ? (double)delays[nd * 99 / 100] / 1e3 : 0;
		double mx = nd ? (double)delays[nd - 1] / 1e3 : 0;

		printf("connect=%llu lost=%llu lines=%llu p50_us=%.0f p99_us=%.0f "
		       "max_us=%.0f span_s=%.3f rate=%.0f\n",
		       (unsigned long long)connects, (unsigned long long)lost,
		       (unsigned long long)lines, p50, p99, mx, span,
		       span > 0 ? (double)connects / span : 0);
	}
	return 0;
}
