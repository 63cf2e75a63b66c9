/*
 * UDP ping-pong client for bench/net_echo.sh: a connect()ed UDP socket sends
 * a datagram, waits up to 100 ms for the echo, and repeats, until COUNT
 * echoes have been sent or SECONDS have passed, whichever comes first.
 * Replies are checked against the sequence number in the payload so a late
 * echo of an earlier datagram is not counted as an answer. Plain C, not a
 * Mist program; bench/net_echo.sh builds it with cc.
 *
 * Usage: udp_pingpong ADDR PORT [COUNT [SECONDS [SIZE]]]
 *        defaults: COUNT 50000, SECONDS 5, SIZE 64 (bytes of UDP payload)
 *
 * Output: udp_pingpong ok=<n> timeouts=<n> stale=<n> errors=<n> secs=<s> dps=<ok/s>
 * Exit status 1 if nothing came back.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: %s ADDR PORT [COUNT [SECONDS [SIZE]]]\n", argv[0]);
		return 2;
	}
	long count = argc > 3 ? atol(argv[3]) : 50000;
	double secs = argc > 4 ? atof(argv[4]) : 5.0;
	size_t size = argc > 5 ? (size_t)atol(argv[5]) : 64;
	if (size < sizeof(uint64_t))
		size = sizeof(uint64_t);
	if (size > 1472)
		size = 1472;

	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0) {
		perror("socket");
		return 2;
	}
	struct timeval tv = {0, 100000}; /* 100 ms */
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	struct sockaddr_in sa;
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_port = htons((unsigned short)atoi(argv[2]));
	if (inet_pton(AF_INET, argv[1], &sa.sin_addr) != 1) {
		fprintf(stderr, "bad address %s\n", argv[1]);
		return 2;
	}
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		perror("connect");
		return 2;
	}

	unsigned char out[1472], in[2048];
	memset(out, 0xa5, sizeof out);
	long ok = 0, timeouts = 0, stale = 0, errors = 0;
	double t0 = now(), t = t0, end = t0 + secs;
	for (uint64_t seq = 0; (long)seq < count && t < end; seq++) {
		memcpy(out, &seq, sizeof seq);
		if (send(fd, out, size, 0) < 0) {
			/* e.g. ECONNREFUSED from an earlier ICMP error */
			errors++;
			t = now();
			continue;
		}
		for (;;) {
			ssize_t n = recv(fd, in, sizeof in, 0);
			if (n < 0) {
				if (errno == EAGAIN || errno == EWOULDBLOCK)
					timeouts++;
				else if (errno == EINTR)
					continue;
				else
					errors++;
				break;
			}
			uint64_t got;
			if ((size_t)n == size && (memcpy(&got, in, sizeof got), got == seq)) {
				ok++;
				break;
			}
			stale++; /* a late echo of an earlier datagram: keep waiting */
		}
		t = now();
	}
	double el = t - t0;
	printf("udp_pingpong ok=%ld timeouts=%ld stale=%ld errors=%ld secs=%.3f dps=%.0f\n", ok,
	       timeouts, stale, errors, el, el > 0 ? (double)ok / el : 0.0);
	return ok > 0 ? 0 : 1;
}
