/*
 * Internals of Mist's own network stack: struct mist_stack, which holds all
 * of its state (no globals, so several stacks can share one process), and
 * the functions the layers call on one another. Layers: ether.c, arp.c,
 * ipv4.c (+ reass.c), icmp.c, udp.c, tcp*.c (see tcp.h); stack.c ties them to a device and the
 * loop.
 *
 * Buffer ownership: every *_input and *_output function takes ownership of
 * the buffer chain it is given and releases it on every path.
 */
#ifndef MIST_NET_STACK_H
#define MIST_NET_STACK_H

#include <stdbool.h>
#include <stdint.h>

#include "base/compiler.h"
#include "core/netdev.h"
#include "core/sched.h"
#include "mist/mist.h"
#include "net/stats.h"
#include "net/tcp.h"
#include "wire/ether.h"
#include "wire/ipv4.h"

/* --- ARP ---------------------------------------------------------------- */

#define ARP_CACHE_SIZE  64 /* entries; searched linearly, see arp.c */
#define ARP_PENDING_MAX 8  /* packets held per address being resolved */

enum arp_state {
	ARP_FREE = 0,
	ARP_INCOMPLETE, /* request sent, waiting for the reply */
	ARP_REACHABLE,  /* resolved, until `deadline` */
};

struct arp_entry {
	struct mist_ipv4_addr ip;
	struct mist_ether_addr mac;
	uint8_t state;
	uint8_t tries; /* requests sent for this resolution or refresh */
	uint8_t npending;
	bool refreshing;   /* a refresh request is out for a reachable entry */
	uint64_t deadline; /* incomplete: next retry; reachable: expiry */
	struct mist_buf *pending[ARP_PENDING_MAX];
};

struct net_arp {
	struct arp_entry entries[ARP_CACHE_SIZE];
	struct mist_timer timer;
	uint64_t conflict_logged; /* when a conflict was last logged */
};

/* --- IPv4 reassembly ------------------------------------------------------ */

#define REASS_SLOTS      16            /* datagrams being reassembled at once, in total */
#define REASS_PER_SOURCE 4             /* ... from one source address */
#define REASS_FRAGS_MAX  64            /* fragments held for one datagram */
#define REASS_BYTES_MAX  (256u * 1024) /* fragment bytes held in total */

struct reass_frag {
	struct mist_buf *buf; /* the fragment's payload */
	uint16_t offset;      /* byte offset in the datagram's payload */
	uint16_t len;
};

struct reass_slot {
	bool used;
	struct mist_ipv4_addr src, dst;
	uint16_t ident;
	uint8_t protocol;
	uint8_t nfrags;
	uint32_t total_len; /* payload length, known once the last fragment came; 0 before */
	uint32_t bytes;     /* payload bytes held */
	uint64_t expires;
	uint32_t seq; /* creation order, to tell apart slots created at the same time */
	uint8_t header[MIST_IPV4_HDR_MAX];        /* the first fragment's header, when it came */
	uint8_t header_len;                       /* 0 until the first fragment came */
	struct reass_frag frags[REASS_FRAGS_MAX]; /* sorted by offset */
};

struct net_reass {
	struct reass_slot slots[REASS_SLOTS];
	uint32_t bytes;    /* fragment bytes held across all slots */
	uint32_t next_seq; /* creation counter for the slots */
	struct mist_timer timer;
};

/* --- UDP --------------------------------------------------------------------- */

#define UDP_HASH_BUCKETS 64

struct net_udp {
	struct mist_udp *buckets[UDP_HASH_BUCKETS];
};

/* --- the stack ------------------------------------------------------------ */

/*
 * Rate limit of ICMP errors (RFC 1122 3.2.2, RFC 1812 4.3.2.8): a token
 * bucket of NET_ICMP_ERROR_BURST tokens, refilled at 100 a second (icmp.c).
 */
#define NET_ICMP_ERROR_BURST 20
struct icmp_limiter {
	uint32_t tokens;
	uint64_t last_refill;
};

struct mist_stack {
	struct mist_poller poller;
	struct mist_netdev *dev;
	struct mist_pool *rx_pool; /* frames from the device */
	struct mist_pool *tx_pool; /* headers, payloads, ICMP messages */
	struct mist_ether_addr mac;
	struct mist_ipv4_addr ip;
	uint8_t prefix;
	bool has_gateway;
	struct mist_ipv4_addr gateway;
	uint16_t mtu;      /* largest IP datagram the device carries */
	uint16_t ip_ident; /* next IPv4 identification */
	struct net_arp arp;
	struct net_reass reass;
	struct net_udp udp;
	struct net_tcp tcp;
	struct icmp_limiter icmp_limit;
	struct net_stats stats;
};

/* What a transport's input is told about the datagram that carried it. */
struct net_ip_in {
	struct mist_ipv4_repr repr;
	const uint8_t *header; /* the IPv4 header, valid during the call */
	uint8_t header_len;
	bool to_broadcast; /* sent to a broadcast address */
};

/* Transmit buffers: a full Ethernet frame with headroom for Ethernet + IPv4 + TCP with options. */
#define NET_TX_BUF_SIZE 2048
#define NET_TX_HEADROOM 160

/* Configuration of a stack; see mist_stack_create(). */
struct mist_stack_config {
	struct mist_netdev *dev;   /* the stack owns it from then on and closes it */
	struct mist_pool *rx_pool; /* the pool dev receives into; the stack owns it */
	struct mist_ipv4_addr ip;
	uint8_t prefix;
	bool has_gateway;
	struct mist_ipv4_addr gateway;
	uint32_t tx_buffers; /* 0 for the default */
};

/*
 * Creates a stack on a device and registers it with the current scheduler.
 * Sends a gratuitous ARP. Returns 0 or MIST_ENOMEM / MIST_EINVAL.
 */
int mist_stack_create(const struct mist_stack_config *config, struct mist_stack **out);

/* Unregisters the stack, closes its device and frees everything it holds. */
void mist_stack_destroy(struct mist_stack *stack);

/* Size of the receive buffers a stack needs for a device of this MTU. */
uint32_t mist_stack_rx_buf_size(uint16_t mtu);
#define NET_RX_HEADROOM 64

/* Polls the device once: at most `budget` frames. For tests that drive a stack by hand. */
unsigned mist_stack_poll(struct mist_stack *stack, unsigned budget);

/* Handles one received Ethernet frame. */
void mist_stack_input(struct mist_stack *stack, struct mist_buf *frame);

/* The stack's counters, for tests. */
const struct net_stats *mist_stack_stats(const struct mist_stack *stack);

/* --- between layers ------------------------------------------------------ */

/*
 * Makes room for `len` header bytes in front of *chain: in the first view's
 * headroom when it is free, else in a new buffer put in front, which takes
 * over the frame's flags. Returns the header's first byte, or NULL (the
 * chain untouched) when no buffer is left.
 */
uint8_t *net_prepend(struct mist_stack *s, struct mist_buf **chain, uint32_t len);

/*
 * Receive buffers are lent to the layers above without copying, so data held
 * in queues (read, send, out-of-order) holds them. When fewer than
 * 1/NET_RX_SCARCE_FRACTION are free, of the stack's receive pool or of the
 * device's pool of super-frames (rx_large_pool), data about to be held for long is
 * copied out of them instead, so that the device can always receive the
 * ACKs that would free the rest.
 */
#define NET_RX_SCARCE_FRACTION 4
bool net_rx_scarce(const struct mist_stack *s);
/* Returns `chain` copied into transmit buffers (and frees it) if it holds receive buffers of either pool. */
struct mist_buf *net_unpin_rx(struct mist_stack *s, struct mist_buf *chain);

/*
 * A new chain of views onto bytes [off, off + len) of `chain`, sharing its
 * storage. Returns NULL when the pool runs out of views.
 */
struct mist_buf *net_chain_slice(struct mist_buf *chain, uint32_t off, uint32_t len);

void net_ether_input(struct mist_stack *s, struct mist_buf *frame);
/* Sends `packet` in a frame of `ethertype` to `dst`. */
void net_ether_send(struct mist_stack *s, struct mist_ether_addr dst, uint16_t ethertype,
                    struct mist_buf *packet);
/* Sends an IPv4 packet to the on-link host `next_hop`, resolving its MAC first. */
void net_ether_output_ipv4(struct mist_stack *s, struct mist_ipv4_addr next_hop,
                           struct mist_buf *packet);

void net_arp_init(struct mist_stack *s);
void net_arp_input(struct mist_stack *s, struct mist_buf *packet);
/* Looks up `ip`; returns true with its MAC in *mac when resolved. */
bool net_arp_lookup(struct mist_stack *s, struct mist_ipv4_addr ip, struct mist_ether_addr *mac);
/* Holds `packet` until `ip` resolves, sending a request if none is out. */
void net_arp_resolve(struct mist_stack *s, struct mist_ipv4_addr ip, struct mist_buf *packet);
void net_arp_announce(struct mist_stack *s);
void net_arp_destroy(struct mist_stack *s);

void net_ipv4_input(struct mist_stack *s, struct mist_buf *packet);
/*
 * Sends `payload` to `dst` as protocol `protocol`, from our address,
 * fragmenting when it exceeds the MTU unless `dont_frag`. Returns 0, or
 * MIST_EHOSTUNREACH, MIST_EMSGSIZE, MIST_ENOMEM (the payload released).
 */
int net_ipv4_output(struct mist_stack *s, struct mist_ipv4_addr dst, uint8_t protocol,
                    struct mist_buf *payload, bool dont_frag);
bool net_ipv4_is_broadcast(const struct mist_stack *s, struct mist_ipv4_addr a);

void net_reass_init(struct mist_stack *s);
/* Takes a fragment; returns the whole datagram (one contiguous buffer) when complete. */
struct mist_buf *net_reass_input(struct mist_stack *s, struct mist_buf *packet);
void net_reass_destroy(struct mist_stack *s);

void net_icmp_input(struct mist_stack *s, const struct net_ip_in *ip, struct mist_buf *msg);
/*
 * Sends an ICMP error of `type`/`code` about the datagram whose header is
 * ip->header and whose payload starts at `payload` (`payload_len` bytes),
 * unless RFC 1122 3.2.2 forbids it or the rate limit is reached.
 */
void net_icmp_error(struct mist_stack *s, const struct net_ip_in *ip, const uint8_t *payload,
                    uint32_t payload_len, uint8_t type, uint8_t code);

void net_udp_input(struct mist_stack *s, const struct net_ip_in *ip, struct mist_buf *datagram);
/* An ICMP error about a datagram we sent from `src_port` to `dst`:`dst_port`. */
void net_udp_icmp_error(struct mist_stack *s, uint16_t src_port, int error);
void net_udp_destroy(struct mist_stack *s);

#endif
