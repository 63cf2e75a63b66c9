/*
 * Flow options (mist/flow.h) as the host's socket options. Times are given
 * in ns and the kernel takes whole seconds (keepalive) or milliseconds (user
 * timeout): they are rounded up, so that a connection never gives up sooner
 * than asked. A value the kernel would refuse is refused here with
 * MIST_EINVAL, before any option is changed.
 */
#include <errno.h>
#include <limits.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "sock.h"

/* Linux's limits (include/net/tcp.h): MAX_TCP_KEEPIDLE, MAX_TCP_KEEPINTVL, MAX_TCP_KEEPCNT. */
#define FLOW_KEEPALIVE_SECS_MAX   32767u
#define FLOW_KEEPALIVE_PROBES_MAX 127u

static int flow_setsockopt(struct mist_flow *f, int level, int name, int value)
{
	if (setsockopt(f->fd, level, name, &value, sizeof(value)) != 0)
		return sock_error_from_errno(errno);
	return 0;
}

static uint64_t ns_to_units_up(uint64_t ns, uint64_t unit)
{
	return ns / unit + (ns % unit != 0);
}

int mist_flow_set_nodelay(struct mist_flow *f, bool nodelay)
{
	return flow_setsockopt(f, IPPROTO_TCP, TCP_NODELAY, nodelay);
}

/* RFC 1122 4.2.3.6: keepalive is off by default and its idle time configurable. */
int mist_flow_set_keepalive(struct mist_flow *f, uint64_t idle, uint64_t interval, unsigned probes)
{
	if (idle == 0)
		return flow_setsockopt(f, SOL_SOCKET, SO_KEEPALIVE, 0);
	uint64_t idle_s = ns_to_units_up(idle, MIST_SEC);
	uint64_t interval_s = ns_to_units_up(interval, MIST_SEC);
	if (idle_s > FLOW_KEEPALIVE_SECS_MAX || interval_s == 0 ||
	    interval_s > FLOW_KEEPALIVE_SECS_MAX || probes == 0 ||
	    probes > FLOW_KEEPALIVE_PROBES_MAX)
		return MIST_EINVAL;
	int err = flow_setsockopt(f, IPPROTO_TCP, TCP_KEEPIDLE, (int)idle_s);
	if (err == 0)
		err = flow_setsockopt(f, IPPROTO_TCP, TCP_KEEPINTVL, (int)interval_s);
	if (err == 0)
		err = flow_setsockopt(f, IPPROTO_TCP, TCP_KEEPCNT, (int)probes);
	if (err == 0)
		err = flow_setsockopt(f, SOL_SOCKET, SO_KEEPALIVE, 1);
	return err;
}

/* Linux doubles the size it is given (socket(7)) and takes an int: half of INT_MAX at most. */
int mist_flow_set_buffers(struct mist_flow *f, uint32_t send, uint32_t receive)
{
	if (send > INT_MAX / 2 || receive > INT_MAX / 2)
		return MIST_EINVAL;
	int err = 0;
	if (send != 0)
		err = flow_setsockopt(f, SOL_SOCKET, SO_SNDBUF, (int)send);
	if (err == 0 && receive != 0)
		err = flow_setsockopt(f, SOL_SOCKET, SO_RCVBUF, (int)receive);
	return err;
}

/* RFC 5482; on Linux, TCP_USER_TIMEOUT in ms, 0 for the system's default. */
int mist_flow_set_user_timeout(struct mist_flow *f, uint64_t timeout)
{
	uint64_t ms = ns_to_units_up(timeout, MIST_MSEC);
	if (ms > INT_MAX)
		return MIST_EINVAL;
	return flow_setsockopt(f, IPPROTO_TCP, TCP_USER_TIMEOUT, (int)ms);
}
