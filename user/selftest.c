// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * connguard selftest: prove on this host that the guard works. A guard of
 * this very binary runs in enforce mode on a cgroup made for the test, with
 * its own pins and log in a temporary directory. A client in that cgroup and
 * in a private network namespace (only `lo`, up) sends one DNS query for a
 * reserved name to 127.0.0.1:53 -- nothing needs to answer: the query leaving
 * the socket is what taints -- then connects to port 25 of 198.18.0.25. No
 * route leads there, so no packet can leave the namespace; the verdict comes
 * before routing, so the guard's EPERM is the only way that connect fails
 * with EPERM. The log must then hold the client's taint and connect events.
 * Everything made is removed on every path.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <limits.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <json-c/json.h>

#include "cmds.h"
#include "pins.h"
#include "util.h"

#define NAME "selftest.example.com"
#define DST "198.18.0.25"
#define DPORT 25
/* Quiet wait for the started event, then the whole wait (seconds). */
#define START_QUIET_S 20
#define START_WAIT_S 180

struct st {
	char tmp[PATH_MAX], cg[PATH_MAX], pin[PATH_MAX];
	char conf[PATH_MAX], log[PATH_MAX], out[PATH_MAX];
	pid_t daemon;
	sigset_t old_mask;
	bool interrupted;
};

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	va_list ap;

	printf("selftest: ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

/* Sleep 50 ms; false when SIGINT/SIGTERM/SIGHUP came meanwhile. */
static bool nap(struct st *s)
{
	struct timespec ts = { 0, 50 * 1000000 };
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	if (sigtimedwait(&set, NULL, &ts) > 0) {
		s->interrupted = true;
		say("interrupted: cleaning up");
		return false;
	}
	return true;
}

static int write_text(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, text, strlen(text));
	if (close(fd) || n != (ssize_t)strlen(text))
		return -1;
	return 0;
}

/* Find an event of LOG for which MATCH holds; its parsed object or NULL. */
static struct json_object *find_event(const char *log,
				      bool (*match)(struct json_object *, long),
				      long arg)
{
	struct json_object *found = NULL;
	char *line = NULL;
	size_t cap = 0;
	FILE *f = fopen(log, "re");

	if (!f)
		return NULL;
	while (!found && getline(&line, &cap, f) > 0) {
		struct json_object *o = json_tokener_parse(line);

		if (o && match(o, arg))
			found = o;
		else
			json_object_put(o);
	}
	free(line);
	fclose(f);
	return found;
}

static const char *jstr(struct json_object *o, const char *k)
{
	struct json_object *v;

	return json_object_object_get_ex(o, k, &v) ? json_object_get_string(v) :
						     "";
}

static bool is_started(struct json_object *o, long unused)
{
	(void)unused;
	return !strcmp(jstr(o, "type"), "guard") &&
	       !strcmp(jstr(o, "event"), "started");
}

static bool is_taint(struct json_object *o, long pid)
{
	return !strcmp(jstr(o, "type"), "taint") &&
	       atol(jstr(o, "pid")) == pid && !strcmp(jstr(o, "name"), NAME);
}

static bool is_connect(struct json_object *o, long pid)
{
	return !strcmp(jstr(o, "type"), "connect") &&
	       atol(jstr(o, "pid")) == pid;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * Wait up to SECS for an event; NULL on timeout, interruption or the guard's
 * exit. The deadline is on the clock, not a count of naps: reading a long log
 * takes time of its own on a slow machine.
 */
static struct json_object *wait_event(struct st *s, int secs,
				      bool (*match)(struct json_object *, long),
				      long arg)
{
	double end = now_s() + secs;
	struct json_object *o;

	for (;;) {
		if ((o = find_event(s->log, match, arg)))
			return o;
		if (s->daemon && waitpid(s->daemon, NULL, WNOHANG) == s->daemon) {
			s->daemon = 0;
			return NULL;
		}
		if (now_s() >= end || !nap(s))
			return NULL;
	}
}

static void show_daemon_output(struct st *s)
{
	char line[512];
	FILE *f = fopen(s->out, "re");

	if (!f)
		return;
	while (fgets(line, sizeof(line), f))
		printf("selftest:   guard: %s", line);
	fclose(f);
}

static int start_daemon(struct st *s)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	pid_t pid;

	if (n <= 0) {
		say("FAIL: cannot find this program (/proc/self/exe): %s",
		    strerror(errno));
		return -1;
	}
	exe[n] = 0;
	pid = fork();
	if (pid < 0) {
		say("FAIL: fork: %s", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		int fd = open(s->out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
			      0600);

		if (fd >= 0) {
			dup2(fd, STDOUT_FILENO);
			dup2(fd, STDERR_FILENO);
		}
		sigprocmask(SIG_SETMASK, &s->old_mask, NULL);
		/* The real path, so the guard's comm is "connguard". */
		execl(exe, "connguard", "run", "--config", s->conf,
		      "--cgroup", s->cg, "--log", s->log, "--pin-dir", s->pin,
		      (char *)NULL);
		_exit(127);
	}
	s->daemon = pid;
	return 0;
}

struct client_result {
	int stage; /* what failed: 0 none, 1 cgroup, 2 netns, 3 lo, 4 send */
	int err;
	int connect_errno; /* 0: the connect succeeded */
};

/* A DNS query for NAME, type A, class IN, recursion desired. */
static size_t dns_query(unsigned char *q)
{
	static const unsigned char head[12] = { 0x5e, 0x1f, 0x01, 0x00,
						0x00, 0x01 };
	const char *p = NAME;
	size_t n = sizeof(head);

	memcpy(q, head, sizeof(head));
	while (*p) {
		const char *dot = strchr(p, '.');
		size_t l = dot ? (size_t)(dot - p) : strlen(p);

		q[n++] = (unsigned char)l;
		memcpy(q + n, p, l);
		n += l;
		p += l + (dot ? 1 : 0);
	}
	q[n++] = 0;
	q[n++] = 0; /* A */
	q[n++] = 1;
	q[n++] = 0; /* IN */
	q[n++] = 1;
	return n;
}

static void client(struct st *s, int wfd)
{
	struct client_result r = {};
	struct sockaddr_in dns = { .sin_family = AF_INET,
				   .sin_port = htons(53) };
	struct sockaddr_in dst = { .sin_family = AF_INET,
				   .sin_port = htons(DPORT) };
	unsigned char q[512];
	struct ifreq ifr = {};
	char path[PATH_MAX + 32], pid[32];
	size_t qlen;
	int fd;

	inet_pton(AF_INET, "127.0.0.1", &dns.sin_addr);
	inet_pton(AF_INET, DST, &dst.sin_addr);
	snprintf(path, sizeof(path), "%s/cgroup.procs", s->cg);
	snprintf(pid, sizeof(pid), "%d\n", getpid());
	/* The cgroup first: a new namespace does not hide it, but order it
	 * like the e2e lab does.
	 */
	if (write_text(path, pid)) {
		r.stage = 1;
		goto out;
	}
	if (unshare(CLONE_NEWNET)) {
		r.stage = 2;
		goto out;
	}
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	if (fd < 0 || ioctl(fd, SIOCGIFFLAGS, &ifr)) {
		r.stage = 3;
		goto out;
	}
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(fd, SIOCSIFFLAGS, &ifr)) {
		r.stage = 3;
		goto out;
	}
	qlen = dns_query(q);
	if (sendto(fd, q, qlen, 0, (struct sockaddr *)&dns, sizeof(dns)) !=
	    (ssize_t)qlen) {
		r.stage = 4;
		goto out;
	}
	close(fd);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		r.stage = 5;
		goto out;
	}
	r.connect_errno =
		connect(fd, (struct sockaddr *)&dst, sizeof(dst)) ? errno : 0;
	close(fd);
out:
	if (r.stage)
		r.err = errno;
	if (write(wfd, &r, sizeof(r)) != sizeof(r))
		_exit(2);
	_exit(0);
}

static int rm_entry(const char *path, const struct stat *st, int flag,
		    struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path) && errno != ENOENT ? -1 : 0;
}

static int cleanup(struct st *s)
{
	char why[512];
	int err = 0;

	if (s->daemon) {
		kill(s->daemon, SIGTERM);
		for (int i = 0; i < 100; i++) {
			struct timespec ts = { 0, 50 * 1000000 };

			if (waitpid(s->daemon, NULL, WNOHANG) == s->daemon) {
				s->daemon = 0;
				break;
			}
			nanosleep(&ts, NULL);
		}
		if (s->daemon) {
			say("the guard did not stop within 5 s: killing it");
			kill(s->daemon, SIGKILL);
			waitpid(s->daemon, NULL, 0);
			s->daemon = 0;
		}
	}
	if (s->pin[0] && access(s->pin, F_OK) == 0 &&
	    cg_pins_remove(s->pin, why, sizeof(why))) {
		say("cannot remove the pins: %s", why);
		err = -1;
	}
	if (s->cg[0]) {
		int r = -1;

		for (int i = 0; i < 50; i++) {
			struct timespec ts = { 0, 50 * 1000000 };

			r = rmdir(s->cg);
			if (!r || errno == ENOENT || errno != EBUSY)
				break;
			nanosleep(&ts, NULL);
		}
		if (r && errno != ENOENT) {
			say("cannot remove %s: %s", s->cg, strerror(errno));
			err = -1;
		}
	}
	if (s->tmp[0] && nftw(s->tmp, rm_entry, 16, FTW_DEPTH | FTW_PHYS)) {
		say("cannot remove %s: %s", s->tmp, strerror(errno));
		err = -1;
	}
	return err;
}

static int run_test(struct st *s)
{
	struct client_result r = {};
	struct json_object *o;
	char root[PATH_MAX], text[PATH_MAX + 128];
	bool blind = false;
	int pfd[2];
	pid_t cpid;
	ssize_t n;
	double t0;

	if (cg_cgroup2_root(root, sizeof(root))) {
		say("FAIL: no cgroup v2 hierarchy in /proc/self/mounts");
		return -1;
	}
	snprintf(s->tmp, sizeof(s->tmp), "/tmp/connguard-selftest.XXXXXX");
	if (!mkdtemp(s->tmp)) {
		s->tmp[0] = 0;
		say("FAIL: cannot create a temporary directory: %s",
		    strerror(errno));
		return -1;
	}
	snprintf(s->conf, sizeof(s->conf), "%s/connguard.conf", s->tmp);
	snprintf(s->log, sizeof(s->log), "%s/events.jsonl", s->tmp);
	snprintf(s->out, sizeof(s->out), "%s/guard.out", s->tmp);
	snprintf(text, sizeof(text),
		 "# connguard selftest\n[guard]\nmode = enforce\n"
		 "taint_scope = process\n[domains]\nbuiltin = yes\n"
		 "[log]\npath = %s\nmax_size = 0\n",
		 s->log);
	if (write_text(s->conf, text)) {
		say("FAIL: cannot write %s: %s", s->conf, strerror(errno));
		return -1;
	}
	if (snprintf(s->cg, sizeof(s->cg), "%s/connguard-selftest-%d", root,
		     getpid()) >= (int)sizeof(s->cg) ||
	    mkdir(s->cg, 0755)) {
		say("FAIL: cannot create the cgroup %s: %s", s->cg,
		    strerror(errno));
		s->cg[0] = 0;
		return -1;
	}
	snprintf(s->pin, sizeof(s->pin), "/sys/fs/bpf/connguard-selftest-%d",
		 getpid());
	if (cg_ensure_bpffs(s->pin)) {
		say("FAIL: cannot mount bpffs at /sys/fs/bpf: %s",
		    strerror(errno));
		return -1;
	}
	say("made cgroup %s and temporary directory %s", s->cg, s->tmp);

	if (start_daemon(s))
		return -1;
	/*
	 * Loading is mostly the verifier's time: well under a second on a
	 * usual host, but tens of seconds under software emulation or on a
	 * machine busy with other work. A guard that is still alive is given
	 * that time; one that exits fails at once.
	 */
	t0 = now_s();
	o = wait_event(s, START_QUIET_S, is_started, 0);
	if (!o && s->daemon && !s->interrupted) {
		say("the guard is still loading after %d s; waiting up to %d s",
		    START_QUIET_S, START_WAIT_S);
		o = wait_event(s, START_WAIT_S - START_QUIET_S, is_started, 0);
	}
	if (!o) {
		if (s->interrupted)
			;
		else if (!s->daemon)
			say("FAIL: the guard exited before it started");
		else
			say("FAIL: the guard did not start within %d s",
			    START_WAIT_S);
		show_daemon_output(s);
		return -1;
	}
	say("the guard started in %.1f s", now_s() - t0);
	{
		/* What the kernel left off, as the started event says it. */
		const char *off = strstr(jstr(o, "message"), "features off: ");
		int n = off ? (int)strcspn(off + 14, ";") : 7;

		say("guard pid %d runs in enforce mode, pins in %s", s->daemon,
		    s->pin);
		say("features off: %.*s", n, off ? off + 14 : "unknown");
		/* Neither part that sees a lookup: nothing can taint. */
		if (off) {
			char list[256];

			snprintf(list, sizeof(list), "%.*s", n, off + 14);
			blind = strstr(list, "dns (") && strstr(list, "libc (");
		}
	}
	json_object_put(o);

	if (pipe2(pfd, O_CLOEXEC)) {
		say("FAIL: pipe: %s", strerror(errno));
		return -1;
	}
	cpid = fork();
	if (cpid < 0) {
		say("FAIL: fork: %s", strerror(errno));
		close(pfd[0]);
		close(pfd[1]);
		return -1;
	}
	if (cpid == 0) {
		close(pfd[0]);
		client(s, pfd[1]);
	}
	close(pfd[1]);
	n = read(pfd[0], &r, sizeof(r));
	close(pfd[0]);
	waitpid(cpid, NULL, 0);
	if (n != sizeof(r)) {
		say("FAIL: the client (pid %d) reported nothing", cpid);
		return -1;
	}
	if (r.stage) {
		static const char *const what[] = {
			"", "join the cgroup", "make a network namespace",
			"bring lo up", "send the DNS query",
			"create a TCP socket",
		};

		say("FAIL: the client could not %s: %s", what[r.stage],
		    strerror(r.err));
		return -1;
	}
	say("client pid %d, in the cgroup and a private network namespace, "
	    "sent a DNS query for %s to 127.0.0.1:53",
	    cpid, NAME);
	if (r.connect_errno != EPERM) {
		say("FAIL: its connect to %s:%d %s, not refused with EPERM%s",
		    DST, DPORT,
		    r.connect_errno ? strerror(r.connect_errno) : "succeeded",
		    blind ? ": dns and libc are off on this kernel, so no "
			    "lookup can taint here" :
			    "");
		show_daemon_output(s);
		return -1;
	}
	say("ok: its connect to %s:%d was refused with EPERM", DST, DPORT);

	o = wait_event(s, 5, is_taint, cpid);
	if (!o) {
		say("FAIL: no taint event for pid %d and %s in %s", cpid, NAME,
		    s->log);
		return -1;
	}
	say("ok: taint event: pid %d looked up %s via %s", cpid, NAME,
	    jstr(o, "via"));
	json_object_put(o);
	o = wait_event(s, 5, is_connect, cpid);
	if (!o) {
		say("FAIL: no connect event for pid %d in %s", cpid, s->log);
		return -1;
	}
	if (strcmp(jstr(o, "action"), "blocked") ||
	    strcmp(jstr(o, "reason"), "mail-after-reserved-lookup") ||
	    strcmp(jstr(o, "dst"), DST) || atoi(jstr(o, "dport")) != DPORT) {
		say("FAIL: the connect event is not the expected one: %s",
		    json_object_to_json_string(o));
		json_object_put(o);
		return -1;
	}
	say("ok: connect event: blocked, mail-after-reserved-lookup, %s:%d",
	    DST, DPORT);
	json_object_put(o);
	return 0;
}

int cmd_selftest(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	struct st s = {};
	sigset_t mask;
	int c, err;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			printf("Usage: connguard selftest\n\n"
			       "Prove on this host, in a private network "
			       "namespace and a cgroup made\nfor it, that a "
			       "reserved-name query taints and the next "
			       "mail-port\nconnect is refused with EPERM and "
			       "an event. Removes all it made.\nExit 0 when "
			       "everything held, 1 otherwise.\n");
			return CG_EXIT_OK;
		default:
			return CG_EXIT_USAGE;
		}
	}
	if (optind != argc) {
		p_err("selftest", "unexpected argument \"%s\"", argv[optind]);
		return CG_EXIT_USAGE;
	}
	if (geteuid() != 0) {
		p_err("selftest", "needs root: run it with sudo");
		return CG_EXIT_FAIL;
	}
	/* Signals are taken while waiting, so cleanup always runs. */
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, &s.old_mask);

	err = run_test(&s);
	if (cleanup(&s))
		err = -1;
	else
		say("removed the guard, its pins, the cgroup and %s",
		    s.tmp[0] ? s.tmp : "the temporary directory");
	sigprocmask(SIG_SETMASK, &s.old_mask, NULL);
	say("%s", err ? "FAILED" : "PASSED");
	return err ? CG_EXIT_FAIL : CG_EXIT_OK;
}
