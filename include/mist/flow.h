/*
 * Flows: reliable byte streams (TCP), for use from fibers.
 *
 * A server listens on a port with a handler; every accepted connection runs
 * the handler in a fiber of its own, which may block in mist_flow_read() or
 * mist_flow_write() without holding up anything else. A client connects with
 * mist_tcp_connect(). The same calls work over Mist's own stack and, on the
 * posix-socket target, over the host kernel's sockets, with the same MIST_E*
 * codes for the same situations.
 *
 * Data received is handed over without copying: each buffer mist_flow_read()
 * returns is a view into a frame the device received, and becomes the
 * caller's, to free or to write back with mist_flow_write_buf().
 *
 * Errors a connection can end with: MIST_ECONNREFUSED (connect answered by a
 * reset), MIST_ECONNRESET (reset by the peer, or aborted), MIST_ETIMEDOUT
 * (the peer stopped answering: retransmissions, keepalive or the user
 * timeout gave up), MIST_EHOSTUNREACH (connect: no route or an ICMP
 * unreachable), MIST_EPIPE (writing after the write side was shut down).
 */
#ifndef MIST_FLOW_H
#define MIST_FLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mist/net.h>

struct mist_flow;

/*
 * Runs in its own fiber for each accepted connection. When it returns, the
 * flow is closed as by mist_flow_close() unless the handler closed or
 * aborted it itself.
 */
typedef void (*mist_flow_handler)(struct mist_flow *flow, void *arg);

/*
 * Listens on `port` of the stack's address (every address on posix-socket
 * without --ipv4) and runs `handler(flow, arg)` for each connection
 * accepted. Returns 0; MIST_EADDRINUSE when something listens there already;
 * MIST_ENOMEM; MIST_EINVAL when net is NULL or port is 0. Does not block.
 */
int mist_tcp_listen(struct mist_stack *net, uint16_t port, mist_flow_handler handler, void *arg);

/*
 * Stops listening on `port`: new connections are refused. Connections
 * already accepted, and their handlers, go on. Returns 0 or MIST_ENOENT.
 */
int mist_tcp_unlisten(struct mist_stack *net, uint16_t port);

/*
 * Connects to `to` from an ephemeral port, blocking the calling fiber until
 * the connection is established or `deadline` (MIST_FOREVER for none).
 * Returns 0 with the flow in *out; MIST_ECONNREFUSED, MIST_ETIMEDOUT,
 * MIST_EHOSTUNREACH, MIST_EADDRINUSE (no ephemeral port free), MIST_ENOMEM.
 */
int mist_tcp_connect(struct mist_stack *net, const struct mist_addr *to, uint64_t deadline,
                     struct mist_flow **out);

/*
 * Returns the next received data as one buffer, owned by the caller; NULL at
 * the end of the stream (the peer closed its side) or when the connection
 * ended with an error, which mist_flow_error() then tells. Blocks the
 * calling fiber until data, the end or an error comes.
 */
struct mist_buf *mist_flow_read(struct mist_flow *flow);

/*
 * As mist_flow_read(), waiting at most until `deadline`. Returns 0 with the
 * buffer in *out, or with *out NULL at the end of the stream; MIST_ETIMEDOUT
 * when the deadline passed first (the connection is unaffected); or the
 * error the connection ended with (MIST_ECONNRESET, MIST_ETIMEDOUT, ...).
 */
int mist_flow_read_deadline(struct mist_flow *flow, uint64_t deadline, struct mist_buf **out);

/*
 * Copies `len` bytes into the send buffer, blocking while it is full.
 * Returns 0 once every byte is queued (not yet acknowledged); MIST_EPIPE
 * after shutdown of the write side; the connection's error if it ended.
 */
int mist_flow_write(struct mist_flow *flow, const void *data, size_t len);

/*
 * Queues the chain `buf` without copying; takes ownership on every path.
 * Blocks while the send buffer is full. Returns as mist_flow_write().
 */
int mist_flow_write_buf(struct mist_flow *flow, struct mist_buf *buf);

struct mist_iovec {
	const void *base;
	size_t len;
};

/* Copies the `count` pieces of `iov`, in order, as mist_flow_write(). */
int mist_flow_writev(struct mist_flow *flow, const struct mist_iovec *iov, unsigned count);

enum mist_shutdown {
	MIST_SHUT_RD = 1,   /* discard what arrives from now on */
	MIST_SHUT_WR = 2,   /* send FIN once the send buffer is out */
	MIST_SHUT_RDWR = 3, /* both */
};

/* Shuts one or both directions down. Returns 0, MIST_EINVAL or MIST_ENOTCONN. */
int mist_flow_shutdown(struct mist_flow *flow, enum mist_shutdown how);

/*
 * Closes the flow: what is queued is still sent, then FIN; the stack
 * finishes the closing handshake by itself. The flow must not be used
 * afterwards. No other fiber may be blocked on it.
 */
void mist_flow_close(struct mist_flow *flow);

/* Resets the connection (RST), discarding what is queued, and frees the flow. */
void mist_flow_abort(struct mist_flow *flow);

/* The error the connection ended with, or 0 while it has none. */
int mist_flow_error(const struct mist_flow *flow);

/* The peer's and our own address and port. */
struct mist_addr mist_flow_peer(const struct mist_flow *flow);
struct mist_addr mist_flow_local(const struct mist_flow *flow);

/* Options. Each returns 0, or MIST_EINVAL for a value out of range. */

/* Sends small segments at once instead of waiting for an ACK (turns Nagle off). */
int mist_flow_set_nodelay(struct mist_flow *flow, bool nodelay);

/*
 * Probes an idle connection: after `idle` ns without traffic, then every
 * `interval` ns, ending it with MIST_ETIMEDOUT after `probes` unanswered
 * probes (RFC 1122 4.2.3.6). idle = 0 turns keepalive off.
 */
int mist_flow_set_keepalive(struct mist_flow *flow, uint64_t idle, uint64_t interval,
                            unsigned probes);

/*
 * Send and receive buffer sizes in bytes (0 leaves one unchanged): how much
 * written data may wait unacknowledged, and the receive window offered.
 */
int mist_flow_set_buffers(struct mist_flow *flow, uint32_t send, uint32_t receive);

/*
 * Ends the connection with MIST_ETIMEDOUT when data stays unacknowledged
 * for `timeout` ns (RFC 5482's user timeout; 0 restores the default).
 */
int mist_flow_set_user_timeout(struct mist_flow *flow, uint64_t timeout);

#endif
