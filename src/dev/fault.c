/*
 * The fault-injecting wrapper (fault.h). Each direction draws from its own
 * splitmix64 generator, seeded from its parameters, so that traffic one way
 * does not change the fate of frames the other way and a run replays from
 * its seeds; splitmix64 (Steele, Lea and Flood, "Fast splittable
 * pseudorandom number generators", OOPSLA 2014) is small, fast and good
 * enough for test decisions, and is not meant to resist prediction. It is
 * not a link model (no delay, no bandwidth). Freestanding: it depends on
 * src/base, the core heap and the buffer pools.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/compiler.h"
#include "base/str.h"
#include "core/mem.h"
#include "core/netdev.h"
#include "core/panic.h"
#include "dev/fault.h"
#include "mist/buf.h"
#include "mist/mist.h"

#define FAULT_BITS_PER_BYTE 8u

/* One direction: its parameters, generator and counters. */
struct fault_dir {
	struct mist_fault_params params;
	uint64_t rng;
	struct mist_fault_dir_stats stats;
};

struct fault_dev {
	struct mist_netdev netdev; /* first, so that ops can cast back */
	struct mist_netdev *lower;
	struct mist_pool *pool; /* for copies; NULL when none can be needed */
	struct fault_dir rx, tx;
	struct mist_buf *tx_held; /* a transmitted frame held back, or NULL */
};

/* What happens to one frame; see the list in fault.h. */
struct fault_fate {
	bool drop, corrupt, dup, hold;
	uint64_t bit; /* the bit to flip when corrupt */
};

static struct fault_dev *fault_of(struct mist_netdev *netdev)
{
	return mist_container_of(netdev, struct fault_dev, netdev);
}

/* One splitmix64 step. */
static uint64_t fault_rand(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/*
 * Decides an event of probability ppm / 10^6, consulting the generator only
 * for real chances, so that a probability of 0 or 1 draws nothing. The
 * modulo bias (2^64 is not a multiple of 10^6) is below 10^-13.
 */
static bool fault_chance(struct fault_dir *d, uint32_t ppm)
{
	if (ppm == 0)
		return false;
	if (ppm >= MIST_FAULT_PPM_ALWAYS)
		return true;
	return fault_rand(&d->rng) % MIST_FAULT_PPM_ALWAYS < ppm;
}

/* Draws the fate of a frame of `len` bytes in the fixed order of fault.h. */
static struct fault_fate fault_draw(struct fault_dir *d, size_t len)
{
	const struct mist_fault_params *p = &d->params;
	struct fault_fate fate = {.drop = false};

	d->stats.frames++;
	fate.drop = fault_chance(d, p->drop_ppm);
	if (fate.drop)
		return fate;
	fate.corrupt = fault_chance(d, p->corrupt_ppm) && len > 0;
	if (fate.corrupt)
		fate.bit = fault_rand(&d->rng) % ((uint64_t)len * FAULT_BITS_PER_BYTE);
	fate.dup = fault_chance(d, p->dup_ppm);
	fate.hold = fault_chance(d, p->reorder_ppm);
	return fate;
}

/*
 * Copies the chain `frame` of `len` bytes into one new buffer from the
 * wrapper's pool, with the first view's flags. Returns NULL, counted in
 * no_buffer, when the pool has none or the frame does not fit.
 */
static struct mist_buf *fault_copy(struct fault_dev *fd, struct fault_dir *d,
                                   const struct mist_buf *frame, size_t len)
{
	struct mist_buf *copy = NULL;
	if (len <= UINT32_MAX)
		copy = mist_buf_alloc(fd->pool, (uint32_t)len);
	if (copy == NULL) {
		d->stats.no_buffer++;
		return NULL;
	}
	int err = mist_buf_copyout(frame, 0, copy->data, len);
	MIST_ASSERT(err == 0);
	copy->flags = frame->flags;
	return copy;
}

/*
 * Returns a copy of `frame` with bit `bit` flipped, releasing the original;
 * or `frame` itself, unchanged, when no copy can be made.
 */
static struct mist_buf *fault_corrupt(struct fault_dev *fd, struct fault_dir *d,
                                      struct mist_buf *frame, uint64_t bit)
{
	struct mist_buf *copy = fault_copy(fd, d, frame, mist_buf_chain_len(frame));
	if (copy == NULL)
		return frame;
	copy->data[bit / FAULT_BITS_PER_BYTE] ^= (uint8_t)(1u << (bit % FAULT_BITS_PER_BYTE));
	/* The flip happened on the wire, after any check the host made: the stack must check. */
	copy->flags &= ~MIST_BUF_F_CSUM_VALID;
	d->stats.corrupted++;
	mist_buf_free_chain(frame);
	return copy;
}

/*
 * Returns a new chain of clones of each view of `frame`, sharing its
 * storage, or NULL, counted in no_buffer, when a view's pool has no view left.
 */
static struct mist_buf *fault_clone_chain(struct fault_dir *d, struct mist_buf *frame)
{
	struct mist_buf *head = NULL, *tail = NULL;
	for (struct mist_buf *b = frame; b != NULL; b = b->next) {
		struct mist_buf *clone = mist_buf_clone(b);
		if (clone == NULL) {
			mist_buf_free_chain(head);
			d->stats.no_buffer++;
			return NULL;
		}
		clone->flags = b->flags;
		if (tail != NULL)
			tail->next = clone;
		else
			head = clone;
		tail = clone;
	}
	return head;
}

/*
 * Fetches frames from lower one at a time, so that no more are taken than
 * fit in bufs[] with the duplicates and the frame held back. A frame held
 * back needs a slot behind the next frame, and goes out at the end in order
 * when there is none.
 */
static unsigned fault_rx_burst(struct mist_netdev *netdev, struct mist_buf **bufs, unsigned max)
{
	struct fault_dev *fd = fault_of(netdev);
	struct fault_dir *d = &fd->rx;
	struct mist_netdev *lower = fd->lower;
	struct mist_buf *held = NULL;
	unsigned n = 0;

	while (n < max) {
		struct mist_buf *frame;
		if (held != NULL && max - n < 2)
			break;
		if (lower->ops->rx_burst(lower, &frame, 1) == 0)
			break;
		size_t len = mist_buf_chain_len(frame);
		struct fault_fate fate = fault_draw(d, len);
		if (fate.drop) {
			d->stats.dropped++;
			mist_buf_free_chain(frame);
			continue;
		}
		if (fate.corrupt)
			frame = fault_corrupt(fd, d, frame, fate.bit);

		struct mist_buf *original = frame;
		if (fate.hold && held == NULL) {
			held = frame;
			frame = NULL;
		}
		if (frame != NULL) {
			bufs[n++] = frame;
			if (held != NULL) {
				bufs[n++] = held;
				held = NULL;
				d->stats.reordered++;
			}
		}
		/* A duplicate must leave a slot for the frame still held. */
		if (fate.dup && max - n > (held != NULL ? 1u : 0u)) {
			struct mist_buf *dup = fault_copy(fd, d, original, len);
			if (dup != NULL) {
				bufs[n++] = dup;
				d->stats.duplicated++;
			}
		}
	}
	if (held != NULL)
		bufs[n++] = held;
	netdev->stats = lower->stats;
	return n;
}

static int fault_tx(struct mist_netdev *netdev, struct mist_buf *frame)
{
	struct fault_dev *fd = fault_of(netdev);
	struct fault_dir *d = &fd->tx;
	struct mist_netdev *lower = fd->lower;
	int ret = 0;

	struct fault_fate fate = fault_draw(d, mist_buf_chain_len(frame));
	if (fate.drop) {
		d->stats.dropped++;
		mist_buf_free_chain(frame);
		return 0;
	}
	if (fate.corrupt)
		frame = fault_corrupt(fd, d, frame, fate.bit);
	struct mist_buf *dup = NULL;
	if (fate.dup) {
		dup = fault_clone_chain(d, frame);
		if (dup != NULL)
			d->stats.duplicated++;
	}

	if (fate.hold && fd->tx_held == NULL) {
		fd->tx_held = frame;
	} else {
		ret = lower->ops->tx(lower, frame);
		if (fd->tx_held != NULL) {
			lower->ops->tx(lower, fd->tx_held);
			fd->tx_held = NULL;
			d->stats.reordered++;
		}
	}
	if (dup != NULL)
		lower->ops->tx(lower, dup);
	netdev->stats = lower->stats;
	return ret;
}

/* A frame still held back goes out now, in order: no later frame came to overtake it. */
static void fault_flush(struct mist_netdev *netdev)
{
	struct fault_dev *fd = fault_of(netdev);
	struct mist_netdev *lower = fd->lower;

	if (fd->tx_held != NULL) {
		lower->ops->tx(lower, fd->tx_held);
		fd->tx_held = NULL;
	}
	lower->ops->flush(lower);
	netdev->stats = lower->stats;
}

static void fault_close(struct mist_netdev *netdev)
{
	struct fault_dev *fd = fault_of(netdev);

	mist_buf_free_chain(fd->tx_held);
	fd->lower->ops->close(fd->lower);
	mist_free(fd);
}

static const struct mist_netdev_ops fault_ops = {
        .rx_burst = fault_rx_burst,
        .tx = fault_tx,
        .flush = fault_flush,
        .close = fault_close,
};

static bool fault_params_valid(const struct mist_fault_params *p)
{
	return p->drop_ppm <= MIST_FAULT_PPM_ALWAYS && p->dup_ppm <= MIST_FAULT_PPM_ALWAYS &&
	       p->reorder_ppm <= MIST_FAULT_PPM_ALWAYS && p->corrupt_ppm <= MIST_FAULT_PPM_ALWAYS;
}

int mist_fault_wrap(struct mist_netdev *lower, const struct mist_fault_params *rx,
                    const struct mist_fault_params *tx, struct mist_pool *pool,
                    struct mist_netdev **out)
{
	static const struct mist_fault_params none = {.drop_ppm = 0};

	if (rx == NULL)
		rx = &none;
	if (tx == NULL)
		tx = &none;
	bool copies = rx->dup_ppm != 0 || rx->corrupt_ppm != 0 || tx->corrupt_ppm != 0;
	if (lower == NULL || out == NULL || !fault_params_valid(rx) || !fault_params_valid(tx) ||
	    (copies && pool == NULL)) {
		MIST_MISUSE("mist_fault_wrap", "invalid argument");
		return MIST_EINVAL;
	}
	struct fault_dev *fd = mist_calloc(1, sizeof(*fd));
	if (fd == NULL)
		return MIST_ENOMEM;
	fd->netdev.ops = &fault_ops;
	mist_memcpy(fd->netdev.name, lower->name, sizeof(fd->netdev.name));
	mist_memcpy(fd->netdev.mac, lower->mac, sizeof(fd->netdev.mac));
	fd->netdev.mtu = lower->mtu;
	fd->netdev.offloads = lower->offloads;
	/*
	 * A device that completes checksums would make a flipped bit of a
	 * transmitted frame pass for data: with tx corruption, the stack
	 * computes them itself, so that the peer sees a wire error.
	 */
	if (tx->corrupt_ppm != 0)
		fd->netdev.offloads &= ~(MIST_NETDEV_OFF_TX_CSUM | MIST_NETDEV_OFF_TX_TSO4);
	fd->netdev.rx_large_pool = lower->rx_large_pool;
	fd->netdev.stats = lower->stats;
	fd->lower = lower;
	fd->pool = pool;
	fd->rx.params = *rx;
	fd->rx.rng = rx->seed;
	fd->tx.params = *tx;
	fd->tx.rng = tx->seed;
	*out = &fd->netdev;
	return 0;
}

void mist_fault_stats(const struct mist_netdev *dev, struct mist_fault_stats *stats)
{
	MIST_ASSERT(dev->ops == &fault_ops);
	const struct fault_dev *fd = mist_container_of(dev, const struct fault_dev, netdev);
	stats->rx = fd->rx.stats;
	stats->tx = fd->tx.stats;
}
