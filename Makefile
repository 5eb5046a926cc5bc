# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# connguard: the one build entry. `make run` and `make test` do all the set-up.

OUTPUT := .output
CLANG ?= clang
BPFTOOL ?= bpftool
CC ?= cc
ARCH := $(shell uname -m | sed 's/x86_64/x86/;s/aarch64/arm64/')
VERSION := 0.1.0

PREFIX ?= /usr/local
DESTDIR ?=

VMLINUX_BTF ?= /sys/kernel/btf/vmlinux
VMLINUX := $(OUTPUT)/vmlinux.h

WARN := -Wall -Wextra -Werror
BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) $(WARN) \
	-Wno-unused-parameter -I$(OUTPUT) -Iinclude -Ibpf
CFLAGS ?= -g -O2
# CPPFLAGS and LDFLAGS: what a packager passes (dpkg-buildflags' hardening).
ALL_CFLAGS := $(CPPFLAGS) $(CFLAGS) -std=gnu11 $(WARN) -Wno-missing-field-initializers \
	-Wno-format-truncation -D_GNU_SOURCE -DCG_VERSION='"$(VERSION)"' -I$(OUTPUT) -Iinclude -Iuser
LIBS := $(shell pkg-config --libs libbpf 2>/dev/null || echo -lbpf -lelf -lz) \
	$(shell pkg-config --libs json-c 2>/dev/null || echo -ljson-c) -lresolv -lz

BPF_SRCS := $(wildcard bpf/*.bpf.c)
BPF_HDRS := $(wildcard bpf/*.bpf.h) $(wildcard include/*.h)
USER_SRCS := $(wildcard user/*.c)
USER_HDRS := $(wildcard user/*.h) $(wildcard include/*.h)
LIB_OBJS := $(patsubst user/%.c,$(OUTPUT)/%.o,$(filter-out user/main.c,$(USER_SRCS)))
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(OUTPUT)/tests/%,$(UNIT_SRCS))
BPFTEST_SRCS := $(wildcard tests/bpf/*.c)
BPFTEST_BINS := $(patsubst tests/bpf/%.c,$(OUTPUT)/tests/bpf_%,$(BPFTEST_SRCS))
E2E_PROGS := $(patsubst tests/e2e/%.c,$(OUTPUT)/tests/%,$(wildcard tests/e2e/*.c))
BENCH_PROGS := $(patsubst tests/bench/%.c,$(OUTPUT)/bench/%,$(wildcard tests/bench/*.c))

# Debian packages, the one list of what any step needs; tests/deps.sh
# installs the missing ones (--no-install-recommends: name every package,
# never count on a Recommends). One a line, so a new one is one line.
# To build connguard (`make`, `make run`):
BUILD_PKGS := \
	bpftool \
	clang \
	gcc \
	libbpf-dev \
	libelf-dev \
	libjson-c-dev \
	llvm \
	make \
	pkg-config \
	zlib1g-dev
# To build the Debian package (`make deb`): dpkg-buildpackage, dh, lintian,
# and build-essential, which dpkg-checkbuilddeps requires of every build
# without its being named. dist/debian/control's Build-Depends is BUILD_PKGS
# (test_deb checks it).
DEB_PKGS := \
	build-essential \
	debhelper \
	dpkg-dev \
	lintian
# To build and run every test (`make test`). The fuzz target links clang's
# libFuzzer and sanitizer runtimes (only a Recommends of clang): the
# unversioned package follows the default clang, which BUILD_PKGS installs,
# and a clang already there gets the runtimes of its own version. The bench
# smoke (tests/e2e/test_bench_smoke.sh) runs the bench's lab: iperf3, nft.
# test_deb builds the package and installs it in a fresh root (debootstrap
# makes one when /var/cache/fresh-root has no base tarball); test_action
# reads the GitHub action's YAML (python3-yaml). test_tls_cred's lab server
# makes its certificate with openssl; gnutls-cli and libcurl3-gnutls are among
# its clients, and libssl-dev's static archives make its client with OpenSSL
# linked in (tests/e2e/tlsstatic.c). test_firstbytes runs real proxies
# (tinyproxy, microsocks) and TLS clients (openssl, gnutls-bin).
CLANG_MAJOR := $(shell $(CLANG) -dumpversion 2>/dev/null | cut -d. -f1)
TEST_PKGS := \
	$(DEB_PKGS) \
	bind9-dnsutils \
	curl \
	debootstrap \
	dnsmasq-base \
	gnutls-bin \
	iperf3 \
	iproute2 \
	libc-ares2 \
	libcurl3-gnutls \
	libnet-ssleay-perl \
	libnss3-tools \
	libclang-rt-$(if $(CLANG_MAJOR),$(CLANG_MAJOR)-)dev \
	liburing-dev \
	libssl-dev \
	man-db \
	microsocks \
	msmtp \
	musl \
	musl-tools \
	nftables \
	openssl \
	procps \
	python3 \
	python3-yaml \
	swaks \
	systemd \
	tinyproxy \
	util-linux
# Only for the kernel matrix (`make test-kernels`, and `make test` under
# CI=true): qemu boots Debian's kernels fetched with apt-get download;
# busybox-static, kmod, cpio, xz-utils and zstd build the guest's initramfs.
KERNEL_PKGS := \
	busybox-static \
	cpio \
	gzip \
	kmod \
	qemu-system-x86 \
	xz-utils \
	zstd
# Only for `make bench` (B8 runs OpenSnitch over iptables' NFQUEUE):
BENCH_PKGS := \
	iptables \
	libnetfilter-queue1 \
	libnfnetlink0

ifeq ($(V),1)
Q =
msg =
else
Q = @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

.PHONY: all deps deps-deb deps-test deps-kernels run test test-build test-kernels clean install uninstall deb
.DELETE_ON_ERROR:
.SECONDARY:

all: connguard

deps:
	$(Q)./tests/deps.sh $(BUILD_PKGS)

deps-deb: deps
	$(Q)./tests/deps.sh $(DEB_PKGS)

# After deps: two apt-get at once (make -j) would fight over its lock.
# `ip netns exec` binds a lab's hosts file over /etc/hosts, which must then
# exist: Debian's installer writes one, a bare debootstrap root has none.
deps-test: deps
	$(Q)./tests/deps.sh $(TEST_PKGS)
	$(Q)test -e /etc/hosts || { \
		echo "connguard: deps: writing /etc/hosts (localhost only): the test labs bind theirs over it"; \
		printf '127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\n' >/etc/hosts; }

# Everything built goes under $(OUTPUT), so the build packages are checked
# (and, as root, installed) before anything is built, and the test packages
# before anything under $(OUTPUT)/tests: a bare machine gets them, or one
# line saying what to run, never "bpftool: not found".
$(OUTPUT): | deps
	$(Q)mkdir -p $@

$(OUTPUT)/tests: | $(OUTPUT) deps-test
	$(Q)mkdir -p $@

$(VMLINUX): | $(OUTPUT)
	$(call msg,GEN,$@)
	$(Q)test -r $(VMLINUX_BTF) || { echo "connguard: build: $(VMLINUX_BTF) missing: the kernel needs CONFIG_DEBUG_INFO_BTF=y" >&2; exit 1; }
	$(Q)$(BPFTOOL) btf dump file $(VMLINUX_BTF) format c > $@

$(OUTPUT)/%.bpf.o: bpf/%.bpf.c $(BPF_HDRS) $(VMLINUX) | $(OUTPUT)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(OUTPUT)/%.skel.h: $(OUTPUT)/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $*_bpf > $@

# The object's CO-RE types cut out of the build kernel's BTF, embedded with
# that BTF's fingerprint (user/btf.h). Without `gen min_core_btf` nothing is
# embedded and the guard reads the running kernel's BTF at every start.
$(OUTPUT)/connguard.min.btf: $(OUTPUT)/connguard.bpf.o
	$(call msg,GEN-BTF,$@)
	$(Q)$(BPFTOOL) gen min_core_btf $(VMLINUX_BTF) $@ $< 2>/dev/null || : > $@

$(OUTPUT)/btfembed: user/tools/btfembed.c user/btf.h | $(OUTPUT)
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $< -o $@

$(OUTPUT)/connguard.minbtf.h: $(OUTPUT)/btfembed $(OUTPUT)/connguard.min.btf
	$(call msg,GEN,$@)
	$(Q)$(OUTPUT)/btfembed $(VMLINUX_BTF) $(OUTPUT)/connguard.min.btf > $@

$(OUTPUT)/btf.o: $(OUTPUT)/connguard.minbtf.h

$(OUTPUT)/%.o: user/%.c $(USER_HDRS) $(OUTPUT)/connguard.skel.h | $(OUTPUT)
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -c $< -o $@

$(OUTPUT)/libcg.a: $(LIB_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

connguard: $(OUTPUT)/main.o $(OUTPUT)/libcg.a
	$(call msg,LINK,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $(LDFLAGS) $^ $(LIBS) -o $@

$(OUTPUT)/tests/test_%: tests/unit/test_%.c tests/unit/unit.h $(OUTPUT)/libcg.a | $(OUTPUT)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -Itests/unit $< $(OUTPUT)/libcg.a $(LIBS) -o $@

$(OUTPUT)/tests/bpf_%: tests/bpf/%.c tests/pkt.h $(OUTPUT)/libcg.a | $(OUTPUT)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -Itests/unit $< $(OUTPUT)/libcg.a $(LIBS) -o $@

# The kernel matrix's verifier statistics (tests/kernels/vstat.c).
$(OUTPUT)/tests/vstat: tests/kernels/vstat.c | $(OUTPUT)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $< $(LIBS) -o $@

$(OUTPUT)/tests/%: tests/e2e/%.c | $(OUTPUT)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) -O2 -g $(WARN) $< -luring -lpthread -o $@

# An IMAPS client with OpenSSL linked in statically (libssl-dev's archives).
$(OUTPUT)/tests/tlsstatic: tests/e2e/tlsstatic.c | $(OUTPUT)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) -O2 -g $(WARN) $< -Wl,-Bstatic -lssl -lcrypto -Wl,-Bdynamic -lpthread -o $@

# The DNS parsers under libFuzzer (tests/fuzz/run.sh runs it).
$(OUTPUT)/tests/fuzz_dns: tests/fuzz/fuzz_dns.c tests/fuzz/dns_check.h include/cg_dns.h \
		include/connguard.h | $(OUTPUT)/tests
	$(call msg,FUZZ,$@)
	$(Q)$(CLANG) -g -O1 -fsanitize=fuzzer,address,undefined -Iinclude -I$(OUTPUT) $< -o $@

$(OUTPUT)/tests/test_answer: tests/fuzz/dns_check.h

# The stream parsers (logins, proxy requests, the ClientHello) likewise.
FUZZ_STREAM := $(OUTPUT)/tests/fuzz_auth $(OUTPUT)/tests/fuzz_proxy $(OUTPUT)/tests/fuzz_tls
$(FUZZ_STREAM): $(OUTPUT)/tests/fuzz_%: tests/fuzz/fuzz_%.c include/cg_%.h include/cg_host.h \
		include/cg_b64.h include/cg_dns.h tests/fuzz/stream_check.h tests/fuzz/dns_check.h \
		tests/unit/suffixes.h | $(OUTPUT)/tests
	$(call msg,FUZZ,$@)
	$(Q)$(CLANG) -g -O1 -fsanitize=fuzzer,address,undefined -Iinclude -Itests/unit $< -o $@

# The ELF symbol reader likewise (any file a guarded process execs).
$(OUTPUT)/tests/fuzz_elf: tests/fuzz/fuzz_elf.c user/elfsym.c user/elfsym.h | $(OUTPUT)/tests
	$(call msg,FUZZ,$@)
	$(Q)$(CLANG) -g -O1 -fsanitize=fuzzer,address,undefined -Iuser $< -o $@

$(OUTPUT)/tests/test_auth $(OUTPUT)/tests/test_proxy $(OUTPUT)/tests/test_tls: $(OUTPUT)/tests/test_%: \
	include/cg_%.h include/cg_host.h include/cg_b64.h tests/unit/suffixes.h

test-build: connguard $(OUTPUT)/connguard.bpf.o $(OUTPUT)/tests/vstat $(UNIT_BINS) $(BPFTEST_BINS) $(E2E_PROGS) $(OUTPUT)/tests/fuzz_dns $(FUZZ_STREAM) $(OUTPUT)/tests/fuzz_elf

# Benchmarks (tests/bench/bench.sh): load generators and probes. test-build
# builds them too, for the smoke run in tests/e2e/test_bench_smoke.sh.
.PHONY: bench bench-build deps-bench

$(OUTPUT)/bench: | $(OUTPUT)
	$(Q)mkdir -p $@

$(OUTPUT)/bench/%: tests/bench/%.c tests/pkt.h $(OUTPUT)/libcg.a $(OUTPUT)/connguard.skel.h | $(OUTPUT)/bench
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $< $(OUTPUT)/libcg.a $(LIBS) -o $@

bench-build: connguard $(BENCH_PROGS) $(OUTPUT)/tests/cgprobe
test-build: $(BENCH_PROGS)

deps-bench: deps-test
	$(Q)./tests/deps.sh $(BENCH_PKGS)

# Every benchmark in one go, in lab namespaces: a table on stdout and in
# docs/BENCHMARKS.md. Never part of `make test` (only its smoke run is).
bench: deps-bench
	$(Q)$(MAKE) --no-print-directory bench-build
	$(Q)OUTPUT=$(OUTPUT) ./tests/bench/bench.sh

# Audit mode on this host, the built-in policy, events printed as they come.
run: deps
	$(Q)$(MAKE) --no-print-directory all
	./connguard run --mode audit

# Under CI=true tests/run runs the kernel matrix too: its packages first.
test: deps-test $(if $(filter true,$(CI)),deps-kernels)
	$(Q)$(MAKE) --no-print-directory test-build
	$(Q)OUTPUT=$(OUTPUT) ./tests/run

deps-kernels: deps-test
	$(Q)./tests/deps.sh $(KERNEL_PKGS)

# The kernel matrix alone (tests/kernels/, docs/KERNELS.md): every kernel of
# tests/kernels/kernels.list booted under qemu; writes docs/VERIFIER.md.
test-kernels: deps-kernels
	$(Q)$(MAKE) --no-print-directory test-build
	$(Q)OUTPUT=$(OUTPUT) ./tests/run kernels

SBINDIR := $(PREFIX)/sbin
MANDIR := $(PREFIX)/share/man
COMPLETIONDIR := $(PREFIX)/share/bash-completion/completions
SYSCONFDIR ?= /etc
UNITDIR ?= /lib/systemd/system

# The config is never overwritten: an operator's edits survive upgrades.
install: connguard
	install -D -m 0755 connguard $(DESTDIR)$(SBINDIR)/connguard
	install -D -m 0644 docs/connguard.8 $(DESTDIR)$(MANDIR)/man8/connguard.8
	install -D -m 0644 docs/connguard.conf.5 $(DESTDIR)$(MANDIR)/man5/connguard.conf.5
	install -D -m 0644 dist/connguard.bash-completion $(DESTDIR)$(COMPLETIONDIR)/connguard
	test -e $(DESTDIR)$(SYSCONFDIR)/connguard/connguard.conf || \
		install -D -m 0644 dist/connguard.conf $(DESTDIR)$(SYSCONFDIR)/connguard/connguard.conf
	install -d -m 0755 $(DESTDIR)$(UNITDIR)
	sed 's|@SBINDIR@|$(SBINDIR)|g' dist/connguard.service > $(DESTDIR)$(UNITDIR)/connguard.service

uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/connguard $(DESTDIR)$(MANDIR)/man8/connguard.8 \
		$(DESTDIR)$(MANDIR)/man5/connguard.conf.5 $(DESTDIR)$(UNITDIR)/connguard.service \
		$(DESTDIR)$(COMPLETIONDIR)/connguard

# The Debian package, built the Debian way from dist/debian: a copy of the
# source tree (what git tracks, plus new files not ignored) with dist/debian
# as debian/, dpkg-buildpackage, then lintian, which must report no error.
# The .deb lands in $(OUTPUT)/deb/.
DEB_DIR := $(OUTPUT)/deb
DEB_SRC := $(DEB_DIR)/connguard-$(VERSION)
DEB_ARCH = $(shell dpkg --print-architecture)
DEB_FILE = $(DEB_DIR)/connguard_$(VERSION)_$(DEB_ARCH).deb

deb: deps-deb
	$(Q)v=$$(dpkg-parsechangelog -l dist/debian/changelog -S Version) && [ "$$v" = "$(VERSION)" ] || \
		{ echo "connguard: deb: dist/debian/changelog is at $$v, the Makefile at $(VERSION)" >&2; exit 1; }
	$(Q)git rev-parse --git-dir >/dev/null 2>&1 || \
		{ echo "connguard: deb: not a git checkout: the package is built from what git tracks" >&2; exit 1; }
	$(Q)rm -rf $(DEB_DIR) && mkdir -p $(DEB_SRC)
	$(Q)git ls-files -z -c -o --exclude-standard | \
		tar --null -T - -cf - | tar -C $(DEB_SRC) -xf -
	$(Q)rm -rf $(DEB_SRC)/debian && cp -r dist/debian $(DEB_SRC)/debian
	$(call msg,DEB,$(DEB_FILE))
	$(Q)cd $(DEB_SRC) && dpkg-buildpackage -b -us -uc >../build.log 2>&1 || \
		{ tail -n 30 ../build.log >&2; echo "connguard: deb: dpkg-buildpackage failed, see $(DEB_DIR)/build.log" >&2; exit 1; }
	$(Q)rm -rf $(DEB_SRC)
	$(call msg,LINTIAN,$(DEB_FILE))
	$(Q)lintian --fail-on error --display-info $(DEB_DIR)/connguard_$(VERSION)_$(DEB_ARCH).changes

clean:
	$(call msg,CLEAN)
	$(Q)rm -rf $(OUTPUT) connguard
