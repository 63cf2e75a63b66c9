/*
 * Internals of the socket stack: the implementation of mist/flow.h,
 * mist/udp.h and mist/net.h over the host kernel's TCP and UDP, for the
 * posix-socket target. Every socket is non-blocking and watched,
 * edge-triggered, in the posix platform's epoll set (posix.h); a fiber that
 * would block waits on a wait queue of the socket, which the readiness
 * callback wakes. Files: stack.c (start, stop, buffers, counters, the loop's
 * poller), listen.c (listeners and their accept fibers), flow.c (data and
 * closing), flow_opts.c (options), connect.c, udp.c, errno_map.c.
 *
 * struct mist_stack here is this target's own, unrelated to src/net's.
 */
#ifndef MIST_SOCK_H
#define MIST_SOCK_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

#include "../posix/posix.h"
#include "core/sched.h"
#include "errno_map.h"
#include "mist/mist.h"

/*
 * Buffers handed out by mist_flow_read(), mist_udp_recv() and
 * mist_net_buf_alloc(): one read fills one buffer, so their size is the
 * most a read returns; 16 KiB moves bulk data in few system calls while
 * a busy connection holds little. The kernel prepends every header, so
 * they have no headroom. The pool reserves address space only; pages are
 * touched as buffers are used, the most recently freed first.
 */
#define SOCK_BUF_SIZE 16384u
#define SOCK_BUFFERS  2048u

/* The largest UDP payload: a 65535-byte IPv4 datagram less 20 + 8 header bytes. */
#define SOCK_UDP_PAYLOAD_MAX 65507u

/* iovec entries handed to one sendmsg(); longer chains go in several calls. */
#define SOCK_IOV_MAX 32

/* Every counter of the stack, with what it counts; dumped by mist_net_stats_print(). */
#define SOCK_STATS(X)                                                                   \
	X(accepted, "connections accepted")                                             \
	X(accept_errors, "accept() failures other than an empty queue")                 \
	X(connected, "connections established by mist_tcp_connect()")                   \
	X(connect_failed, "mist_tcp_connect() calls that failed")                       \
	X(rx_bytes, "TCP bytes read")                                                   \
	X(tx_bytes, "TCP bytes written")                                                \
	X(resets_sent, "connections aborted with a reset")                              \
	X(conn_errors, "connections that ended with an error")                          \
	X(no_buffer, "reads that waited for a free buffer")                             \
	X(accept_dropped, "accepted, then closed: no memory for the flow or its fiber") \
	X(udp_rx, "UDP datagrams received")                                             \
	X(udp_tx, "UDP datagrams sent")                                                 \
	X(udp_icmp_errors, "ICMP errors reported for datagrams sent (IP_RECVERR)")      \
	X(udp_tx_errors, "UDP datagrams the kernel refused (no route, no buffer, ...)") \
	X(udp_rx_errors, "UDP receives that failed other than for want of a datagram")

struct sock_stats {
#define SOCK_STAT_FIELD(name, what) uint64_t name;
	SOCK_STATS(SOCK_STAT_FIELD)
#undef SOCK_STAT_FIELD
};

struct sock_listener;

struct mist_stack {
	struct mist_poller poller; /* dispatches socket readiness in busy turns */
	struct in_addr addr;       /* --ipv4's address, or INADDR_ANY */
	struct mist_pool *pool;
	struct sock_listener *listeners;
	struct mist_flow *flows; /* open flows, for the teardown */
	struct mist_udp *udps;   /* open endpoints, for the teardown */
	uint8_t *udp_scratch;    /* a datagram's room: received past a buffer, or gathered */
	struct sock_stats stats;
};

struct mist_flow {
	struct posix_watch watch;
	struct mist_stack *stack;
	struct mist_flow *prev, *next; /* in stack->flows */
	int fd;
	int error;      /* MIST_E* the connection ended with, or 0 */
	bool read_done; /* end of stream, or shut down for reading */
	bool readable;  /* data may be waiting: no EAGAIN nor short read since the last edge */
	bool short_read_drains; /* only data has come so far: a short read leaves nothing (flow.c) */
	bool write_shut;
	bool in_handler; /* accepted: the handler fiber frees it when the handler returns */
	bool closed;     /* closed or aborted while in its handler */
	struct mist_waitq readers;
	struct mist_waitq writers;
	struct mist_addr peer;
	mist_flow_handler handler;
	void *handler_arg;
};

/* --- between the files -------------------------------------------------- */

/* A sockaddr_in for `ip`:`port`. */
struct sockaddr_in sock_addr_in(struct mist_ipv4_addr ip, uint16_t port);

/* The address and port of a sockaddr_in. */
struct mist_addr sock_addr_from(const struct sockaddr_in *sa);

/*
 * Allocates a buffer of SOCK_BUF_SIZE bytes to read into, waiting for one to
 * be freed while the pool is empty (the kernel holds the data meanwhile).
 * Returns NULL when `deadline` passed first.
 */
struct mist_buf *sock_read_buf(struct mist_stack *s, uint64_t deadline);

/*
 * Makes a flow of the connected, non-blocking socket `fd` and watches it.
 * Returns NULL, `fd` left open, when out of memory.
 */
struct mist_flow *sock_flow_create(struct mist_stack *s, int fd, const struct mist_addr *peer);

/*
 * Ends an accepted connection's fiber after its handler returned: closes the
 * flow as mist_flow_close() unless the handler closed or aborted it, and
 * frees it.
 */
void sock_flow_handler_done(struct mist_flow *f);

/* Unwatches and closes the socket of each flow, listener and endpoint; frees them. */
void sock_flows_destroy(struct mist_stack *s);
void sock_listeners_destroy(struct mist_stack *s);
void sock_udp_destroy(struct mist_stack *s);

#endif
