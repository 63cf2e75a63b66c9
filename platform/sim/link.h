/*
 * Simulated links for the sim platform: a link joins two network devices
 * (struct mist_netdev, core/netdev.h) by a wire with seeded, deterministic
 * impairments: propagation delay with jitter, a bandwidth limit with a
 * drop-tail queue in front of it, loss, duplication, reordering and bit
 * corruption. Tests put two or more stacks in one process and connect them
 * with links; the same seed replays the same run exactly.
 *
 * It is not a switch or a hub (one link, two ends) and it does not model
 * Ethernet framing overhead (preamble, FCS, inter-frame gap): a frame's
 * length on the wire is its length in the buffer. It depends on the core
 * heap (core/mem.h), the buffer pools (mist/buf.h) and the sim platform's
 * virtual clock and event sources (sim.h).
 *
 * The model, per direction, applied when the sending device is flushed:
 *  1. loss: the frame vanishes before reaching the wire (as netem does it
 *     on the egress queue), so it costs no bandwidth;
 *  2. the frame is copied into one contiguous buffer from the receiving
 *     device's pool, and the sender's chain is released; with no buffer
 *     left, the frame is dropped (no_buffer, and the receiver's rx_dropped);
 *  3. corruption: one random bit of the copy is flipped;
 *  4. duplication: a second copy follows the first; from here on each copy
 *     is a frame of its own;
 *  5. reordering: the frame is marked to be held back, after step 8, by an
 *     extra random delay of 1 ns to 2 * delay_ns + 1 ms, so that frames sent
 *     after it overtake it;
 *  6. queue: when queue_limit frames are still waiting for (or in)
 *     serialisation, the frame is dropped at the tail;
 *  7. serialisation: frames leave one after another at bandwidth_bps;
 *  8. propagation: delay_ns plus a random jitter of 0 to jitter_ns. Jitter
 *     never reorders: a frame not held back in step 5 is delivered no earlier
 *     than the frame sent before it, so reordering happens only when asked
 *     for (and is counted).
 * Frames already on the wire keep their delivery times when the parameters
 * change; a link taken down (loss_ppm = 1000000) still delivers them.
 *
 * Not thread-safe, like everything in one Mist instance.
 */
#ifndef MIST_PLATFORM_SIM_LINK_H
#define MIST_PLATFORM_SIM_LINK_H

#include <stdint.h>

#include "core/netdev.h"

struct mist_pool;
struct sim_link;

/* A probability in parts per million: 0 never, SIM_PPM_ALWAYS always. */
#define SIM_PPM_ALWAYS 1000000u

/* Frames a device queues between two flushes; tx() beyond it returns MIST_EAGAIN. */
#define SIM_LINK_TX_QUEUE_LEN 256u

/* The longest delay or jitter a link accepts, so that no sum of times overflows. */
#define SIM_LINK_MAX_DELAY_NS (3600ull * 1000000000ull)

/* The smallest mtu a link accepts: the minimum IPv4 datagram (RFC 791). */
#define SIM_LINK_MIN_MTU 68u

/* What one direction of a link does to the frames it carries. */
struct sim_link_params {
	uint64_t delay_ns;      /* propagation delay */
	uint64_t jitter_ns;     /* extra delay, uniform in [0, jitter_ns] */
	uint64_t bandwidth_bps; /* serialisation rate in bit/s; 0 = unlimited */
	uint32_t loss_ppm;      /* chance that a frame is lost */
	uint32_t dup_ppm;       /* chance that a frame arrives twice */
	uint32_t reorder_ppm;   /* chance that a frame is held back */
	uint32_t corrupt_ppm;   /* chance that one bit of a frame is flipped */
	/*
	 * Frames that may wait for serialisation, the one being serialised
	 * included; a frame arriving at a full queue is dropped. 0 = no limit.
	 * Without a bandwidth limit nothing ever waits and this has no effect;
	 * frames in flight are bounded by the receiver's pool in any case,
	 * since each holds one of its buffers.
	 */
	uint32_t queue_limit;
	uint16_t mtu;  /* largest IP datagram, >= SIM_LINK_MIN_MTU; see mist_netdev */
	uint64_t seed; /* seeds the direction's PRNG at creation only */
};

/* What one direction of a link did. Every frame flushed ends in one bucket. */
struct sim_link_stats {
	uint64_t sent;          /* frames flushed onto the link */
	uint64_t delivered;     /* frames (copies included) handed to the receiver */
	uint64_t lost;          /* lost by loss_ppm, or sent to a device that closed */
	uint64_t duplicated;    /* second copies made by dup_ppm */
	uint64_t reordered;     /* frames held back by reorder_ppm */
	uint64_t corrupted;     /* frames with a bit flipped by corrupt_ppm */
	uint64_t queue_dropped; /* frames (copies included) that found the queue full */
	uint64_t no_buffer;     /* copies dropped: the receiver's pool had no buffer */
	uint64_t no_memory;     /* copies dropped: the core heap had no room to track them */
	uint64_t oversized;     /* frames tx() rejected with MIST_EMSGSIZE */
	uint64_t tx_queue_full; /* frames tx() rejected with MIST_EAGAIN */
};

/*
 * Creates a link and its two devices. Device 0 has MAC `mac_a` and receives
 * into buffers from `rx_pool_a`, device 1 has `mac_b` and `rx_pool_b`; the
 * pools' blocks must hold their headroom plus mtu + MIST_ETHER_HDR_LEN bytes,
 * or every frame counts as no_buffer. Both directions start with `params`;
 * direction 0 (device 0 to device 1) seeds its PRNG with params->seed and
 * direction 1 with a value derived from it. The devices are named "sim0" and
 * "sim1"; the caller may rename them. The link registers itself as an event
 * source of the virtual clock, so that mist_plat_yield() never sleeps past a
 * delivery.
 * Requires non-NULL arguments, every *_ppm <= SIM_PPM_ALWAYS, delay_ns and
 * jitter_ns <= SIM_LINK_MAX_DELAY_NS and mtu >= SIM_LINK_MIN_MTU. Returns NULL when out of memory or on an invalid argument
 * (a debug build stops on the latter).
 */
struct sim_link *sim_link_create(const struct sim_link_params *params, struct mist_pool *rx_pool_a,
                                 struct mist_pool *rx_pool_b, const uint8_t mac_a[6],
                                 const uint8_t mac_b[6]);

/*
 * Destroys the link: closes each device not yet closed (see below), releasing
 * every frame queued or in flight, and stops being an event source. After
 * this, no buffer of the link is left in either pool.
 */
void sim_link_destroy(struct sim_link *link);

/*
 * Returns device `index` (0 or 1) of the link. Its ops are:
 *  - tx(): checks the chain's length against mtu + MIST_ETHER_HDR_LEN and
 *    queues it (at most SIM_LINK_TX_QUEUE_LEN frames between flushes); takes
 *    ownership of the chain on every path. Returns 0, MIST_EMSGSIZE or
 *    MIST_EAGAIN as core/netdev.h says.
 *  - flush(): puts the queued frames on the wire in order, as the model at the
 *    top of this file describes. The work is done here rather than in tx() so
 *    that a stack that forgets to flush loses its frames here as it would on a
 *    real device; virtual time does not move within a loop turn, so the
 *    timing is the same either way.
 *  - rx_burst(): moves up to `max` frames whose delivery time has come
 *    (<= mist_plat_monotonic()) into bufs[], in delivery order, ties in the
 *    order they were sent. Each is one contiguous buffer from the device's rx
 *    pool, now the caller's.
 *  - close(): releases the frames the device has queued and those on their
 *    way to it (so that its rx pool can be destroyed), the latter counted as
 *    lost; from then on frames sent to it are lost too. The link itself lives on until
 *    sim_link_destroy(). A closed device must not be used again.
 * The device's tx_frames/tx_bytes count frames flushed onto the link (what the
 * link then does to them is in struct sim_link_stats); tx_dropped counts what
 * tx() rejected; rx_dropped counts frames for which its pool had no buffer.
 */
struct mist_netdev *sim_link_dev(struct sim_link *link, unsigned index);

/*
 * Replaces the parameters of direction `dir` (0: device 0 to device 1, 1: the
 * reverse) from the next flush on; device `dir`'s mtu follows params->mtu. The
 * PRNG keeps its state (params->seed is ignored), so that taking a link down
 * and up again continues one random sequence. Frames already on the wire are
 * not affected. Returns 0, or MIST_EINVAL (changing nothing) for dir > 1 or
 * parameters sim_link_create() would refuse.
 */
int sim_link_set_params(struct sim_link *link, unsigned dir, const struct sim_link_params *params);

/* Copies the statistics of direction `dir` (0 or 1) into *stats. */
void sim_link_stats(const struct sim_link *link, unsigned dir, struct sim_link_stats *stats);

/* Returns the number of frames of direction `dir` on the wire, not yet received. */
uint32_t sim_link_in_flight(const struct sim_link *link, unsigned dir);

#endif
