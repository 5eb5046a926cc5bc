// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * cgprobe: a small client for the end-to-end tests. It does, in this order and
 * all optional:
 *
 *   --resolve NAME   getaddrinfo(NAME): glibc sends the query from this process
 *   --query NAME     its own raw DNS query to the nameserver of /etc/resolv.conf
 *                    (UDP, or TCP with --tcp-dns), sent with --send-with
 *                    sendto|sendmsg|sendmmsg|write|send|uring (default
 *                    sendto; uring is IORING_OP_SENDMSG); --dns-port N
 *                    sends it to another port than 53; --dns-mapped sends
 *                    it from an AF_INET6 socket to ::ffff:NAMESERVER
 *   --connect ADDR PORT
 *                    one TCP connect, --via connect|tfo|uring, --family 4|6|mapped,
 *                    done --in self|fork|thread|exec (after the lookups, which
 *                    always happen in the first process)
 *
 * It prints one line per step; the connect line reads
 *   connect 198.18.1.25:143 -> EPERM
 * and the exit status is 0 when the connect result is what --expect says
 * (OK, EPERM, ECONNREFUSED, ..., or "any"), 1 otherwise, 2 on usage errors.
 * The first line is "pid N" so a test can match events to this process.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <liburing.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define IO_TIMEOUT_S 3

struct opts {
	const char *resolve;
	const char *query;
	const char *qtype;
	int tcp_dns;
	const char *send_with;
	int dns_port;
	int dns_mapped;
	const char *addr;
	int port;
	const char *via;
	const char *family;
	const char *in;
	const char *expect;
};

static const struct {
	int err;
	const char *name;
} errnames[] = {
	{ 0, "OK" },
	{ EPERM, "EPERM" },
	{ EACCES, "EACCES" },
	{ ECONNREFUSED, "ECONNREFUSED" },
	{ ETIMEDOUT, "ETIMEDOUT" },
	{ ENETUNREACH, "ENETUNREACH" },
	{ EHOSTUNREACH, "EHOSTUNREACH" },
	{ EINPROGRESS, "EINPROGRESS" },
	{ EAGAIN, "EAGAIN" },
	{ EINVAL, "EINVAL" },
	{ EAFNOSUPPORT, "EAFNOSUPPORT" },
	{ EADDRNOTAVAIL, "EADDRNOTAVAIL" },
	{ EOPNOTSUPP, "EOPNOTSUPP" },
};

static const char *errname(int err)
{
	static char buf[16];

	for (size_t i = 0; i < sizeof(errnames) / sizeof(errnames[0]); i++)
		if (errnames[i].err == err)
			return errnames[i].name;
	snprintf(buf, sizeof(buf), "E%d", err);
	return buf;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: cgprobe [--resolve NAME] [--query NAME [--qtype A|AAAA] [--tcp-dns]\n"
		"               [--send-with sendto|sendmsg|sendmmsg|write|send|uring]\n"
		"               [--dns-port N] [--dns-mapped]]\n"
		"               [--connect ADDR PORT [--via connect|tfo|uring]\n"
		"                [--family 4|6|mapped] [--in self|fork|thread|exec]\n"
		"                [--expect OK|EPERM|ECONNREFUSED|...|any]]\n");
	exit(2);
}

static void set_timeouts(int fd)
{
	struct timeval tv = { .tv_sec = IO_TIMEOUT_S };

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

/* ---- --resolve ---- */

static int do_resolve(const char *name)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res, *ai;
	char text[INET6_ADDRSTRLEN];
	int rc;

	rc = getaddrinfo(name, NULL, &hints, &res);
	if (rc) {
		printf("resolve %s -> %s\n", name, gai_strerror(rc));
		return 0; /* a failed lookup still went out: not our failure */
	}
	printf("resolve %s ->", name);
	for (ai = res; ai; ai = ai->ai_next) {
		const void *a = ai->ai_family == AF_INET ?
					(const void *)&((struct sockaddr_in *)ai->ai_addr)->sin_addr :
					(const void *)&((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr;
		printf(" %s", inet_ntop(ai->ai_family, a, text, sizeof(text)));
	}
	printf("\n");
	freeaddrinfo(res);
	return 0;
}

/* ---- --query ---- */

/*
 * The first "nameserver" of /etc/resolv.conf, at PORT; an IPv4 one as
 * ::ffff:a.b.c.d when MAPPED (an AF_INET6 socket talking IPv4).
 */
static int nameserver(struct sockaddr_storage *ss, socklen_t *len, int port, int mapped)
{
	char line[256], addr[128];
	FILE *f = fopen("/etc/resolv.conf", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, " nameserver %127s", addr) != 1)
			continue;
		fclose(f);
		memset(ss, 0, sizeof(*ss));
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
		if (mapped && inet_pton(AF_INET, addr, &s6->sin6_addr.s6_addr[12]) == 1) {
			s6->sin6_family = AF_INET6;
			s6->sin6_port = htons(port);
			s6->sin6_addr.s6_addr[10] = 0xff;
			s6->sin6_addr.s6_addr[11] = 0xff;
			*len = sizeof(*s6);
			return 0;
		}
		if (inet_pton(AF_INET, addr, &s4->sin_addr) == 1) {
			s4->sin_family = AF_INET;
			s4->sin_port = htons(port);
			*len = sizeof(*s4);
			return 0;
		}
		if (inet_pton(AF_INET6, addr, &s6->sin6_addr) == 1) {
			s6->sin6_family = AF_INET6;
			s6->sin6_port = htons(port);
			*len = sizeof(*s6);
			return 0;
		}
		return -1;
	}
	fclose(f);
	return -1;
}

/* A standard query, RD set, one question; returns its length or -1. */
static int build_query(unsigned char *buf, size_t size, const char *name, int qtype)
{
	size_t off = 12;
	const char *p = name;

	if (size < 12 + 256 + 4)
		return -1;
	memset(buf, 0, 12);
	buf[0] = 0x4c; /* id */
	buf[1] = (unsigned char)(getpid() & 0xff);
	buf[2] = 0x01; /* RD */
	buf[5] = 1;    /* QDCOUNT */
	while (*p) {
		const char *dot = strchr(p, '.');
		size_t n = dot ? (size_t)(dot - p) : strlen(p);

		if (n == 0 || n > 63 || off + n + 1 > 12 + 255)
			return -1;
		buf[off++] = (unsigned char)n;
		memcpy(buf + off, p, n);
		off += n;
		p += n;
		if (*p == '.')
			p++;
	}
	buf[off++] = 0;
	buf[off++] = 0;
	buf[off++] = (unsigned char)qtype;
	buf[off++] = 0;
	buf[off++] = 1; /* IN */
	return (int)off;
}

/* Send len bytes on fd the way --send-with says; dst is used when unconnected. */
static ssize_t send_with(const char *how, int fd, const void *data, size_t len,
			 const struct sockaddr *dst, socklen_t dstlen)
{
	if (!strcmp(how, "sendto"))
		return sendto(fd, data, len, 0, dst, dstlen);
	if (!strcmp(how, "sendmsg")) {
		struct iovec iov = { .iov_base = (void *)data, .iov_len = len };
		struct msghdr msg = { .msg_name = (void *)dst,
				      .msg_namelen = dstlen,
				      .msg_iov = &iov,
				      .msg_iovlen = 1 };
		return sendmsg(fd, &msg, 0);
	}
	if (!strcmp(how, "write"))
		return write(fd, data, len);
	if (!strcmp(how, "send"))
		return send(fd, data, len, 0);
	if (!strcmp(how, "sendmmsg")) {
		struct iovec iov = { .iov_base = (void *)data, .iov_len = len };
		struct mmsghdr mm = { .msg_hdr = { .msg_name = (void *)dst,
						   .msg_namelen = dstlen,
						   .msg_iov = &iov,
						   .msg_iovlen = 1 } };

		return sendmmsg(fd, &mm, 1, 0) == 1 ? (ssize_t)mm.msg_len : -1;
	}
	if (!strcmp(how, "uring")) {
		struct iovec iov = { .iov_base = (void *)data, .iov_len = len };
		struct msghdr msg = { .msg_name = (void *)dst,
				      .msg_namelen = dstlen,
				      .msg_iov = &iov,
				      .msg_iovlen = 1 };
		struct io_uring ring;
		struct io_uring_cqe *cqe;
		int rc = io_uring_queue_init(4, &ring, 0);

		if (rc < 0) {
			errno = -rc;
			return -1;
		}
		io_uring_prep_sendmsg(io_uring_get_sqe(&ring), fd, &msg, 0);
		io_uring_submit(&ring);
		rc = io_uring_wait_cqe(&ring, &cqe);
		if (rc == 0) {
			rc = cqe->res;
			io_uring_cqe_seen(&ring, cqe);
		}
		io_uring_queue_exit(&ring);
		if (rc < 0) {
			errno = -rc;
			return -1;
		}
		return rc;
	}
	errno = EINVAL;
	return -1;
}

static int do_query(const struct opts *o)
{
	unsigned char q[2 + 512], r[4096];
	struct sockaddr_storage ns;
	socklen_t nslen;
	int qtype = !strcmp(o->qtype, "AAAA") ? 28 : 1;
	int len, fd;
	ssize_t n;
	const char *how = o->send_with;
	/* write/send need a connected socket; so does TCP */
	int need_connect = o->tcp_dns || !strcmp(how, "write") || !strcmp(how, "send");

	if (nameserver(&ns, &nslen, o->dns_port, o->dns_mapped)) {
		printf("query %s -> no nameserver in /etc/resolv.conf\n", o->query);
		return 1;
	}
	len = build_query(q + 2, sizeof(q) - 2, o->query, qtype);
	if (len < 0) {
		printf("query %s -> name too long\n", o->query);
		return 1;
	}
	fd = socket(ns.ss_family, o->tcp_dns ? SOCK_STREAM : SOCK_DGRAM, 0);
	if (fd < 0) {
		perror("socket");
		return 1;
	}
	set_timeouts(fd);
	if (need_connect && connect(fd, (struct sockaddr *)&ns, nslen)) {
		printf("query %s -> connect %s\n", o->query, errname(errno));
		close(fd);
		return 1;
	}
	if (o->tcp_dns) {
		/* length prefix and query in one send: one segment */
		q[0] = (unsigned char)(len >> 8);
		q[1] = (unsigned char)len;
		n = send_with(how, fd, q, (size_t)len + 2, NULL, 0);
	} else {
		n = send_with(how, fd, q + 2, (size_t)len, need_connect ? NULL : (struct sockaddr *)&ns,
			      need_connect ? 0 : nslen);
	}
	if (n < 0) {
		printf("query %s %s/%s -> send %s\n", o->query, o->tcp_dns ? "tcp" : "udp", how,
		       errname(errno));
		close(fd);
		return 1;
	}
	n = recv(fd, r, sizeof(r), 0);
	if (n < 0) {
		printf("query %s %s/%s -> no answer (%s)\n", o->query, o->tcp_dns ? "tcp" : "udp",
		       how, errname(errno));
		close(fd);
		return 0;
	}
	{
		const unsigned char *h = o->tcp_dns ? r + 2 : r;

		if (n < (o->tcp_dns ? 14 : 12)) {
			printf("query %s -> short answer\n", o->query);
		} else {
			printf("query %s %s/%s -> rcode %d answers %d\n", o->query,
			       o->tcp_dns ? "tcp" : "udp", how, h[3] & 0x0f, (h[6] << 8) | h[7]);
		}
	}
	close(fd);
	return 0;
}

/* ---- --connect ---- */

/* Fill ss from ADDR, PORT and --family; returns 0 or -1. */
static int target(const struct opts *o, struct sockaddr_storage *ss, socklen_t *len,
		  char *label, size_t labelsz)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
	struct in_addr a4;
	char text[INET6_ADDRSTRLEN];

	memset(ss, 0, sizeof(*ss));
	if (!strcmp(o->family, "mapped")) {
		if (inet_pton(AF_INET, o->addr, &a4) != 1)
			return -1;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(o->port);
		s6->sin6_addr.s6_addr[10] = 0xff;
		s6->sin6_addr.s6_addr[11] = 0xff;
		memcpy(&s6->sin6_addr.s6_addr[12], &a4, 4);
		*len = sizeof(*s6);
	} else if (inet_pton(AF_INET, o->addr, &s4->sin_addr) == 1 && strcmp(o->family, "6")) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons(o->port);
		*len = sizeof(*s4);
	} else if (inet_pton(AF_INET6, o->addr, &s6->sin6_addr) == 1 && strcmp(o->family, "4")) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(o->port);
		*len = sizeof(*s6);
	} else {
		return -1;
	}
	if (ss->ss_family == AF_INET6)
		snprintf(label, labelsz, "[%s]:%d",
			 inet_ntop(AF_INET6, &s6->sin6_addr, text, sizeof(text)), o->port);
	else
		snprintf(label, labelsz, "%s:%d",
			 inet_ntop(AF_INET, &s4->sin_addr, text, sizeof(text)), o->port);
	return 0;
}

/* One connect the way --via says; returns 0 or an errno. */
static int connect_via(const char *via, int fd, const struct sockaddr *sa, socklen_t len)
{
	if (!strcmp(via, "connect"))
		return connect(fd, sa, len) ? errno : 0;
	if (!strcmp(via, "tfo")) {
		static const char hello[] = "NOOP\r\n";

		return sendto(fd, hello, sizeof(hello) - 1, MSG_FASTOPEN, sa, len) < 0 ? errno : 0;
	}
	if (!strcmp(via, "uring")) {
		struct io_uring ring;
		struct io_uring_sqe *sqe;
		struct io_uring_cqe *cqe;
		struct __kernel_timespec ts = { .tv_sec = IO_TIMEOUT_S + 1 };
		int rc;

		rc = io_uring_queue_init(4, &ring, 0);
		if (rc < 0)
			return -rc;
		sqe = io_uring_get_sqe(&ring);
		io_uring_prep_connect(sqe, fd, sa, len);
		io_uring_submit(&ring);
		rc = io_uring_wait_cqe_timeout(&ring, &cqe, &ts);
		if (rc == 0) {
			rc = cqe->res;
			io_uring_cqe_seen(&ring, cqe);
		}
		io_uring_queue_exit(&ring);
		return rc < 0 ? -rc : 0;
	}
	return EINVAL;
}

/* Connect, print the result line, return 0 if it matched --expect. */
static int do_connect(const struct opts *o)
{
	struct sockaddr_storage ss;
	socklen_t len;
	char label[INET6_ADDRSTRLEN + 16];
	int fd, err;
	const char *got;

	if (target(o, &ss, &len, label, sizeof(label))) {
		fprintf(stderr, "cgprobe: bad address %s for family %s\n", o->addr, o->family);
		return 2;
	}
	fd = socket(ss.ss_family, SOCK_STREAM, 0);
	if (fd < 0) {
		perror("socket");
		return 2;
	}
	set_timeouts(fd);
	err = connect_via(o->via, fd, (struct sockaddr *)&ss, len);
	close(fd);
	got = errname(err);
	printf("connect %s -> %s\n", label, got);
	fflush(stdout);
	if (!strcmp(o->expect, "any") || !strcmp(o->expect, got))
		return 0;
	return 1;
}

static void *thread_main(void *arg)
{
	return (void *)(long)do_connect(arg);
}

static char self_path[4096];

static int connect_in(const struct opts *o)
{
	if (!strcmp(o->in, "self"))
		return do_connect(o);
	if (!strcmp(o->in, "thread")) {
		pthread_t t;
		void *ret;

		if (pthread_create(&t, NULL, thread_main, (void *)o))
			return 2;
		pthread_join(t, &ret);
		return (int)(long)ret;
	}
	if (!strcmp(o->in, "fork")) {
		int status;
		pid_t child;

		fflush(stdout);
		child = fork();
		if (child < 0)
			return 2;
		if (child == 0) {
			printf("child pid %d\n", getpid());
			_exit(do_connect(o));
		}
		if (waitpid(child, &status, 0) < 0 || !WIFEXITED(status))
			return 2;
		return WEXITSTATUS(status);
	}
	if (!strcmp(o->in, "exec")) {
		char port[16];
		char *argv[] = { "cgprobe",	  "--connect", (char *)o->addr,	  port,
				 "--via",	  (char *)o->via, "--family", (char *)o->family,
				 "--expect",	  (char *)o->expect, NULL };

		snprintf(port, sizeof(port), "%d", o->port);
		fflush(stdout);
		execv(self_path, argv);
		perror("execv");
		return 2;
	}
	usage();
	return 2;
}

int main(int argc, char **argv)
{
	struct opts o = { .qtype = "A",
			  .send_with = "sendto",
			  .dns_port = 53,
			  .via = "connect",
			  .family = "auto",
			  .in = "self",
			  .expect = "any" };
	ssize_t n;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		int more = argc - i - 1;

		if (!strcmp(a, "--resolve") && more >= 1)
			o.resolve = argv[++i];
		else if (!strcmp(a, "--query") && more >= 1)
			o.query = argv[++i];
		else if (!strcmp(a, "--qtype") && more >= 1)
			o.qtype = argv[++i];
		else if (!strcmp(a, "--dns-port") && more >= 1)
			o.dns_port = atoi(argv[++i]);
		else if (!strcmp(a, "--dns-mapped"))
			o.dns_mapped = 1;
		else if (!strcmp(a, "--tcp-dns"))
			o.tcp_dns = 1;
		else if (!strcmp(a, "--send-with") && more >= 1)
			o.send_with = argv[++i];
		else if (!strcmp(a, "--connect") && more >= 2) {
			o.addr = argv[++i];
			o.port = atoi(argv[++i]);
		} else if (!strcmp(a, "--via") && more >= 1)
			o.via = argv[++i];
		else if (!strcmp(a, "--family") && more >= 1)
			o.family = argv[++i];
		else if (!strcmp(a, "--in") && more >= 1)
			o.in = argv[++i];
		else if (!strcmp(a, "--expect") && more >= 1)
			o.expect = argv[++i];
		else
			usage();
	}
	if (!o.resolve && !o.query && !o.addr)
		usage();
	/* for --in exec: /proc/self/exe may read differently after a namespace switch */
	n = readlink("/proc/self/exe", self_path, sizeof(self_path) - 1);
	if (n < 0)
		return 2;
	self_path[n] = '\0';

	printf("pid %d\n", getpid());
	if (o.resolve)
		do_resolve(o.resolve);
	if (o.query && do_query(&o))
		return 2;
	fflush(stdout);
	if (!o.addr)
		return 0;
	return connect_in(&o);
}
