// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * tlsstatic: an IMAPS client linked statically with OpenSSL (libssl.a and
 * libcrypto.a), as Node.js and many vendored tools are: no libssl.so.3 is
 * mapped, so only probes on this file itself see its plaintext.
 *
 *   tlsstatic                         print the pid and exit (a warm-up)
 *   tlsstatic ADDR PORT USER PASS     connect, read the greeting, send
 *                                     "a1 LOGIN USER PASS", print the reply
 *
 * Exit 0 when the server answered the login, 1 on any failure (said on
 * stderr).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

static int fail(const char *what)
{
	fprintf(stderr, "tlsstatic: %s\n", what);
	ERR_print_errors_fp(stderr);
	return 1;
}

int main(int argc, char **argv)
{
	struct sockaddr_storage ss = {};
	struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
	char buf[4096], line[1024];
	socklen_t sl;
	SSL_CTX *ctx;
	SSL *ssl;
	int fd, n;

	printf("pid %d\n", (int)getpid());
	fflush(stdout);
	if (argc < 5)
		return 0;
	if (inet_pton(AF_INET, argv[1], &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((unsigned short)atoi(argv[2]));
		sl = sizeof(*s4);
	} else if (inet_pton(AF_INET6, argv[1], &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((unsigned short)atoi(argv[2]));
		sl = sizeof(*s6);
	} else {
		return fail("not an address");
	}
	fd = socket(ss.ss_family, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&ss, sl))
		return fail("connect failed");
	ctx = SSL_CTX_new(TLS_client_method());
	if (!ctx)
		return fail("SSL_CTX_new");
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	ssl = SSL_new(ctx);
	if (!ssl || !SSL_set_fd(ssl, fd) || SSL_connect(ssl) != 1)
		return fail("TLS handshake failed");
	n = SSL_read(ssl, buf, sizeof(buf) - 1);
	if (n <= 0)
		return fail("no greeting");
	n = snprintf(line, sizeof(line), "a1 LOGIN %s %s\r\n", argv[3],
		     argv[4]);
	if (n <= 0 || n >= (int)sizeof(line) || SSL_write(ssl, line, n) != n)
		return fail("write failed");
	n = SSL_read(ssl, buf, sizeof(buf) - 1);
	if (n <= 0)
		return fail("no answer to the login");
	buf[n] = 0;
	printf("%s", buf);
	SSL_shutdown(ssl);
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	close(fd);
	return 0;
}
