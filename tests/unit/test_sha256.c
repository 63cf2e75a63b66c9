/*
 * Unit tests for SHA-256 (include/mist/sha256.h): the FIPS 180-2 appendix B examples and NIST's
 * long-message vector, messages whose length sits at each padding boundary,
 * and the incremental API fed in pieces of awkward sizes, which must give
 * the same digest as one call.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mist/sha256.h"

static void digest_hex(const void *data, size_t len, char hex[65])
{
	struct mist_sha256 h;
	uint8_t d[MIST_SHA256_DIGEST_LEN];

	mist_sha256_init(&h);
	mist_sha256_update(&h, data, len);
	mist_sha256_final(&h, d);
	mist_sha256_hex(d, hex);
}

static void assert_digest(const char *msg, const char *expected)
{
	char hex[65];

	digest_hex(msg, strlen(msg), hex);
	assert_string_equal(hex, expected);
}

static void sha256_of_abc_matches_fips_example(void **state)
{
	assert_digest("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

static void sha256_of_empty_message(void **state)
{
	char hex[65];

	assert_digest("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	digest_hex(NULL, 0, hex);
	assert_string_equal(hex,
	                    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

static void sha256_of_448_bit_message_spans_two_blocks(void **state)
{
	assert_digest("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
	              "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

static void sha256_of_896_bit_message(void **state)
{
	assert_digest("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjk"
	              "lmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
	              "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
}

static void sha256_of_million_a_in_odd_chunks(void **state)
{
	static const size_t chunks[] = {1, 3, 7, 63, 64, 65, 127, 1000, 4093};
	char a[4093];
	struct mist_sha256 h;
	uint8_t d[MIST_SHA256_DIGEST_LEN];
	char hex[65];
	size_t left = 1000000;

	memset(a, 'a', sizeof(a));
	mist_sha256_init(&h);
	for (size_t i = 0; left > 0; i++) {
		size_t n = chunks[i % (sizeof(chunks) / sizeof(chunks[0]))];

		if (n > left)
			n = left;
		mist_sha256_update(&h, a, n);
		left -= n;
	}
	mist_sha256_final(&h, d);
	mist_sha256_hex(d, hex);
	assert_string_equal(hex,
	                    "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

/* Lengths 55, 56 and 64 put the 0x80 byte and the length field at each padding boundary. */
static void sha256_at_padding_boundaries(void **state)
{
	static const struct {
		size_t len;
		const char *hex;
	} cases[] = {
	        {55, "463eb28e72f82e0a96c0a4cc53690c571281131f672aa229e0d45ae59b598b59"},
	        {56, "da2ae4d6b36748f2a318f23e7ab1dfdf45acdc9d049bd80e59de82a60895f562"},
	        {63, "29af2686fd53374a36b0846694cc342177e428d1647515f078784d69cdb9e488"},
	        {64, "fdeab9acf3710362bd2658cdc9a29e8f9c757fcf9811603a8c447cd1d9151108"},
	        {119, "da18797ed7c3a777f0847f429724a2d8cd5138e6ed2895c3fa1a6d39d18f7ec6"},
	        {120, "f52b23db1fbb6ded89ef42a23ce0c8922c45f25c50b568a93bf1c075420bbb7c"},
	};
	uint8_t msg[120];
	char hex[65];

	for (size_t i = 0; i < sizeof(msg); i++)
		msg[i] = (uint8_t)i;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		digest_hex(msg, cases[i].len, hex);
		assert_string_equal(hex, cases[i].hex);
	}
}

static void sha256_incremental_equals_one_shot(void **state)
{
	static uint8_t msg[5000];
	uint8_t whole[MIST_SHA256_DIGEST_LEN], pieces[MIST_SHA256_DIGEST_LEN];
	struct mist_sha256 h;

	srand(1);
	for (size_t i = 0; i < sizeof(msg); i++)
		msg[i] = (uint8_t)rand();
	for (int round = 0; round < 200; round++) {
		size_t len = (size_t)rand() % sizeof(msg);

		mist_sha256_init(&h);
		mist_sha256_update(&h, msg, len);
		mist_sha256_final(&h, whole);

		mist_sha256_init(&h);
		for (size_t off = 0; off < len;) {
			size_t n = (size_t)rand() % 150;

			if (n > len - off)
				n = len - off;
			mist_sha256_update(&h, msg + off, n);
			off += n;
		}
		mist_sha256_final(&h, pieces);
		assert_memory_equal(whole, pieces, sizeof(whole));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(sha256_of_abc_matches_fips_example),
	        cmocka_unit_test(sha256_of_empty_message),
	        cmocka_unit_test(sha256_of_448_bit_message_spans_two_blocks),
	        cmocka_unit_test(sha256_of_896_bit_message),
	        cmocka_unit_test(sha256_of_million_a_in_odd_chunks),
	        cmocka_unit_test(sha256_at_padding_boundaries),
	        cmocka_unit_test(sha256_incremental_equals_one_shot),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
