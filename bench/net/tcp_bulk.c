/*
 * One-connection bulk TCP transfer on the kernel side, for
 * bench/tcp_bench.sh: the sender and the receiver that Mist's bulk app is
 * measured against, and that measure each other over a veth pair for the
 * Linux reference. Both ends time the same thing as bulk does: the sender
 * from the established connection until the receiver has closed after
 * reading everything (so buffering in the sender's socket is not counted as
 * sent), the receiver from the accept until the sender's FIN. Plain
 * blocking sockets with default options, as bulk sets none. Plain C, not a
 * Mist program; the bench script builds it with cc.
 *
 * Usage: tcp_bulk send ADDR PORT BYTES   BYTES with a k, M or G suffix
 *        tcp_bulk sink PORT              one connection, then exit
 *
 * Output, one line:
 *   tcp_bulk mode=send|sink bytes=N secs=S mbps=M
 * Exit status 1 if the transfer failed, 2 for bad arguments.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define CHUNK (256 * 1024) /* bytes per send/recv call */

static unsigned char chunk[CHUNK];

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void report(const char *mode, uint64_t bytes, double secs)
{
	printf("tcp_bulk mode=%s bytes=%llu secs=%.6f mbps=%.2f\n", mode, (unsigned long long)bytes,
	       secs, secs > 0 ? (double)bytes * 8 / secs / 1e6 : 0.0);
}

static int die(const char *what)
{
	fprintf(stderr, "tcp_bulk: %s: %s\n", what, strerror(errno));
	return 1;
}

static uint64_t parse_bytes(const char *s)
{
	char *end;
	uint64_t v = strtoull(s, &end, 10);
	switch (*end) {
	case 'k':
		return v << 10;
	case 'M':
		return v << 20;
	case 'G':
		return v << 30;
	default:
		return v;
	}
}

static int bulk_send(const char *addr, int port, uint64_t bytes)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1) {
		fprintf(stderr, "tcp_bulk: bad address %s\n", addr);
		return 2;
	}
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		return die("socket");
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return die("connect");
	memset(chunk, 0x5a, sizeof(chunk));
	double t0 = now();
	for (uint64_t sent = 0; sent < bytes;) {
		size_t n = bytes - sent < CHUNK ? (size_t)(bytes - sent) : CHUNK;
		ssize_t w = send(fd, chunk, n, MSG_NOSIGNAL);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return die("send");
		}
		sent += (uint64_t)w;
	}
	if (shutdown(fd, SHUT_WR) < 0)
		return die("shutdown");
	/* The receiver closes once it has read everything: that is when it all arrived. */
	for (;;) {
		ssize_t r = recv(fd, chunk, CHUNK, 0);
		if (r == 0)
			break;
		if (r < 0 && errno != EINTR)
			return die("recv after shutdown");
	}
	report("send", bytes, now() - t0);
	close(fd);
	return 0;
}

static int bulk_sink(int port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET,
	                         .sin_port = htons((uint16_t)port),
	                         .sin_addr.s_addr = htonl(INADDR_ANY)};
	int one = 1;
	int lfd = socket(AF_INET, SOCK_STREAM, 0);
	if (lfd < 0)
		return die("socket");
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(lfd, 1) < 0)
		return die("bind/listen");
	int fd = accept(lfd, NULL, NULL);
	if (fd < 0)
		return die("accept");
	double t0 = now();
	uint64_t bytes = 0;
	for (;;) {
		ssize_t r = recv(fd, chunk, CHUNK, 0);
		if (r == 0)
			break;
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return die("recv");
		}
		bytes += (uint64_t)r;
	}
	double secs = now() - t0;
	close(fd);
	close(lfd);
	report("sink", bytes, secs);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 5 && strcmp(argv[1], "send") == 0)
		return bulk_send(argv[2], atoi(argv[3]), parse_bytes(argv[4]));
	if (argc == 3 && strcmp(argv[1], "sink") == 0)
		return bulk_sink(atoi(argv[2]));
	fprintf(stderr, "usage: %s send ADDR PORT BYTES | %s sink PORT\n", argv[0], argv[0]);
	return 2;
}
