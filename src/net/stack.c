/*
 * A stack's life and its place in the loop: creation on a device, the poller
 * through which the scheduler feeds it received frames and flushes what it
 * sent, teardown, the counters printer, and header room for outgoing chains.
 * The protocol logic is in the per-layer files.
 */
#define MIST_LOG_TAG "net"

#include "net/stack.h"
#include "base/compiler.h"
#include "base/str.h"
#include "core/mem.h"
#include "wire/ipv4.h"

#define NET_RX_BURST   32   /* frames taken from the device per call */
#define NET_TX_BUFFERS 8192 /* default size of the transmit pool */

uint32_t mist_stack_rx_buf_size(uint16_t mtu)
{
	return MIST_ALIGN_UP((uint32_t)mtu + MIST_ETHER_HDR_LEN + NET_RX_HEADROOM, 64u);
}

static unsigned stack_poll(struct mist_poller *poller, unsigned budget)
{
	struct mist_stack *s = mist_container_of(poller, struct mist_stack, poller);
	return mist_stack_poll(s, budget);
}

static void stack_flush(struct mist_poller *poller)
{
	struct mist_stack *s = mist_container_of(poller, struct mist_stack, poller);
	s->dev->ops->flush(s->dev);
}

unsigned mist_stack_poll(struct mist_stack *s, unsigned budget)
{
	struct mist_buf *frames[NET_RX_BURST];
	unsigned done = 0;
	while (done < budget) {
		unsigned want = MIST_MIN(budget - done, (unsigned)NET_RX_BURST);
		unsigned n = s->dev->ops->rx_burst(s->dev, frames, want);
		for (unsigned i = 0; i < n; i++)
			net_ether_input(s, frames[i]);
		done += n;
		if (n < want)
			break;
	}
	return done;
}

void mist_stack_input(struct mist_stack *s, struct mist_buf *frame)
{
	net_ether_input(s, frame);
}

int mist_stack_create(const struct mist_stack_config *config, struct mist_stack **out)
{
	if (config->dev == NULL || config->rx_pool == NULL || config->prefix > 32)
		return MIST_EINVAL;
	struct mist_stack *s = mist_calloc(1, sizeof(*s));
	if (s == NULL)
		return MIST_ENOMEM;
	uint32_t tx_count = config->tx_buffers != 0 ? config->tx_buffers : NET_TX_BUFFERS;
	s->tx_pool = mist_pool_create("net-tx", tx_count, NET_TX_BUF_SIZE, NET_TX_HEADROOM);
	if (s->tx_pool == NULL) {
		mist_free(s);
		return MIST_ENOMEM;
	}
	s->dev = config->dev;
	s->rx_pool = config->rx_pool;
	mist_memcpy(s->mac.b, s->dev->mac, sizeof(s->mac.b));
	s->ip = config->ip;
	s->prefix = config->prefix;
	s->has_gateway = config->has_gateway;
	s->gateway = config->gateway;
	s->mtu = s->dev->mtu;
	/* RFC 6864 §4: the identification need only be unique per source, destination and protocol. */
	s->ip_ident = (uint16_t)mist_random_u32();
	s->icmp_limit.last_refill = mist_now();
	s->icmp_limit.tokens = NET_ICMP_ERROR_BURST;
	if (net_tcp_init(s) != 0) {
		mist_pool_destroy(s->tx_pool);
		mist_free(s);
		return MIST_ENOMEM;
	}
	net_arp_init(s);
	net_reass_init(s);
	s->poller.poll = stack_poll;
	s->poller.flush = stack_flush;
	mist_sched_add_poller(mist_sched_current(), &s->poller);
	mist_log("%s: %pI4/%u mac %pM mtu %u", s->dev->name, s->ip.b, s->prefix, s->mac.b, s->mtu);
	net_arp_announce(s);
	*out = s;
	return 0;
}

void mist_stack_destroy(struct mist_stack *s)
{
	mist_sched_remove_poller(mist_sched_current(), &s->poller);
	net_udp_destroy(s);
	net_tcp_destroy(s);
	net_reass_destroy(s);
	net_arp_destroy(s);
	s->dev->ops->flush(s->dev);
	s->dev->ops->close(s->dev);
	int err = mist_pool_destroy(s->tx_pool);
	if (err == 0)
		err = mist_pool_destroy(s->rx_pool);
	if (err != 0)
		mist_warn("buffers still in use at teardown; pools kept");
	mist_free(s);
}

const struct net_stats *mist_stack_stats(const struct mist_stack *s)
{
	return &s->stats;
}

struct mist_ipv4_addr mist_net_ipv4(const struct mist_stack *net)
{
	return net->ip;
}

struct mist_buf *mist_net_buf_alloc(struct mist_stack *net, uint32_t len)
{
	return mist_buf_alloc(net->tx_pool, len);
}

static bool pool_scarce(const struct mist_pool *pool)
{
	struct mist_pool_stats st;
	mist_pool_stats(pool, &st);
	return st.capacity - st.in_use < st.capacity / NET_RX_SCARCE_FRACTION;
}

bool net_rx_scarce(const struct mist_stack *s)
{
	return pool_scarce(s->rx_pool) ||
	       (s->dev->rx_large_pool != NULL && pool_scarce(s->dev->rx_large_pool));
}

struct mist_buf *net_unpin_rx(struct mist_stack *s, struct mist_buf *chain)
{
	bool pinned = false;
	for (struct mist_buf *b = chain; b != NULL && !pinned; b = b->next)
		pinned =
		        mist_buf_pool(b) == s->rx_pool || mist_buf_pool(b) == s->dev->rx_large_pool;
	if (!pinned)
		return chain;
	size_t len = mist_buf_chain_len(chain);
	struct mist_buf *head = NULL, **tail = &head;
	for (size_t off = 0; off < len;) {
		uint32_t n =
		        (uint32_t)MIST_MIN(len - off, (size_t)(NET_TX_BUF_SIZE - NET_TX_HEADROOM));
		struct mist_buf *b = mist_buf_alloc(s->tx_pool, n);
		if (b == NULL) {
			mist_buf_free_chain(head);
			return chain; /* no worse than before: the receive buffers stay held */
		}
		mist_buf_copyout(chain, off, b->data, n);
		*tail = b;
		tail = &b->next;
		off += n;
	}
	mist_buf_free_chain(chain);
	return head;
}

uint8_t *net_prepend(struct mist_stack *s, struct mist_buf **chain, uint32_t len)
{
	uint8_t *p = mist_buf_push(*chain, len);
	if (p != NULL)
		return p;
	struct mist_buf *h = mist_buf_alloc(s->tx_pool, len);
	if (h == NULL)
		return NULL;
	/* A frame's offload flags live on its first view (core/netdev.h). */
	h->flags = (*chain)->flags;
	(*chain)->flags = 0;
	h->next = *chain;
	*chain = h;
	return h->data;
}

/*
 * One line per counter, "layer.name=value", so that scripts can pick any out.
 * Each layer's counters are a run of uint64_t (stats.h), printed from their
 * names packed in one string, each ended by a NUL: one loop instead of a
 * call per counter, and no table of pointers, keep the unikernel image small.
 */
#define NET_STAT_NAME(name, what)  #name "\0"
#define NET_STAT_COUNT(name, what) +1

#define NET_STATS_LAYER(layer, LIST)                                 \
	{                                                            \
#layer, LIST(NET_STAT_NAME), 0 LIST(NET_STAT_COUNT), \
		        __builtin_offsetof(struct net_stats, layer)  \
	}

struct net_stats_layer {
	const char *name;
	const char *counters; /* the counters' names, each ended by a NUL */
	unsigned count;
	size_t offset; /* of the layer's struct in struct net_stats */
};

static const struct net_stats_layer net_stats_layers[] = {
        NET_STATS_LAYER(ether, NET_ETHER_STATS), NET_STATS_LAYER(arp, NET_ARP_STATS),
        NET_STATS_LAYER(ipv4, NET_IPV4_STATS),   NET_STATS_LAYER(icmp, NET_ICMP_STATS),
        NET_STATS_LAYER(udp, NET_UDP_STATS),     NET_STATS_LAYER(tcp, NET_TCP_STATS),
};

_Static_assert(sizeof(struct net_stats) ==
                       sizeof(uint64_t) *
                               (0 NET_ETHER_STATS(NET_STAT_COUNT) NET_ARP_STATS(NET_STAT_COUNT)
                                        NET_IPV4_STATS(NET_STAT_COUNT)
                                                NET_ICMP_STATS(NET_STAT_COUNT)
                                                        NET_UDP_STATS(NET_STAT_COUNT)
                                                                NET_TCP_STATS(NET_STAT_COUNT)),
               "struct net_stats must be the counters only, for net_stats_layers");

void mist_net_stats_print(const struct mist_stack *net)
{
	const uint8_t *base = (const uint8_t *)&net->stats;
	for (size_t l = 0; l < sizeof(net_stats_layers) / sizeof(net_stats_layers[0]); l++) {
		const struct net_stats_layer *layer = &net_stats_layers[l];
		const uint64_t *values = (const uint64_t *)(const void *)(base + layer->offset);
		const char *counter = layer->counters;
		for (unsigned i = 0; i < layer->count; i++) {
			mist_log_at(MIST_LOG_INFO, "stats", "%s.%s=%llu", layer->name, counter,
			            (unsigned long long)values[i]);
			counter += mist_strlen(counter) + 1;
		}
	}
}
