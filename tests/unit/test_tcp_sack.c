/*
 * Unit tests for the sequence-number comparisons (net/tcp_seq.h) and the
 * sender's SACK scoreboard (net/tcp_sack.h): blocks are recorded sorted,
 * merged, clipped at SND.UNA, and ignored when invalid, with the count of
 * newly SACKed bytes; SND.UNA advancing forgets what lies below it; IsLost
 * by its range rule and by its byte rule, at their exact thresholds;
 * SetPipe on a hand-worked RFC 6675 scenario (10 segments, 3 SACKed, some
 * retransmitted) and over 64 MB in flight; NextSeg rules 1 and 3; SetPipe
 * and NextSeg rule 1 against an octet-by-octet walk of RFC 6675's wording
 * on random scoreboards; the 16-range limit. Every scenario runs twice: at
 * low sequence numbers, and placed so that 2^32 wraps in its middle.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "base/compiler.h"
#include "net/tcp_sack.h"
#include "net/tcp_seq.h"

/* Where each scenario starts: low, and 4500 bytes below 2^32 so that it wraps. */
static const uint32_t bases[] = {1000u, 0u - 4500u};

/* Defines the test `name`, which runs name_at(base) at every base. */
#define AT_EVERY_BASE(name)                                         \
	static void name(void **state)                              \
	{                                                           \
		for (size_t i = 0; i < MIST_ARRAY_SIZE(bases); i++) \
			name##_at(bases[i]);                        \
	}

#define SMSS      1000u
#define DUPTHRESH 3u

/* Asserts that the board holds exactly the ranges base + offsets[2i] .. base + offsets[2i+1]. */
static void assert_ranges(const struct tcp_sack_board *b, uint32_t base, const uint32_t *offsets,
                          unsigned n)
{
	assert_int_equal(b->count, n);
	for (unsigned i = 0; i < n; i++) {
		assert_int_equal(b->r[i].start, base + offsets[2 * i]);
		assert_int_equal(b->r[i].end, base + offsets[2 * i + 1]);
	}
}

static void seq_comparisons_hold_across_the_wrap(void **state)
{
	uint32_t below = 0xfffffff0u, above = 0x10u;

	assert_true(seq_lt(below, above));
	assert_true(seq_le(below, above));
	assert_false(seq_gt(below, above));
	assert_false(seq_ge(below, above));
	assert_true(seq_gt(above, below));
	assert_true(seq_ge(above, below));
	assert_true(seq_le(above, above));
	assert_true(seq_ge(above, above));
	assert_false(seq_lt(above, above));
	assert_int_equal(seq_max(below, above), above);
	assert_int_equal(seq_min(below, above), below);
	assert_int_equal(seq_max(above, below), above);
	assert_int_equal(seq_min(above, below), below);
	/* 2^31 - 1 ahead is still ahead. */
	assert_true(seq_lt(5, 5 + 0x7fffffffu));
}

static void update_records_sorted_ranges_and_merges_overlaps_at(uint32_t B)
{
	struct tcp_sack_board b;
	tcp_sack_clear(&b);

	struct tcp_sack_block first[] = {{B + 3000, B + 4000}, {B + 1000, B + 2000}};
	assert_int_equal(tcp_sack_update(&b, B, B + 10000, first, 2), 2000);
	assert_ranges(&b, B, (const uint32_t[]){1000, 2000, 3000, 4000}, 2);

	/* Fills the hole: 1000 new bytes, one range. */
	struct tcp_sack_block fill[] = {{B + 1500, B + 3000}};
	assert_int_equal(tcp_sack_update(&b, B, B + 10000, fill, 1), 1000);
	assert_ranges(&b, B, (const uint32_t[]){1000, 4000}, 1);

	/* Overlapping blocks of one ACK count their bytes once; a repeat counts none. */
	struct tcp_sack_block overlapping[] = {{B + 5000, B + 6500}, {B + 6000, B + 7000}};
	assert_int_equal(tcp_sack_update(&b, B, B + 10000, overlapping, 2), 2000);
	assert_int_equal(tcp_sack_update(&b, B, B + 10000, overlapping, 2), 0);
	assert_ranges(&b, B, (const uint32_t[]){1000, 4000, 5000, 7000}, 2);
	assert_int_equal(tcp_sack_sacked_bytes(&b), 5000);

	/* A block touching two ranges joins them: "discontiguous" means a real hole. */
	struct tcp_sack_block bridge[] = {{B + 4000, B + 5000}};
	assert_int_equal(tcp_sack_update(&b, B, B + 10000, bridge, 1), 1000);
	assert_ranges(&b, B, (const uint32_t[]){1000, 7000}, 1);

	assert_false(tcp_sack_is_sacked(&b, B + 999));
	assert_true(tcp_sack_is_sacked(&b, B + 1000));
	assert_true(tcp_sack_is_sacked(&b, B + 6999));
	assert_false(tcp_sack_is_sacked(&b, B + 7000));
	assert_int_equal(tcp_sack_highest(&b, B), B + 7000);
}
AT_EVERY_BASE(update_records_sorted_ranges_and_merges_overlaps)

static void update_clips_a_block_straddling_snd_una_at(uint32_t B)
{
	struct tcp_sack_board b;
	tcp_sack_clear(&b);

	struct tcp_sack_block straddling[] = {{B + 500, B + 2000}};
	assert_int_equal(tcp_sack_update(&b, B + 1000, B + 10000, straddling, 1), 1000);
	assert_ranges(&b, B, (const uint32_t[]){1000, 2000}, 1);
	assert_false(tcp_sack_is_sacked(&b, B + 999));
}
AT_EVERY_BASE(update_clips_a_block_straddling_snd_una)

static void update_ignores_invalid_blocks_at(uint32_t B)
{
	struct tcp_sack_board b;
	tcp_sack_clear(&b);

	uint32_t una = B + 1000, max = B + 10000;
	struct tcp_sack_block invalid[] = {
	        {B + 2000, B + 2000},  /* empty */
	        {B + 3000, B + 2000},  /* inverted */
	        {B + 0, B + 1000},     /* ends at SND.UNA: a D-SACK at most */
	        {B + 0, B + 500},      /* entirely below SND.UNA */
	        {B + 9000, B + 10001}, /* one byte beyond SND.MAX */
	        {B + 20000, B + 21000} /* far beyond SND.MAX */
	};
	assert_int_equal(tcp_sack_update(&b, una, max, invalid, MIST_ARRAY_SIZE(invalid)), 0);
	assert_int_equal(b.count, 0);
	assert_int_equal(tcp_sack_sacked_bytes(&b), 0);
	assert_int_equal(tcp_sack_highest(&b, una), una);

	/* Valid blocks among invalid ones still count; one ending at SND.MAX is valid. */
	struct tcp_sack_block mixed[] = {{B + 3000, B + 2000}, {B + 9000, B + 10000}};
	assert_int_equal(tcp_sack_update(&b, una, max, mixed, 2), 1000);
	assert_ranges(&b, B, (const uint32_t[]){9000, 10000}, 1);
}
AT_EVERY_BASE(update_ignores_invalid_blocks)

static void advance_forgets_everything_below_snd_una_at(uint32_t B)
{
	struct tcp_sack_board b;
	tcp_sack_clear(&b);

	struct tcp_sack_block blocks[] = {{B + 1000, B + 2000}, {B + 3000, B + 4000}};
	tcp_sack_update(&b, B, B + 10000, blocks, 2);

	tcp_sack_advance(&b, B + 1500);
	assert_ranges(&b, B, (const uint32_t[]){1500, 2000, 3000, 4000}, 2);
	assert_int_equal(tcp_sack_sacked_bytes(&b), 1500);

	tcp_sack_advance(&b, B + 3000);
	assert_ranges(&b, B, (const uint32_t[]){3000, 4000}, 1);

	tcp_sack_advance(&b, B + 5000);
	assert_int_equal(b.count, 0);
	assert_int_equal(tcp_sack_highest(&b, B + 5000), B + 5000);
}
AT_EVERY_BASE(advance_forgets_everything_below_snd_una)

static void is_lost_by_dupthresh_discontiguous_ranges_at(uint32_t B)
{
	struct tcp_sack_board b;
	tcp_sack_clear(&b);

	/* Three 100-byte ranges: 300 bytes, far below 2 * SMSS. */
	struct tcp_sack_block blocks[] = {
	        {B + 2000, B + 2100}, {B + 3000, B + 3100}, {B + 4000, B + 4100}};
	tcp_sack_update(&b, B, B + 10000, blocks, 3);

	assert_true(tcp_sack_is_lost(&b, B + 1000, SMSS, DUPTHRESH));
	assert_true(tcp_sack_is_lost(&b, B + 1999, SMSS, DUPTHRESH));
	assert_false(tcp_sack_is_lost(&b, B + 2500, SMSS, DUPTHRESH));
	assert_false(tcp_sack_is_lost(&b, B + 4100, SMSS, DUPTHRESH));
	/* With DupThresh 2, two ranges above are enough. */
	assert_true(tcp_sack_is_lost(&b, B + 2500, SMSS, 2));
}
AT_EVERY_BASE(is_lost_by_dupthresh_discontiguous_ranges)

static void is_lost_by_more_than_dupthresh_minus_one_smss_bytes_at(uint32_t B)
{
	struct tcp_sack_board b;

	/* One range of exactly 2 * SMSS bytes: not more than (3 - 1) * SMSS. */
	tcp_sack_clear(&b);
	struct tcp_sack_block exact[] = {{B + 2000, B + 4000}};
	tcp_sack_update(&b, B, B + 10000, exact, 1);
	assert_false(tcp_sack_is_lost(&b, B + 1000, SMSS, DUPTHRESH));

	/* One byte more is. */
	tcp_sack_clear(&b);
	struct tcp_sack_block over[] = {{B + 2000, B + 4001}};
	tcp_sack_update(&b, B, B + 10000, over, 1);
	assert_true(tcp_sack_is_lost(&b, B + 1000, SMSS, DUPTHRESH));

	/* Only bytes above seq count: from B + 2000, 2000 of them lie above. */
	assert_true(tcp_sack_is_lost(&b, B + 1999, SMSS, DUPTHRESH));
	assert_false(tcp_sack_is_lost(&b, B + 2000, SMSS, DUPTHRESH));
}
AT_EVERY_BASE(is_lost_by_more_than_dupthresh_minus_one_smss_bytes)

/*
 * The RFC 6675 scenario of the pipe and NextSeg tests: 10 segments of SMSS
 * bytes sent, B + 0 .. B + 10000; segments 3, 5 and 7 SACKed. Segments 0-2
 * have 3 SACKed ranges above them: lost. Segment 4 has 2 ranges and 2000
 * bytes above it, segment 6 one range: not lost. Segments 8-9 have nothing
 * SACKed above them.
 */
static void scoreboard_of_the_scenario(struct tcp_sack_board *b, uint32_t B)
{
	tcp_sack_clear(b);
	struct tcp_sack_block blocks[] = {
	        {B + 7000, B + 8000}, {B + 5000, B + 6000}, {B + 3000, B + 4000}};
	assert_int_equal(tcp_sack_update(b, B, B + 10000, blocks, 3), 3000);
}

static void pipe_counts_the_rfc6675_scenario_by_hand_at(uint32_t B)
{
	struct tcp_sack_board b;
	scoreboard_of_the_scenario(&b, B);

	/* Nothing retransmitted: segments 4, 6, 8, 9 are in flight. */
	assert_int_equal(tcp_sack_pipe(&b, B, B + 10000, B, SMSS, DUPTHRESH), 4000);
	/* Segment 0 retransmitted: it counts again, once. */
	assert_int_equal(tcp_sack_pipe(&b, B, B + 10000, B + 1000, SMSS, DUPTHRESH), 5000);
	/* Segments 0-2 retransmitted. */
	assert_int_equal(tcp_sack_pipe(&b, B, B + 10000, B + 3000, SMSS, DUPTHRESH), 7000);
	/*
	 * Segment 4 retransmitted too (NextSeg rule 3): not deemed lost, so
	 * RFC 6675 counts it twice. HighRxt inside SACKed segment 5 adds nothing.
	 */
	assert_int_equal(tcp_sack_pipe(&b, B, B + 10000, B + 5000, SMSS, DUPTHRESH), 8000);
	assert_int_equal(tcp_sack_pipe(&b, B, B + 10000, B + 5500, SMSS, DUPTHRESH), 8000);
	/* Only 9 segments sent so far (HighData lower): segment 9 is not in flight. */
	assert_int_equal(tcp_sack_pipe(&b, B, B + 9000, B, SMSS, DUPTHRESH), 3000);
	/* A last short segment counts its bytes. */
	assert_int_equal(tcp_sack_pipe(&b, B, B + 9300, B, SMSS, DUPTHRESH), 3300);
	/* SND.UNA advanced past segment 2 (scoreboard advanced too): 4, 6, 8, 9 still. */
	tcp_sack_advance(&b, B + 3000);
	assert_int_equal(tcp_sack_pipe(&b, B + 3000, B + 10000, B + 3000, SMSS, DUPTHRESH), 4000);
}
AT_EVERY_BASE(pipe_counts_the_rfc6675_scenario_by_hand)

static void pipe_over_64_megabytes_works_by_ranges_at(uint32_t B)
{
	struct tcp_sack_board b;
	uint32_t flight = 64u << 20;

	tcp_sack_clear(&b);
	assert_int_equal(tcp_sack_pipe(&b, B, B + flight, B, SMSS, DUPTHRESH), flight);

	/* Three 1-SMSS ranges far apart: the 1000 bytes below the first are lost. */
	struct tcp_sack_block blocks[] = {{B + 1000, B + 2000},
	                                  {B + (16u << 20), B + (16u << 20) + 1000},
	                                  {B + (32u << 20), B + (32u << 20) + 1000}};
	tcp_sack_update(&b, B, B + flight, blocks, 3);
	assert_int_equal(tcp_sack_pipe(&b, B, B + flight, B, SMSS, DUPTHRESH),
	                 flight - 3000 - 1000);
}
AT_EVERY_BASE(pipe_over_64_megabytes_works_by_ranges)

static void next_lost_returns_the_lowest_lost_segment_above_high_rxt_at(uint32_t B)
{
	struct tcp_sack_board b;
	uint32_t seq, len;
	scoreboard_of_the_scenario(&b, B);

	assert_true(tcp_sack_next_lost(&b, B, B + 10000, B, SMSS, DUPTHRESH, &seq, &len));
	assert_int_equal(seq, B);
	assert_int_equal(len, SMSS);
	assert_true(tcp_sack_next_lost(&b, B, B + 10000, B + 1000, SMSS, DUPTHRESH, &seq, &len));
	assert_int_equal(seq, B + 1000);
	assert_int_equal(len, SMSS);
	/* A HighRxt mid-segment: the rest of the hole, never into SACKed segment 3. */
	assert_true(tcp_sack_next_lost(&b, B, B + 10000, B + 2500, SMSS, DUPTHRESH, &seq, &len));
	assert_int_equal(seq, B + 2500);
	assert_int_equal(len, 500);
	/* Segments 0-2 retransmitted: segment 4 is not lost, so rule 1 finds nothing. */
	assert_false(tcp_sack_next_lost(&b, B, B + 10000, B + 3000, SMSS, DUPTHRESH, &seq, &len));
}
AT_EVERY_BASE(next_lost_returns_the_lowest_lost_segment_above_high_rxt)

static void next_lost_stops_at_sacked_data_and_at_high_data_at(uint32_t B)
{
	struct tcp_sack_board b;
	uint32_t seq, len;

	tcp_sack_clear(&b);
	struct tcp_sack_block blocks[] = {
	        {B + 1500, B + 2500}, {B + 3000, B + 3100}, {B + 4000, B + 4100}};
	tcp_sack_update(&b, B, B + 10000, blocks, 3);

	/* The hole B .. B + 1500 is lost; from B + 1000 only 500 bytes precede SACKed data. */
	assert_true(tcp_sack_next_lost(&b, B, B + 10000, B + 1000, SMSS, DUPTHRESH, &seq, &len));
	assert_int_equal(seq, B + 1000);
	assert_int_equal(len, 500);
	/* HighRxt inside a SACKed range: the next hole has 2 small ranges above, not lost. */
	assert_false(tcp_sack_next_lost(&b, B, B + 10000, B + 2000, SMSS, DUPTHRESH, &seq, &len));
	/* After an RTO HighData (SND.NXT) went back to B + 400: segments end there. */
	assert_true(tcp_sack_next_lost(&b, B, B + 400, B, SMSS, DUPTHRESH, &seq, &len));
	assert_int_equal(seq, B);
	assert_int_equal(len, 400);
}
AT_EVERY_BASE(next_lost_stops_at_sacked_data_and_at_high_data)

static void next_unsacked_skips_is_lost_but_stays_below_the_highest_sack_at(uint32_t B)
{
	struct tcp_sack_board b;
	uint32_t seq, len;
	scoreboard_of_the_scenario(&b, B);

	assert_true(tcp_sack_next_unsacked(&b, B, B + 10000, B + 3000, SMSS, &seq, &len));
	assert_int_equal(seq, B + 4000);
	assert_int_equal(len, SMSS);
	assert_true(tcp_sack_next_unsacked(&b, B, B + 10000, B + 5000, SMSS, &seq, &len));
	assert_int_equal(seq, B + 6000);
	assert_int_equal(len, SMSS);
	/* Rule 1.b: segments 8-9 lie above every SACKed byte. */
	assert_false(tcp_sack_next_unsacked(&b, B, B + 10000, B + 7000, SMSS, &seq, &len));
	/* With nothing retransmitted it is the lowest hole, lost or not. */
	assert_true(tcp_sack_next_unsacked(&b, B, B + 10000, B, SMSS, &seq, &len));
	assert_int_equal(seq, B);
}
AT_EVERY_BASE(next_unsacked_skips_is_lost_but_stays_below_the_highest_sack)

/* A small deterministic generator (xorshift32) for the cross-check below. */
static uint32_t next_random(uint32_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 17;
	*x ^= *x << 5;
	return *x;
}

/* SetPipe and NextSeg rule 1 exactly as RFC 6675 §4 words them: octet by octet. */
static uint32_t pipe_octet_by_octet(const struct tcp_sack_board *b, uint32_t una,
                                    uint32_t high_data, uint32_t high_rxt, uint32_t smss)
{
	uint32_t pipe = 0;
	for (uint32_t s1 = una; s1 != high_data; s1++) {
		if (tcp_sack_is_sacked(b, s1))
			continue;
		if (!tcp_sack_is_lost(b, s1, smss, DUPTHRESH))
			pipe++;
		if (seq_lt(s1, high_rxt))
			pipe++;
	}
	return pipe;
}

static bool next_lost_octet_by_octet(const struct tcp_sack_board *b, uint32_t una,
                                     uint32_t high_data, uint32_t high_rxt, uint32_t smss,
                                     uint32_t *seq, uint32_t *len)
{
	uint32_t highest = tcp_sack_highest(b, una);
	for (uint32_t s2 = seq_max(una, high_rxt); seq_lt(s2, seq_min(highest, high_data)); s2++) {
		if (tcp_sack_is_sacked(b, s2) || !tcp_sack_is_lost(b, s2, smss, DUPTHRESH))
			continue;
		*seq = s2;
		for (*len = 0; *len < smss && seq_lt(s2 + *len, high_data) &&
		               !tcp_sack_is_sacked(b, s2 + *len);
		     (*len)++)
			;
		return true;
	}
	return false;
}

/*
 * The hole-by-hole computation agrees with the octet-by-octet definition on
 * random scoreboards, including SACK edges that fall mid-segment.
 */
static void pipe_and_next_lost_match_an_octet_by_octet_walk_at(uint32_t B)
{
	uint32_t x = 0x9e3779b9u;
	const uint32_t smss = 100, space = 3000;

	for (int round = 0; round < 300; round++) {
		struct tcp_sack_board b;
		struct tcp_sack_block blocks[4];
		tcp_sack_clear(&b);
		unsigned n = 1 + next_random(&x) % 4;
		for (unsigned i = 0; i < n; i++) {
			uint32_t start = next_random(&x) % space;
			blocks[i].start = B + start;
			blocks[i].end = B + start + 1 + next_random(&x) % 400;
		}
		tcp_sack_update(&b, B, B + space + 400, blocks, n);
		uint32_t high_data = B + space / 2 + next_random(&x) % (space / 2 + 400);
		uint32_t high_rxt = B + next_random(&x) % space;

		assert_int_equal(tcp_sack_pipe(&b, B, high_data, high_rxt, smss, DUPTHRESH),
		                 pipe_octet_by_octet(&b, B, high_data, high_rxt, smss));
		uint32_t seq = 0, len = 0, want_seq = 0, want_len = 0;
		bool found =
		        tcp_sack_next_lost(&b, B, high_data, high_rxt, smss, DUPTHRESH, &seq, &len);
		assert_int_equal(found, next_lost_octet_by_octet(&b, B, high_data, high_rxt, smss,
		                                                 &want_seq, &want_len));
		if (found) {
			assert_int_equal(seq, want_seq);
			assert_int_equal(len, want_len);
		}
	}
}
AT_EVERY_BASE(pipe_and_next_lost_match_an_octet_by_octet_walk)

static void full_board_forgets_its_highest_range_at(uint32_t B)
{
	struct tcp_sack_board b;
	tcp_sack_clear(&b);

	/* 16 ranges of 10 bytes: B + 100, B + 200, ..., B + 1600. */
	for (uint32_t i = 1; i <= TCP_SACK_RANGES; i++) {
		struct tcp_sack_block block = {B + 100 * i, B + 100 * i + 10};
		assert_int_equal(tcp_sack_update(&b, B, B + 10000, &block, 1), 10);
	}
	assert_int_equal(b.count, TCP_SACK_RANGES);
	assert_int_equal(tcp_sack_highest(&b, B), B + 1610);

	/* A 17th range above all: it is the highest, so it is the one not kept. */
	struct tcp_sack_block high = {B + 5000, B + 5010};
	assert_int_equal(tcp_sack_update(&b, B, B + 10000, &high, 1), 0);
	assert_false(tcp_sack_is_sacked(&b, B + 5000));
	assert_int_equal(b.count, TCP_SACK_RANGES);

	/* A 17th range below all: kept; the range at B + 1600 goes, and 10 bytes are new. */
	struct tcp_sack_block low = {B + 50, B + 60};
	assert_int_equal(tcp_sack_update(&b, B, B + 10000, &low, 1), 10);
	assert_int_equal(b.count, TCP_SACK_RANGES);
	assert_true(tcp_sack_is_sacked(&b, B + 50));
	assert_false(tcp_sack_is_sacked(&b, B + 1600));
	assert_int_equal(tcp_sack_highest(&b, B), B + 1510);
	assert_int_equal(tcp_sack_sacked_bytes(&b), 160);

	/* A block that joins two ranges frees a slot without dropping anything. */
	struct tcp_sack_block join = {B + 60, B + 100};
	assert_int_equal(tcp_sack_update(&b, B, B + 10000, &join, 1), 40);
	assert_int_equal(b.count, TCP_SACK_RANGES - 1);
	assert_int_equal(tcp_sack_highest(&b, B), B + 1510);
}
AT_EVERY_BASE(full_board_forgets_its_highest_range)

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(seq_comparisons_hold_across_the_wrap),
	        cmocka_unit_test(update_records_sorted_ranges_and_merges_overlaps),
	        cmocka_unit_test(update_clips_a_block_straddling_snd_una),
	        cmocka_unit_test(update_ignores_invalid_blocks),
	        cmocka_unit_test(advance_forgets_everything_below_snd_una),
	        cmocka_unit_test(is_lost_by_dupthresh_discontiguous_ranges),
	        cmocka_unit_test(is_lost_by_more_than_dupthresh_minus_one_smss_bytes),
	        cmocka_unit_test(pipe_counts_the_rfc6675_scenario_by_hand),
	        cmocka_unit_test(pipe_over_64_megabytes_works_by_ranges),
	        cmocka_unit_test(next_lost_returns_the_lowest_lost_segment_above_high_rxt),
	        cmocka_unit_test(next_lost_stops_at_sacked_data_and_at_high_data),
	        cmocka_unit_test(next_unsacked_skips_is_lost_but_stays_below_the_highest_sack),
	        cmocka_unit_test(pipe_and_next_lost_match_an_octet_by_octet_walk),
	        cmocka_unit_test(full_board_forgets_its_highest_range),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
