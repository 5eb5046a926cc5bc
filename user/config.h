/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The configuration file (connguard.conf(5)): parsed and validated in full. */
#ifndef CG_CONFIG_H
#define CG_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CG_DEFAULT_CONFIG "/etc/connguard/connguard.conf"
#define CG_DEFAULT_LOG "/var/log/connguard/events.jsonl"
#define CG_DEFAULT_PIN_DIR "/sys/fs/bpf/connguard"

struct cg_cidr {
	int family;	   /* AF_INET or AF_INET6 */
	uint8_t addr[16];  /* network order; host bits cleared */
	uint8_t prefixlen; /* 0..32 or 0..128 */
};

struct cg_strv {
	char **v;
	size_t n;
};

struct cg_config {
	/* [guard] */
	int mode;	 /* enum cg_mode */
	char *cgroup;	 /* NULL: the cgroup v2 root from /proc/self/mounts */
	int taint_scope; /* enum cg_scope */
	uint32_t taint_ttl; /* seconds, 0 = process lifetime */
	uint32_t job_depth; /* taint_scope = job: levels below the guarded cgroup */

	/* [domains] */
	bool builtin;
	struct cg_strv reserved; /* lowercase, no trailing dot, validated */

	/* [ports] */
	uint16_t *guarded;
	size_t n_guarded;
	uint16_t *dns;
	size_t n_dns;

	/* [credentials] */
	bool cred_tls;	      /* look inside TLS library writes */
	bool cred_wire;	      /* look at plaintext client bytes */
	uint16_t *cred_ports; /* the plaintext ports read on the wire */
	size_t n_cred_ports;

	/* [destinations] */
	struct cg_cidr *allow;
	size_t n_allow;
	struct cg_cidr *deny;
	size_t n_deny;
	struct cg_strv deny_host; /* lowercase, no trailing dot, validated */
	uint32_t learn_ttl_min;
	uint32_t learn_ttl_max;

	/* [log] */
	char *log_path; /* "-" = stdout */
	uint64_t log_max_size; /* bytes; 0 = never rotate */
	uint32_t log_keep;
	bool log_compress;

	/* [metrics] */
	char *metrics_textfile; /* NULL = none */
};

/* Every error found, already formatted as "FILE:LINE: message". */
struct cg_config_errors {
	char **v;
	size_t n;
};

/* Defaults of SPEC §5 (allow 127.0.0.0/8 ::1/128, the default ports, ...). */
int cg_config_init(struct cg_config *c);
void cg_config_free(struct cg_config *c);

/*
 * Parse TEXT (named NAME in messages) on top of the defaults in C. The first
 * occurrence of a list key in a file replaces the default list; repeats extend
 * it. Returns the number of errors appended to ERRS (0: C is valid); C must be
 * discarded when errors were found.
 */
int cg_config_parse(struct cg_config *c, const char *name, const char *text,
		    struct cg_config_errors *errs);

/*
 * Read PATH and parse it. A missing file is an error unless MISSING_OK, in
 * which case the defaults stand. Returns the number of errors.
 */
int cg_config_load(struct cg_config *c, const char *path, bool missing_ok,
		   struct cg_config_errors *errs);

void cg_config_errors_free(struct cg_config_errors *errs);

/* Parse "10.0.0.0/8", "2001:db8::/32", "192.0.2.1" (host route). 0 or -1. */
int cg_cidr_parse(const char *s, struct cg_cidr *out);

/*
 * Validate and normalise a DNS name or suffix: lowercase, trailing dot
 * dropped, labels 1..63 bytes of [a-z0-9_-], total <= 253. Returns a malloc'ed
 * string or NULL with *why set to a static message.
 */
char *cg_name_normalize(const char *s, const char **why);

/* "64M" -> 67108864; K, M, G (powers of 1024) or plain bytes. 0 or -1. */
int cg_size_parse(const char *s, uint64_t *out);

#endif /* CG_CONFIG_H */
