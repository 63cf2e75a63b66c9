/*
 * Reference UDP echo server for bench/net_echo.sh: the Linux kernel's stack
 * with the simplest possible user loop (blocking recvfrom, sendto back).
 * Plain C, not a Mist program; bench/net_echo.sh builds it with cc.
 *
 * Usage: udp_echo_ref [PORT]   (default 8081; binds 0.0.0.0; SIGTERM ends it)
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int port = argc > 1 ? atoi(argv[1]) : 8081;
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0) {
		perror("socket");
		return 1;
	}
	struct sockaddr_in sa;
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_port = htons((unsigned short)port);
	sa.sin_addr.s_addr = htonl(INADDR_ANY);
	if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		perror("bind");
		return 1;
	}
	char buf[65536];
	for (;;) {
		struct sockaddr_in from;
		socklen_t fl = sizeof from;
		ssize_t n = recvfrom(fd, buf, sizeof buf, 0, (struct sockaddr *)&from, &fl);
		if (n < 0)
			continue;
		sendto(fd, buf, (size_t)n, 0, (struct sockaddr *)&from, fl);
	}
}
