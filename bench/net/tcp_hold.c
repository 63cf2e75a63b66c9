/*
 * Opens COUNT TCP connections to an echo server and holds them idle, for
 * the memory figure of bench/tcp_bench.sh. Each connection sends one byte
 * and waits for its echo, so that when the program reports, every
 * connection is established on the server's side too and its handler has
 * run; then nothing more is sent. At most BATCH connects are in progress at
 * once, so the server's SYN backlog is not what is measured. Single
 * thread, non-blocking sockets over epoll. Plain C, not a Mist program; the
 * bench script builds it with cc.
 *
 * Usage: tcp_hold ADDR PORT COUNT [SECS]
 *        SECS (default 60): the most the connections may take to be set up.
 *
 * Output, one line once every connection has echoed, after which it holds
 * them until SIGTERM or SIGINT and exits 0:
 *   tcp_hold established=N secs=S
 * Exit status 1 if a connection fails or SECS pass first, 2 for bad arguments.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH      256 /* connects in progress at once */
#define EVENTS_MAX 256
#define FDS_SPARE  64 /* descriptors besides the connections */

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void on_signal(int sig)
{
	(void)sig;
}

static int fail(const char *what)
{
	fprintf(stderr, "tcp_hold: %s: %s\n", what, strerror(errno));
	return 1;
}

/* Starts a non-blocking connect and watches it for writability (connected). */
static int start_connect(int ep, const struct sockaddr_in *sa)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) < 0 && errno != EINPROGRESS)
		return -1;
	struct epoll_event ev = {.events = EPOLLOUT, .data.fd = fd};
	return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0 ? -1 : fd;
}

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: %s ADDR PORT COUNT [SECS]\n", argv[0]);
		return 2;
	}
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[2]))};
	if (inet_pton(AF_INET, argv[1], &sa.sin_addr) != 1) {
		fprintf(stderr, "tcp_hold: bad address %s\n", argv[1]);
		return 2;
	}
	long count = atol(argv[3]);
	double secs = argc > 4 ? atof(argv[4]) : 60.0;
	struct rlimit rl = {.rlim_cur = (rlim_t)count + FDS_SPARE,
	                    .rlim_max = (rlim_t)count + FDS_SPARE};
	struct rlimit cur;
	getrlimit(RLIMIT_NOFILE, &cur);
	if (cur.rlim_cur < rl.rlim_cur && setrlimit(RLIMIT_NOFILE, &rl) < 0)
		return fail("raising the descriptor limit");
	struct sigaction act = {.sa_handler = on_signal};
	sigaction(SIGTERM, &act, NULL);
	sigaction(SIGINT, &act, NULL);

	int ep = epoll_create1(0);
	if (ep < 0)
		return fail("epoll_create1");
	long started = 0, connecting = 0, echoed = 0;
	double t0 = now(), deadline = t0 + secs;
	struct epoll_event events[EVENTS_MAX];
	while (echoed < count) {
		while (started < count && connecting < BATCH) {
			if (start_connect(ep, &sa) < 0)
				return fail("connect");
			started++;
			connecting++;
		}
		if (now() > deadline) {
			fprintf(stderr, "tcp_hold: only %ld of %ld connections within %.0f s\n",
			        echoed, count, secs);
			return 1;
		}
		int n = epoll_wait(ep, events, EVENTS_MAX, 100);
		if (n < 0 && errno != EINTR)
			return fail("epoll_wait");
		for (int i = 0; i < n; i++) {
			int fd = events[i].data.fd;
			if (events[i].events & EPOLLOUT) {
				/* Connected, or failed: SO_ERROR says which. */
				int err = 0;
				socklen_t len = sizeof(err);
				getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
				errno = err;
				if (err != 0 || send(fd, "x", 1, MSG_NOSIGNAL) != 1)
					return fail("connect or send");
				struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};
				epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev);
			} else {
				/* EPOLLIN, or EPOLLERR/EPOLLHUP of a connection that failed. */
				char c;
				if (recv(fd, &c, 1, 0) != 1) {
					errno = errno != 0 ? errno : ECONNRESET;
					return fail("waiting for the echo");
				}
				/* Idle from now on: no longer watched, held open until exit. */
				epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
				connecting--;
				echoed++;
			}
		}
	}
	printf("tcp_hold established=%ld secs=%.3f\n", echoed, now() - t0);
	fflush(stdout);
	pause();
	return 0;
}
