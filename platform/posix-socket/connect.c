/*
 * Connecting (mist_tcp_connect of mist/flow.h): a non-blocking connect()
 * from the stack's address, then a wait for the socket to become writable,
 * which is when the kernel's handshake has succeeded or failed (connect(2):
 * EINPROGRESS, then SO_ERROR tells which).
 */
#define MIST_LOG_TAG "sock"

#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sock.h"

/*
 * Binds to the stack's address when --ipv4 named one, so that connections
 * leave from it. IP_BIND_ADDRESS_NO_PORT defers the choice of the port to
 * connect(), which can then reuse a port towards other destinations.
 */
static int connect_bind(const struct mist_stack *s, int fd)
{
	if (s->addr.s_addr == htonl(INADDR_ANY))
		return 0;
	int one = 1;
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr = s->addr};
	if (setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one)) != 0 ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
		return -errno;
	return 0;
}

/*
 * Waits for the handshake of `f` to end. Returns 0 once established; the
 * MIST_E* of its failure; MIST_ETIMEDOUT when `deadline` passed first.
 */
static int connect_wait(struct mist_flow *f, uint64_t deadline)
{
	for (;;) {
		int soerr = 0;
		socklen_t len = sizeof(soerr);
		if (getsockopt(f->fd, SOL_SOCKET, SO_ERROR, &soerr, &len) != 0)
			return sock_error_from_errno(errno);
		if (soerr != 0)
			return sock_error_from_errno(soerr);
		struct sockaddr_in peer;
		len = sizeof(peer);
		if (getpeername(f->fd, (struct sockaddr *)&peer, &len) == 0)
			return 0;
		if (errno != ENOTCONN)
			return sock_error_from_errno(errno);
		int err = mist_wait(&f->writers, deadline);
		if (err != 0)
			return err;
	}
}

int mist_tcp_connect(struct mist_stack *net, const struct mist_addr *to, uint64_t deadline,
                     struct mist_flow **out)
{
	if (net == NULL || to == NULL || to->port == 0)
		return MIST_EINVAL;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		net->stats.connect_failed++;
		return sock_error_from_errno(errno);
	}
	int err = connect_bind(net, fd);
	struct sockaddr_in sa = sock_addr_in(to->ip, to->port);
	if (err == 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 &&
	    errno != EINPROGRESS)
		err = -errno;
	if (err != 0) {
		close(fd);
		net->stats.connect_failed++;
		return sock_error_from_errno(-err);
	}
	struct mist_flow *f = sock_flow_create(net, fd, to);
	if (f == NULL) {
		close(fd);
		net->stats.connect_failed++;
		return MIST_ENOMEM;
	}
	err = connect_wait(f, deadline);
	if (err != 0) {
		mist_flow_close(f);
		net->stats.connect_failed++;
		return err;
	}
	net->stats.connected++;
	*out = f;
	return 0;
}
