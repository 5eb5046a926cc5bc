// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * cgload: the benchmark's load generator. One workload per run, timed inside
 * the process (CLOCK_MONOTONIC around the measured loop, after a warm-up of a
 * tenth of the operations), so that process start-up, `ip netns exec` and
 * the cgroup move stay out of the figure. Every loop is bounded by --n or
 * --seconds.
 *
 *   cgload udp    --addr A --port P --n N    socket + connect + close (UDP)
 *   cgload tcp    --addr A --port P --n N    socket + connect + close (TCP);
 *                 --port 0: to its own listener on A, with accept()
 *   cgload tcpsend --addr A --port P --n N --data KIND
 *                 socket + connect + one write + accept + read + close, to
 *                 a listener of its own on A:P (P 0: any port); KIND is the
 *                 first bytes: connect (an HTTP CONNECT request for a real
 *                 name), plain (bytes no proxy request or TLS record starts
 *                 with) or imap (a command, for a credential port)
 *   cgload dns    --addr A --port P --n N --name NAME [--vary K]
 *                 query/answer round trips on one connected UDP socket
 *   cgload dnssend --addr A --port P --n N --name NAME [--vary K]
 *                 queries sent on one connected UDP socket to a socket of
 *                 its own bound at A:P (a local address), drained every 32
 *                 sends: the cost of sending a query, no answer
 *   --vary K      (dns, dnssend) query I asks for "v<I % K>.NAME": a name
 *                 not asked just before, as a crawler or a build of many
 *                 hosts sends
 *   cgload events --addr A --port P --rate R --seconds S
 *                 connect() of one UDP socket, R per second (0: flat out)
 *
 *   --expect ERR  the errno connect() must give (OK, EPERM, ECONNREFUSED...);
 *                 other results are counted as "bad"
 *   --taint NAME --dns ADDR
 *                 first send a DNS query for NAME to ADDR:53 (and wait for
 *                 its answer), so that a guarded process is tainted
 *
 * Prints one line of key=value pairs:
 *   ops=N total=N ns=NS_PER_OP bad=N rate=OPS_PER_S result=ERRNAME
 * (total: with the warm-up, for per-program run counts)
 * and exits 0 unless the workload could not run at all.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define RUN_MAX_S 120 /* no workload runs longer than this */

static const struct {
	int err;
	const char *name;
} errnames[] = {
	{ 0, "OK" },
	{ EPERM, "EPERM" },
	{ ECONNREFUSED, "ECONNREFUSED" },
	{ ECONNABORTED, "ECONNABORTED" },
	{ ECONNRESET, "ECONNRESET" },
	{ ETIMEDOUT, "ETIMEDOUT" },
	{ EHOSTUNREACH, "EHOSTUNREACH" },
	{ ENETUNREACH, "ENETUNREACH" },
	{ EAGAIN, "EAGAIN" },
	{ EADDRNOTAVAIL, "EADDRNOTAVAIL" },
};

static const char *errname(int e)
{
	static char buf[32];

	for (size_t i = 0; i < sizeof(errnames) / sizeof(errnames[0]); i++)
		if (errnames[i].err == e)
			return errnames[i].name;
	snprintf(buf, sizeof(buf), "E%d", e);
	return buf;
}

static int errnum(const char *s)
{
	for (size_t i = 0; i < sizeof(errnames) / sizeof(errnames[0]); i++)
		if (!strcmp(errnames[i].name, s))
			return errnames[i].err;
	fprintf(stderr, "cgload: unknown errno name %s\n", s);
	exit(2);
}

static uint64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

struct target {
	struct sockaddr_storage ss;
	socklen_t len;
	int family;
};

static int parse_addr(const char *a, int port, struct target *t)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)&t->ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&t->ss;

	memset(t, 0, sizeof(*t));
	if (inet_pton(AF_INET, a, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		t->len = sizeof(*s4);
		t->family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, a, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		t->len = sizeof(*s6);
		t->family = AF_INET6;
		return 0;
	}
	fprintf(stderr, "cgload: bad address %s\n", a);
	return -1;
}

/* A DNS query for NAME (type A) with ID into BUF; returns its length. */
static size_t dns_query(uint8_t *buf, size_t cap, uint16_t id, const char *name)
{
	size_t n = 12;
	const char *p = name;

	memset(buf, 0, 12);
	buf[0] = (uint8_t)(id >> 8);
	buf[1] = (uint8_t)id;
	buf[2] = 0x01; /* RD */
	buf[5] = 1;    /* QDCOUNT */
	while (*p && n + 70 < cap) {
		const char *dot = strchr(p, '.');
		size_t l = dot ? (size_t)(dot - p) : strlen(p);

		if (l > 63)
			l = 63;
		buf[n++] = (uint8_t)l;
		memcpy(buf + n, p, l);
		n += l;
		p += l;
		if (*p == '.')
			p++;
	}
	buf[n++] = 0;
	buf[n++] = 0;
	buf[n++] = 1; /* A */
	buf[n++] = 0;
	buf[n++] = 1; /* IN */
	return n;
}

/* Send one query for NAME to DNS:53 and wait (1 s at most) for an answer. */
static int taint(const char *name, const char *dns)
{
	struct target t;
	struct timeval tv = { 1, 0 };
	uint8_t q[512], a[512];
	size_t n;
	int fd, r = -1;

	if (parse_addr(dns, 53, &t))
		return -1;
	fd = socket(t.family, SOCK_DGRAM, 0);
	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	n = dns_query(q, sizeof(q), 0x7a7a, name);
	if (connect(fd, (struct sockaddr *)&t.ss, t.len) == 0 &&
	    send(fd, q, n, 0) == (ssize_t)n && recv(fd, a, sizeof(a), 0) > 0)
		r = 0;
	close(fd);
	return r;
}

struct opts {
	const char *mode, *addr, *name, *expect, *taint, *dns, *data;
	int port;
	long n, vary;
	double rate, seconds;
};

struct result {
	long ops, bad, total; /* total: with the warm-up */
	uint64_t ns;
	int last_err;
};

static int do_connect(int type, const struct target *t)
{
	int fd = socket(t->family, type | SOCK_CLOEXEC, 0), e = 0;

	if (fd < 0)
		return errno;
	if (connect(fd, (const struct sockaddr *)&t->ss, t->len))
		e = errno;
	if (!e && type == SOCK_STREAM) {
		/* RST on close: no TIME_WAIT piling up over the run. */
		struct linger lg = { 1, 0 };

		setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	}
	close(fd);
	return e;
}

static int run_connects(const struct opts *o, int type, struct result *r)
{
	struct target t;
	int want = o->expect ? errnum(o->expect) : 0;
	long warm = o->n / 10;
	uint64_t t0 = 0, deadline = now_ns() + RUN_MAX_S * 1000000000ull;

	if (parse_addr(o->addr, o->port, &t))
		return -1;
	for (long i = 0; i < warm + o->n; i++) {
		int e;

		if (i == warm)
			t0 = now_ns();
		e = do_connect(type, &t);
		r->total++;
		if (i >= warm) {
			r->ops++;
			if (e != want)
				r->bad++;
			r->last_err = e;
		}
		if ((i & 255) == 0 && now_ns() > deadline)
			break;
	}
	r->ns = now_ns() - t0;
	return 0;
}

/* TCP connect + accept + close, to a listener of our own on ADDR. */
static int run_tcp_accept(const struct opts *o, struct result *r)
{
	struct target t;
	struct linger lg = { 1, 0 };
	int l, one = 1;
	long warm = o->n / 10;
	uint64_t t0 = 0;

	if (parse_addr(o->addr, 0, &t))
		return -1;
	l = socket(t.family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (l < 0)
		return -1;
	setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(l, (struct sockaddr *)&t.ss, t.len) || listen(l, 128) ||
	    getsockname(l, (struct sockaddr *)&t.ss, &t.len)) {
		perror("cgload: listener");
		close(l);
		return -1;
	}
	for (long i = 0; i < warm + o->n; i++) {
		int c = socket(t.family, SOCK_STREAM | SOCK_CLOEXEC, 0), a = -1;
		int e = 0;

		if (i == warm)
			t0 = now_ns();
		if (c < 0) {
			e = errno;
		} else if (connect(c, (struct sockaddr *)&t.ss, t.len)) {
			e = errno;
		} else {
			a = accept4(l, NULL, NULL, SOCK_CLOEXEC);
			if (a < 0)
				e = errno;
		}
		r->total++;
		if (a >= 0) {
			setsockopt(a, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
			close(a);
		}
		if (c >= 0) {
			setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
			close(c);
		}
		if (i >= warm) {
			r->ops++;
			if (e)
				r->bad++;
			r->last_err = e;
		}
	}
	r->ns = now_ns() - t0;
	close(l);
	return 0;
}

/* The first bytes of cgload tcpsend's connections. */
static const char *send_data(const char *kind)
{
	if (!kind || !strcmp(kind, "plain"))
		return "{\"op\":\"ping\",\"seq\":1,\"pad\":\"xxxxxxxxxxxxxxxx\"}\n";
	if (!strcmp(kind, "connect"))
		return "CONNECT web.realcorp.net:443 HTTP/1.1\r\n"
		       "Host: web.realcorp.net:443\r\n\r\n";
	if (!strcmp(kind, "imap"))
		return "a001 CAPABILITY\r\n";
	return NULL;
}

/*
 * TCP connect + a first segment + accept + read + close, to a listener of
 * our own on ADDR:PORT: what the first-bytes reader (and on a credential
 * port the wire) costs a connection that sends.
 */
static int run_tcp_send(const struct opts *o, struct result *r)
{
	const char *data = send_data(o->data);
	struct target t;
	struct linger lg = { 1, 0 };
	int l, one = 1;
	long warm = o->n / 10;
	uint64_t t0 = 0;
	size_t len;
	char buf[256];

	if (!data) {
		fprintf(stderr, "cgload: unknown --data %s\n", o->data);
		return -1;
	}
	len = strlen(data);
	if (len > sizeof(buf) || parse_addr(o->addr, o->port, &t))
		return -1;
	l = socket(t.family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (l < 0)
		return -1;
	setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(l, (struct sockaddr *)&t.ss, t.len) || listen(l, 128) ||
	    getsockname(l, (struct sockaddr *)&t.ss, &t.len)) {
		perror("cgload: listener");
		close(l);
		return -1;
	}
	for (long i = 0; i < warm + o->n; i++) {
		int c = socket(t.family, SOCK_STREAM | SOCK_CLOEXEC, 0), a = -1;
		int e = 0;

		if (i == warm)
			t0 = now_ns();
		if (c < 0) {
			e = errno;
		} else if (connect(c, (struct sockaddr *)&t.ss, t.len)) {
			e = errno;
		} else if (send(c, data, len, 0) != (ssize_t)len) {
			e = errno ? errno : EIO;
		} else {
			a = accept4(l, NULL, NULL, SOCK_CLOEXEC);
			if (a < 0)
				e = errno;
			/* All of it arrived: the segment went through. */
			else if (recv(a, buf, len, MSG_WAITALL) != (ssize_t)len &&
				 errno != EAGAIN)
				e = errno;
		}
		r->total++;
		if (a >= 0) {
			setsockopt(a, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
			close(a);
		}
		if (c >= 0) {
			setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
			close(c);
		}
		if (i >= warm) {
			r->ops++;
			if (e)
				r->bad++;
			r->last_err = e;
		}
	}
	r->ns = now_ns() - t0;
	close(l);
	return 0;
}

/*
 * Query I of a run: for O->name, or with --vary K for "v<I % K>.NAME" (the
 * name is built alike either way).
 */
static size_t query_of(const struct opts *o, long i, uint8_t *q, size_t cap)
{
	char name[256];

	if (o->vary)
		snprintf(name, sizeof(name), "v%ld.%s", i % o->vary, o->name);
	else
		snprintf(name, sizeof(name), "%s", o->name);
	return dns_query(q, cap, (uint16_t)i, name);
}

/* Query/answer round trips on one connected UDP socket. */
static int run_dns(const struct opts *o, struct result *r)
{
	struct target t;
	struct timeval tv = { 1, 0 };
	uint8_t q[512], a[1500];
	long warm = o->n / 10;
	uint64_t t0 = 0;
	int fd;

	if (parse_addr(o->addr, o->port, &t))
		return -1;
	fd = socket(t.family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&t.ss, t.len)) {
		perror("cgload: dns socket");
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	for (long i = 0; i < warm + o->n; i++) {
		size_t n = query_of(o, i, q, sizeof(q));
		int e = 0;

		if (i == warm)
			t0 = now_ns();
		if (send(fd, q, n, 0) != (ssize_t)n)
			e = errno;
		/* The answer to this query: skip late answers to earlier ones. */
		while (!e) {
			ssize_t got = recv(fd, a, sizeof(a), 0);

			if (got < 0) {
				e = errno;
				break;
			}
			if (got >= 2 && a[0] == q[0] && a[1] == q[1])
				break;
		}
		r->total++;
		if (i >= warm) {
			r->ops++;
			if (e)
				r->bad++;
			r->last_err = e;
		}
		if (e == EAGAIN && r->bad > 10)
			break; /* no responder: give up early */
	}
	r->ns = now_ns() - t0;
	close(fd);
	return 0;
}

/* Read what SINK holds, without waiting. */
static void drain(int sink)
{
	uint8_t a[1500];

	while (recv(sink, a, sizeof(a), MSG_DONTWAIT) > 0)
		;
}

/* Queries sent, no answer: to a sink of our own, drained every 32. */
static int run_dnssend(const struct opts *o, struct result *r)
{
	struct target t;
	uint8_t q[512];
	long warm = o->n / 10;
	uint64_t t0 = 0;
	int fd, sink, one = 1;

	if (parse_addr(o->addr, o->port, &t))
		return -1;
	sink = socket(t.family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (sink < 0 ||
	    setsockopt(sink, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(sink, (struct sockaddr *)&t.ss, t.len)) {
		perror("cgload: dnssend sink");
		return -1;
	}
	fd = socket(t.family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&t.ss, t.len)) {
		perror("cgload: dnssend socket");
		return -1;
	}
	for (long i = 0; i < warm + o->n; i++) {
		size_t n = query_of(o, i, q, sizeof(q));
		int e = 0;

		if (i == warm)
			t0 = now_ns();
		if (send(fd, q, n, 0) != (ssize_t)n)
			e = errno;
		if ((i & 31) == 31)
			drain(sink);
		r->total++;
		if (i >= warm) {
			r->ops++;
			if (e)
				r->bad++;
			r->last_err = e;
		}
	}
	r->ns = now_ns() - t0;
	close(fd);
	close(sink);
	return 0;
}

/*
 * connect() of one UDP socket (nothing is sent), paced in 1 ms slices to
 * RATE per second, or flat out when RATE is 0, for SECONDS.
 */
static int run_events(const struct opts *o, struct result *r)
{
	struct target t;
	uint64_t t0, end, now;
	int fd, want = o->expect ? errnum(o->expect) : 0;

	if (parse_addr(o->addr, o->port, &t))
		return -1;
	fd = socket(t.family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	t0 = now_ns();
	end = t0 + (uint64_t)(o->seconds * 1e9);
	for (now = t0; now < end; now = now_ns()) {
		long target = o->rate > 0 ?
				      (long)((double)(now - t0) * o->rate / 1e9) + 1 :
				      r->ops + 256;

		while (r->ops < target) {
			int e = connect(fd, (struct sockaddr *)&t.ss, t.len) ?
					errno :
					0;

			r->ops++;
			r->total++;
			if (e != want)
				r->bad++;
			r->last_err = e;
		}
		if (o->rate > 0) {
			struct timespec ts = { 0, 1000000 - (long)(now_ns() - now) % 1000000 };

			nanosleep(&ts, NULL);
		}
	}
	r->ns = now_ns() - t0;
	close(fd);
	return 0;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: cgload udp|tcp|tcpsend|dns|dnssend|events --addr A [--port P] [--n N] "
		"[--name NAME] [--vary K]\n"
		"              [--rate R --seconds S] [--expect ERR] "
		"[--taint NAME --dns ADDR]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	struct opts o = { .n = 10000, .seconds = 1 };
	struct result r = { 0 };
	int rc;

	if (argc < 2)
		usage();
	o.mode = argv[1];
	for (int i = 2; i < argc; i++) {
		const char *k = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!v)
			usage();
		i++;
		if (!strcmp(k, "--addr"))
			o.addr = v;
		else if (!strcmp(k, "--port"))
			o.port = atoi(v);
		else if (!strcmp(k, "--n"))
			o.n = atol(v);
		else if (!strcmp(k, "--name"))
			o.name = v;
		else if (!strcmp(k, "--vary"))
			o.vary = atol(v);
		else if (!strcmp(k, "--expect"))
			o.expect = v;
		else if (!strcmp(k, "--rate"))
			o.rate = atof(v);
		else if (!strcmp(k, "--seconds"))
			o.seconds = atof(v);
		else if (!strcmp(k, "--taint"))
			o.taint = v;
		else if (!strcmp(k, "--dns"))
			o.dns = v;
		else if (!strcmp(k, "--data"))
			o.data = v;
		else
			usage();
	}
	if (!o.addr || o.n < 1 || o.n > 100000000 || o.seconds <= 0 ||
	    o.seconds > RUN_MAX_S)
		usage();
	if (o.taint && taint(o.taint, o.dns ? o.dns : "198.18.0.1"))
		fprintf(stderr, "cgload: the query for %s got no answer\n",
			o.taint);

	if (!strcmp(o.mode, "udp"))
		rc = run_connects(&o, SOCK_DGRAM, &r);
	else if (!strcmp(o.mode, "tcp") && o.port == 0)
		rc = run_tcp_accept(&o, &r);
	else if (!strcmp(o.mode, "tcpsend"))
		rc = run_tcp_send(&o, &r);
	else if (!strcmp(o.mode, "tcp"))
		rc = run_connects(&o, SOCK_STREAM, &r);
	else if (!strcmp(o.mode, "dns") && o.name)
		rc = run_dns(&o, &r);
	else if (!strcmp(o.mode, "dnssend") && o.name)
		rc = run_dnssend(&o, &r);
	else if (!strcmp(o.mode, "events"))
		rc = run_events(&o, &r);
	else
		usage();
	if (rc || r.ops == 0) {
		fprintf(stderr, "cgload: %s: nothing measured\n", o.mode);
		return 1;
	}
	printf("ops=%ld total=%ld ns=%.1f bad=%ld rate=%.0f result=%s\n", r.ops,
	       r.total,
	       (double)r.ns / (double)r.ops, r.bad,
	       (double)r.ops * 1e9 / (double)(r.ns ? r.ns : 1),
	       errname(r.last_err));
	return 0;
}
