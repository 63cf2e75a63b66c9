/*
 * Simulated links between sim network devices: the model is described in
 * link.h. This file is the implementation: a transmit ring per device, and
 * per direction a list of frames in flight sorted by delivery time plus a
 * FIFO of the frames still being serialised (for the queue limit). It is not
 * used by any other target. It depends on the core heap for its records, on
 * the buffer pools for the receivers' copies, and on the sim clock (sim.h)
 * for virtual time, the PRNG and the event-source hook.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/compiler.h"
#include "base/str.h"
#include "core/mem.h"
#include "core/netdev.h"
#include "core/panic.h"
#include "core/platform.h"
#include "link.h"
#include "mist/mist.h"
#include "sim.h"

/* Reordered frames are held back by up to 2 * delay + this much. */
#define SIM_LINK_REORDER_SLACK_NS (1000000ull)

/* Bits in a byte, nanoseconds in a second: for the serialisation time. */
#define SIM_BITS_PER_BYTE 8ull
#define SIM_NS_PER_SEC    1000000000ull

/* One frame in flight: a contiguous copy owned by the link until delivered. */
struct sim_frame {
	struct sim_frame *prev, *next; /* delivery order */
	struct sim_frame *wire_next;   /* serialisation FIFO, while departure > now */
	uint64_t deliver_at;
	uint64_t depart_at; /* when its last bit has left the sender */
	struct mist_buf *buf;
};

/* One direction: frames from dev[i] to dev[1 - i] are in dir[i]. */
struct sim_dir {
	struct sim_link_params params;
	uint64_t rng;
	struct sim_frame *head, *tail;           /* in flight, by delivery time */
	struct sim_frame *wire_head, *wire_tail; /* not yet fully serialised */
	uint32_t wire_count;
	uint32_t in_flight;
	uint64_t last_depart;  /* departure of the latest frame serialised */
	uint64_t last_inorder; /* delivery of the latest frame not held back */
	struct sim_link_stats stats;
};

struct sim_dev {
	struct mist_netdev netdev; /* first, so that ops can cast back */
	struct sim_link *link;
	unsigned index;
	bool closed;
	struct mist_pool *rx_pool;
	struct mist_buf *txq[SIM_LINK_TX_QUEUE_LEN];
	unsigned tx_head, tx_count;
};

struct sim_link {
	struct sim_source source;
	struct sim_dev dev[2];
	struct sim_dir dir[2];
};

static struct sim_dev *sim_dev_of(struct mist_netdev *netdev)
{
	return mist_container_of(netdev, struct sim_dev, netdev);
}

static bool sim_params_valid(const struct sim_link_params *p)
{
	return p->delay_ns <= SIM_LINK_MAX_DELAY_NS && p->jitter_ns <= SIM_LINK_MAX_DELAY_NS &&
	       p->loss_ppm <= SIM_PPM_ALWAYS && p->dup_ppm <= SIM_PPM_ALWAYS &&
	       p->reorder_ppm <= SIM_PPM_ALWAYS && p->corrupt_ppm <= SIM_PPM_ALWAYS &&
	       p->mtu >= SIM_LINK_MIN_MTU;
}

/*
 * Decides an event of probability ppm / 10^6. The PRNG is only consulted for
 * real chances, so that a direction without impairments draws nothing. The
 * modulo bias (2^64 is not a multiple of 10^6) is below 10^-13.
 */
static bool sim_chance(struct sim_dir *d, uint32_t ppm)
{
	if (ppm == 0)
		return false;
	if (ppm >= SIM_PPM_ALWAYS)
		return true;
	return sim_rand_next(&d->rng) % SIM_PPM_ALWAYS < ppm;
}

/* A uniform value in [0, bound]; bound + 1 must not overflow. */
static uint64_t sim_uniform(struct sim_dir *d, uint64_t bound)
{
	if (bound == 0)
		return 0;
	return sim_rand_next(&d->rng) % (bound + 1);
}

/*
 * Time to serialise `len` bytes at `bps`, rounded up so that the link never
 * carries more than its bandwidth. The numerator is below 2^50 (len is at
 * most 65535 + 14), so it cannot overflow.
 */
static uint64_t sim_tx_time(uint64_t len, uint64_t bps)
{
	if (bps == 0)
		return 0;
	uint64_t bits_ns = len * SIM_BITS_PER_BYTE * SIM_NS_PER_SEC;
	return bits_ns / bps + (bits_ns % bps != 0);
}

/* Drops from the serialisation FIFO the frames whose last bit has left by `now`. */
static void sim_wire_advance(struct sim_dir *d, uint64_t now)
{
	while (d->wire_head != NULL && d->wire_head->depart_at <= now) {
		d->wire_head = d->wire_head->wire_next;
		d->wire_count--;
	}
	if (d->wire_head == NULL)
		d->wire_tail = NULL;
}

/*
 * Inserts `f` into the delivery list after every frame due no later than it,
 * so that ties keep the order of sending. The walk starts at the tail: O(1)
 * for a frame in order, O(k) for one that k frames in flight overtake (only
 * reordered frames, which are rare, get overtaken).
 */
static void sim_insert(struct sim_dir *d, struct sim_frame *f)
{
	struct sim_frame *after = d->tail;
	while (after != NULL && after->deliver_at > f->deliver_at)
		after = after->prev;
	f->prev = after;
	f->next = after != NULL ? after->next : d->head;
	if (f->next != NULL)
		f->next->prev = f;
	else
		d->tail = f;
	if (after != NULL)
		after->next = f;
	else
		d->head = f;
	d->in_flight++;
}

/* Unlinks and returns the first frame of the delivery list, or NULL. */
static struct sim_frame *sim_pop(struct sim_dir *d)
{
	struct sim_frame *f = d->head;
	if (f == NULL)
		return NULL;
	d->head = f->next;
	if (d->head != NULL)
		d->head->prev = NULL;
	else
		d->tail = NULL;
	d->in_flight--;
	return f;
}

/*
 * Releases every frame in flight in `d`, with the buffers they hold: the
 * receiver has gone, so they count as lost.
 */
static void sim_dir_drain(struct sim_dir *d)
{
	struct sim_frame *f;
	d->wire_head = d->wire_tail = NULL;
	d->wire_count = 0;
	while ((f = sim_pop(d)) != NULL) {
		d->stats.lost++;
		mist_buf_free(f->buf);
		mist_free(f);
	}
}

/*
 * Puts one copy on the wire: steps 5 to 8 of the model in link.h. Takes
 * ownership of `copy`.
 */
static void sim_transmit_copy(struct sim_dir *d, struct mist_buf *copy, uint64_t now)
{
	const struct sim_link_params *p = &d->params;
	bool held_back = sim_chance(d, p->reorder_ppm);

	sim_wire_advance(d, now);
	if (p->queue_limit != 0 && d->wire_count >= p->queue_limit) {
		d->stats.queue_dropped++;
		mist_buf_free(copy);
		return;
	}
	struct sim_frame *f = mist_alloc(sizeof(*f));
	if (f == NULL) {
		d->stats.no_memory++;
		mist_buf_free(copy);
		return;
	}
	f->buf = copy;
	f->wire_next = NULL;
	f->depart_at = MIST_MAX(now, d->last_depart) + sim_tx_time(copy->len, p->bandwidth_bps);
	d->last_depart = f->depart_at;
	if (f->depart_at > now) {
		if (d->wire_tail != NULL)
			d->wire_tail->wire_next = f;
		else
			d->wire_head = f;
		d->wire_tail = f;
		d->wire_count++;
	}

	f->deliver_at = f->depart_at + p->delay_ns + sim_uniform(d, p->jitter_ns);
	if (held_back) {
		d->stats.reordered++;
		f->deliver_at +=
		        1 + sim_uniform(d, 2 * p->delay_ns + SIM_LINK_REORDER_SLACK_NS - 1);
	} else {
		f->deliver_at = MIST_MAX(f->deliver_at, d->last_inorder);
		d->last_inorder = f->deliver_at;
	}
	sim_insert(d, f);
}

/*
 * Copies `frame` (a chain of `len` bytes) into one buffer from the rx pool of
 * `to`; NULL when the pool has none, counted in its rx_dropped. One copy per
 * frame is the price of modelling a wire: the receiver gets its own
 * contiguous storage, as from a NIC, and corruption cannot reach the
 * sender's buffers, which its retransmission queue may still share.
 */
static struct mist_buf *sim_copy(struct sim_dir *d, struct sim_dev *to,
                                 const struct mist_buf *frame, uint32_t len)
{
	struct mist_buf *copy = mist_buf_alloc(to->rx_pool, len);
	if (copy == NULL) {
		d->stats.no_buffer++;
		to->netdev.stats.rx_dropped++;
		return NULL;
	}
	int err = mist_buf_copyout(frame, 0, copy->data, len);
	MIST_ASSERT(err == 0);
	return copy;
}

/* Puts one frame from `from` on the wire: the whole model. Takes the chain. */
static void sim_transmit(struct sim_dev *from, struct mist_buf *frame, uint64_t now)
{
	struct sim_link *link = from->link;
	struct sim_dir *d = &link->dir[from->index];
	struct sim_dev *to = &link->dev[1 - from->index];
	uint32_t len = (uint32_t)mist_buf_chain_len(frame);

	d->stats.sent++;
	from->netdev.stats.tx_frames++;
	from->netdev.stats.tx_bytes += len;
	if (to->closed || sim_chance(d, d->params.loss_ppm)) {
		d->stats.lost++;
		mist_buf_free_chain(frame);
		return;
	}
	struct mist_buf *copy = sim_copy(d, to, frame, len);
	mist_buf_free_chain(frame);
	if (copy == NULL)
		return;

	if (len > 0 && sim_chance(d, d->params.corrupt_ppm)) {
		uint64_t bit = sim_uniform(d, (uint64_t)len * SIM_BITS_PER_BYTE - 1);
		copy->data[bit / SIM_BITS_PER_BYTE] ^= (uint8_t)(1u << (bit % SIM_BITS_PER_BYTE));
		d->stats.corrupted++;
	}
	struct mist_buf *dup = NULL;
	if (sim_chance(d, d->params.dup_ppm)) {
		d->stats.duplicated++;
		dup = sim_copy(d, to, copy, len);
	}
	sim_transmit_copy(d, copy, now);
	if (dup != NULL)
		sim_transmit_copy(d, dup, now);
}

static int sim_dev_tx(struct mist_netdev *netdev, struct mist_buf *frame)
{
	struct sim_dev *dev = sim_dev_of(netdev);
	struct sim_dir *d = &dev->link->dir[dev->index];

	if (mist_buf_chain_len(frame) > (size_t)netdev->mtu + MIST_ETHER_HDR_LEN) {
		d->stats.oversized++;
		netdev->stats.tx_dropped++;
		mist_buf_free_chain(frame);
		return MIST_EMSGSIZE;
	}
	if (dev->tx_count == SIM_LINK_TX_QUEUE_LEN) {
		d->stats.tx_queue_full++;
		netdev->stats.tx_dropped++;
		mist_buf_free_chain(frame);
		return MIST_EAGAIN;
	}
	dev->txq[(dev->tx_head + dev->tx_count) % SIM_LINK_TX_QUEUE_LEN] = frame;
	dev->tx_count++;
	return 0;
}

static void sim_dev_flush(struct mist_netdev *netdev)
{
	struct sim_dev *dev = sim_dev_of(netdev);
	uint64_t now = mist_plat_monotonic();

	while (dev->tx_count > 0) {
		struct mist_buf *frame = dev->txq[dev->tx_head];
		dev->tx_head = (dev->tx_head + 1) % SIM_LINK_TX_QUEUE_LEN;
		dev->tx_count--;
		sim_transmit(dev, frame, now);
	}
}

static unsigned sim_dev_rx_burst(struct mist_netdev *netdev, struct mist_buf **bufs, unsigned max)
{
	struct sim_dev *dev = sim_dev_of(netdev);
	struct sim_dir *d = &dev->link->dir[1 - dev->index];
	uint64_t now = mist_plat_monotonic();
	unsigned n = 0;

	/* Every frame due by now has also departed by now: free it off the FIFO first. */
	sim_wire_advance(d, now);
	while (n < max && d->head != NULL && d->head->deliver_at <= now) {
		struct sim_frame *f = sim_pop(d);
		bufs[n++] = f->buf;
		d->stats.delivered++;
		netdev->stats.rx_frames++;
		netdev->stats.rx_bytes += f->buf->len;
		mist_free(f);
	}
	return n;
}

static void sim_dev_close(struct mist_netdev *netdev)
{
	struct sim_dev *dev = sim_dev_of(netdev);

	while (dev->tx_count > 0) {
		mist_buf_free_chain(dev->txq[dev->tx_head]);
		dev->tx_head = (dev->tx_head + 1) % SIM_LINK_TX_QUEUE_LEN;
		dev->tx_count--;
	}
	sim_dir_drain(&dev->link->dir[1 - dev->index]);
	dev->closed = true;
}

static const struct mist_netdev_ops sim_dev_ops = {
        .rx_burst = sim_dev_rx_burst,
        .tx = sim_dev_tx,
        .flush = sim_dev_flush,
        .close = sim_dev_close,
};

/* The earliest delivery of either direction: the head of each sorted list. */
static uint64_t sim_link_next_event(struct sim_source *source)
{
	struct sim_link *link = mist_container_of(source, struct sim_link, source);
	uint64_t next = UINT64_MAX;
	for (unsigned i = 0; i < 2; i++)
		if (link->dir[i].head != NULL)
			next = MIST_MIN(next, link->dir[i].head->deliver_at);
	return next;
}

struct sim_link *sim_link_create(const struct sim_link_params *params, struct mist_pool *rx_pool_a,
                                 struct mist_pool *rx_pool_b, const uint8_t mac_a[6],
                                 const uint8_t mac_b[6])
{
	if (params == NULL || rx_pool_a == NULL || rx_pool_b == NULL || mac_a == NULL ||
	    mac_b == NULL || !sim_params_valid(params)) {
		MIST_MISUSE("sim_link_create", "invalid argument");
		return NULL;
	}
	struct sim_link *link = mist_calloc(1, sizeof(*link));
	if (link == NULL)
		return NULL;

	static const char names[2][sizeof("sim0")] = {"sim0", "sim1"};
	struct mist_pool *pools[2] = {rx_pool_a, rx_pool_b};
	const uint8_t *macs[2] = {mac_a, mac_b};
	uint64_t seed_state = params->seed;
	for (unsigned i = 0; i < 2; i++) {
		struct sim_dev *dev = &link->dev[i];
		dev->netdev.ops = &sim_dev_ops;
		mist_memcpy(dev->netdev.name, names[i], sizeof(names[i]));
		mist_memcpy(dev->netdev.mac, macs[i], sizeof(dev->netdev.mac));
		dev->netdev.mtu = params->mtu;
		dev->link = link;
		dev->index = i;
		dev->rx_pool = pools[i];
		link->dir[i].params = *params;
	}
	/*
	 * Each direction has its own PRNG, so that traffic one way does not
	 * change the fate of frames the other way. Direction 1 starts from a
	 * hash of the seed rather than seed + constant, which for splitmix64
	 * would be direction 0's sequence shifted by some steps.
	 */
	link->dir[0].rng = params->seed;
	link->dir[1].rng = sim_rand_next(&seed_state);

	link->source.next_event = sim_link_next_event;
	sim_add_source(&link->source);
	return link;
}

void sim_link_destroy(struct sim_link *link)
{
	if (link == NULL)
		return;
	for (unsigned i = 0; i < 2; i++)
		if (!link->dev[i].closed)
			sim_dev_close(&link->dev[i].netdev);
	sim_remove_source(&link->source);
	mist_free(link);
}

struct mist_netdev *sim_link_dev(struct sim_link *link, unsigned index)
{
	MIST_ASSERT(index < 2);
	return &link->dev[index].netdev;
}

int sim_link_set_params(struct sim_link *link, unsigned dir, const struct sim_link_params *params)
{
	if (dir > 1 || !sim_params_valid(params))
		return MIST_EINVAL;
	link->dir[dir].params = *params;
	link->dev[dir].netdev.mtu = params->mtu;
	return 0;
}

void sim_link_stats(const struct sim_link *link, unsigned dir, struct sim_link_stats *stats)
{
	MIST_ASSERT(dir < 2);
	*stats = link->dir[dir].stats;
}

uint32_t sim_link_in_flight(const struct sim_link *link, unsigned dir)
{
	MIST_ASSERT(dir < 2);
	return link->dir[dir].in_flight;
}
