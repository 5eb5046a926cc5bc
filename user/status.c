// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* connguard status: attachment, mode, counters, map fill; --json too. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <bpf/bpf.h>
#include <string.h>
#include <json-c/json.h>

#include "cmds.h"
#include "config.h"
#include "connguard.h"
#include "metrics.h"
#include "pins.h"
#include "policy.h"
#include "util.h"

const char *const cg_stat_keys[CG_STAT__MAX] = {
	[CG_STAT_BLOCKED_FORBIDDEN] = "blocked_forbidden_destination",
	[CG_STAT_BLOCKED_TAINTED] = "blocked_mail_after_reserved_lookup",
	[CG_STAT_LOGGED_FORBIDDEN] = "logged_forbidden_destination",
	[CG_STAT_LOGGED_TAINTED] = "logged_mail_after_reserved_lookup",
	[CG_STAT_TAINTS] = "taints",
	[CG_STAT_TAINT_INHERITED] = "taints_inherited",
	[CG_STAT_TAINT_FULL] = "taints_not_recorded",
	[CG_STAT_LOST] = "lost_events",
	[CG_STAT_DNS_QUERIES] = "dns_queries",
	[CG_STAT_DNS_RESERVED] = "dns_reserved_queries",
	[CG_STAT_DNS_MALFORMED] = "dns_malformed",
	[CG_STAT_DNS_UNOWNED] = "dns_unattributed",
	[CG_STAT_OWNER_FULL] = "sockets_not_attributed",
	[CG_STAT_DNS_ANSWERS] = "dns_answers",
	[CG_STAT_DNS_UNSOLICITED] = "dns_unsolicited_answers",
	[CG_STAT_LEARNED] = "learned",
	[CG_STAT_LEARN_FULL] = "learned_not_recorded",
	[CG_STAT_MISROUTES] = "misroutes",
	[CG_STAT_DNS_TCP_DESYNC] = "dns_tcp_streams_lost",
	[CG_STAT_DNS_QD_UNREAD] = "dns_questions_unread",
};

static const char *const reload_names[] = {
	[CG_RELOAD_NONE] = "none",
	[CG_RELOAD_APPLIED] = "applied",
	[CG_RELOAD_REFUSED] = "refused",
	[CG_RELOAD_FAILED] = "failed",
};

static void add_u64(struct json_object *o, const char *k, uint64_t v)
{
	json_object_object_add(o, k, json_object_new_uint64(v));
}

static void fill(struct json_object *o, const char *name, long n, long max)
{
	struct json_object *f = json_object_new_object();

	add_u64(f, "entries", n < 0 ? 0 : (uint64_t)n);
	add_u64(f, "max_entries", (uint64_t)max);
	json_object_object_add(o, name, f);
}

/* Entries of a dest table by kind: allow, or deny (deny, deny_host). */
static void dest_count(int fd, long *allow, long *deny)
{
	uint8_t key[sizeof(struct cg_dest6_key)] = {}, next[sizeof(key)] = {};
	struct cg_dest v;
	void *prev = NULL;

	while (bpf_map_get_next_key(fd, prev, next) == 0) {
		memcpy(key, next, sizeof(key));
		prev = key;
		if (bpf_map_lookup_elem(fd, key, &v))
			continue;
		if (v.origin & CG_ORIGIN_ALLOW)
			(*allow)++;
		else
			(*deny)++;
	}
}

int cmd_status(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "pin-dir", required_argument, NULL, 'p' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	const char *pin_dir = CG_DEFAULT_PIN_DIR;
	struct json_object *o, *cnt, *maps;
	uint64_t st[CG_STAT__MAX] = {};
	struct cg_policy *pol = NULL;
	struct cg_meta meta = {};
	struct cg_maps m;
	bool json = false, running;
	int c, attached, rc;
	uint32_t zero = 0;
	char started[40];

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			pin_dir = optarg;
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			printf("Usage: connguard status [--pin-dir DIR] "
			       "[--json]\n\nShow whether a guard is attached, "
			       "where, its mode and counters.\nExit 0 only "
			       "while a guard is attached.\n");
			return CG_EXIT_OK;
		default:
			return CG_EXIT_USAGE;
		}
	}
	if (optind != argc) {
		p_err("status", "unexpected argument \"%s\"", argv[optind]);
		return CG_EXIT_USAGE;
	}
	if (cg_pins_open(pin_dir, &m)) {
		if (json)
			printf("{\"attached\":false,\"pin_dir\":\"%s\"}\n",
			       pin_dir);
		else
			printf("connguard: no guard pinned at %s\n", pin_dir);
		return CG_EXIT_FAIL;
	}
	if (cg_pins_meta(&m, &meta)) {
		p_err("status", "the pins in %s come from another build of "
				"connguard: remove them with 'connguard unload "
				"--pin-dir %s'",
		      pin_dir, pin_dir);
		cg_pins_close(&m);
		return CG_EXIT_FAIL;
	}
	attached = cg_pins_attached(pin_dir);
	cg_stats_read(m.stats, st);
	pol = calloc(1, sizeof(*pol));
	if (pol)
		bpf_map_lookup_elem(m.policy, &zero, pol);
	running = cg_daemon_alive(meta.daemon_pid);
	cg_format_time(meta.started_realtime_ns, started, sizeof(started));

	o = json_object_new_object();
	json_object_object_add(o, "attached", json_object_new_boolean(
		attached == (int)cg_prog_names_n));
	add_u64(o, "programs_attached", (uint64_t)attached);
	json_object_object_add(o, "pin_dir", json_object_new_string(pin_dir));
	json_object_object_add(o, "cgroup", json_object_new_string(meta.cgroup));
	json_object_object_add(o, "mode", json_object_new_string(
		pol && pol->mode == CG_MODE_ENFORCE ? "enforce" : "audit"));
	add_u64(o, "daemon_pid", meta.daemon_pid);
	json_object_object_add(o, "daemon_running",
			       json_object_new_boolean(running));
	json_object_object_add(o, "started", json_object_new_string(started));
	add_u64(o, "uptime_s", (cg_now_real_ns() - meta.started_realtime_ns) /
				       1000000000ull);
	cnt = json_object_new_object();
	for (int i = 0; i < CG_STAT__MAX; i++)
		add_u64(cnt, cg_stat_keys[i], st[i]);
	json_object_object_add(o, "counters", cnt);
	add_u64(o, "log_write_errors", meta.log_write_errors);
	add_u64(o, "log_dropped", meta.log_dropped);
	add_u64(o, "reloads", meta.reload_gen);
	json_object_object_add(o, "last_reload", json_object_new_string(
		reload_names[meta.reload_result < 4 ? meta.reload_result : 0]));
	maps = json_object_new_object();
	fill(maps, "taints", cg_map_count(m.taints), CG_TAINT_MAX);
	fill(maps, "cgroup_taints", cg_map_count(m.cgroup_taints),
	     CG_TAINT_MAX);
	fill(maps, "learn4", cg_map_count(m.learn4), CG_LEARN_MAX);
	fill(maps, "learn6", cg_map_count(m.learn6), CG_LEARN_MAX);
	fill(maps, "reserved", cg_map_count(m.reserved), CG_RESERVED_MAX);
	fill(maps, "dest4", cg_map_count(m.dest4), CG_CIDR_MAX);
	fill(maps, "dest6", cg_map_count(m.dest6), CG_CIDR_MAX);
	json_object_object_add(o, "maps", maps);

	if (json) {
		printf("%s\n", json_object_to_json_string_ext(
				       o, JSON_C_TO_STRING_PLAIN));
	} else {
		printf("guard:        %s (%d of %zu programs) at %s\n",
		       attached == (int)cg_prog_names_n ? "attached" :
							 "NOT attached",
		       attached, cg_prog_names_n, meta.cgroup);
		printf("pin dir:      %s\n", pin_dir);
		printf("mode:         %s\n", pol && pol->mode == CG_MODE_ENFORCE ?
						     "enforce" : "audit");
		printf("daemon:       pid %u, %s, started %s\n",
		       meta.daemon_pid, running ? "running" : "NOT running",
		       started);
		printf("blocked:      %llu forbidden-destination, %llu "
		       "mail-after-reserved-lookup\n",
		       (unsigned long long)st[CG_STAT_BLOCKED_FORBIDDEN],
		       (unsigned long long)st[CG_STAT_BLOCKED_TAINTED]);
		printf("logged:       %llu forbidden-destination, %llu "
		       "mail-after-reserved-lookup\n",
		       (unsigned long long)st[CG_STAT_LOGGED_FORBIDDEN],
		       (unsigned long long)st[CG_STAT_LOGGED_TAINTED]);
		printf("taints:       %ld processes and %ld cgroups tainted, "
		       "%llu total, %llu inherited, %llu not recorded (map "
		       "full)\n",
		       cg_map_count(m.taints), cg_map_count(m.cgroup_taints),
		       (unsigned long long)st[CG_STAT_TAINTS],
		       (unsigned long long)st[CG_STAT_TAINT_INHERITED],
		       (unsigned long long)st[CG_STAT_TAINT_FULL]);
		printf("dns:          %llu queries, %llu reserved, %llu "
		       "malformed, %llu unattributed\n",
		       (unsigned long long)st[CG_STAT_DNS_QUERIES],
		       (unsigned long long)st[CG_STAT_DNS_RESERVED],
		       (unsigned long long)st[CG_STAT_DNS_MALFORMED],
		       (unsigned long long)st[CG_STAT_DNS_UNOWNED]);
		long a4 = 0, d4 = 0, a6 = 0, d6 = 0;
		struct cg_dest_index ix = {};

		dest_count(m.dest4, &a4, &d4);
		dest_count(m.dest6, &a6, &d6);
		bpf_map_lookup_elem(m.dest_index, &zero, &ix);
		printf("destinations: allow %ld+%ld, deny %ld+%ld "
		       "(IPv4+IPv6 prefixes; a deny inside an allow left "
		       "out), %d+%d prefix lengths\n",
		       a4, a6, d4, d6, __builtin_popcountll(ix.lens4),
		       __builtin_popcountll(ix.lens6[0]) +
			       __builtin_popcountll(ix.lens6[1]) +
			       __builtin_popcountll(ix.lens6[2]));
		printf("learned:      %ld+%ld addresses (IPv4+IPv6), %llu "
		       "answers, %llu unsolicited, %llu misroutes, %llu not "
		       "recorded (map full)\n",
		       cg_map_count(m.learn4), cg_map_count(m.learn6),
		       (unsigned long long)st[CG_STAT_DNS_ANSWERS],
		       (unsigned long long)st[CG_STAT_DNS_UNSOLICITED],
		       (unsigned long long)st[CG_STAT_MISROUTES],
		       (unsigned long long)st[CG_STAT_LEARN_FULL]);
		printf("reserved:     %ld suffixes\n", cg_map_count(m.reserved));
		printf("lost events:  %llu\n",
		       (unsigned long long)st[CG_STAT_LOST]);
		printf("event log:    %llu write errors, %llu events dropped\n",
		       (unsigned long long)meta.log_write_errors,
		       (unsigned long long)meta.log_dropped);
		printf("reloads:      %u, last %s%s%s\n", meta.reload_gen,
		       reload_names[meta.reload_result < 4 ?
					    meta.reload_result : 0],
		       meta.reload_message[0] ? ": " : "",
		       meta.reload_message);
	}
	rc = attached == (int)cg_prog_names_n ? CG_EXIT_OK : CG_EXIT_FAIL;
	json_object_put(o);
	free(pol);
	cg_pins_close(&m);
	return rc;
}
