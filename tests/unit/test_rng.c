/*
 * Unit tests for core/rng: the ChaCha20 block function against RFC 8439
 * (the 2.3.2 example and the A.1 test vectors), the generator's output
 * before seeding, seeding determinism, and the range and spread of
 * mist_random_below.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "core/rng_seed.h"
#include "mist/rng.h"

static void hex_to_bytes(const char *hex, uint8_t *out, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned v;

		assert_int_equal(sscanf(hex + 2 * i, "%2x", &v), 1);
		out[i] = (uint8_t)v;
	}
}

/* Keys and nonces are given as bytes in the RFC and read as little-endian words (2.3). */
static void bytes_to_words(const uint8_t *b, uint32_t *w, size_t nwords)
{
	for (size_t i = 0; i < nwords; i++)
		w[i] = (uint32_t)b[4 * i] | (uint32_t)b[4 * i + 1] << 8 |
		       (uint32_t)b[4 * i + 2] << 16 | (uint32_t)b[4 * i + 3] << 24;
}

static void check_block(const char *key_hex, uint32_t counter, const char *nonce_hex,
                        const char *expected_hex)
{
	uint8_t key_bytes[32], nonce_bytes[12], expected[64], out[64];
	uint32_t key[8], nonce[3];

	hex_to_bytes(key_hex, key_bytes, sizeof(key_bytes));
	hex_to_bytes(nonce_hex, nonce_bytes, sizeof(nonce_bytes));
	hex_to_bytes(expected_hex, expected, sizeof(expected));
	bytes_to_words(key_bytes, key, 8);
	bytes_to_words(nonce_bytes, nonce, 3);
	mist_chacha20_block(key, counter, nonce, out);
	assert_memory_equal(out, expected, sizeof(out));
}

#define ZERO_KEY   "0000000000000000000000000000000000000000000000000000000000000000"
#define ZERO_NONCE "000000000000000000000000"

static void chacha20_block_matches_rfc8439_2_3_2(void **state)
{
	check_block("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", 1,
	            "000000090000004a00000000",
	            "10f1e7e4d13b5915500fdd1fa32071c4c7d1f4c733c068030422aa9ac3d46c4e"
	            "d2826446079faa0914c2d705d98b02a2b5129cd1de164eb9cbd083e8a2503c4e");
}

static void chacha20_block_matches_rfc8439_a_1(void **state)
{
	/* Test vectors #1 to #5 of RFC 8439 A.1. */
	check_block(ZERO_KEY, 0, ZERO_NONCE,
	            "76b8e0ada0f13d90405d6ae55386bd28bdd219b8a08ded1aa836efcc8b770dc7"
	            "da41597c5157488d7724e03fb8d84a376a43b8f41518a11cc387b669b2ee6586");
	check_block(ZERO_KEY, 1, ZERO_NONCE,
	            "9f07e7be5551387a98ba977c732d080dcb0f29a048e3656912c6533e32ee7aed"
	            "29b721769ce64e43d57133b074d839d531ed1f28510afb45ace10a1f4b794d6f");
	check_block("0000000000000000000000000000000000000000000000000000000000000001", 1,
	            ZERO_NONCE,
	            "3aeb5224ecf849929b9d828db1ced4dd832025e8018b8160b82284f3c949aa5a"
	            "8eca00bbb4a73bdad192b5c42f73f2fd4e273644c8b36125a64addeb006c13a0");
	check_block("00ff000000000000000000000000000000000000000000000000000000000000", 2,
	            ZERO_NONCE,
	            "72d54dfbf12ec44b362692df94137f328fea8da73990265ec1bbbea1ae9af0ca"
	            "13b25aa26cb4a648cb9b9d1be65b2c0924a66c54d545ec1b7374f4872e99f096");
	check_block(ZERO_KEY, 0, "000000000000000000000002",
	            "c2c64d378cd536374ae204b9ef933fcd1a8b2288b3dfa49672ab765b54ee27c7"
	            "8a970e0e955c14f3a88e741b97c286f75f8fc299e8148362fa198a39531bed6d");
}

/*
 * Before any seed the key is all zeros. Fast key erasure turns the first 32
 * bytes of block 0 into the next key and hands out the other 32: the second
 * half of RFC 8439 A.1 test vector #1. This test must run first.
 */
static void unseeded_generator_starts_from_zero_key(void **state)
{
	uint8_t expected[32], out[32];

	hex_to_bytes("da41597c5157488d7724e03fb8d84a376a43b8f41518a11cc387b669b2ee6586", expected,
	             sizeof(expected));
	mist_random_bytes(out, sizeof(out));
	assert_memory_equal(out, expected, sizeof(out));
}

static void same_seed_gives_same_output(void **state)
{
	static const uint8_t seed_a[32] = {1, 2, 3};
	static const uint8_t seed_b[32] = {1, 2, 4};
	uint8_t first[1000], again[1000], other[1000];

	mist_rng_seed(seed_a, sizeof(seed_a));
	mist_random_bytes(first, sizeof(first));
	mist_random_bytes(other, 17); /* leave output buffered, which a reseed must discard */
	mist_rng_seed(seed_a, sizeof(seed_a));
	/* Reading in pieces of odd sizes gives the same stream as one read. */
	for (size_t off = 0; off < sizeof(again); off += 37)
		mist_random_bytes(again + off, sizeof(again) - off < 37 ? sizeof(again) - off : 37);
	assert_memory_equal(first, again, sizeof(first));

	mist_rng_seed(seed_b, sizeof(seed_b));
	mist_random_bytes(other, sizeof(other));
	assert_memory_not_equal(first, other, sizeof(first));

	/* A seed of another length works too, and differs from its prefix. */
	mist_rng_seed(seed_a, 8);
	mist_random_bytes(other, sizeof(other));
	assert_memory_not_equal(first, other, sizeof(first));
}

static void consecutive_outputs_differ(void **state)
{
	static const uint8_t seed[32] = {42};
	uint8_t a[64], b[64];

	mist_rng_seed(seed, sizeof(seed));
	mist_random_bytes(a, sizeof(a));
	mist_random_bytes(b, sizeof(b));
	assert_memory_not_equal(a, b, sizeof(a));
	assert_true(mist_random_u64() != mist_random_u64());
}

static void random_below_one_is_zero(void **state)
{
	for (int i = 0; i < 1000; i++)
		assert_int_equal(mist_random_below(1), 0);
}

/*
 * 100000 draws below 10: each value is expected 10000 times with a standard
 * deviation of about 95, so ±600 is over six deviations. The seed is fixed,
 * so the outcome is too.
 */
static void random_below_covers_range_evenly(void **state)
{
	static const uint8_t seed[32] = {7};
	unsigned counts[10] = {0};

	mist_rng_seed(seed, sizeof(seed));
	for (int i = 0; i < 100000; i++) {
		uint32_t v = mist_random_below(10);

		assert_true(v < 10);
		counts[v]++;
	}
	for (int v = 0; v < 10; v++)
		assert_in_range(counts[v], 10000 - 600, 10000 + 600);

	for (uint32_t bound = 2; bound < 40; bound++) {
		unsigned seen = 0;
		uint64_t mask = 0;

		for (int i = 0; i < 2000; i++) {
			uint32_t v = mist_random_below(bound);

			assert_true(v < bound);
			if (!(mask & (uint64_t)1 << v))
				seen++;
			mask |= (uint64_t)1 << v;
		}
		assert_int_equal(seen, bound);
	}
}

/*
 * A bound just above 2^31 is the worst case for rejection (almost half the
 * draws fall in the biased region); results must stay in range and use both
 * halves of it.
 */
static void random_below_large_bound(void **state)
{
	const uint32_t bound = 0x80000001u;
	unsigned high = 0;

	for (int i = 0; i < 20000; i++) {
		uint32_t v = mist_random_below(bound);

		assert_true(v < bound);
		high += v >= bound / 2;
	}
	assert_in_range(high, 9000, 11000);
	for (int i = 0; i < 1000; i++)
		assert_true(mist_random_below(UINT32_MAX) < UINT32_MAX);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(unseeded_generator_starts_from_zero_key),
	        cmocka_unit_test(chacha20_block_matches_rfc8439_2_3_2),
	        cmocka_unit_test(chacha20_block_matches_rfc8439_a_1),
	        cmocka_unit_test(same_seed_gives_same_output),
	        cmocka_unit_test(consecutive_outputs_differ),
	        cmocka_unit_test(random_below_one_is_zero),
	        cmocka_unit_test(random_below_covers_range_evenly),
	        cmocka_unit_test(random_below_large_bound),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
