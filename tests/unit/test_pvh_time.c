/*
 * Unit tests for the pvh platform's integer time arithmetic, run on the
 * host: the multiplier-and-shift scales of platform/pvh/time_scale.h (TSC
 * ticks to ns and back) agree with exact 128-bit arithmetic to within a few
 * parts per billion for the frequencies a TSC runs at, worked small cases
 * come out exactly, and overflow saturates; the calendar conversion of
 * platform/pvh/civil_time.h gives the Unix time of dates around leap days,
 * century years and 2^31 seconds.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "../../platform/pvh/civil_time.h"
#include "../../platform/pvh/time_scale.h"

#define NSEC_PER_SEC 1000000000ull

/* |scaled - exact| <= exact / 2^29 + 1: the scale's precision, with margin for the pre-shift. */
static void assert_close_to_exact(struct time_scale s, uint64_t x, uint64_t num, uint64_t den)
{
	unsigned __int128 exact = (unsigned __int128)x * num / den;
	uint64_t got = time_scale_apply(s, x);
	unsigned __int128 diff = got > exact ? got - exact : exact - got;
	if (diff > exact / (1u << 29) + 1)
		fail_msg("x=%llu * %llu/%llu: got %llu, exact %llu", (unsigned long long)x,
		         (unsigned long long)num, (unsigned long long)den, (unsigned long long)got,
		         (unsigned long long)exact);
}

static void small_ratios_scale_exactly(void **state)
{
	struct time_scale half = time_scale_make(1, 2);
	assert_int_equal(half.mul, 1u << 31);
	assert_int_equal(half.shift, 0);
	assert_int_equal(time_scale_apply(half, 10), 5);
	assert_int_equal(time_scale_apply(half, 11), 5);

	/* 3 = 3/4 * 2^2: mul 3 * 2^30, shift 2. */
	struct time_scale three = time_scale_make(3, 1);
	assert_int_equal(three.mul, 3u << 30);
	assert_int_equal(three.shift, 2);
	assert_int_equal(time_scale_apply(three, 7), 21);
	assert_int_equal(time_scale_apply(three, 0), 0);
}

static void tsc_to_ns_matches_exact_arithmetic(void **state)
{
	static const uint64_t hz[] = {100000000ull,  1000000000ull, 2399999000ull,
	                              2608829000ull, 3000000000ull, 7123456789ull};
	static const uint64_t ticks[] = {0,
	                                 1,
	                                 999,
	                                 1000000007ull,
	                                 3600ull * 3000000000ull,
	                                 (uint64_t)1 << 40,
	                                 (uint64_t)1 << 56};
	for (size_t i = 0; i < sizeof(hz) / sizeof(hz[0]); i++) {
		struct time_scale to_ns = time_scale_make(NSEC_PER_SEC, hz[i]);
		struct time_scale to_tsc = time_scale_make(hz[i], NSEC_PER_SEC);
		assert_true(to_ns.mul >= 1u << 31);
		assert_true(to_tsc.mul >= 1u << 31);
		for (size_t j = 0; j < sizeof(ticks) / sizeof(ticks[0]); j++) {
			assert_close_to_exact(to_ns, ticks[j], NSEC_PER_SEC, hz[i]);
			assert_close_to_exact(to_tsc, ticks[j], hz[i], NSEC_PER_SEC);
		}
	}
}

static void one_second_of_a_2_4_ghz_tsc_is_one_second(void **state)
{
	struct time_scale to_ns = time_scale_make(NSEC_PER_SEC, 2400000000ull);
	uint64_t ns = time_scale_apply(to_ns, 2400000000ull);
	assert_in_range(ns, NSEC_PER_SEC - 1, NSEC_PER_SEC);
	struct time_scale to_tsc = time_scale_make(2400000000ull, NSEC_PER_SEC);
	assert_in_range(time_scale_apply(to_tsc, NSEC_PER_SEC), 2400000000ull - 2, 2400000000ull);
}

static void results_that_do_not_fit_saturate(void **state)
{
	struct time_scale to_tsc = time_scale_make(3000000000ull, NSEC_PER_SEC);
	assert_int_equal(time_scale_apply(to_tsc, UINT64_MAX), UINT64_MAX);
	assert_int_equal(time_scale_apply(to_tsc, UINT64_MAX / 2), UINT64_MAX);
}

static void mul_hi_is_exact_at_the_extremes(void **state)
{
	assert_int_equal(time_scale_mul_hi(UINT64_MAX, UINT32_MAX),
	                 (uint64_t)(((unsigned __int128)UINT64_MAX * UINT32_MAX) >> 32));
	assert_int_equal(time_scale_mul_hi((uint64_t)1 << 32, 5), 5);
	assert_int_equal(time_scale_mul_hi(0xffffffffull, 0xffffffffu), 0xfffffffeull);
}

static void calendar_dates_give_unix_time(void **state)
{
	assert_int_equal(civil_to_unix_seconds(1970, 1, 1, 0, 0, 0), 0);
	assert_int_equal(civil_to_unix_seconds(1999, 12, 31, 23, 59, 59), 946684799);
	assert_int_equal(civil_to_unix_seconds(2000, 3, 1, 0, 0, 0), 951868800);
	assert_int_equal(civil_to_unix_seconds(2024, 2, 29, 0, 0, 0), 1709164800);
	assert_int_equal(civil_to_unix_seconds(2026, 11, 27, 12, 34, 56), 1795782896);
	assert_int_equal(civil_to_unix_seconds(2038, 1, 19, 3, 14, 8), 2147483648ull);
	/* 2100 is not a leap year: February has 28 days. */
	assert_int_equal(civil_to_unix_seconds(2100, 3, 1, 0, 0, 0), 4107542400ull);
	assert_int_equal(civil_days_since_epoch(2100, 3, 1) - civil_days_since_epoch(2100, 2, 28),
	                 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(small_ratios_scale_exactly),
	        cmocka_unit_test(tsc_to_ns_matches_exact_arithmetic),
	        cmocka_unit_test(one_second_of_a_2_4_ghz_tsc_is_one_second),
	        cmocka_unit_test(results_that_do_not_fit_saturate),
	        cmocka_unit_test(mul_hi_is_exact_at_the_extremes),
	        cmocka_unit_test(calendar_dates_give_unix_time),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
