// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * dnsresp ADDR PORT ANSWER_IPV4 SECONDS: a minimal DNS responder for the
 * benchmark's round trips. Every query is answered with its own question and
 * one A record (TTL 60) holding ANSWER_IPV4, by the shortest code path there
 * is, so that the round trip measures the client side. Exits by itself after
 * SECONDS (a bench that dies leaves nothing running for long), or on SIGTERM.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct sockaddr_storage ss = { 0 }, peer;
	struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
	struct timeval tv = { 1, 0 };
	struct in_addr ans;
	uint8_t buf[1500];
	socklen_t len;
	time_t end;
	int fd, port;

	if (argc != 5 || inet_pton(AF_INET, argv[3], &ans) != 1) {
		fprintf(stderr, "usage: dnsresp ADDR PORT ANSWER_IPV4 SECONDS\n");
		return 2;
	}
	port = atoi(argv[2]);
	end = time(NULL) + atoi(argv[4]);
	if (inet_pton(AF_INET, argv[1], &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		len = sizeof(*s4);
	} else if (inet_pton(AF_INET6, argv[1], &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		len = sizeof(*s6);
	} else {
		fprintf(stderr, "dnsresp: bad address %s\n", argv[1]);
		return 2;
	}
	fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&ss, len)) {
		perror("dnsresp: bind");
		return 1;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	printf("ready\n");
	fflush(stdout);
	while (time(NULL) < end) {
		socklen_t plen = sizeof(peer);
		ssize_t n = recvfrom(fd, buf, sizeof(buf) - 16, 0,
				     (struct sockaddr *)&peer, &plen);
		size_t q;

		if (n < 17 || (buf[2] & 0x80))
			continue;
		/* End of the question: its name, then type and class. */
		for (q = 12; q < (size_t)n && buf[q]; q += buf[q] + 1u)
			;
		q += 5;
		if (q > (size_t)n)
			continue;
		buf[2] = 0x81; /* QR, RD */
		buf[3] = 0x80; /* RA */
		buf[6] = 0, buf[7] = 1;	 /* ANCOUNT */
		buf[8] = buf[9] = buf[10] = buf[11] = 0;
		memcpy(buf + q, "\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04", 12);
		memcpy(buf + q + 12, &ans, 4);
		sendto(fd, buf, q + 16, 0, (struct sockaddr *)&peer, plen);
	}
	close(fd);
	return 0;
}
