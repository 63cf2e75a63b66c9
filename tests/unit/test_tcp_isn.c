/*
 * Unit tests for net/tcp_isn: ISNs are the RFC 6528 clock plus a keyed hash
 * of the tuple, advance by one every 4 microseconds and wrap mod 2^32, and
 * differ per tuple and per key; SYN cookies have the documented layout,
 * round-trip the MSS of each bracket, fail for any other tuple, peer ISN or
 * flipped bit, expire after TCP_COOKIE_MAX_AGE slots also where the five
 * slot bits wrap, and resist random forgeries.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "mist/rng.h"
#include "net/tcp_isn.h"

#define LOCAL  MIST_IPV4(192, 0, 2, 1)
#define REMOTE MIST_IPV4(198, 51, 100, 7)
#define LPORT  80
#define RPORT  49152

/* Fixed keys, so that expected values can be worked out from the header's definitions. */
static const struct tcp_secret fixed_secret = {
        .isn = {UINT64_C(0x0706050403020100), UINT64_C(0x0f0e0d0c0b0a0908)},
        .cookie = {UINT64_C(0x1716151413121110), UINT64_C(0x1f1e1d1c1b1a1918)},
};

/* The tuple of the tests as tcp_isn.h serialises it: addresses and big-endian ports. */
static const uint8_t tuple_bytes[12] = {192, 0, 2, 1, 0, 80, 198, 51, 100, 7, 0xc0, 0x00};

static uint32_t isn_at(const struct tcp_secret *s, uint64_t now)
{
	return tcp_isn(s, LOCAL, LPORT, REMOTE, RPORT, now);
}

static void isn_is_clock_plus_keyed_hash_of_tuple(void **state)
{
	uint32_t f = (uint32_t)mist_siphash(&fixed_secret.isn, tuple_bytes, sizeof(tuple_bytes));

	assert_int_equal(isn_at(&fixed_secret, 0), f);
	/* 4,003,999 ns is 1000 whole ticks of 4 us. */
	assert_int_equal(isn_at(&fixed_secret, 4003999), f + 1000);
}

static void isn_advances_one_per_4_microseconds(void **state)
{
	uint64_t t = 5 * MIST_SEC; /* a tick boundary */
	uint32_t base = isn_at(&fixed_secret, t);

	assert_int_equal(isn_at(&fixed_secret, t + 3999) - base, 0);
	assert_int_equal(isn_at(&fixed_secret, t + 4000) - base, 1);
	assert_int_equal(isn_at(&fixed_secret, t + 4 * MIST_MSEC) - base, 1000);
	assert_int_equal(isn_at(&fixed_secret, t + 60 * MIST_SEC) - base, 15000000);
}

static void isn_clock_wraps_mod_2_32(void **state)
{
	uint64_t last_tick = UINT64_C(0xffffffff) * TCP_ISN_TICK_NS; /* M = 2^32 - 1 */
	uint32_t before = isn_at(&fixed_secret, last_tick);

	assert_int_equal(isn_at(&fixed_secret, last_tick + 3 * TCP_ISN_TICK_NS) - before, 3);
	assert_int_equal(isn_at(&fixed_secret, last_tick + TCP_ISN_TICK_NS),
	                 isn_at(&fixed_secret, 0));
}

static void isn_differs_per_tuple(void **state)
{
	uint64_t now = 7 * MIST_SEC;
	uint32_t base = isn_at(&fixed_secret, now);
	uint32_t others[] = {
	        tcp_isn(&fixed_secret, MIST_IPV4(192, 0, 2, 2), LPORT, REMOTE, RPORT, now),
	        tcp_isn(&fixed_secret, LOCAL, LPORT + 1, REMOTE, RPORT, now),
	        tcp_isn(&fixed_secret, LOCAL, LPORT, MIST_IPV4(198, 51, 100, 8), RPORT, now),
	        tcp_isn(&fixed_secret, LOCAL, LPORT, REMOTE, RPORT + 1, now),
	        tcp_isn(&fixed_secret, REMOTE, RPORT, LOCAL, LPORT, now),
	};

	for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++)
		assert_int_not_equal(others[i], base);
}

static void isn_differs_per_key(void **state)
{
	struct tcp_secret a, b;

	tcp_secret_init(&a);
	tcp_secret_init(&b);
	assert_true(a.isn.k0 != b.isn.k0 || a.isn.k1 != b.isn.k1);
	assert_true(a.isn.k0 != a.cookie.k0 || a.isn.k1 != a.cookie.k1);
	assert_int_not_equal(isn_at(&a, MIST_SEC), isn_at(&b, MIST_SEC));
	assert_int_not_equal(isn_at(&a, MIST_SEC), isn_at(&fixed_secret, MIST_SEC));
}

/* --- SYN cookies ----------------------------------------------------------- */

#define PEER_ISN 0x12345678u

static uint32_t cookie_at(uint16_t peer_mss, uint64_t now)
{
	return tcp_cookie_make(&fixed_secret, LOCAL, LPORT, REMOTE, RPORT, PEER_ISN, peer_mss, now);
}

static bool check_at(uint32_t cookie, uint64_t now, uint16_t *mss)
{
	return tcp_cookie_check(&fixed_secret, LOCAL, LPORT, REMOTE, RPORT, PEER_ISN, cookie, now,
	                        mss);
}

static uint64_t slot_start(uint64_t slot)
{
	return slot * TCP_COOKIE_SLOT_NS;
}

static void cookie_has_documented_layout(void **state)
{
	/* Slot 1001 (1001 mod 32 = 9), MSS 1460 (index 6). */
	uint64_t now = slot_start(1001) + 5 * MIST_SEC;
	/* The tuple, the peer ISN, the whole slot as 8 bytes (1001 = 0x3e9), the MSS index. */
	static const uint8_t in[25] = {
	        192,  0,    2,    1,    0, 80, 198,  51,   100, 7, 0xc0, 0x00, /* tuple */
	        0x12, 0x34, 0x56, 0x78,                                        /* peer ISN */
	        0,    0,    0,    0,    0, 0,  0x03, 0xe9,                     /* slot */
	        6,                                                             /* MSS index */
	};
	uint32_t hash;

	hash = (uint32_t)mist_siphash(&fixed_secret.cookie, in, sizeof(in)) & 0xffffff;
	assert_int_equal(cookie_at(1460, now), 9u << 27 | 6u << 24 | hash);
}

static void cookie_round_trips_each_mss_bracket(void **state)
{
	static const struct {
		uint16_t peer_mss, encoded;
	} cases[] = {
	        {0, 536},     {100, 536},   {535, 536},   {536, 536},   {1219, 536},
	        {1220, 1220}, {1299, 1220}, {1300, 1300}, {1379, 1300}, {1380, 1380},
	        {1439, 1380}, {1440, 1440}, {1451, 1440}, {1452, 1452}, {1459, 1452},
	        {1460, 1460}, {8959, 1460}, {8960, 8960}, {9000, 8960}, {65535, 8960},
	};
	uint64_t now = slot_start(77) + 1;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint16_t mss = 0;

		assert_true(check_at(cookie_at(cases[i].peer_mss, now), now, &mss));
		assert_int_equal(mss, cases[i].encoded);
	}
}

static void cookie_fails_for_other_tuple_or_peer_isn(void **state)
{
	uint64_t now = slot_start(500);
	uint32_t c = cookie_at(1460, now);
	uint16_t mss = 1234;

	assert_false(tcp_cookie_check(&fixed_secret, MIST_IPV4(192, 0, 2, 2), LPORT, REMOTE, RPORT,
	                              PEER_ISN, c, now, &mss));
	assert_false(tcp_cookie_check(&fixed_secret, LOCAL, LPORT + 1, REMOTE, RPORT, PEER_ISN, c,
	                              now, &mss));
	assert_false(tcp_cookie_check(&fixed_secret, LOCAL, LPORT, MIST_IPV4(198, 51, 100, 8),
	                              RPORT, PEER_ISN, c, now, &mss));
	assert_false(tcp_cookie_check(&fixed_secret, LOCAL, LPORT, REMOTE, RPORT - 1, PEER_ISN, c,
	                              now, &mss));
	assert_false(tcp_cookie_check(&fixed_secret, LOCAL, LPORT, REMOTE, RPORT, PEER_ISN + 1, c,
	                              now, &mss));
	assert_false(tcp_cookie_check(&fixed_secret, REMOTE, RPORT, LOCAL, LPORT, PEER_ISN, c, now,
	                              &mss));
	assert_int_equal(mss, 1234); /* untouched on failure */
	assert_true(check_at(c, now, &mss));
}

static void cookie_fails_with_any_bit_flipped(void **state)
{
	uint64_t now = slot_start(3000) + 30 * MIST_SEC;
	uint32_t c = cookie_at(1440, now);
	uint16_t mss;

	for (int bit = 0; bit < 32; bit++)
		assert_false(check_at(c ^ (UINT32_C(1) << bit), now, &mss));
}

static void cookie_expires_after_max_age_slots(void **state)
{
	uint64_t made = slot_start(1000) + 10 * MIST_SEC;
	uint32_t c = cookie_at(1460, made);
	uint64_t last_valid = slot_start(1000 + TCP_COOKIE_MAX_AGE + 1) - 1;
	uint16_t mss;

	assert_true(check_at(c, made, &mss));
	assert_true(check_at(c, slot_start(1001), &mss));
	assert_true(check_at(c, last_valid, &mss));
	assert_false(check_at(c, last_valid + 1, &mss));
	assert_false(check_at(c, slot_start(1000) - 1, &mss)); /* checked before it was made */
}

/* A cookie made in the last nanosecond of a slot still lives 2 whole slots: 128 s. */
static void cookie_made_at_end_of_slot_lives_128_seconds(void **state)
{
	uint64_t made = slot_start(41) - 1;
	uint32_t c = cookie_at(536, made);
	uint16_t mss;

	assert_true(check_at(c, made + 128 * MIST_SEC, &mss));
	assert_false(check_at(c, made + 128 * MIST_SEC + 1, &mss));
}

static void cookie_survives_wrap_of_slot_bits(void **state)
{
	uint32_t c = cookie_at(1460, slot_start(31)); /* slot bits 11111 */
	uint32_t old = cookie_at(1460, slot_start(0));
	uint16_t mss;

	assert_int_equal(c >> 27, 31);
	assert_true(check_at(c, slot_start(32), &mss)); /* slot bits 00000: age 1 */
	assert_true(check_at(c, slot_start(33) + 5, &mss));
	assert_false(check_at(c, slot_start(34), &mss));
	/* 32 slots later the five bits match again, but the hash covers the whole slot. */
	assert_true(check_at(old, slot_start(0), &mss));
	assert_false(check_at(old, slot_start(32), &mss));
	assert_false(check_at(old, slot_start(33), &mss));
}

/*
 * An attacker who knows the time sets the slot bits right and guesses the
 * other 27: any MSS index is valid, so a guess passes when its 24 hash bits
 * match, with probability 2^-24. Over 100,000 guesses that is 0.006
 * expected, and two or more passes have a probability of 1.8e-5; a hash
 * of even 16 bits would let about 1.5 through.
 */
#define FORGERY_TRIES 100000

static void cookie_forgeries_almost_never_pass(void **state)
{
	uint64_t now = slot_start(12345) + 17 * MIST_SEC;
	uint32_t slot_bits = (uint32_t)(12345 % 32) << 27;
	unsigned passed = 0;
	uint16_t mss;

	for (int i = 0; i < FORGERY_TRIES; i++) {
		uint32_t guess = slot_bits | (mist_random_u32() & 0x07ffffff);
		uint32_t peer_isn = mist_random_u32();

		if (tcp_cookie_check(&fixed_secret, LOCAL, LPORT, REMOTE, RPORT, peer_isn, guess,
		                     now, &mss))
			passed++;
	}
	print_message("%u of %d forged cookies passed (0.006 expected)\n", passed, FORGERY_TRIES);
	assert_true(passed <= 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(isn_is_clock_plus_keyed_hash_of_tuple),
	        cmocka_unit_test(isn_advances_one_per_4_microseconds),
	        cmocka_unit_test(isn_clock_wraps_mod_2_32),
	        cmocka_unit_test(isn_differs_per_tuple),
	        cmocka_unit_test(isn_differs_per_key),
	        cmocka_unit_test(cookie_has_documented_layout),
	        cmocka_unit_test(cookie_round_trips_each_mss_bracket),
	        cmocka_unit_test(cookie_fails_for_other_tuple_or_peer_isn),
	        cmocka_unit_test(cookie_fails_with_any_bit_flipped),
	        cmocka_unit_test(cookie_expires_after_max_age_slots),
	        cmocka_unit_test(cookie_made_at_end_of_slot_lives_128_seconds),
	        cmocka_unit_test(cookie_survives_wrap_of_slot_bits),
	        cmocka_unit_test(cookie_forgeries_almost_never_pass),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
