/*
 * One-connection bulk TCP transfer on the kernel side, for
 * bench/tcp_bench.sh and bench/pvh_tcp.sh: the sender and the receiver that
 * Mist's bulk app is measured against, and that measure each other over a
 * veth pair for the Linux reference. Both ends time the same thing as bulk
 * does: the sender from the established connection until the receiver has
 * closed after reading everything (so buffering in the sender's socket is
 * not counted as sent), the receiver from the accept until the sender's
 * FIN. Plain blocking sockets with default options, as bulk sets none.
 *
 * The echo mode is the client of an echo server (Mist's echo app): it sends
 * BYTES and reads them back at the same time, from the established
 * connection until the server's FIN that answers its own, and checks that
 * every byte came back in order (the stream is a pattern of period 251, a
 * prime, so a segment echoed at a wrong offset shows). Its throughput is
 * BYTES over that time, one direction's worth. It uses one thread and a
 * non-blocking socket under poll(), so neither direction waits for the
 * other.
 *
 * Plain C, not a Mist program; the bench scripts build it with cc.
 *
 * Usage: tcp_bulk send ADDR PORT BYTES   BYTES with a k, M or G suffix
 *        tcp_bulk sink PORT              one connection, then exit
 *        tcp_bulk echo ADDR PORT BYTES
 *
 * Output, one line:
 *   tcp_bulk mode=send|sink|echo bytes=N secs=S mbps=M
 * Exit status 1 if the transfer failed (for echo: also if fewer, more or
 * other bytes came back), 2 for bad arguments.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define CHUNK (256 * 1024) /* bytes per send/recv call */
/* The echo stream's byte at offset i is i % ECHO_PERIOD; a prime, so no power-of-two shift aliases. */
#define ECHO_PERIOD 251

static unsigned char chunk[CHUNK];
/* CHUNK bytes of the echo pattern from any phase: the pattern from phase p starts at echo_pattern + p. */
static unsigned char echo_pattern[CHUNK + ECHO_PERIOD];

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

/* A socket connected to ADDR:PORT, or -1 for a bad address and -2 when the connect failed. */
static int connect_to(const char *addr, int port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1) {
		fprintf(stderr, "tcp_bulk: bad address %s\n", addr);
		return -1;
	}
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0) {
		die("socket");
		return -2;
	}
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		die("connect");
		return -2;
	}
	return fd;
}

static int bulk_send(const char *addr, int port, uint64_t bytes)
{
	int fd = connect_to(addr, port);
	if (fd < 0)
		return fd == -1 ? 2 : 1;
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

/* Sends the next piece of the pattern; sets *sent, and shuts down the write side after the last. */
static int echo_send_some(int fd, uint64_t bytes, uint64_t *sent)
{
	size_t n = bytes - *sent < CHUNK ? (size_t)(bytes - *sent) : CHUNK;
	ssize_t w = send(fd, echo_pattern + *sent % ECHO_PERIOD, n, MSG_NOSIGNAL);
	if (w < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : die("send");
	*sent += (uint64_t)w;
	if (*sent == bytes && shutdown(fd, SHUT_WR) < 0)
		return die("shutdown");
	return 0;
}

/*
 * Reads what has come back and checks it against the pattern at *got;
 * sets *got and *eof. More bytes than were sent count as wrong bytes.
 */
static int echo_receive_some(int fd, uint64_t bytes, uint64_t *got, bool *eof)
{
	ssize_t r = recv(fd, chunk, CHUNK, 0);
	if (r < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : die("recv");
	if (r == 0) {
		*eof = true;
		return 0;
	}
	if (*got + (uint64_t)r > bytes ||
	    memcmp(chunk, echo_pattern + *got % ECHO_PERIOD, (size_t)r) != 0) {
		fprintf(stderr, "tcp_bulk: echo: wrong bytes back among the %zd from offset %llu\n",
		        r, (unsigned long long)*got);
		return 1;
	}
	*got += (uint64_t)r;
	return 0;
}

static int bulk_echo(const char *addr, int port, uint64_t bytes)
{
	for (size_t i = 0; i < sizeof(echo_pattern); i++)
		echo_pattern[i] = (unsigned char)(i % ECHO_PERIOD);
	int fd = connect_to(addr, port);
	if (fd < 0)
		return fd == -1 ? 2 : 1;
	if (fcntl(fd, F_SETFL, O_NONBLOCK) < 0)
		return die("fcntl");
	if (bytes == 0 && shutdown(fd, SHUT_WR) < 0)
		return die("shutdown");

	double t0 = now();
	uint64_t sent = 0, got = 0;
	bool eof = false;
	while (!eof) {
		struct pollfd p = {.fd = fd, .events = POLLIN | (sent < bytes ? POLLOUT : 0)};
		if (poll(&p, 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			return die("poll");
		}
		int err = 0;
		if (p.revents & POLLOUT)
			err = echo_send_some(fd, bytes, &sent);
		if (err == 0 && (p.revents & (POLLIN | POLLHUP | POLLERR)))
			err = echo_receive_some(fd, bytes, &got, &eof);
		if (err != 0)
			return err;
	}
	if (got != bytes) {
		fprintf(stderr, "tcp_bulk: echo: %llu of %llu bytes came back\n",
		        (unsigned long long)got, (unsigned long long)bytes);
		return 1;
	}
	report("echo", bytes, now() - t0);
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 5 && strcmp(argv[1], "send") == 0)
		return bulk_send(argv[2], atoi(argv[3]), parse_bytes(argv[4]));
	if (argc == 3 && strcmp(argv[1], "sink") == 0)
		return bulk_sink(atoi(argv[2]));
	if (argc == 5 && strcmp(argv[1], "echo") == 0)
		return bulk_echo(argv[2], atoi(argv[3]), parse_bytes(argv[4]));
	fprintf(stderr, "usage: %s send ADDR PORT BYTES | %s sink PORT | %s echo ADDR PORT BYTES\n",
	        argv[0], argv[0], argv[0]);
	return 2;
}
