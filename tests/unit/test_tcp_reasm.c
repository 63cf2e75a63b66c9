/*
 * Unit tests for the TCP out-of-order queue (net/tcp_reasm.h): held data
 * comes out in order once the hole below it fills, trimmed to RCV.NXT;
 * overlaps on either side keep the bytes held first; exact and contained
 * duplicates are freed; a segment spanning several held ones fills only the
 * gaps, without taking new storage; each limit (bytes per queue, segments
 * per queue, the stack's budget, the buffer pool) refuses with MIST_ENOMEM,
 * frees the segment and changes nothing; the SACK blocks follow RFC 2018's
 * order through the example of its §7. Payload bytes are a pattern of their
 * sequence number and of the segment that carried them, so every test can
 * check which copy of a byte it got back. Every scenario runs at low
 * sequence numbers and across the 2^32 wrap, and every test ends with every
 * buffer back in its pool and the budget at zero.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "base/compiler.h"
#include "mist/buf.h"
#include "mist/mist.h"
#include "net/tcp_reasm.h"

/* Where each scenario starts: low, and 2500 bytes below 2^32 so that it wraps. */
static const uint32_t bases[] = {1000u, 0u - 2500u};

#define AT_EVERY_BASE(name)                                         \
	static void name(void **state)                              \
	{                                                           \
		for (size_t i = 0; i < MIST_ARRAY_SIZE(bases); i++) \
			name##_at(bases[i]);                        \
	}

#define POOL_BLOCKS (TCP_REASM_MAX_SEGS + 64)
#define BLOCK_SIZE  2048
#define NO_LIMIT    UINT32_MAX

/* The byte at `seq` as carried by segment generation `gen`. */
static uint8_t pattern(uint32_t seq, uint8_t gen)
{
	return (uint8_t)(seq * 7u + gen * 31u);
}

struct fx {
	struct mist_pool *pool;
	struct tcp_reasm q;
	struct tcp_reasm_budget budget;
};

static void fx_init(struct fx *f, uint32_t pool_blocks)
{
	f->pool = mist_pool_create("reasm", pool_blocks, BLOCK_SIZE, 0);
	assert_non_null(f->pool);
	tcp_reasm_init(&f->q);
	f->budget.bytes = 0;
	f->budget.limit = NO_LIMIT;
}

static struct mist_pool_stats fx_pool(const struct fx *f)
{
	struct mist_pool_stats stats;
	mist_pool_stats(f->pool, &stats);
	return stats;
}

/* Every test ends here: the queue emptied, its bytes back in the budget, no buffer left out. */
static void fx_end(struct fx *f)
{
	tcp_reasm_clear(&f->q, &f->budget);
	assert_null(f->q.head);
	assert_int_equal(f->q.bytes, 0);
	assert_int_equal(f->q.nsegs, 0);
	assert_int_equal(f->budget.bytes, 0);
	struct mist_pool_stats stats = fx_pool(f);
	assert_int_equal(stats.in_use, 0);
	assert_int_equal(stats.views_in_use, 0);
	assert_int_equal(mist_pool_destroy(f->pool), MIST_OK);
}

/* A segment [seq, seq + len) of generation `gen`, as a chain of views of at most `view_len` bytes. */
static struct mist_buf *segment_in_views(struct fx *f, uint32_t seq, uint32_t len, uint8_t gen,
                                         uint32_t view_len)
{
	struct mist_buf *head = NULL;
	for (uint32_t off = 0; off < len; off += view_len) {
		uint32_t n = MIST_MIN(view_len, len - off);
		struct mist_buf *b = mist_buf_alloc(f->pool, n);
		assert_non_null(b);
		for (uint32_t i = 0; i < n; i++)
			b->data[i] = pattern(seq + off + i, gen);
		if (head == NULL)
			head = b;
		else
			mist_buf_chain(head, b);
	}
	return head;
}

static struct mist_buf *segment(struct fx *f, uint32_t seq, uint32_t len, uint8_t gen)
{
	return segment_in_views(f, seq, len, gen, len);
}

static int insert(struct fx *f, uint32_t max_bytes, uint32_t seq, uint32_t len, uint8_t gen)
{
	return tcp_reasm_insert(&f->q, &f->budget, max_bytes, seq, segment(f, seq, len, gen));
}

/*
 * Takes at `rcv_nxt` and checks that exactly `len` bytes come back, the byte
 * at each sequence number from generation gen_of(seq); then frees them.
 */
static void expect_take(struct fx *f, uint32_t rcv_nxt, uint32_t len,
                        uint8_t (*gen_of)(uint32_t base, uint32_t seq), uint32_t base)
{
	uint32_t got_len = 12345;
	struct mist_buf *got = tcp_reasm_take(&f->q, &f->budget, rcv_nxt, &got_len);

	assert_int_equal(got_len, len);
	assert_int_equal(mist_buf_chain_len(got), len);
	if (len == 0) {
		assert_null(got);
		return;
	}
	uint8_t *bytes = malloc(len);
	assert_non_null(bytes);
	assert_int_equal(mist_buf_copyout(got, 0, bytes, len), MIST_OK);
	for (uint32_t i = 0; i < len; i++)
		assert_int_equal(bytes[i], pattern(rcv_nxt + i, gen_of(base, rcv_nxt + i)));
	free(bytes);
	mist_buf_free_chain(got);
}

static uint8_t all_gen1(uint32_t base, uint32_t seq)
{
	return 1;
}

static void expect_blocks(const struct fx *f, uint32_t base, const uint32_t *offsets, unsigned n)
{
	struct tcp_sack_block blocks[4];
	assert_int_equal(tcp_reasm_sack_blocks(&f->q, blocks, 4), n);
	for (unsigned i = 0; i < n; i++) {
		assert_int_equal(blocks[i].start, base + offsets[2 * i]);
		assert_int_equal(blocks[i].end, base + offsets[2 * i + 1]);
	}
}

static void take_after_the_hole_fills_returns_everything_in_order_at(uint32_t B)
{
	struct fx f;
	fx_init(&f, POOL_BLOCKS);

	/* Arrived out of order, and not in sequence order either. */
	assert_int_equal(insert(&f, NO_LIMIT, B + 2000, 1000, 1), 0);
	assert_int_equal(insert(&f, NO_LIMIT, B + 1000, 1000, 1), 0);
	assert_int_equal(f.q.bytes, 2000);
	assert_int_equal(f.q.nsegs, 2);
	assert_int_equal(f.budget.bytes, 2000);

	/* RCV.NXT still at B: nothing follows it. */
	expect_take(&f, B, 0, all_gen1, B);
	assert_int_equal(f.q.bytes, 2000);

	/* The core received B .. B + 1000 in order. */
	expect_take(&f, B + 1000, 2000, all_gen1, B);
	assert_null(f.q.head);
	assert_int_equal(f.q.bytes, 0);
	assert_int_equal(f.budget.bytes, 0);
	fx_end(&f);
}
AT_EVERY_BASE(take_after_the_hole_fills_returns_everything_in_order)

static void take_trims_below_rcv_nxt_and_frees_what_lies_below_at(uint32_t B)
{
	struct fx f;
	fx_init(&f, POOL_BLOCKS);

	assert_int_equal(insert(&f, NO_LIMIT, B + 1000, 1000, 1), 0);
	assert_int_equal(insert(&f, NO_LIMIT, B + 2500, 500, 1), 0);
	assert_int_equal(insert(&f, NO_LIMIT, B + 4000, 100, 1), 0);

	/* An in-order segment brought RCV.NXT into the first held one. */
	expect_take(&f, B + 1500, 500, all_gen1, B);
	assert_int_equal(f.q.bytes, 600);
	/* Then past the second's start: its rest follows. */
	expect_take(&f, B + 2600, 400, all_gen1, B);
	/* Then past all of the third: it is freed, nothing is returned. */
	expect_take(&f, B + 5000, 0, all_gen1, B);
	assert_null(f.q.head);
	assert_int_equal(f.budget.bytes, 0);
	fx_end(&f);
}
AT_EVERY_BASE(take_trims_below_rcv_nxt_and_frees_what_lies_below)

/* Generation 1 at B + 1000 .. B + 2000, generation 2 elsewhere. */
static uint8_t old_in_the_middle(uint32_t base, uint32_t seq)
{
	return seq - base - 1000 < 1000 ? 1 : 2;
}

static void overlap_on_either_side_keeps_the_bytes_held_first_at(uint32_t B)
{
	struct fx f;
	fx_init(&f, POOL_BLOCKS);

	assert_int_equal(insert(&f, NO_LIMIT, B + 1000, 1000, 1), 0);
	/* Overlaps its front by 500, then its back by 500. */
	assert_int_equal(insert(&f, NO_LIMIT, B + 500, 1000, 2), 0);
	assert_int_equal(insert(&f, NO_LIMIT, B + 1500, 1000, 2), 0);
	assert_int_equal(f.q.bytes, 2000);
	assert_int_equal(f.budget.bytes, 2000);
	expect_blocks(&f, B, (const uint32_t[]){500, 2500}, 1);

	expect_take(&f, B + 500, 2000, old_in_the_middle, B);
	fx_end(&f);
}
AT_EVERY_BASE(overlap_on_either_side_keeps_the_bytes_held_first)

static void duplicates_are_freed_and_change_nothing_at(uint32_t B)
{
	struct fx f;
	fx_init(&f, POOL_BLOCKS);

	assert_int_equal(insert(&f, NO_LIMIT, B + 1000, 1000, 1), 0);
	assert_int_equal(insert(&f, NO_LIMIT, B + 2000, 1000, 1), 0);
	struct mist_pool_stats held = fx_pool(&f);

	/* Exact, contained, and spanning two held segments. */
	assert_int_equal(insert(&f, NO_LIMIT, B + 1000, 1000, 2), 0);
	assert_int_equal(insert(&f, NO_LIMIT, B + 1200, 300, 2), 0);
	assert_int_equal(insert(&f, NO_LIMIT, B + 1500, 1000, 2), 0);
	assert_int_equal(fx_pool(&f).views_in_use, held.views_in_use);
	assert_int_equal(fx_pool(&f).in_use, held.in_use);
	assert_int_equal(f.q.bytes, 2000);
	assert_int_equal(f.q.nsegs, 2);
	assert_int_equal(f.budget.bytes, 2000);

	expect_take(&f, B + 1000, 2000, all_gen1, B);
	fx_end(&f);
}
AT_EVERY_BASE(duplicates_are_freed_and_change_nothing)

/* Generation 1 in the three held stretches, 2 in the gaps between them. */
static uint8_t three_old_stretches(uint32_t base, uint32_t seq)
{
	uint32_t off = seq - base;
	return (off >= 1100 && off < 1200) || (off >= 1400 && off < 1500) ||
	                       (off >= 1700 && off < 1800)
	               ? 1
	               : 2;
}

static void segment_over_held_ones_fills_only_the_gaps_without_copying_at(uint32_t B)
{
	struct fx f;
	fx_init(&f, POOL_BLOCKS);

	assert_int_equal(insert(&f, NO_LIMIT, B + 1100, 100, 1), 0);
	assert_int_equal(insert(&f, NO_LIMIT, B + 1400, 100, 1), 0);
	assert_int_equal(insert(&f, NO_LIMIT, B + 1700, 100, 1), 0);

	/*
	 * B + 1000 .. B + 2000 in four views of 250 bytes: the cuts at 1100,
	 * 1200, 1700 and 1800 fall inside views, 1500 at a view's start.
	 */
	struct mist_buf *wide = segment_in_views(&f, B + 1000, 1000, 2, 250);
	assert_int_equal(tcp_reasm_insert(&f.q, &f.budget, NO_LIMIT, B + 1000, wide), 0);
	assert_int_equal(f.q.bytes, 1000);
	assert_int_equal(f.q.nsegs, 7);
	assert_int_equal(f.budget.bytes, 1000);
	/* The 3 held and 4 new storage blocks, shared by views: nothing copied into new storage. */
	assert_int_equal(fx_pool(&f).in_use, 7);
	assert_int_equal(fx_pool(&f).allocs, 7);
	expect_blocks(&f, B, (const uint32_t[]){1000, 2000}, 1);

	expect_take(&f, B + 1000, 1000, three_old_stretches, B);
	fx_end(&f);
}
AT_EVERY_BASE(segment_over_held_ones_fills_only_the_gaps_without_copying)

static void per_queue_byte_limit_refuses_and_frees_at(uint32_t B)
{
	struct fx f;
	fx_init(&f, POOL_BLOCKS);

	assert_int_equal(insert(&f, 2000, B + 1000, 1000, 1), 0);
	assert_int_equal(insert(&f, 2000, B + 3000, 1000, 1), 0);
	struct mist_pool_stats held = fx_pool(&f);

	assert_int_equal(insert(&f, 2000, B + 5000, 1, 2), MIST_ENOMEM);
	/* Only new bytes count: 1000 bytes of which 1 is new still do not fit... */
	assert_int_equal(insert(&f, 2000, B + 1001, 1000, 2), MIST_ENOMEM);
	/* ...and a duplicate, which holds nothing more, is accepted. */
	assert_int_equal(insert(&f, 2000, B + 3000, 1000, 2), 0);
	assert_int_equal(fx_pool(&f).views_in_use, held.views_in_use);
	assert_int_equal(fx_pool(&f).in_use, held.in_use);
	assert_int_equal(f.q.bytes, 2000);
	assert_int_equal(f.budget.bytes, 2000);
	expect_blocks(&f, B, (const uint32_t[]){3000, 4000, 1000, 2000}, 2);
	fx_end(&f);
}
AT_EVERY_BASE(per_queue_byte_limit_refuses_and_frees)

static void segment_count_limit_refuses_and_frees_at(uint32_t B)
{
	struct fx f;
	fx_init(&f, POOL_BLOCKS);

	/* TCP_REASM_MAX_SEGS - 1 one-byte segments with one-byte holes between them. */
	for (uint32_t i = 0; i < TCP_REASM_MAX_SEGS - 1; i++)
		assert_int_equal(insert(&f, NO_LIMIT, B + 100 + 2 * i, 1, 1), 0);
	struct mist_pool_stats held = fx_pool(&f);

	/* Filling two holes takes two nodes; one is left. */
	assert_int_equal(insert(&f, NO_LIMIT, B + 101, 3, 2), MIST_ENOMEM);
	assert_int_equal(fx_pool(&f).views_in_use, held.views_in_use);
	assert_int_equal(f.q.nsegs, TCP_REASM_MAX_SEGS - 1);

	assert_int_equal(insert(&f, NO_LIMIT, B + 101, 1, 2), 0);
	assert_int_equal(f.q.nsegs, TCP_REASM_MAX_SEGS);
	assert_int_equal(insert(&f, NO_LIMIT, B + 1000, 1, 2), MIST_ENOMEM);
	assert_int_equal(f.q.nsegs, TCP_REASM_MAX_SEGS);
	assert_int_equal(f.q.bytes, TCP_REASM_MAX_SEGS);
	fx_end(&f);
}
AT_EVERY_BASE(segment_count_limit_refuses_and_frees)

static void stack_budget_is_shared_by_queues_at(uint32_t B)
{
	struct fx f;
	struct tcp_reasm other;
	fx_init(&f, POOL_BLOCKS);
	tcp_reasm_init(&other);
	f.budget.limit = 3000;

	assert_int_equal(insert(&f, NO_LIMIT, B + 1000, 2000, 1), 0);
	assert_int_equal(tcp_reasm_insert(&other, &f.budget, NO_LIMIT, B + 1000,
	                                  segment(&f, B + 1000, 1000, 1)),
	                 0);
	assert_int_equal(f.budget.bytes, 3000);
	assert_int_equal(tcp_reasm_insert(&other, &f.budget, NO_LIMIT, B + 2000,
	                                  segment(&f, B + 2000, 1, 1)),
	                 MIST_ENOMEM);
	assert_int_equal(other.bytes, 1000);

	/* The first queue's data is taken: its bytes return to the budget. */
	expect_take(&f, B + 1000, 2000, all_gen1, B);
	assert_int_equal(f.budget.bytes, 1000);
	assert_int_equal(tcp_reasm_insert(&other, &f.budget, NO_LIMIT, B + 2000,
	                                  segment(&f, B + 2000, 1, 1)),
	                 0);
	assert_int_equal(f.budget.bytes, 1001);

	tcp_reasm_clear(&other, &f.budget);
	assert_int_equal(other.bytes, 0);
	assert_int_equal(f.budget.bytes, 0);
	fx_end(&f);
}
AT_EVERY_BASE(stack_budget_is_shared_by_queues)

static void pool_out_of_views_midway_refuses_and_undoes_at(uint32_t B)
{
	struct fx f;
	fx_init(&f, 4); /* 4 storage blocks, 8 views */

	assert_int_equal(insert(&f, NO_LIMIT, B + 1100, 100, 1), 0);
	assert_int_equal(insert(&f, NO_LIMIT, B + 1300, 100, 1), 0);
	/*
	 * B + 1000 .. B + 2000 as views of 100 and 900 bytes: the first gap
	 * ends at a view boundary and needs no new view, the second
	 * (B + 1200 .. B + 1300) ends inside one and needs a slice, which the
	 * pool cannot give once the rest of its views are taken.
	 */
	struct mist_buf *wide = segment(&f, B + 1000, 100, 2);
	mist_buf_chain(wide, segment(&f, B + 1100, 900, 2));
	struct mist_buf *hogs[4];
	for (size_t i = 0; i < MIST_ARRAY_SIZE(hogs); i++)
		assert_non_null(hogs[i] = mist_buf_clone(wide));
	assert_int_equal(fx_pool(&f).views_in_use, 8);

	assert_int_equal(tcp_reasm_insert(&f.q, &f.budget, NO_LIMIT, B + 1000, wide), MIST_ENOMEM);
	for (size_t i = 0; i < MIST_ARRAY_SIZE(hogs); i++)
		mist_buf_free(hogs[i]);
	assert_int_equal(fx_pool(&f).views_in_use, 2);
	assert_int_equal(fx_pool(&f).in_use, 2);
	assert_int_equal(f.q.bytes, 200);
	assert_int_equal(f.q.nsegs, 2);
	assert_int_equal(f.budget.bytes, 200);
	expect_blocks(&f, B, (const uint32_t[]){1300, 1400, 1100, 1200}, 2);
	fx_end(&f);
}
AT_EVERY_BASE(pool_out_of_views_midway_refuses_and_undoes)

/*
 * RFC 2018 §7, case 3: eight 500-byte segments from 5000; the 2nd, 4th, 6th
 * and 8th are lost. The ACK of each arrival carries the blocks of its table,
 * the block holding the newest segment first.
 */
static void sack_blocks_follow_the_rfc2018_example_at(uint32_t B)
{
	struct fx f;
	fx_init(&f, POOL_BLOCKS);

	/* 5000 arrives in order: RCV.NXT is 5500 and nothing is held. */
	expect_blocks(&f, B, NULL, 0);
	assert_int_equal(insert(&f, NO_LIMIT, B + 6000, 500, 1), 0);
	expect_blocks(&f, B, (const uint32_t[]){6000, 6500}, 1);
	assert_int_equal(insert(&f, NO_LIMIT, B + 7000, 500, 1), 0);
	expect_blocks(&f, B, (const uint32_t[]){7000, 7500, 6000, 6500}, 2);
	assert_int_equal(insert(&f, NO_LIMIT, B + 8000, 500, 1), 0);
	expect_blocks(&f, B, (const uint32_t[]){8000, 8500, 7000, 7500, 6000, 6500}, 3);

	/* The 4th segment arrives: it joins two blocks, which now come first. */
	assert_int_equal(insert(&f, NO_LIMIT, B + 6500, 500, 1), 0);
	expect_blocks(&f, B, (const uint32_t[]){6000, 7500, 8000, 8500}, 2);

	/* The 2nd arrives in order: RCV.NXT 6000, and 6000 .. 7500 follows it. */
	expect_take(&f, B + 6000, 1500, all_gen1, B);
	expect_blocks(&f, B, (const uint32_t[]){8000, 8500}, 1);

	/* max limits the count; the first blocks are kept. */
	struct tcp_sack_block one;
	assert_int_equal(tcp_reasm_sack_blocks(&f.q, &one, 0), 0);
	assert_int_equal(tcp_reasm_insert(&f.q, &f.budget, NO_LIMIT, B + 9000,
	                                  segment(&f, B + 9000, 500, 1)),
	                 0);
	assert_int_equal(tcp_reasm_sack_blocks(&f.q, &one, 1), 1);
	assert_int_equal(one.start, B + 9000);
	assert_int_equal(one.end, B + 9500);
	fx_end(&f);
}
AT_EVERY_BASE(sack_blocks_follow_the_rfc2018_example)

static void duplicate_puts_its_block_first_at(uint32_t B)
{
	struct fx f;
	fx_init(&f, POOL_BLOCKS);

	assert_int_equal(insert(&f, NO_LIMIT, B + 1000, 500, 1), 0);
	assert_int_equal(insert(&f, NO_LIMIT, B + 2000, 500, 1), 0);
	assert_int_equal(insert(&f, NO_LIMIT, B + 3000, 500, 1), 0);
	expect_blocks(&f, B, (const uint32_t[]){3000, 3500, 2000, 2500, 1000, 1500}, 3);

	/* A duplicate triggers the next ACK: RFC 2018 §4 puts its block first. */
	assert_int_equal(insert(&f, NO_LIMIT, B + 1000, 500, 2), 0);
	assert_int_equal(f.q.recent_seq, B + 1000);
	expect_blocks(&f, B, (const uint32_t[]){1000, 1500, 3000, 3500, 2000, 2500}, 3);

	/* Partly new data joins the newest block's order as a whole. */
	assert_int_equal(insert(&f, NO_LIMIT, B + 2400, 200, 2), 0);
	expect_blocks(&f, B, (const uint32_t[]){2000, 2600, 1000, 1500, 3000, 3500}, 3);
	fx_end(&f);
}
AT_EVERY_BASE(duplicate_puts_its_block_first)

static void clear_frees_everything_held_at(uint32_t B)
{
	struct fx f;
	fx_init(&f, POOL_BLOCKS);

	assert_int_equal(insert(&f, NO_LIMIT, B + 1000, 1000, 1), 0);
	assert_int_equal(tcp_reasm_insert(&f.q, &f.budget, NO_LIMIT, B + 3000,
	                                  segment_in_views(&f, B + 3000, 900, 1, 300)),
	                 0);
	tcp_reasm_clear(&f.q, &f.budget);
	assert_int_equal(fx_pool(&f).views_in_use, 0);
	assert_int_equal(f.budget.bytes, 0);
	expect_blocks(&f, B, NULL, 0);
	expect_take(&f, B + 1000, 0, all_gen1, B);
	fx_end(&f);
}
AT_EVERY_BASE(clear_frees_everything_held)

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(take_after_the_hole_fills_returns_everything_in_order),
	        cmocka_unit_test(take_trims_below_rcv_nxt_and_frees_what_lies_below),
	        cmocka_unit_test(overlap_on_either_side_keeps_the_bytes_held_first),
	        cmocka_unit_test(duplicates_are_freed_and_change_nothing),
	        cmocka_unit_test(segment_over_held_ones_fills_only_the_gaps_without_copying),
	        cmocka_unit_test(per_queue_byte_limit_refuses_and_frees),
	        cmocka_unit_test(segment_count_limit_refuses_and_frees),
	        cmocka_unit_test(stack_budget_is_shared_by_queues),
	        cmocka_unit_test(pool_out_of_views_midway_refuses_and_undoes),
	        cmocka_unit_test(sack_blocks_follow_the_rfc2018_example),
	        cmocka_unit_test(duplicate_puts_its_block_first),
	        cmocka_unit_test(clear_frees_everything_held),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
