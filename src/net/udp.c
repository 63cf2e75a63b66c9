/*
 * UDP (RFC 768) endpoints and the API of mist/udp.h. Endpoints are found by
 * port in a small hash table; each has a bounded queue of received datagrams
 * and a wait queue for the fiber receiving. Received payloads are views into
 * the device's frame (no copy); sent payloads get their header prepended in
 * the buffer's headroom when it is free.
 */
#include "mist/udp.h"
#include "base/str.h"
#include "core/mem.h"
#include "core/panic.h"
#include "net/stack.h"
#include "wire/checksum.h"
#include "wire/icmp.h"
#include "wire/udp.h"

/* RFC 6056 §2.1: the dynamic port range suggested by IANA. */
#define UDP_EPHEMERAL_FIRST 49152u
#define UDP_EPHEMERAL_COUNT 16384u

/* The largest payload: a 65535-byte IPv4 datagram less the two headers. */
#define UDP_PAYLOAD_MAX (MIST_UDP_MAX_PAYLOAD - MIST_IPV4_HDR_MIN)

struct udp_datagram {
	struct mist_buf *payload;
	struct mist_addr from;
};

struct mist_udp {
	struct mist_udp *next; /* in the port's hash bucket */
	struct mist_stack *stack;
	uint16_t port;
	int error; /* the last ICMP error, for mist_udp_take_error() */
	struct mist_waitq readers;
	unsigned head, count; /* ring of received datagrams */
	struct udp_datagram queue[MIST_UDP_RX_QUEUE];
};

static struct mist_udp **udp_bucket(struct mist_stack *s, uint16_t port)
{
	return &s->udp.buckets[port % UDP_HASH_BUCKETS];
}

static struct mist_udp *udp_find(struct mist_stack *s, uint16_t port)
{
	for (struct mist_udp *u = *udp_bucket(s, port); u != NULL; u = u->next)
		if (u->port == port)
			return u;
	return NULL;
}

int mist_udp_open(struct mist_stack *net, uint16_t port, struct mist_udp **out)
{
	if (net == NULL)
		return MIST_EINVAL;
	if (port == 0) {
		/* RFC 6056 §3.3.1 (Algorithm 1): a random start, then the next free port. */
		uint32_t start = mist_random_below(UDP_EPHEMERAL_COUNT);
		for (uint32_t i = 0; i < UDP_EPHEMERAL_COUNT && port == 0; i++) {
			uint16_t candidate =
			        (uint16_t)(UDP_EPHEMERAL_FIRST + (start + i) % UDP_EPHEMERAL_COUNT);
			if (udp_find(net, candidate) == NULL)
				port = candidate;
		}
		if (port == 0)
			return MIST_EADDRINUSE;
	} else if (udp_find(net, port) != NULL) {
		return MIST_EADDRINUSE;
	}
	struct mist_udp *u = mist_calloc(1, sizeof(*u));
	if (u == NULL)
		return MIST_ENOMEM;
	u->stack = net;
	u->port = port;
	mist_waitq_init(&u->readers);
	struct mist_udp **bucket = udp_bucket(net, port);
	u->next = *bucket;
	*bucket = u;
	*out = u;
	return 0;
}

/* Unbinds and frees an endpoint and what it holds. */
static void udp_free(struct mist_udp *u)
{
	for (struct mist_udp **p = udp_bucket(u->stack, u->port); *p != NULL; p = &(*p)->next) {
		if (*p == u) {
			*p = u->next;
			break;
		}
	}
	for (unsigned i = 0; i < u->count; i++)
		mist_buf_free_chain(u->queue[(u->head + i) % MIST_UDP_RX_QUEUE].payload);
	mist_free(u);
}

void mist_udp_close(struct mist_udp *u)
{
	if (!mist_waitq_empty(&u->readers))
		MIST_MISUSE("mist_udp_close", "a fiber is still waiting in mist_udp_recv");
	udp_free(u);
}

/*
 * At teardown the loop has stopped: fibers still blocked in mist_udp_recv()
 * will never run again, so their endpoints can go.
 */
void net_udp_destroy(struct mist_stack *s)
{
	for (unsigned b = 0; b < UDP_HASH_BUCKETS; b++)
		while (s->udp.buckets[b] != NULL)
			udp_free(s->udp.buckets[b]);
}

struct mist_addr mist_udp_local(const struct mist_udp *u)
{
	return (struct mist_addr){.ip = u->stack->ip, .port = u->port};
}

int mist_udp_take_error(struct mist_udp *u)
{
	int err = u->error;
	u->error = 0;
	return err;
}

int mist_udp_recv(struct mist_udp *u, struct mist_buf **payload, struct mist_addr *from,
                  uint64_t deadline)
{
	while (u->count == 0) {
		int err = mist_wait(&u->readers, deadline);
		if (err != 0)
			return err;
	}
	struct udp_datagram *d = &u->queue[u->head];
	u->head = (u->head + 1) % MIST_UDP_RX_QUEUE;
	u->count--;
	*payload = d->payload;
	*from = d->from;
	return 0;
}

void net_udp_input(struct mist_stack *s, const struct net_ip_in *ip, struct mist_buf *datagram)
{
	struct net_udp_stats *st = &s->stats.udp;
	const uint8_t *p = datagram->data;

	st->rx++;
	if (mist_udp_check(p, datagram->len) != 0) {
		st->drop_malformed++;
		goto drop;
	}
	/* The IP payload may be longer than the datagram; what follows is not ours. */
	mist_buf_trim(datagram, mist_udp_length(p));
	/* Unless the device vouches for it (core/netdev.h): checked, or never computed by the host. */
	if (!(datagram->flags & MIST_BUF_F_CSUM_VALID) &&
	    !mist_udp_verify_checksum(p, ip->repr.src, ip->repr.dst)) {
		st->drop_bad_checksum++;
		goto drop;
	}
	struct mist_udp *u = udp_find(s, mist_udp_dst_port(p));
	if (u == NULL) {
		st->drop_no_port++;
		/* RFC 1122 4.1.3.1: port unreachable, unless it went to a broadcast address. */
		net_icmp_error(s, ip, p, datagram->len, MIST_ICMP_DEST_UNREACH,
		               MIST_ICMP_UNREACH_PORT);
		goto drop;
	}
	if (u->count == MIST_UDP_RX_QUEUE) {
		st->drop_queue_full++;
		goto drop;
	}
	struct udp_datagram *d = &u->queue[(u->head + u->count) % MIST_UDP_RX_QUEUE];
	d->from = (struct mist_addr){.ip = ip->repr.src, .port = mist_udp_src_port(p)};
	mist_buf_pull(datagram, MIST_UDP_HDR_LEN);
	d->payload = datagram;
	u->count++;
	st->delivered++;
	mist_wake_one(&u->readers);
	return;
drop:
	mist_buf_free_chain(datagram);
}

void net_udp_icmp_error(struct mist_stack *s, uint16_t src_port, int error)
{
	struct mist_udp *u = udp_find(s, src_port);
	if (u != NULL)
		u->error = error;
}

int mist_udp_send(struct mist_udp *u, const struct mist_addr *to, struct mist_buf *payload)
{
	struct mist_stack *s = u->stack;
	size_t len = mist_buf_chain_len(payload);

	if (len > UDP_PAYLOAD_MAX) {
		mist_buf_free_chain(payload);
		return MIST_EMSGSIZE;
	}
	/* The payload's sum, piece by piece, before the header goes in front. */
	uint32_t sum = 0;
	size_t off = 0;
	for (const struct mist_buf *b = payload; b != NULL; b = b->next) {
		sum = mist_csum_add(sum, mist_csum_partial(b->data, b->len, 0), off);
		off += b->len;
	}
	uint8_t *h = net_prepend(s, &payload, MIST_UDP_HDR_LEN);
	if (h == NULL) {
		s->stats.udp.drop_no_buffer++;
		mist_buf_free_chain(payload);
		return MIST_ENOMEM;
	}
	struct mist_udp_repr r = {
	        .src_port = u->port, .dst_port = to->port, .payload_len = (uint16_t)len};
	mist_udp_emit(&r, h, MIST_UDP_HDR_LEN);
	mist_udp_fill_checksum(h, s->ip, to->ip, sum);
	s->stats.udp.tx++;
	return net_ipv4_output(s, to->ip, MIST_IP_PROTO_UDP, payload, false);
}

int mist_udp_send_copy(struct mist_udp *u, const struct mist_addr *to, const void *data, size_t len)
{
	struct mist_stack *s = u->stack;
	struct mist_buf *head = NULL, **tail = &head;
	const uint8_t *p = data;

	if (len > UDP_PAYLOAD_MAX)
		return MIST_EMSGSIZE;
	/* Large datagrams span several pool buffers; IPv4 fragments them anyway. */
	do {
		uint32_t n = (uint32_t)MIST_MIN(len, (size_t)(NET_TX_BUF_SIZE - NET_TX_HEADROOM));
		struct mist_buf *b = mist_buf_alloc(s->tx_pool, n);
		if (b == NULL) {
			mist_buf_free_chain(head);
			return MIST_ENOMEM;
		}
		mist_memcpy(b->data, p, n);
		*tail = b;
		tail = &b->next;
		p += n;
		len -= n;
	} while (len > 0);
	return mist_udp_send(u, to, head);
}
