/*
 * Unit tests for the fault-injecting wrapper (src/dev/fault.h): nothing
 * changes at 0 ppm, nothing passes at 1000000 ppm of loss, rates are
 * plausible and replay exactly from the seed, corruption flips exactly one
 * bit of a copy and leaves shared storage alone, duplicates follow their
 * originals, reordering swaps adjacent frames and loses none whatever the
 * burst size, and a frame held at close is released. The device under the
 * wrapper is a loopback written here: what it transmits it receives, and
 * frames can also be put straight on its receive queue. Every test ends with
 * its pools empty.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "loopdev.h"

#include "base/endian.h"
#include "core/netdev.h"
#include "dev/fault.h"
#include "mist/mist.h"

#define POOL_BLOCKS   128
#define POOL_SIZE     256
#define POOL_HEADROOM 32
#define FRAME_LEN     64
#define MTU           1500
#define BURST         32

/* --- fixture: a loopback wrapped by the fault injector --------------------- */

struct fixture {
	struct mist_pool *frames; /* the test's frames and the loopback's copies */
	struct mist_pool *copies; /* the wrapper's copies */
	struct loop_dev loop;
	struct mist_netdev *dev;
};

static void fixture_open(struct fixture *fx, const struct mist_fault_params *rx,
                         const struct mist_fault_params *tx)
{
	memset(fx, 0, sizeof(*fx));
	fx->frames = mist_pool_create("frames", POOL_BLOCKS, POOL_SIZE, POOL_HEADROOM);
	fx->copies = mist_pool_create("copies", POOL_BLOCKS, POOL_SIZE, POOL_HEADROOM);
	assert_non_null(fx->frames);
	assert_non_null(fx->copies);
	loop_init(&fx->loop, fx->frames, MTU);
	assert_int_equal(mist_fault_wrap(&fx->loop.netdev, rx, tx, fx->copies, &fx->dev), 0);
	assert_string_equal(fx->dev->name, "loop0");
	assert_int_equal(fx->dev->mtu, MTU);
}

static void pool_end(struct mist_pool *pool)
{
	struct mist_pool_stats stats;
	mist_pool_stats(pool, &stats);
	assert_int_equal(stats.in_use, 0);
	assert_int_equal(stats.views_in_use, 0);
	assert_int_equal(mist_pool_destroy(pool), MIST_OK);
}

static void fixture_close(struct fixture *fx)
{
	fx->dev->ops->close(fx->dev);
	assert_int_equal(fx->loop.closes, 1);
	pool_end(fx->frames);
	pool_end(fx->copies);
}

/* A frame whose first four bytes are its index and the rest a pattern from it. */
static struct mist_buf *frame_new(struct fixture *fx, uint32_t index)
{
	struct mist_buf *b = mist_buf_alloc(fx->frames, FRAME_LEN);
	assert_non_null(b);
	mist_store_be32(b->data, index);
	for (uint32_t i = 4; i < FRAME_LEN; i++)
		b->data[i] = (uint8_t)(index * 7 + i);
	return b;
}

static uint32_t frame_index(const struct mist_buf *b)
{
	assert_true(b->len >= 4);
	return mist_load_be32(b->data);
}

static struct mist_fault_stats stats_of(const struct fixture *fx)
{
	struct mist_fault_stats s;
	mist_fault_stats(fx->dev, &s);
	return s;
}

/* Frames the loopback has queued for receive, read past the wrapper. */
static unsigned lower_rx(struct fixture *fx, struct mist_buf **bufs, unsigned max)
{
	return fx->loop.netdev.ops->rx_burst(&fx->loop.netdev, bufs, max);
}

static void free_all(struct mist_buf **bufs, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		mist_buf_free_chain(bufs[i]);
}

/* --- tests ----------------------------------------------------------------- */

static void fault_at_zero_ppm_passes_everything_unchanged(void **state)
{
	const struct mist_fault_params none = {.seed = 42};
	struct fixture fx;
	fixture_open(&fx, &none, &none);

	for (uint32_t i = 0; i < 20; i++)
		assert_int_equal(fx.dev->ops->tx(fx.dev, frame_new(&fx, i)), 0);
	fx.dev->ops->flush(fx.dev);
	struct mist_buf *got[BURST];
	assert_int_equal(fx.dev->ops->rx_burst(fx.dev, got, BURST), 20);
	for (uint32_t i = 0; i < 20; i++) {
		struct mist_buf *expected = frame_new(&fx, i);
		assert_int_equal(got[i]->len, FRAME_LEN);
		assert_memory_equal(got[i]->data, expected->data, FRAME_LEN);
		mist_buf_free(expected);
	}
	free_all(got, 20);

	struct mist_fault_stats s = stats_of(&fx);
	assert_int_equal(s.tx.frames, 20);
	assert_int_equal(s.rx.frames, 20);
	assert_int_equal(s.tx.dropped + s.tx.duplicated + s.tx.reordered + s.tx.corrupted, 0);
	assert_int_equal(s.rx.dropped + s.rx.duplicated + s.rx.reordered + s.rx.corrupted, 0);
	assert_int_equal(fx.dev->stats.tx_frames, 20);
	assert_int_equal(fx.dev->stats.rx_frames, 20);
	fixture_close(&fx);
}

static void fault_at_full_drop_passes_nothing(void **state)
{
	const struct mist_fault_params all = {.drop_ppm = MIST_FAULT_PPM_ALWAYS, .seed = 1};
	struct fixture fx;
	fixture_open(&fx, &all, &all);

	for (uint32_t i = 0; i < 20; i++)
		assert_int_equal(fx.dev->ops->tx(fx.dev, frame_new(&fx, i)), 0);
	fx.dev->ops->flush(fx.dev);
	struct mist_buf *got[BURST];
	assert_int_equal(lower_rx(&fx, got, BURST), 0);
	for (uint32_t i = 0; i < 20; i++)
		loop_inject(&fx.loop, frame_new(&fx, i));
	assert_int_equal(fx.dev->ops->rx_burst(fx.dev, got, BURST), 0);

	struct mist_fault_stats s = stats_of(&fx);
	assert_int_equal(s.tx.dropped, 20);
	assert_int_equal(s.rx.dropped, 20);
	fixture_close(&fx);
}

#define RUN_FRAMES 10000
#define RUN_BATCH  10

struct run_result {
	struct mist_fault_stats stats;
	uint64_t received; /* frames out of the receive side */
	uint64_t digest;   /* FNV-1a over every received frame, in order */
};

/*
 * Sends RUN_FRAMES frames through both directions, RUN_BATCH per flush, with
 * every fault at 10%.
 */
static struct run_result run_with_seed(uint64_t seed)
{
	const uint32_t ppm = 100000;
	const struct mist_fault_params tx = {.drop_ppm = ppm,
	                                     .dup_ppm = ppm,
	                                     .reorder_ppm = ppm,
	                                     .corrupt_ppm = ppm,
	                                     .seed = seed};
	struct mist_fault_params rx = tx;
	rx.seed = seed ^ 0x5555;
	struct fixture fx;
	struct run_result r = {.digest = 0xcbf29ce484222325ull};
	fixture_open(&fx, &rx, &tx);

	for (uint32_t i = 0; i < RUN_FRAMES; i += RUN_BATCH) {
		for (uint32_t j = 0; j < RUN_BATCH; j++)
			assert_int_equal(fx.dev->ops->tx(fx.dev, frame_new(&fx, i + j)), 0);
		fx.dev->ops->flush(fx.dev);
		struct mist_buf *got[BURST];
		unsigned n;
		while ((n = fx.dev->ops->rx_burst(fx.dev, got, BURST)) > 0) {
			for (unsigned k = 0; k < n; k++) {
				for (uint32_t b = 0; b < got[k]->len; b++)
					r.digest = (r.digest ^ got[k]->data[b]) * 0x100000001b3ull;
				r.received++;
			}
			free_all(got, n);
		}
	}
	r.stats = stats_of(&fx);
	fixture_close(&fx);
	return r;
}

static void assert_near(uint64_t count, uint64_t expected)
{
	/* 30% either way: over 10 standard deviations at these counts. */
	assert_in_range(count, expected * 7 / 10, expected * 13 / 10);
}

static void fault_rates_are_plausible_and_replay_from_the_seed(void **state)
{
	struct run_result a = run_with_seed(7);
	struct run_result b = run_with_seed(7);
	struct run_result c = run_with_seed(8);

	assert_memory_equal(&a.stats, &b.stats, sizeof(a.stats));
	assert_int_equal(a.received, b.received);
	assert_int_equal(a.digest, b.digest);
	assert_true(a.digest != c.digest);

	const struct mist_fault_dir_stats *dirs[2] = {&a.stats.tx, &a.stats.rx};
	for (int i = 0; i < 2; i++) {
		const struct mist_fault_dir_stats *d = dirs[i];
		uint64_t kept = d->frames - d->dropped;
		assert_near(d->dropped, d->frames / 10);
		assert_near(d->corrupted, kept / 10);
		assert_near(d->duplicated, kept / 10);
		/* A frame held is swapped unless it is the last of its batch: fewer than 10%. */
		assert_in_range(d->reordered, kept / 20, kept / 10 + kept / 30);
		assert_int_equal(d->no_buffer, 0);
	}
	assert_int_equal(a.stats.tx.frames, RUN_FRAMES);
	/* What left the transmit side entered the receive side. */
	assert_int_equal(a.stats.rx.frames,
	                 a.stats.tx.frames - a.stats.tx.dropped + a.stats.tx.duplicated);
	assert_int_equal(a.received,
	                 a.stats.rx.frames - a.stats.rx.dropped + a.stats.rx.duplicated);
}

/* Number of bits in which `a` and `b`, both `len` bytes, differ. */
static unsigned bits_differing(const uint8_t *a, const uint8_t *b, size_t len)
{
	unsigned bits = 0;
	for (size_t i = 0; i < len; i++)
		bits += (unsigned)__builtin_popcount((unsigned)(a[i] ^ b[i]));
	return bits;
}

static void fault_corrupt_flips_one_bit_of_a_copy(void **state)
{
	const struct mist_fault_params corrupt = {.corrupt_ppm = MIST_FAULT_PPM_ALWAYS, .seed = 3};
	const struct mist_fault_params none = {.seed = 4};
	struct fixture fx;
	fixture_open(&fx, &none, &corrupt);

	/*
	 * Transmit a two-view chain while keeping clones of both views, as
	 * TCP's retransmission queue would: their bytes must not change.
	 */
	for (uint32_t i = 0; i < 50; i++) {
		struct mist_buf *frame = frame_new(&fx, i);
		struct mist_buf *tail = frame_new(&fx, i + 1000);
		mist_buf_chain(frame, tail);
		struct mist_buf *kept_head = mist_buf_clone(frame);
		struct mist_buf *kept_tail = mist_buf_clone(tail);
		uint8_t before[2 * FRAME_LEN];
		assert_int_equal(mist_buf_copyout(frame, 0, before, sizeof(before)), 0);

		assert_int_equal(fx.dev->ops->tx(fx.dev, frame), 0);
		fx.dev->ops->flush(fx.dev);
		struct mist_buf *got[BURST];
		assert_int_equal(fx.dev->ops->rx_burst(fx.dev, got, BURST), 1);
		assert_int_equal(got[0]->len, sizeof(before));
		assert_int_equal(bits_differing(got[0]->data, before, sizeof(before)), 1);
		assert_memory_equal(kept_head->data, before, FRAME_LEN);
		assert_memory_equal(kept_tail->data, before + FRAME_LEN, FRAME_LEN);
		free_all(got, 1);
		mist_buf_free(kept_head);
		mist_buf_free(kept_tail);
	}
	assert_int_equal(stats_of(&fx).tx.corrupted, 50);
	fixture_close(&fx);

	/* The same on receive, where the driver's buffer is shared with a clone. */
	fixture_open(&fx, &corrupt, &none);
	for (uint32_t i = 0; i < 50; i++) {
		struct mist_buf *frame = frame_new(&fx, i);
		struct mist_buf *kept = mist_buf_clone(frame);
		uint8_t before[FRAME_LEN];
		memcpy(before, frame->data, FRAME_LEN);
		loop_inject(&fx.loop, frame);
		struct mist_buf *got[BURST];
		assert_int_equal(fx.dev->ops->rx_burst(fx.dev, got, BURST), 1);
		assert_int_equal(bits_differing(got[0]->data, before, FRAME_LEN), 1);
		assert_memory_equal(kept->data, before, FRAME_LEN);
		free_all(got, 1);
		mist_buf_free(kept);
	}
	assert_int_equal(stats_of(&fx).rx.corrupted, 50);
	fixture_close(&fx);
}

static void fault_offloads_pass_through_but_tx_corruption_turns_checksums_off(void **state)
{
	const struct mist_fault_params corrupt = {.corrupt_ppm = MIST_FAULT_PPM_ALWAYS, .seed = 5};
	const struct mist_fault_params loss = {.drop_ppm = 10000, .seed = 6};
	const uint32_t all = MIST_NETDEV_OFF_TX_CSUM | MIST_NETDEV_OFF_TX_TSO4 |
	                     MIST_NETDEV_OFF_RX_CSUM | MIST_NETDEV_OFF_RX_GSO;
	struct fixture fx;

	/* Without corruption on transmit, the wrapper offers what the device does. */
	memset(&fx, 0, sizeof(fx));
	fx.frames = mist_pool_create("frames", POOL_BLOCKS, POOL_SIZE, POOL_HEADROOM);
	fx.copies = mist_pool_create("copies", POOL_BLOCKS, POOL_SIZE, POOL_HEADROOM);
	loop_init(&fx.loop, fx.frames, MTU);
	fx.loop.netdev.offloads = all;
	fx.loop.netdev.rx_large_pool = fx.frames;
	assert_int_equal(mist_fault_wrap(&fx.loop.netdev, &corrupt, &loss, fx.copies, &fx.dev), 0);
	assert_int_equal(fx.dev->offloads, all);
	assert_ptr_equal(fx.dev->rx_large_pool, fx.frames);

	/* A corrupted received copy is no longer vouched for by the device. */
	struct mist_buf *frame = frame_new(&fx, 1);
	frame->flags = MIST_BUF_F_CSUM_VALID;
	loop_inject(&fx.loop, frame);
	struct mist_buf *got[BURST];
	assert_int_equal(fx.dev->ops->rx_burst(fx.dev, got, BURST), 1);
	assert_int_equal(stats_of(&fx).rx.corrupted, 1);
	assert_int_equal(got[0]->flags & MIST_BUF_F_CSUM_VALID, 0);
	free_all(got, 1);
	fixture_close(&fx);

	/* With corruption on transmit, no checksum or segmentation is left to the device. */
	memset(&fx, 0, sizeof(fx));
	fx.frames = mist_pool_create("frames", POOL_BLOCKS, POOL_SIZE, POOL_HEADROOM);
	fx.copies = mist_pool_create("copies", POOL_BLOCKS, POOL_SIZE, POOL_HEADROOM);
	loop_init(&fx.loop, fx.frames, MTU);
	fx.loop.netdev.offloads = all;
	assert_int_equal(mist_fault_wrap(&fx.loop.netdev, NULL, &corrupt, fx.copies, &fx.dev), 0);
	assert_int_equal(fx.dev->offloads, MIST_NETDEV_OFF_RX_CSUM | MIST_NETDEV_OFF_RX_GSO);
	fixture_close(&fx);
}

static void fault_duplicate_follows_its_original(void **state)
{
	const struct mist_fault_params dup = {.dup_ppm = MIST_FAULT_PPM_ALWAYS, .seed = 5};
	const struct mist_fault_params none = {.seed = 6};
	struct fixture fx;
	fixture_open(&fx, &dup, &none);

	/* Each frame twice on the wire, then each of those twice on receive. */
	for (uint32_t i = 0; i < 3; i++)
		assert_int_equal(fx.dev->ops->tx(fx.dev, frame_new(&fx, i)), 0);
	fx.dev->ops->flush(fx.dev);
	struct mist_buf *got[BURST];
	assert_int_equal(fx.dev->ops->rx_burst(fx.dev, got, BURST), 6);
	for (uint32_t i = 0; i < 6; i++)
		assert_int_equal(frame_index(got[i]), i / 2);
	/* Receive duplicates are copies: the stack may rewrite either in place. */
	assert_ptr_not_equal(got[0]->data, got[1]->data);
	free_all(got, 6);
	assert_int_equal(stats_of(&fx).rx.duplicated, 3);
	fixture_close(&fx);

	fixture_open(&fx, &none, &dup);
	for (uint32_t i = 0; i < 3; i++)
		assert_int_equal(fx.dev->ops->tx(fx.dev, frame_new(&fx, i)), 0);
	fx.dev->ops->flush(fx.dev);
	assert_int_equal(lower_rx(&fx, got, BURST), 6);
	for (uint32_t i = 0; i < 6; i++)
		assert_int_equal(frame_index(got[i]), i / 2);
	free_all(got, 6);
	assert_int_equal(stats_of(&fx).tx.duplicated, 3);
	fixture_close(&fx);
}

static void fault_reorder_swaps_adjacent_frames_and_loses_none(void **state)
{
	const struct mist_fault_params reorder = {.reorder_ppm = MIST_FAULT_PPM_ALWAYS, .seed = 9};
	const struct mist_fault_params none = {.seed = 10};
	static const uint32_t swapped[7] = {1, 0, 3, 2, 5, 4, 6};
	struct mist_buf *got[BURST];
	struct fixture fx;

	/* Transmit: the seventh frame, held when flush comes, goes out in order. */
	fixture_open(&fx, &none, &reorder);
	for (uint32_t i = 0; i < 7; i++)
		assert_int_equal(fx.dev->ops->tx(fx.dev, frame_new(&fx, i)), 0);
	fx.dev->ops->flush(fx.dev);
	assert_int_equal(lower_rx(&fx, got, BURST), 7);
	for (uint32_t i = 0; i < 7; i++)
		assert_int_equal(frame_index(got[i]), swapped[i]);
	free_all(got, 7);
	assert_int_equal(stats_of(&fx).tx.reordered, 3);
	fixture_close(&fx);

	/* Receive, in one burst: the same swaps. */
	fixture_open(&fx, &reorder, &none);
	for (uint32_t i = 0; i < 7; i++)
		loop_inject(&fx.loop, frame_new(&fx, i));
	assert_int_equal(fx.dev->ops->rx_burst(fx.dev, got, BURST), 7);
	for (uint32_t i = 0; i < 7; i++)
		assert_int_equal(frame_index(got[i]), swapped[i]);
	free_all(got, 7);
	assert_int_equal(stats_of(&fx).rx.reordered, 3);

	/* Receive in bursts too small for every swap: still every frame exactly once. */
	for (unsigned max = 1; max <= 4; max++) {
		bool seen[7] = {false};
		unsigned total = 0;
		for (uint32_t i = 0; i < 7; i++)
			loop_inject(&fx.loop, frame_new(&fx, i));
		unsigned n;
		while ((n = fx.dev->ops->rx_burst(fx.dev, got, max)) > 0) {
			assert_true(n <= max);
			for (unsigned k = 0; k < n; k++) {
				uint32_t index = frame_index(got[k]);
				assert_true(index < 7);
				assert_false(seen[index]);
				seen[index] = true;
			}
			total += n;
			free_all(got, n);
		}
		assert_int_equal(total, 7);
	}
	fixture_close(&fx);
}

static void fault_close_releases_a_held_frame(void **state)
{
	const struct mist_fault_params reorder = {.reorder_ppm = MIST_FAULT_PPM_ALWAYS, .seed = 11};
	struct fixture fx;
	fixture_open(&fx, NULL, &reorder);

	assert_int_equal(fx.dev->ops->tx(fx.dev, frame_new(&fx, 0)), 0);
	fixture_close(&fx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(fault_at_zero_ppm_passes_everything_unchanged),
	        cmocka_unit_test(fault_at_full_drop_passes_nothing),
	        cmocka_unit_test(fault_rates_are_plausible_and_replay_from_the_seed),
	        cmocka_unit_test(fault_corrupt_flips_one_bit_of_a_copy),
	        cmocka_unit_test(fault_offloads_pass_through_but_tx_corruption_turns_checksums_off),
	        cmocka_unit_test(fault_duplicate_follows_its_original),
	        cmocka_unit_test(fault_reorder_swaps_adjacent_frames_and_loses_none),
	        cmocka_unit_test(fault_close_releases_a_held_frame),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
