/*
 * Fault injection as device middleware: a network device (core/netdev.h)
 * that wraps another and, with seeded probabilities, drops, duplicates,
 * reorders and corrupts the frames passing through it, each direction by
 * its own parameters and its own PRNG, so that a run replays exactly from
 * its seeds whatever the target. It is for testing the stack over real
 * devices (TAP, virtio-net); the sim platform's links model a wire in more
 * detail (delay, bandwidth, queues). It does not draw from the global
 * CSPRNG. It depends on the buffer pools and the core heap.
 *
 * For each frame, in this order and with one PRNG draw per non-zero
 * probability (so the same frames and seed give the same faults):
 *  1. drop: the frame is released and goes no further;
 *  2. corrupt: the frame is replaced by a copy, in one buffer from the
 *     wrapper's pool, with one uniformly chosen bit flipped. The original is
 *     never modified: a transmitted chain may share storage with TCP's
 *     retransmission queue, a received buffer with its duplicate;
 *  3. duplicate: a second frame follows the first. On transmit it is a clone
 *     of each view (no bytes copied, the device only reads them); on receive
 *     a copy from the wrapper's pool, since the stack may rewrite a received
 *     buffer in place (an echo reply built in the request);
 *  4. reorder: if no frame is held back, this one is, and it goes out right
 *     after the next frame, which thus overtakes it. One frame at most is
 *     held: on receive until the end of the rx_burst() call, on transmit
 *     until the next flush(), where a frame still held goes out in order.
 * When the pool is empty or a frame does not fit its buffers, a corruption
 * or receive duplication is not applied, counted in no_buffer; likewise a
 * transmit duplication when the views' pools have no view left. On
 * receive, a duplicate that would not fit in the caller's burst is not made,
 * and a frame held back goes out in order when the burst has no slot left
 * behind the next frame.
 */
#ifndef MIST_DEV_FAULT_H
#define MIST_DEV_FAULT_H

#include <stdint.h>

#include "core/netdev.h"

struct mist_pool;

/* A probability in parts per million: 0 never, MIST_FAULT_PPM_ALWAYS always. */
#define MIST_FAULT_PPM_ALWAYS 1000000u

/* The faults of one direction. */
struct mist_fault_params {
	uint32_t drop_ppm;    /* chance that a frame is lost */
	uint32_t dup_ppm;     /* chance that a frame is followed by a duplicate */
	uint32_t reorder_ppm; /* chance that a frame is held back behind the next */
	uint32_t corrupt_ppm; /* chance that one bit of a frame is flipped */
	uint64_t seed;        /* seeds the direction's PRNG */
};

/* What one direction did. */
struct mist_fault_dir_stats {
	uint64_t frames;     /* frames that entered the direction */
	uint64_t dropped;    /* frames released by drop_ppm */
	uint64_t duplicated; /* duplicates made by dup_ppm */
	uint64_t reordered;  /* frames overtaken by the frame after them */
	uint64_t corrupted;  /* frames replaced by a copy with one bit flipped */
	uint64_t no_buffer;  /* corruptions or duplications not made for want of a buffer */
};

struct mist_fault_stats {
	struct mist_fault_dir_stats rx, tx;
};

/*
 * Wraps `lower` in a fault-injecting device and stores it in *out. `rx`
 * applies to frames from lower's rx_burst(), `tx` to frames given to tx();
 * NULL means no faults that way. `pool` provides the copies (corruption,
 * receive duplication); its blocks should hold the pool's headroom plus the
 * longest frame, and it may be NULL when no copy can be needed. The wrapper
 * has lower's name, mac, mtu, offloads and rx_large_pool as they are now,
 * except that with tx corruption it offers no transmit checksum or
 * segmentation offload (the peer must see a flipped bit as an error, not as
 * data whose checksum the device completed); and after every call its stats
 * are lower's. A corrupted received copy loses MIST_BUF_F_CSUM_VALID. Frames
 * longer than `pool`'s blocks (super-frames of MIST_NETDEV_OFF_RX_GSO) are
 * not copied: their corruption or receive duplication counts in no_buffer.
 * Its tx() returns 0 for a frame it dropped or holds back, otherwise what
 * lower's tx() returned for the frame. Its close() releases a frame still
 * held, then closes lower.
 * Returns 0; or MIST_EINVAL for a NULL lower or out, a probability above
 * MIST_FAULT_PPM_ALWAYS, or a NULL pool when a copy can be needed (a debug
 * build stops on these); or MIST_ENOMEM when out of memory.
 */
int mist_fault_wrap(struct mist_netdev *lower, const struct mist_fault_params *rx,
                    const struct mist_fault_params *tx, struct mist_pool *pool,
                    struct mist_netdev **out);

/* Copies the counters of `dev`, a device from mist_fault_wrap(), into *stats. */
void mist_fault_stats(const struct mist_netdev *dev, struct mist_fault_stats *stats);

#endif
