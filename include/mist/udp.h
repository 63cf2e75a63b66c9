/*
 * UDP endpoints (RFC 768), for use from fibers.
 *
 * Received datagrams are handed over without copying: the payload buffer is
 * a view into the frame the device received, and becomes the caller's.
 */
#ifndef MIST_UDP_H
#define MIST_UDP_H

#include <stddef.h>
#include <stdint.h>

#include <mist/net.h>

struct mist_udp;

/* Datagrams queued on an endpoint before further ones are dropped (counted). */
#define MIST_UDP_RX_QUEUE 64

/*
 * Opens an endpoint bound to `port` on the stack's address. Port 0 picks a
 * random free ephemeral port (RFC 6056 §3.3.1, from 49152..65535). Returns 0
 * and the endpoint in *out; MIST_EADDRINUSE when the port is taken;
 * MIST_ENOMEM; MIST_EINVAL when net is NULL.
 */
int mist_udp_open(struct mist_stack *net, uint16_t port, struct mist_udp **out);

/*
 * Waits until a datagram arrives or until `deadline` (MIST_FOREVER for
 * none). Returns 0 with the payload in *payload (the caller's, to free or to
 * send) and the sender in *from; or MIST_ETIMEDOUT. Must be called from a
 * fiber, by one fiber at a time.
 */
int mist_udp_recv(struct mist_udp *udp, struct mist_buf **payload, struct mist_addr *from,
                  uint64_t deadline);

/*
 * Sends the chain `payload` as one datagram to `to`; takes ownership of it on
 * every path. The datagram is fragmented when it is larger than the MTU.
 * Returns 0 once it is queued (not delivered: UDP gives no such promise);
 * MIST_EMSGSIZE when it exceeds 65507 bytes; MIST_EHOSTUNREACH when no route
 * leads to `to`; MIST_ENOMEM when buffers ran out.
 */
int mist_udp_send(struct mist_udp *udp, const struct mist_addr *to, struct mist_buf *payload);

/* Copies `len` bytes into a buffer and sends them, as mist_udp_send(). */
int mist_udp_send_copy(struct mist_udp *udp, const struct mist_addr *to, const void *data,
                       size_t len);

/*
 * Returns and clears the last ICMP error reported for a datagram this
 * endpoint sent (RFC 1122 §4.1.3.3): MIST_ECONNREFUSED for port unreachable,
 * MIST_EHOSTUNREACH for other unreachables and time exceeded, MIST_EMSGSIZE
 * for fragmentation needed; 0 when none.
 */
int mist_udp_take_error(struct mist_udp *udp);

/* The endpoint's local address and port. */
struct mist_addr mist_udp_local(const struct mist_udp *udp);

/*
 * Closes the endpoint and frees the datagrams still queued. No fiber may be
 * waiting in mist_udp_recv() on it.
 */
void mist_udp_close(struct mist_udp *udp);

#endif
