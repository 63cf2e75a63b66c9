/*
 * TCP load generator for the benchmarks, single-threaded over epoll. Plain
 * C, not a Mist program; the bench scripts build it with cc. Modes:
 *
 *   rr    request/response: each of CONNS connections sends SIZE bytes
 *         (at most 4096), waits for SIZE bytes back (an echo), and
 *         repeats, for SECS seconds; reports transactions per second over
 *         all connections.
 *   echo  bulk through an echo server: each connection sends BYTES bytes
 *         of a known pattern while reading the echo, checks every byte
 *         that comes back, and is done when all BYTES have; reports the
 *         payload throughput (one direction) in Mbit/s.
 *   send  bulk into a sink: each connection sends BYTES bytes, shuts its
 *         write side and waits for the server to close, so the time
 *         counts delivery, not just buffering; reports Mbit/s.
 *
 * Connections are all established before the clock starts. A connection
 * that fails, a wrong echo, or a bulk transfer not done within SECS makes
 * the run fail (exit status 1).
 *
 * Usage: tcp_rr -a ADDR [-p PORT] [-m rr|echo|send] [-c CONNS] [-s SIZE]
 *               [-t SECS] [-n BYTES]
 *        defaults: PORT 8081, mode rr, CONNS 1, SIZE 1, BYTES 100M (k, M
 *        or G suffix: binary multiples); SECS 5 in rr mode (the run's
 *        length), 60 in the bulk modes (the most a transfer may take)
 *
 * Output, one line:
 *   tcp_rr mode=rr conns=C size=S secs=T transactions=N tps=N
 *   tcp_rr mode=echo|send conns=C bytes=B secs=T mbps=N
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define EVENTS_MAX  256
#define CHUNK       65536 /* bytes per send() or recv() in the bulk modes */
#define RR_SIZE_MAX 4096  /* a request always fits an empty send buffer (tcp_wmem min) */

enum mode { MODE_RR, MODE_ECHO, MODE_SEND };

struct conn {
	int fd;
	uint64_t sent, received; /* bytes */
	uint64_t transactions;
	int done;
};

static enum mode mode = MODE_RR;
static size_t size = 1;
static uint64_t bytes = 100ull << 20;
static unsigned char chunk_out[CHUNK], chunk_in[CHUNK];

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void usage(const char *prog)
{
	fprintf(stderr,
	        "usage: %s -a ADDR [-p PORT] [-m rr|echo|send] [-c CONNS] [-s SIZE] [-t SECS] "
	        "[-n BYTES]\n",
	        prog);
	exit(2);
}

static void fail(const char *what, const struct conn *c)
{
	fprintf(stderr, "tcp_rr: %s (connection fd %d: sent %llu, received %llu): %s\n", what,
	        c->fd, (unsigned long long)c->sent, (unsigned long long)c->received,
	        errno != 0 ? strerror(errno) : "-");
	exit(1);
}

/* The byte at stream offset `off`: a pattern whose period (251, prime) no chunk size shares. */
static unsigned char pattern(uint64_t off)
{
	return (unsigned char)(off % 251);
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

/* Sends as much of the connection's stream as the socket takes. */
static void bulk_send(struct conn *c)
{
	while (c->sent < bytes) {
		size_t n = bytes - c->sent < CHUNK ? (size_t)(bytes - c->sent) : CHUNK;
		for (size_t i = 0; i < n; i++)
			chunk_out[i] = pattern(c->sent + i);
		ssize_t w = send(c->fd, chunk_out, n, MSG_NOSIGNAL);
		if (w < 0) {
			if (errno == EAGAIN)
				return;
			fail("send", c);
		}
		c->sent += (uint64_t)w;
	}
	if (mode == MODE_SEND && shutdown(c->fd, SHUT_WR) < 0)
		fail("shutdown", c);
}

/* Reads what has come; in echo mode checks it against the pattern. */
static void bulk_receive(struct conn *c)
{
	for (;;) {
		ssize_t r = recv(c->fd, chunk_in, CHUNK, 0);
		if (r < 0) {
			if (errno == EAGAIN)
				return;
			fail("recv", c);
		}
		if (r == 0) {
			if (mode == MODE_SEND && c->sent == bytes) {
				c->done = 1;
				return;
			}
			errno = 0;
			fail("early end of stream", c);
		}
		for (ssize_t i = 0; mode == MODE_ECHO && i < r; i++) {
			if (chunk_in[i] != pattern(c->received + (uint64_t)i)) {
				errno = 0;
				fail("echo differs from what was sent", c);
			}
		}
		c->received += (uint64_t)r;
		if (mode == MODE_ECHO && c->received == bytes)
			c->done = 1;
	}
}

/* Reads a response; when whole, counts it and sends the next request. */
static void rr_event(struct conn *c)
{
	for (;;) {
		ssize_t r = recv(c->fd, chunk_in, CHUNK, 0);
		if (r < 0) {
			if (errno == EAGAIN)
				return;
			fail("recv", c);
		}
		if (r == 0) {
			errno = 0;
			fail("early end of stream", c);
		}
		c->received += (uint64_t)r;
		if (c->received > size) {
			errno = 0;
			fail("more bytes back than were sent", c);
		}
		if (c->received == size) {
			c->received = 0;
			c->transactions++;
			if (send(c->fd, chunk_out, size, MSG_NOSIGNAL) != (ssize_t)size)
				fail("send of a request", c);
		}
	}
}

static int connect_to(const struct sockaddr_in *sa)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) < 0) {
		perror("tcp_rr: connect");
		exit(1);
	}
	int one = 1;
	/* A request is sent whole at once; Nagle would only add delay to the client. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	/* Connected blocking, so that every connection is up before the clock starts. */
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	return fd;
}

int main(int argc, char **argv)
{
	const char *addr = NULL;
	int port = 8081, opt;
	unsigned nconns = 1;
	double secs = 0;
	while ((opt = getopt(argc, argv, "a:p:m:c:s:t:n:")) != -1) {
		switch (opt) {
		case 'a':
			addr = optarg;
			break;
		case 'p':
			port = atoi(optarg);
			break;
		case 'm':
			if (strcmp(optarg, "rr") == 0)
				mode = MODE_RR;
			else if (strcmp(optarg, "echo") == 0)
				mode = MODE_ECHO;
			else if (strcmp(optarg, "send") == 0)
				mode = MODE_SEND;
			else
				usage(argv[0]);
			break;
		case 'c':
			nconns = (unsigned)atoi(optarg);
			break;
		case 's':
			size = (size_t)atol(optarg);
			break;
		case 't':
			secs = atof(optarg);
			break;
		case 'n':
			bytes = parse_bytes(optarg);
			break;
		default:
			usage(argv[0]);
		}
	}
	if (addr == NULL || optind != argc || nconns == 0 || size == 0 || size > RR_SIZE_MAX ||
	    secs < 0 || bytes == 0)
		usage(argv[0]);
	if (secs == 0)
		secs = mode == MODE_RR ? 5 : 60;
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port)};
	if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1)
		usage(argv[0]);

	struct conn *conns = calloc(nconns, sizeof(*conns));
	int epfd = epoll_create1(EPOLL_CLOEXEC);
	for (unsigned i = 0; i < nconns; i++) {
		conns[i].fd = connect_to(&sa);
		/* A request always fits the send buffer: rr needs no EPOLLOUT. */
		struct epoll_event ev = {.events = EPOLLIN | EPOLLET, .data.ptr = &conns[i]};
		if (mode != MODE_RR)
			ev.events |= EPOLLOUT;
		epoll_ctl(epfd, EPOLL_CTL_ADD, conns[i].fd, &ev);
	}
	memset(chunk_out, 'r', size <= CHUNK ? size : CHUNK);

	double start = now(), end = start + secs, t = start;
	unsigned done = 0;
	if (mode == MODE_RR) {
		for (unsigned i = 0; i < nconns; i++)
			if (send(conns[i].fd, chunk_out, size, MSG_NOSIGNAL) != (ssize_t)size)
				fail("send of the first request", &conns[i]);
	}
	struct epoll_event events[EVENTS_MAX];
	while (mode == MODE_RR ? t < end : done < nconns) {
		int n = epoll_wait(epfd, events, EVENTS_MAX, 100);
		for (int i = 0; i < n; i++) {
			struct conn *c = events[i].data.ptr;
			if (mode == MODE_RR) {
				rr_event(c);
				continue;
			}
			if (c->done)
				continue;
			if (events[i].events & EPOLLOUT)
				bulk_send(c);
			bulk_receive(c);
			done += (unsigned)c->done;
		}
		t = now();
		if (mode != MODE_RR && done < nconns && t > end) {
			fprintf(stderr, "tcp_rr: %u of %u transfers not done after %.0f s\n",
			        nconns - done, nconns, secs);
			return 1;
		}
	}
	double elapsed = t - start;

	if (mode == MODE_RR) {
		uint64_t total = 0;
		for (unsigned i = 0; i < nconns; i++)
			total += conns[i].transactions;
		printf("tcp_rr mode=rr conns=%u size=%zu secs=%.2f transactions=%llu tps=%.0f\n",
		       nconns, size, elapsed, (unsigned long long)total, (double)total / elapsed);
	} else {
		printf("tcp_rr mode=%s conns=%u bytes=%llu secs=%.3f mbps=%.0f\n",
		       mode == MODE_ECHO ? "echo" : "send", nconns, (unsigned long long)bytes,
		       elapsed, (double)bytes * nconns * 8 / elapsed / 1e6);
	}
	return 0;
}
