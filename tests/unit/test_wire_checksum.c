/*
 * Unit tests for the Internet checksum (src/wire/checksum.h): the fast sum
 * against a plain byte-pair reference on random data of random lengths,
 * alignments and splits into pieces at odd and even offsets; the RFC 1071
 * worked example; the pseudo-header; and the RFC 1624 incremental update
 * against recomputation after a TTL decrement. Random inputs come from a
 * fixed-seed generator, so a failure replays.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "base/endian.h"
#include "wire/checksum.h"
#include "wire/ipv4.h"

#define MAX_LEN    2000
#define MAX_SHIFT  8 /* start offsets 0..7 exercise every alignment of an 8-byte load */
#define ROUNDS     20000
#define MAX_PIECES 4

static uint64_t rng_state = 0x9e3779b97f4a7c15u;

/* xorshift64*: small, deterministic, good enough to spread test inputs. */
static uint64_t rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1du;
}

static size_t rnd_below(size_t n)
{
	return (size_t)(rnd() % n);
}

static void rnd_fill(uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)rnd();
}

/* The RFC 1071 definition, one big-endian byte pair at a time. */
static uint16_t ref_checksum(const uint8_t *p, size_t len)
{
	uint32_t sum = 0;

	for (size_t i = 0; i < len; i += 2) {
		uint16_t word = (uint16_t)(p[i] << 8);
		if (i + 1 < len)
			word |= p[i + 1];
		sum += word;
		sum = (sum & 0xffff) + (sum >> 16);
	}
	return (uint16_t)~sum;
}

static void rfc1071_example_sums_to_ddf2(void **state)
{
	/* RFC 1071 section 3, "Numerical Examples". */
	static const uint8_t bytes[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};

	assert_int_equal(mist_csum(bytes, sizeof(bytes)), (uint16_t)~0xddf2);
	assert_int_equal(mist_csum_fold(mist_csum_partial(bytes, sizeof(bytes), 0)),
	                 (uint16_t)~0xddf2);
}

static void empty_and_single_byte_sums(void **state)
{
	static const uint8_t one = 0xab;

	assert_int_equal(mist_csum(&one, 0), 0xffff);
	/* RFC 1071 section 4.1: an odd last byte is the high byte of a word. */
	assert_int_equal(mist_csum(&one, 1), (uint16_t)~0xab00);
}

static void fast_sum_matches_reference_on_random_data(void **state)
{
	static uint8_t buf[MAX_LEN + MAX_SHIFT];

	for (int round = 0; round < ROUNDS; round++) {
		size_t len = rnd_below(MAX_LEN + 1);
		size_t shift = rnd_below(MAX_SHIFT);
		uint8_t *p = buf + shift;

		rnd_fill(p, len);
		assert_int_equal(mist_csum(p, len), ref_checksum(p, len));
	}
}

static void all_ones_data_does_not_overflow(void **state)
{
	static uint8_t buf[MAX_LEN];

	memset(buf, 0xff, sizeof(buf));
	for (size_t len = 0; len <= sizeof(buf); len += 37)
		assert_int_equal(mist_csum(buf, len), ref_checksum(buf, len));
}

/*
 * Splits random data into 1-4 pieces at random points, odd and even, sums
 * each piece on its own, and joins the sums with mist_csum_add(). Where a
 * piece starts at an even offset, continuing the running sum directly must
 * give the same answer.
 */
static void pieces_joined_at_any_offset_match_one_sum(void **state)
{
	static uint8_t buf[MAX_LEN];

	for (int round = 0; round < ROUNDS; round++) {
		size_t len = rnd_below(MAX_LEN + 1);
		size_t pieces = 1 + rnd_below(MAX_PIECES);
		size_t cuts[MAX_PIECES + 1];

		rnd_fill(buf, len);
		cuts[0] = 0;
		cuts[pieces] = len;
		for (size_t i = 1; i < pieces; i++)
			cuts[i] = rnd_below(len + 1);
		/* Insertion sort: at most three cuts. */
		for (size_t i = 2; i < pieces; i++)
			for (size_t j = i; j > 1 && cuts[j - 1] > cuts[j]; j--) {
				size_t t = cuts[j];
				cuts[j] = cuts[j - 1];
				cuts[j - 1] = t;
			}

		uint32_t joined = 0;
		for (size_t i = 0; i < pieces; i++) {
			size_t off = cuts[i];
			uint32_t piece = mist_csum_partial(buf + off, cuts[i + 1] - off, 0);
			uint32_t before = joined;

			joined = mist_csum_add(joined, piece, off);
			if (off % 2 == 0)
				assert_int_equal(mist_csum_fold(mist_csum_partial(
				                         buf + off, cuts[i + 1] - off, before)),
				                 mist_csum_fold(joined));
		}
		assert_int_equal(mist_csum_fold(joined), ref_checksum(buf, len));
	}
}

static void pseudo_header_matches_summed_bytes(void **state)
{
	for (int round = 0; round < ROUNDS; round++) {
		uint8_t pseudo[12];
		uint8_t proto = (uint8_t)rnd();
		uint16_t len = (uint16_t)rnd();

		/* RFC 768: source, destination, zero, protocol, UDP length. */
		rnd_fill(pseudo, 8);
		pseudo[8] = 0;
		pseudo[9] = proto;
		mist_store_be16(pseudo + 10, len);
		assert_int_equal(
		        mist_csum_fold(mist_csum_pseudo_ipv4(pseudo, pseudo + 4, proto, len)),
		        ref_checksum(pseudo, sizeof(pseudo)));
	}
}

static void rnd_ipv4_header(uint8_t *h)
{
	rnd_fill(h, MIST_IPV4_HDR_MIN);
	mist_ipv4_set_version_header_len(h, MIST_IPV4_HDR_MIN);
	if (mist_ipv4_ttl(h) == 0)
		mist_ipv4_set_ttl(h, 1);
	mist_ipv4_fill_checksum(h);
}

static void ttl_decrement_update_equals_recomputation(void **state)
{
	for (int round = 0; round < ROUNDS; round++) {
		uint8_t h[MIST_IPV4_HDR_MIN];
		uint8_t expect[MIST_IPV4_HDR_MIN];

		rnd_ipv4_header(h);
		uint8_t ttl = mist_ipv4_ttl(h);
		memcpy(expect, h, sizeof(expect));
		mist_ipv4_set_ttl(expect, (uint8_t)(ttl - 1));
		mist_ipv4_fill_checksum(expect);

		assert_int_equal(mist_ipv4_decrement_ttl(h), ttl - 1);
		assert_memory_equal(h, expect, sizeof(h));
		assert_true(mist_ipv4_verify_checksum(h));
	}
}

/*
 * RFC 1624 section 3: the older eqn. 2 gives 0xffff where recomputation
 * gives 0x0000. Build a header whose checksum after the decrement is 0 by
 * choosing its identification field, and check eqn. 3 gets it right.
 */
static void ttl_decrement_update_yields_zero_not_minus_zero(void **state)
{
	uint8_t h[MIST_IPV4_HDR_MIN];

	rnd_ipv4_header(h);
	uint8_t ttl = mist_ipv4_ttl(h);
	mist_ipv4_set_ttl(h, (uint8_t)(ttl - 1));
	mist_ipv4_set_ident(h, 0);
	mist_ipv4_set_checksum(h, 0);
	/*
	 * With the identification at 0, mist_csum() is the complement of the sum
	 * of the other words; as the identification it brings the sum to 0xffff,
	 * whose complement, the checksum, is 0.
	 */
	mist_ipv4_set_ident(h, mist_csum(h, sizeof(h)));
	mist_ipv4_fill_checksum(h);
	assert_int_equal(mist_ipv4_checksum(h), 0);

	mist_ipv4_set_ttl(h, ttl);
	mist_ipv4_fill_checksum(h);
	assert_int_equal(mist_ipv4_decrement_ttl(h), ttl - 1);
	assert_int_equal(mist_ipv4_checksum(h), 0);
	assert_true(mist_ipv4_verify_checksum(h));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(rfc1071_example_sums_to_ddf2),
	        cmocka_unit_test(empty_and_single_byte_sums),
	        cmocka_unit_test(fast_sum_matches_reference_on_random_data),
	        cmocka_unit_test(all_ones_data_does_not_overflow),
	        cmocka_unit_test(pieces_joined_at_any_offset_match_one_sum),
	        cmocka_unit_test(pseudo_header_matches_summed_bytes),
	        cmocka_unit_test(ttl_decrement_update_equals_recomputation),
	        cmocka_unit_test(ttl_decrement_update_yields_zero_not_minus_zero),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
