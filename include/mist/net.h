/*
 * Addresses and the network stack as an application sees it.
 *
 * env->net (struct mist_stack) is the stack the target links: Mist's own on
 * posix-tap, pvh and sim. It is NULL when the program was started without a
 * network (on posix-tap: without --tap).
 */
#ifndef MIST_NET_H
#define MIST_NET_H

#include <stdint.h>

struct mist_stack;
struct mist_buf;

/* An IPv4 address, in network byte order. */
struct mist_ipv4_addr {
	uint8_t b[4];
};

#define MIST_IPV4(a, b, c, d) ((struct mist_ipv4_addr){{(a), (b), (c), (d)}})

/* A transport endpoint: address and port (host byte order). */
struct mist_addr {
	struct mist_ipv4_addr ip;
	uint16_t port;
};

/* The stack's own IPv4 address. */
struct mist_ipv4_addr mist_net_ipv4(const struct mist_stack *net);

/*
 * Allocates a buffer of `len` bytes for data to send, with room in front for
 * every header the stack will prepend, so that sending it copies nothing.
 * Returns NULL when the stack's buffer pool is exhausted or len is larger
 * than a buffer.
 */
struct mist_buf *mist_net_buf_alloc(struct mist_stack *net, uint32_t len);

/* Logs every counter of every layer at info level under the tag "stats". */
void mist_net_stats_print(const struct mist_stack *net);

#endif
