/*
 * The TCP connection table: a chained hash table of connections keyed by
 * their 4-tuple. It is generic over the connection type: a connection embeds
 * a struct tcp_table_node and gets back to itself with mist_container_of().
 * The table owns neither the nodes nor the connections; it allocates only
 * its bucket array (core/mem.h).
 *
 * The hash is SipHash-2-4 (core/siphash.h) of the tuple under a key drawn
 * per table from the CSPRNG, so a peer choosing its addresses and ports
 * cannot aim them all at one bucket and turn lookups into list walks.
 * The table starts at 64 buckets and doubles whenever it holds more nodes
 * than buckets, keeping chains at one node on average; it never shrinks.
 */
#ifndef MIST_NET_TCP_TABLE_H
#define MIST_NET_TCP_TABLE_H

#include <stdbool.h>
#include <stdint.h>

#include "core/siphash.h"
#include "mist/net.h"

/* A connection's addresses and ports (host byte order) as seen from our side. */
struct tcp_tuple {
	struct mist_ipv4_addr local, remote;
	uint16_t lport, rport;
};

/* Embedded in each connection; the caller sets `tuple`, the table the rest. */
struct tcp_table_node {
	struct tcp_table_node *next; /* in the bucket's chain */
	struct tcp_tuple tuple;
	uint32_t hash; /* of the tuple, kept so that growing needs no rehashing */
};

struct tcp_table {
	struct tcp_table_node **buckets;
	uint32_t nbuckets; /* a power of two */
	uint32_t count;    /* nodes in the table */
	struct mist_siphash_key key;
};

/* Makes `t` an empty table of 64 buckets with a fresh key. Returns 0 or MIST_ENOMEM. */
int tcp_table_init(struct tcp_table *t);

/* Frees the bucket array of `t`; nodes still in it are left to their owner. */
void tcp_table_destroy(struct tcp_table *t);

/*
 * Adds `n`, whose tuple the caller has set. Returns 0, or MIST_EADDRINUSE
 * (leaving the table unchanged) when a node with the same tuple is in it.
 * When the table must grow and the larger bucket array cannot be
 * allocated, it keeps its size and the insertion still succeeds: chains get
 * longer, nothing fails.
 */
int tcp_table_insert(struct tcp_table *t, struct tcp_table_node *n);

/* Takes `n` out of `t`; n must be in t (a debug build stops otherwise). */
void tcp_table_remove(struct tcp_table *t, struct tcp_table_node *n);

/*
 * Returns the node whose tuple equals *tuple, or NULL. This is also the
 * check whether a local port is in use with a given remote address and port.
 */
struct tcp_table_node *tcp_table_find(const struct tcp_table *t, const struct tcp_tuple *tuple);

/*
 * Calls fn(node, arg) once for every node, in no particular order. fn may
 * remove (and free) the node it is given, as a teardown does; it must not
 * insert or remove any other node. Costs O(buckets + nodes).
 */
void tcp_table_foreach(struct tcp_table *t, void (*fn)(struct tcp_table_node *n, void *arg),
                       void *arg);

#endif
