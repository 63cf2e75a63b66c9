/*
 * Unit tests of the sim platform's simulated links (platform/sim/link.h):
 * timing (delay, serialisation at a bandwidth, virtual time jumping to
 * deliveries), the seeded impairments (loss, duplication, corruption,
 * reordering), the bounds (queue limit, transmit queue, oversized frames,
 * receiver pool exhaustion) and parameter changes mid-run. These are not
 * tests of a stack: frames are opaque bytes with a sequence number at offset
 * 14. They run on the san build of the sim platform, with the real buffer
 * pools and core heap; every test ends with the link destroyed, every pool
 * empty and the heap back where it started.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/endian.h"
#include "core/mem.h"
#include "core/netdev.h"
#include "core/platform.h"
#include "mist/mist.h"
/* Tests build with -Iinclude -Isrc only; the sim platform's headers are found relative to here. */
#include "../../platform/sim/link.h"
#include "../../platform/sim/sim.h"

#define POOL_SIZE     2048u
#define POOL_HEADROOM 64u
#define TX_POOL_COUNT 1024u
#define RX_POOL_COUNT 1024u
#define SEQ_OFF       MIST_ETHER_HDR_LEN /* where a frame carries its sequence number */
#define FRAME_LEN     100u
#define MTU           1500u
#define BURST         64u

static const uint8_t mac_a[6] = {0x02, 0, 0, 0, 0, 0x0a};
static const uint8_t mac_b[6] = {0x02, 0, 0, 0, 0, 0x0b};

struct fx {
	struct mist_pool *tx, *rxa, *rxb;
	struct sim_link *link;
	struct mist_netdev *a, *b;
	uint64_t heap_before;
};

static struct sim_link_params default_params(void)
{
	return (struct sim_link_params){.delay_ns = 1 * MIST_MSEC, .mtu = MTU, .seed = 1};
}

static int fx_setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));
	assert_non_null(fx);
	sim_reset(1);
	struct mist_mem_stats ms;
	mist_mem_stats(&ms);
	fx->heap_before = ms.bytes_in_use;
	*state = fx;
	return 0;
}

static void assert_pool_empty(struct mist_pool *pool)
{
	struct mist_pool_stats ps;
	mist_pool_stats(pool, &ps);
	assert_int_equal(ps.in_use, 0);
	assert_int_equal(ps.views_in_use, 0);
}

static int fx_teardown(void **state)
{
	struct fx *fx = *state;
	sim_link_destroy(fx->link);
	struct mist_pool *pools[] = {fx->tx, fx->rxa, fx->rxb};
	for (size_t i = 0; i < 3; i++) {
		if (pools[i] == NULL)
			continue;
		assert_pool_empty(pools[i]);
		assert_int_equal(mist_pool_destroy(pools[i]), 0);
	}
	struct mist_mem_stats ms;
	mist_mem_stats(&ms);
	assert_int_equal(ms.bytes_in_use, fx->heap_before);
	free(fx);
	return 0;
}

/* Creates the pools, receiver b's with `rxb_count` buffers. */
static void fx_pools(struct fx *fx, uint32_t rxb_count)
{
	fx->tx = mist_pool_create("tx", TX_POOL_COUNT, POOL_SIZE, POOL_HEADROOM);
	fx->rxa = mist_pool_create("rxa", RX_POOL_COUNT, POOL_SIZE, POOL_HEADROOM);
	fx->rxb = mist_pool_create("rxb", rxb_count, POOL_SIZE, POOL_HEADROOM);
	assert_non_null(fx->tx);
	assert_non_null(fx->rxa);
	assert_non_null(fx->rxb);
}

/* Creates the pools and the link. */
static void fx_link(struct fx *fx, const struct sim_link_params *p, uint32_t rxb_count)
{
	fx_pools(fx, rxb_count);
	fx->link = sim_link_create(p, fx->rxa, fx->rxb, mac_a, mac_b);
	assert_non_null(fx->link);
	fx->a = sim_link_dev(fx->link, 0);
	fx->b = sim_link_dev(fx->link, 1);
}

static uint8_t pattern_byte(uint32_t seq, uint32_t i)
{
	return (uint8_t)(seq * 131u + i * 7u + 1u);
}

/* Fills `out` with what frame `seq` of `len` bytes holds. */
static void expected_frame(uint8_t *out, uint32_t len, uint32_t seq)
{
	for (uint32_t i = 0; i < len; i++)
		out[i] = pattern_byte(seq, i);
	if (len >= SEQ_OFF + 4)
		mist_store_be32(out + SEQ_OFF, seq);
}

/*
 * Builds frame `seq` of `len` bytes (>= SEQ_OFF + 4) from the tx pool as a
 * chain of two views, a header and a payload, as a stack would hand it over.
 */
static struct mist_buf *make_frame(struct fx *fx, uint32_t len, uint32_t seq)
{
	uint8_t bytes[MTU + MIST_ETHER_HDR_LEN + 1];
	assert_true(len <= sizeof(bytes));
	expected_frame(bytes, len, seq);
	struct mist_buf *head = mist_buf_alloc(fx->tx, MIST_ETHER_HDR_LEN);
	struct mist_buf *payload = mist_buf_alloc(fx->tx, len - MIST_ETHER_HDR_LEN);
	assert_non_null(head);
	assert_non_null(payload);
	memcpy(head->data, bytes, MIST_ETHER_HDR_LEN);
	memcpy(payload->data, bytes + MIST_ETHER_HDR_LEN, len - MIST_ETHER_HDR_LEN);
	mist_buf_chain(head, payload);
	return head;
}

static void send_frames(struct fx *fx, struct mist_netdev *dev, uint32_t len, uint32_t first,
                        uint32_t count)
{
	for (uint32_t i = 0; i < count; i++)
		assert_int_equal(dev->ops->tx(dev, make_frame(fx, len, first + i)), 0);
	dev->ops->flush(dev);
}

static uint32_t frame_seq(const struct mist_buf *buf)
{
	assert_true(buf->len >= SEQ_OFF + 4);
	return mist_load_be32(buf->data + SEQ_OFF);
}

/* Asserts that `buf` is one contiguous view holding exactly frame `seq`. */
static void assert_frame(const struct mist_buf *buf, uint32_t len, uint32_t seq)
{
	uint8_t bytes[MTU + MIST_ETHER_HDR_LEN];
	assert_null(buf->next);
	assert_int_equal(buf->len, len);
	expected_frame(bytes, len, seq);
	assert_memory_equal(buf->data, bytes, len);
}

/* Receives everything due now on `dev`, storing sequence numbers; frees the frames. */
static uint32_t drain(struct mist_netdev *dev, uint32_t *seqs, uint32_t room)
{
	struct mist_buf *bufs[BURST];
	uint32_t total = 0;
	unsigned n;
	while ((n = dev->ops->rx_burst(dev, bufs, BURST)) > 0) {
		for (unsigned i = 0; i < n; i++) {
			if (seqs != NULL) {
				assert_true(total < room);
				seqs[total] = frame_seq(bufs[i]);
			}
			total++;
			mist_buf_free(bufs[i]);
		}
	}
	return total;
}

/* Moves virtual time to `until`, receiving on `dev` whatever arrives on the way. */
static uint32_t run_until(struct mist_netdev *dev, uint64_t until, uint32_t *seqs, uint32_t room)
{
	uint32_t total = drain(dev, seqs, room);
	while (mist_plat_monotonic() < until) {
		mist_plat_yield(until);
		total += drain(dev, seqs == NULL ? NULL : seqs + total, room - total);
	}
	return total;
}

static void frame_arrives_after_delay_identical_in_fresh_receiver_buffer(void **state)
{
	struct fx *fx = *state;
	struct sim_link_params p = default_params();
	p.delay_ns = 5 * MIST_MSEC;
	fx_link(fx, &p, RX_POOL_COUNT);
	struct mist_buf *bufs[2];
	struct mist_pool_stats ps;

	send_frames(fx, fx->a, FRAME_LEN, 42, 1);
	mist_pool_stats(fx->tx, &ps);
	assert_int_equal(ps.in_use, 0);
	assert_int_equal(ps.views_in_use, 0);
	mist_pool_stats(fx->rxb, &ps);
	assert_int_equal(ps.in_use, 1);
	assert_int_equal(fx->b->ops->rx_burst(fx->b, bufs, 2), 0);

	mist_plat_yield(MIST_FOREVER);
	assert_int_equal(mist_plat_monotonic(), 5 * MIST_MSEC);
	assert_int_equal(fx->a->ops->rx_burst(fx->a, bufs, 2), 0);
	assert_int_equal(fx->b->ops->rx_burst(fx->b, bufs, 2), 1);
	assert_frame(bufs[0], FRAME_LEN, 42);
	mist_buf_free(bufs[0]);

	struct sim_link_stats ls;
	sim_link_stats(fx->link, 0, &ls);
	assert_int_equal(ls.sent, 1);
	assert_int_equal(ls.delivered, 1);
	assert_int_equal(fx->a->stats.tx_frames, 1);
	assert_int_equal(fx->a->stats.tx_bytes, FRAME_LEN);
	assert_int_equal(fx->b->stats.rx_frames, 1);
	assert_int_equal(fx->b->stats.rx_bytes, FRAME_LEN);
	assert_int_equal(sim_link_in_flight(fx->link, 0), 0);
}

static void frame_arrives_after_serialisation_and_delay(void **state)
{
	struct fx *fx = *state;
	struct sim_link_params p = default_params();
	p.delay_ns = 3 * MIST_MSEC;
	p.bandwidth_bps = 8000000; /* one byte per microsecond */
	fx_link(fx, &p, RX_POOL_COUNT);
	struct mist_buf *buf;

	send_frames(fx, fx->a, FRAME_LEN, 7, 1);
	mist_plat_yield(MIST_FOREVER);
	assert_int_equal(mist_plat_monotonic(), 3 * MIST_MSEC + FRAME_LEN * MIST_USEC);
	assert_int_equal(fx->b->ops->rx_burst(fx->b, &buf, 1), 1);
	assert_frame(buf, FRAME_LEN, 7);
	mist_buf_free(buf);
}

static void serialisation_time_is_rounded_up_to_the_nanosecond(void **state)
{
	struct fx *fx = *state;
	struct sim_link_params p = default_params();
	p.delay_ns = 0;
	p.bandwidth_bps = 3000000; /* 800 bits take 266666.67 ns */
	fx_link(fx, &p, RX_POOL_COUNT);

	send_frames(fx, fx->a, FRAME_LEN, 0, 2);
	mist_plat_yield(MIST_FOREVER);
	assert_int_equal(mist_plat_monotonic(), 266667);
	assert_int_equal(drain(fx->b, NULL, 0), 1);
	mist_plat_yield(MIST_FOREVER);
	assert_int_equal(mist_plat_monotonic(), 2 * 266667);
	assert_int_equal(drain(fx->b, NULL, 0), 1);
}

static void back_to_back_frames_are_spaced_by_serialisation_time(void **state)
{
	struct fx *fx = *state;
	struct sim_link_params p = default_params();
	p.delay_ns = 2 * MIST_MSEC;
	p.bandwidth_bps = 10000000;
	fx_link(fx, &p, RX_POOL_COUNT);
	const uint32_t len = 1000, count = 10;
	const uint64_t spacing = len * 8ull * MIST_SEC / p.bandwidth_bps; /* 800 us */
	struct mist_buf *buf;

	send_frames(fx, fx->a, len, 0, count);
	for (uint32_t i = 0; i < count; i++) {
		mist_plat_yield(MIST_FOREVER);
		assert_int_equal(mist_plat_monotonic(), p.delay_ns + (i + 1) * spacing);
		assert_int_equal(fx->b->ops->rx_burst(fx->b, &buf, 1), 1);
		assert_frame(buf, len, i);
		mist_buf_free(buf);
		assert_int_equal(fx->b->ops->rx_burst(fx->b, &buf, 1), 0);
	}
}

static void yield_jumps_to_next_delivery_not_past_it(void **state)
{
	struct fx *fx = *state;
	struct sim_link_params p = default_params();
	p.delay_ns = 7 * MIST_MSEC;
	fx_link(fx, &p, RX_POOL_COUNT);

	send_frames(fx, fx->a, FRAME_LEN, 1, 1);
	/* A deadline before the delivery is reached and nothing arrives. */
	mist_plat_yield(2 * MIST_MSEC);
	assert_int_equal(mist_plat_monotonic(), 2 * MIST_MSEC);
	assert_int_equal(drain(fx->b, NULL, 0), 0);
	/* The other direction's frame, sent later, arrives later. */
	send_frames(fx, fx->b, FRAME_LEN, 2, 1);
	mist_plat_yield(10 * MIST_SEC);
	assert_int_equal(mist_plat_monotonic(), 7 * MIST_MSEC);
	assert_int_equal(drain(fx->a, NULL, 0), 0);
	assert_int_equal(drain(fx->b, NULL, 0), 1);
	mist_plat_yield(10 * MIST_SEC);
	assert_int_equal(mist_plat_monotonic(), 9 * MIST_MSEC);
	assert_int_equal(drain(fx->a, NULL, 0), 1);
	/* With nothing in flight, the deadline is all there is. */
	mist_plat_yield(10 * MIST_SEC);
	assert_int_equal(mist_plat_monotonic(), 10 * MIST_SEC);
}

static void loss_of_all_and_of_none(void **state)
{
	struct fx *fx = *state;
	struct sim_link_params p = default_params();
	p.loss_ppm = SIM_PPM_ALWAYS;
	fx_link(fx, &p, RX_POOL_COUNT);
	struct sim_link_stats ls;

	send_frames(fx, fx->a, FRAME_LEN, 0, 100);
	assert_int_equal(sim_link_in_flight(fx->link, 0), 0);
	assert_int_equal(run_until(fx->b, MIST_SEC, NULL, 0), 0);
	sim_link_stats(fx->link, 0, &ls);
	assert_int_equal(ls.sent, 100);
	assert_int_equal(ls.lost, 100);
	assert_int_equal(ls.delivered, 0);

	p.loss_ppm = 0;
	assert_int_equal(sim_link_set_params(fx->link, 0, &p), 0);
	send_frames(fx, fx->a, FRAME_LEN, 0, 100);
	assert_int_equal(run_until(fx->b, 2 * MIST_SEC, NULL, 0), 100);
	sim_link_stats(fx->link, 0, &ls);
	assert_int_equal(ls.lost, 100);
	assert_int_equal(ls.delivered, 100);
}

#define LOSS_FRAMES 10000u
#define LOSS_BATCH  200u

/* Sends LOSS_FRAMES frames at 10% loss; marks in delivered[] those that arrive. */
static uint32_t run_lossy(struct fx *fx, uint64_t seed, uint8_t delivered[LOSS_FRAMES])
{
	struct sim_link_params p = default_params();
	p.loss_ppm = 100000;
	p.seed = seed;
	fx->link = sim_link_create(&p, fx->rxa, fx->rxb, mac_a, mac_b);
	assert_non_null(fx->link);
	fx->a = sim_link_dev(fx->link, 0);
	fx->b = sim_link_dev(fx->link, 1);

	static uint32_t seqs[LOSS_BATCH];
	uint32_t received = 0;
	memset(delivered, 0, LOSS_FRAMES);
	for (uint32_t first = 0; first < LOSS_FRAMES; first += LOSS_BATCH) {
		send_frames(fx, fx->a, FRAME_LEN, first, LOSS_BATCH);
		uint32_t n =
		        run_until(fx->b, mist_plat_monotonic() + 2 * p.delay_ns, seqs, LOSS_BATCH);
		for (uint32_t i = 0; i < n; i++) {
			assert_true(seqs[i] < LOSS_FRAMES);
			assert_int_equal(delivered[seqs[i]], 0);
			delivered[seqs[i]] = 1;
		}
		received += n;
	}
	struct sim_link_stats ls;
	sim_link_stats(fx->link, 0, &ls);
	assert_int_equal(ls.sent, LOSS_FRAMES);
	assert_int_equal(ls.lost + ls.delivered, LOSS_FRAMES);
	assert_int_equal(ls.delivered, received);
	sim_link_destroy(fx->link);
	fx->link = NULL;
	return received;
}

static void loss_at_ten_percent_is_plausible_and_replays_by_seed(void **state)
{
	struct fx *fx = *state;
	fx_pools(fx, RX_POOL_COUNT);
	static uint8_t first[LOSS_FRAMES], again[LOSS_FRAMES], other[LOSS_FRAMES];

	uint32_t n = run_lossy(fx, 1234, first);
	/* Binomial(10000, 0.1): 1000 lost, standard deviation 30. */
	assert_in_range(LOSS_FRAMES - n, 850, 1150);
	assert_int_equal(run_lossy(fx, 1234, again), n);
	assert_memory_equal(first, again, LOSS_FRAMES);
	run_lossy(fx, 4321, other);
	assert_memory_not_equal(first, other, LOSS_FRAMES);
}

static void duplication_delivers_each_frame_twice_in_order(void **state)
{
	struct fx *fx = *state;
	struct sim_link_params p = default_params();
	p.dup_ppm = SIM_PPM_ALWAYS;
	fx_link(fx, &p, RX_POOL_COUNT);
	struct mist_buf *bufs[BURST];
	const uint32_t count = 20;

	send_frames(fx, fx->a, FRAME_LEN, 0, count);
	mist_plat_yield(MIST_FOREVER);
	assert_int_equal(fx->b->ops->rx_burst(fx->b, bufs, BURST), 2 * count);
	for (uint32_t i = 0; i < 2 * count; i++) {
		assert_frame(bufs[i], FRAME_LEN, i / 2);
		mist_buf_free(bufs[i]);
	}
	/* The copies are distinct buffers: both were freed above. */
	struct sim_link_stats ls;
	sim_link_stats(fx->link, 0, &ls);
	assert_int_equal(ls.sent, count);
	assert_int_equal(ls.duplicated, count);
	assert_int_equal(ls.delivered, 2 * count);
}

static void corruption_flips_exactly_one_bit_of_the_receivers_copy(void **state)
{
	struct fx *fx = *state;
	struct sim_link_params p = default_params();
	p.corrupt_ppm = SIM_PPM_ALWAYS;
	fx_link(fx, &p, RX_POOL_COUNT);
	const uint32_t count = 100;
	struct mist_buf *kept[100], *bufs[BURST];
	uint8_t bytes[FRAME_LEN];

	/* Keep a second view of each sent frame: the sender's storage must stay intact. */
	for (uint32_t i = 0; i < count; i++) {
		struct mist_buf *frame = make_frame(fx, FRAME_LEN, i);
		kept[i] = mist_buf_clone(frame->next);
		assert_non_null(kept[i]);
		assert_int_equal(fx->a->ops->tx(fx->a, frame), 0);
	}
	fx->a->ops->flush(fx->a);
	mist_plat_yield(MIST_FOREVER);

	uint32_t received = 0;
	unsigned n;
	while ((n = fx->b->ops->rx_burst(fx->b, bufs, BURST)) > 0) {
		for (unsigned i = 0; i < n; i++, received++) {
			unsigned flipped = 0;
			expected_frame(bytes, FRAME_LEN, received);
			assert_int_equal(bufs[i]->len, FRAME_LEN);
			for (uint32_t j = 0; j < FRAME_LEN; j++)
				flipped +=
				        (unsigned)__builtin_popcount(bufs[i]->data[j] ^ bytes[j]);
			assert_int_equal(flipped, 1);
			mist_buf_free(bufs[i]);
		}
	}
	assert_int_equal(received, count);
	for (uint32_t i = 0; i < count; i++) {
		expected_frame(bytes, FRAME_LEN, i);
		assert_memory_equal(kept[i]->data, bytes + MIST_ETHER_HDR_LEN, kept[i]->len);
		mist_buf_free(kept[i]);
	}
	struct sim_link_stats ls;
	sim_link_stats(fx->link, 0, &ls);
	assert_int_equal(ls.corrupted, count);
}

static void reordering_reorders_some_frames_and_loses_none(void **state)
{
	struct fx *fx = *state;
	struct sim_link_params p = default_params();
	p.reorder_ppm = 100000;
	p.jitter_ns = 200 * MIST_USEC;
	fx_link(fx, &p, RX_POOL_COUNT);
	const uint32_t batches = 20, per_batch = 50, count = batches * per_batch;
	static uint32_t seqs[1000];
	static uint8_t seen[1000];
	uint32_t received = 0;

	for (uint32_t b = 0; b < batches; b++) {
		send_frames(fx, fx->a, FRAME_LEN, b * per_batch, per_batch);
		received += run_until(fx->b, mist_plat_monotonic() + 100 * MIST_USEC,
		                      seqs + received, count - received);
	}
	received += run_until(fx->b, mist_plat_monotonic() + MIST_SEC, seqs + received,
	                      count - received);
	assert_int_equal(received, count);

	uint32_t inversions = 0;
	memset(seen, 0, sizeof(seen));
	for (uint32_t i = 0; i < count; i++) {
		assert_true(seqs[i] < count);
		assert_int_equal(seen[seqs[i]], 0);
		seen[seqs[i]] = 1;
		if (i > 0 && seqs[i] < seqs[i - 1])
			inversions++;
	}
	assert_true(inversions > 0);
	struct sim_link_stats ls;
	sim_link_stats(fx->link, 0, &ls);
	assert_true(ls.reordered > 0);
	assert_int_equal(ls.delivered, count);
	assert_int_equal(ls.lost, 0);
}

static void jitter_alone_never_reorders(void **state)
{
	struct fx *fx = *state;
	struct sim_link_params p = default_params();
	p.jitter_ns = 5 * MIST_MSEC;
	fx_link(fx, &p, RX_POOL_COUNT);
	static uint32_t seqs[500];
	uint32_t received = 0;

	for (uint32_t b = 0; b < 10; b++) {
		send_frames(fx, fx->a, FRAME_LEN, b * 50, 50);
		received += run_until(fx->b, mist_plat_monotonic() + 100 * MIST_USEC,
		                      seqs + received, 500 - received);
	}
	received +=
	        run_until(fx->b, mist_plat_monotonic() + MIST_SEC, seqs + received, 500 - received);
	assert_int_equal(received, 500);
	for (uint32_t i = 0; i < 500; i++)
		assert_int_equal(seqs[i], i);
}

static void full_queue_drops_at_the_tail_and_counts(void **state)
{
	struct fx *fx = *state;
	struct sim_link_params p = default_params();
	p.delay_ns = 0;
	p.bandwidth_bps = 8000000; /* 1000 bytes take 1 ms */
	p.queue_limit = 4;
	fx_link(fx, &p, RX_POOL_COUNT);
	static uint32_t seqs[16];
	struct sim_link_stats ls;

	/* Frames 0-3 are queued (departing at 1, 2, 3, 4 ms); 4-9 find it full. */
	send_frames(fx, fx->a, 1000, 0, 10);
	sim_link_stats(fx->link, 0, &ls);
	assert_int_equal(ls.queue_dropped, 6);
	/* At 2 ms two have left; of three more, two fit. */
	assert_int_equal(run_until(fx->b, 2 * MIST_MSEC, seqs, 16), 2);
	send_frames(fx, fx->a, 1000, 10, 3);
	sim_link_stats(fx->link, 0, &ls);
	assert_int_equal(ls.queue_dropped, 7);
	uint32_t n = run_until(fx->b, MIST_SEC, seqs + 2, 14);
	assert_int_equal(n, 4);
	const uint32_t expect[] = {0, 1, 2, 3, 10, 11};
	assert_memory_equal(seqs, expect, sizeof(expect));
	sim_link_stats(fx->link, 0, &ls);
	assert_int_equal(ls.sent, 13);
	assert_int_equal(ls.delivered, 6);
}

static void oversized_frame_is_rejected_with_emsgsize(void **state)
{
	struct fx *fx = *state;
	struct sim_link_params p = default_params();
	fx_link(fx, &p, RX_POOL_COUNT);

	assert_int_equal(fx->a->mtu, MTU);
	assert_int_equal(fx->a->ops->tx(fx->a, make_frame(fx, MTU + MIST_ETHER_HDR_LEN + 1, 1)),
	                 MIST_EMSGSIZE);
	assert_int_equal(fx->a->ops->tx(fx->a, make_frame(fx, MTU + MIST_ETHER_HDR_LEN, 2)), 0);
	fx->a->ops->flush(fx->a);
	assert_int_equal(fx->a->stats.tx_dropped, 1);
	struct sim_link_stats ls;
	sim_link_stats(fx->link, 0, &ls);
	assert_int_equal(ls.oversized, 1);
	assert_int_equal(ls.sent, 1);
	static uint32_t seqs[4];
	assert_int_equal(run_until(fx->b, MIST_SEC, seqs, 4), 1);
	assert_int_equal(seqs[0], 2);
}

static void full_transmit_queue_returns_eagain(void **state)
{
	struct fx *fx = *state;
	struct sim_link_params p = default_params();
	fx_link(fx, &p, RX_POOL_COUNT);

	for (uint32_t i = 0; i < SIM_LINK_TX_QUEUE_LEN; i++)
		assert_int_equal(fx->a->ops->tx(fx->a, make_frame(fx, FRAME_LEN, i)), 0);
	assert_int_equal(fx->a->ops->tx(fx->a, make_frame(fx, FRAME_LEN, 999)), MIST_EAGAIN);
	assert_int_equal(fx->a->stats.tx_dropped, 1);
	fx->a->ops->flush(fx->a);
	assert_int_equal(fx->a->ops->tx(fx->a, make_frame(fx, FRAME_LEN, 1000)), 0);
	fx->a->ops->flush(fx->a);
	assert_int_equal(run_until(fx->b, MIST_SEC, NULL, 0), SIM_LINK_TX_QUEUE_LEN + 1);
	struct sim_link_stats ls;
	sim_link_stats(fx->link, 0, &ls);
	assert_int_equal(ls.tx_queue_full, 1);
}

static void receiver_pool_exhaustion_drops_and_counts(void **state)
{
	struct fx *fx = *state;
	struct sim_link_params p = default_params();
	fx_link(fx, &p, 4);

	send_frames(fx, fx->a, FRAME_LEN, 0, 6);
	assert_int_equal(fx->b->stats.rx_dropped, 2);
	struct sim_link_stats ls;
	sim_link_stats(fx->link, 0, &ls);
	assert_int_equal(ls.no_buffer, 2);
	assert_int_equal(sim_link_in_flight(fx->link, 0), 4);
	static uint32_t seqs[8];
	assert_int_equal(run_until(fx->b, MIST_SEC, seqs, 8), 4);
	const uint32_t expect[] = {0, 1, 2, 3};
	assert_memory_equal(seqs, expect, sizeof(expect));
	/* Buffers given back, the receiver takes frames again. */
	send_frames(fx, fx->a, FRAME_LEN, 6, 1);
	assert_int_equal(run_until(fx->b, 2 * MIST_SEC, NULL, 0), 1);
}

static void link_down_loses_new_frames_but_delivers_those_in_flight(void **state)
{
	struct fx *fx = *state;
	struct sim_link_params p = default_params();
	fx_link(fx, &p, RX_POOL_COUNT);
	static uint32_t seqs[8];

	send_frames(fx, fx->a, FRAME_LEN, 0, 2);
	struct sim_link_params down = p;
	down.loss_ppm = SIM_PPM_ALWAYS;
	assert_int_equal(sim_link_set_params(fx->link, 0, &down), 0);
	send_frames(fx, fx->a, FRAME_LEN, 2, 2);
	assert_int_equal(run_until(fx->b, 10 * MIST_MSEC, seqs, 8), 2);
	assert_int_equal(seqs[0], 0);
	assert_int_equal(seqs[1], 1);
	/* The other direction is unaffected. */
	send_frames(fx, fx->b, FRAME_LEN, 4, 1);
	assert_int_equal(run_until(fx->a, 20 * MIST_MSEC, NULL, 0), 1);

	assert_int_equal(sim_link_set_params(fx->link, 0, &p), 0);
	send_frames(fx, fx->a, FRAME_LEN, 5, 1);
	assert_int_equal(run_until(fx->b, 30 * MIST_MSEC, seqs, 8), 1);
	assert_int_equal(seqs[0], 5);
	struct sim_link_stats ls;
	sim_link_stats(fx->link, 0, &ls);
	assert_int_equal(ls.lost, 2);

	down.mtu = 0;
	assert_int_equal(sim_link_set_params(fx->link, 0, &down), MIST_EINVAL);
	assert_int_equal(sim_link_set_params(fx->link, 2, &p), MIST_EINVAL);
}

static void closing_a_device_releases_frames_on_their_way_to_it(void **state)
{
	struct fx *fx = *state;
	struct sim_link_params p = default_params();
	fx_link(fx, &p, RX_POOL_COUNT);

	send_frames(fx, fx->a, FRAME_LEN, 0, 3);
	assert_int_equal(fx->b->ops->tx(fx->b, make_frame(fx, FRAME_LEN, 9)), 0);
	fx->b->ops->close(fx->b);
	assert_pool_empty(fx->rxb);
	assert_pool_empty(fx->tx);
	send_frames(fx, fx->a, FRAME_LEN, 3, 1);
	assert_pool_empty(fx->rxb);
	assert_int_equal(sim_link_in_flight(fx->link, 0), 0);
	struct sim_link_stats ls;
	sim_link_stats(fx->link, 0, &ls);
	assert_int_equal(ls.lost, 4);
}

/* Every test gets a fresh fixture and must leave it empty. */
#define T(name) cmocka_unit_test_setup_teardown(name, fx_setup, fx_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	        T(frame_arrives_after_delay_identical_in_fresh_receiver_buffer),
	        T(frame_arrives_after_serialisation_and_delay),
	        T(serialisation_time_is_rounded_up_to_the_nanosecond),
	        T(back_to_back_frames_are_spaced_by_serialisation_time),
	        T(yield_jumps_to_next_delivery_not_past_it),
	        T(loss_of_all_and_of_none),
	        T(loss_at_ten_percent_is_plausible_and_replays_by_seed),
	        T(duplication_delivers_each_frame_twice_in_order),
	        T(corruption_flips_exactly_one_bit_of_the_receivers_copy),
	        T(reordering_reorders_some_frames_and_loses_none),
	        T(jitter_alone_never_reorders),
	        T(full_queue_drops_at_the_tail_and_counts),
	        T(oversized_frame_is_rejected_with_emsgsize),
	        T(full_transmit_queue_returns_eagain),
	        T(receiver_pool_exhaustion_drops_and_counts),
	        T(link_down_loses_new_frames_but_delivers_those_in_flight),
	        T(closing_a_device_releases_frames_on_their_way_to_it),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
