/*
 * Unit tests for core/siphash: the example of the paper's appendix A, and
 * entries of the reference implementation's table of test vectors
 * (vectors_sip64 in vectors.h of github.com/veorq/SipHash: key 00..0f,
 * message 00 01 02 ... of each length 0..63, output bytes little-endian),
 * chosen at each boundary of the 8-byte word; then alignment, NULL input
 * and key sensitivity.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/siphash.h"

/* The key of the paper's example and of the vectors: bytes 00..0f, read little-endian. */
static const struct mist_siphash_key key_00_0f = {
        .k0 = UINT64_C(0x0706050403020100),
        .k1 = UINT64_C(0x0f0e0d0c0b0a0908),
};

/* The output as the reference prints it: the 64-bit value stored little-endian. */
static uint64_t le64(const uint8_t b[8])
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | b[i];
	return v;
}

static uint64_t siphash_of_counting_bytes(size_t len)
{
	uint8_t msg[64];

	for (size_t i = 0; i < sizeof(msg); i++)
		msg[i] = (uint8_t)i;
	return mist_siphash(&key_00_0f, msg, len);
}

static void siphash_matches_paper_appendix_a(void **state)
{
	/* Message 00..0e (15 bytes); the paper gives the output as a129ca6149be45e5. */
	assert_int_equal(siphash_of_counting_bytes(15), UINT64_C(0xa129ca6149be45e5));
}

static void siphash_matches_reference_vectors(void **state)
{
	static const struct {
		size_t len;
		uint8_t out[8];
	} vectors[] = {
	        {0, {0x31, 0x0e, 0x0e, 0xdd, 0x47, 0xdb, 0x6f, 0x72}},
	        {1, {0xfd, 0x67, 0xdc, 0x93, 0xc5, 0x39, 0xf8, 0x74}},
	        {7, {0x37, 0xd1, 0x01, 0x8b, 0xf5, 0x00, 0x02, 0xab}},
	        {8, {0x62, 0x24, 0x93, 0x9a, 0x79, 0xf5, 0xf5, 0x93}},
	        {9, {0xb0, 0xe4, 0xa9, 0x0b, 0xdf, 0x82, 0x00, 0x9e}},
	        {15, {0xe5, 0x45, 0xbe, 0x49, 0x61, 0xca, 0x29, 0xa1}},
	        {16, {0xdb, 0x9b, 0xc2, 0x57, 0x7f, 0xcc, 0x2a, 0x3f}},
	        {63, {0x72, 0x45, 0x06, 0xeb, 0x4c, 0x32, 0x8a, 0x95}},
	};

	for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++)
		assert_int_equal(siphash_of_counting_bytes(vectors[i].len), le64(vectors[i].out));
}

static void siphash_of_empty_input_accepts_null(void **state)
{
	assert_int_equal(mist_siphash(&key_00_0f, NULL, 0), siphash_of_counting_bytes(0));
}

static void siphash_does_not_depend_on_alignment(void **state)
{
	uint8_t buf[64 + 8];

	for (size_t off = 0; off < 8; off++) {
		for (size_t i = 0; i < 64; i++)
			buf[off + i] = (uint8_t)i;
		assert_int_equal(mist_siphash(&key_00_0f, buf + off, 63),
		                 UINT64_C(0x958a324ceb064572));
	}
}

static void siphash_changes_with_every_key_bit(void **state)
{
	uint8_t msg[12] = {10, 0, 0, 1, 0x1f, 0x90, 10, 0, 0, 2, 0xc0, 0x00};
	uint64_t base = mist_siphash(&key_00_0f, msg, sizeof(msg));

	for (int bit = 0; bit < 128; bit++) {
		struct mist_siphash_key k = key_00_0f;

		if (bit < 64)
			k.k0 ^= UINT64_C(1) << bit;
		else
			k.k1 ^= UINT64_C(1) << (bit - 64);
		assert_int_not_equal(mist_siphash(&k, msg, sizeof(msg)), base);
	}
}

/* The length byte sets apart messages that differ only by trailing zeros. */
static void siphash_tells_trailing_zeros_apart(void **state)
{
	uint8_t zeros[8] = {0};

	for (size_t len = 0; len < sizeof(zeros); len++)
		assert_int_not_equal(mist_siphash(&key_00_0f, zeros, len),
		                     mist_siphash(&key_00_0f, zeros, len + 1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(siphash_matches_paper_appendix_a),
	        cmocka_unit_test(siphash_matches_reference_vectors),
	        cmocka_unit_test(siphash_of_empty_input_accepts_null),
	        cmocka_unit_test(siphash_does_not_depend_on_alignment),
	        cmocka_unit_test(siphash_changes_with_every_key_bit),
	        cmocka_unit_test(siphash_tells_trailing_zeros_apart),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
