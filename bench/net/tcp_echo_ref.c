/*
 * Reference TCP echo server for the benchmarks: the Linux kernel's stack
 * with the plainest fast user loop, one thread, level-triggered epoll,
 * non-blocking sockets. Each readable connection gets one read of up to
 * BUFSIZE bytes, written straight back; what the socket does not take is
 * kept and the connection stops reading until it has gone (EPOLLOUT), so
 * a client that does not read cannot make the server grow. No socket
 * options are set, as Mist's echo app sets none. Plain C, not a Mist
 * program; the bench scripts build it with cc.
 *
 * Usage: tcp_echo_ref [-a ADDR] [-p PORT] [-b BUFSIZE]
 *        defaults: ADDR 0.0.0.0, PORT 8081, BUFSIZE 16384 (Mist's read size)
 * Runs until SIGTERM or SIGINT.
 */
#define _GNU_SOURCE /* accept4 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define EVENTS_MAX 256

struct conn {
	int fd;
	size_t pending_off, pending_len; /* bytes of buf not yet written back */
	char buf[];
};

static size_t bufsize = 16384;
static int epfd;

static void usage(const char *prog)
{
	fprintf(stderr, "usage: %s [-a ADDR] [-p PORT] [-b BUFSIZE]\n", prog);
	exit(2);
}

static void conn_close(struct conn *c)
{
	close(c->fd); /* also leaves the epoll set */
	free(c);
}

/* Writes what is pending; returns 0, or -1 when the connection is gone. */
static int conn_flush(struct conn *c)
{
	while (c->pending_len > 0) {
		ssize_t n = send(c->fd, c->buf + c->pending_off, c->pending_len, MSG_NOSIGNAL);
		if (n < 0)
			return errno == EAGAIN ? 0 : -1;
		c->pending_off += (size_t)n;
		c->pending_len -= (size_t)n;
	}
	return 0;
}

/* Watches for reading while nothing is pending, else for writing. */
static void conn_watch(struct conn *c, int op)
{
	struct epoll_event ev = {.events = c->pending_len > 0 ? EPOLLOUT : EPOLLIN, .data.ptr = c};
	epoll_ctl(epfd, op, c->fd, &ev);
}

static void conn_event(struct conn *c)
{
	if (c->pending_len > 0) {
		if (conn_flush(c) < 0) {
			conn_close(c);
		} else if (c->pending_len == 0) {
			conn_watch(c, EPOLL_CTL_MOD);
		}
		return;
	}
	ssize_t n = recv(c->fd, c->buf, bufsize, 0);
	if (n == 0 || (n < 0 && errno != EAGAIN)) {
		conn_close(c);
		return;
	}
	if (n < 0)
		return;
	c->pending_off = 0;
	c->pending_len = (size_t)n;
	if (conn_flush(c) < 0)
		conn_close(c);
	else if (c->pending_len > 0)
		conn_watch(c, EPOLL_CTL_MOD);
}

static void accept_all(int lfd)
{
	for (;;) {
		int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;
		struct conn *c = malloc(sizeof(*c) + bufsize);
		if (c == NULL) {
			close(fd);
			continue;
		}
		c->fd = fd;
		c->pending_off = c->pending_len = 0;
		conn_watch(c, EPOLL_CTL_ADD);
	}
}

int main(int argc, char **argv)
{
	const char *addr = "0.0.0.0";
	int port = 8081, opt;
	while ((opt = getopt(argc, argv, "a:p:b:")) != -1) {
		switch (opt) {
		case 'a':
			addr = optarg;
			break;
		case 'p':
			port = atoi(optarg);
			break;
		case 'b':
			bufsize = (size_t)atol(optarg);
			break;
		default:
			usage(argv[0]);
		}
	}
	if (optind != argc || port <= 0 || port > 65535 || bufsize == 0)
		usage(argv[0]);

	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port)};
	if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1)
		usage(argv[0]);
	/* SO_REUSEADDR as Mist's listeners: a restart need not wait out TIME-WAIT. */
	int one = 1;
	int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (lfd < 0 || setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(lfd, SOMAXCONN) < 0) {
		perror("tcp_echo_ref: listen");
		return 1;
	}
	epfd = epoll_create1(EPOLL_CLOEXEC);
	/* The listener is told apart from connections by a NULL pointer. */
	struct epoll_event lev = {.events = EPOLLIN, .data.ptr = NULL};
	epoll_ctl(epfd, EPOLL_CTL_ADD, lfd, &lev);
	fprintf(stderr, "tcp_echo_ref: echoing TCP on %s:%d\n", addr, port);

	struct epoll_event events[EVENTS_MAX];
	for (;;) {
		int n = epoll_wait(epfd, events, EVENTS_MAX, -1);
		if (n < 0 && errno != EINTR) {
			perror("tcp_echo_ref: epoll_wait");
			return 1;
		}
		for (int i = 0; i < n; i++) {
			if (events[i].data.ptr == NULL)
				accept_all(lfd);
			else
				conn_event(events[i].data.ptr);
		}
	}
}
