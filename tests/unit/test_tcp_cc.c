/*
 * Unit tests for TCP congestion control (src/net/tcp_cc.h), driven through
 * the hooks the TCP core calls. Both algorithms: the RFC 6928 initial window,
 * slow start doubling per round trip with at most 2*SMSS per ACK (1*SMSS after
 * an RTO) and stopping at ssthresh, app-limited ACKs not growing cwnd, an RTO
 * leaving one SMSS, the end of recovery deflating to ssthresh, names, and the
 * MSS bounds. NewReno: one SMSS per cwnd of ACKed bytes in congestion
 * avoidance, ssthresh = half the flight on loss, saturation at UINT32_MAX.
 * CUBIC: 0.7 of the flight on loss, K for a worked example, W_cubic at 0,
 * K/2, K and 2K and one RTT ahead, the Reno-friendly region, fast convergence,
 * the RTO restart with K = 0, app-limited time not counted, the integer cube
 * root against an exact reference, and windows near 1 GiB over hours and
 * years without wrapping (a wrap would show as a shrinking window).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "misuse.h"

#include "net/tcp_cc.h"

#define MSS 1000u

#define NS_PER_MS 1000000ull
#define MS(x)     ((uint64_t)(x)*NS_PER_MS)
#define SEC(x)    ((uint64_t)(x)*1000 * NS_PER_MS)
#define HOUR      SEC(3600)

/* An arbitrary start, so that nothing relies on the clock starting at 0. */
#define T0 SEC(1000)

static const enum tcp_cc_algo all_algos[] = {TCP_CC_NEWRENO, TCP_CC_CUBIC};

/* A cwnd-limited ACK of `acked` bytes; the smoothed RTT is unknown. */
static void ack(struct tcp_cc *cc, uint32_t acked, uint64_t now)
{
	cc->ops->on_ack(cc, acked, cc->cwnd, false, 0, now);
}

static void ack_with_rtt(struct tcp_cc *cc, uint32_t acked, uint64_t srtt, uint64_t now)
{
	cc->ops->on_ack(cc, acked, cc->cwnd, false, srtt, now);
}

/* A round trip of ACKs, each for `per_ack` bytes, covering the window at its start. */
static void ack_one_window(struct tcp_cc *cc, uint32_t per_ack, uint64_t now)
{
	uint32_t window = cc->cwnd;

	for (uint32_t acked = 0; acked < window; acked += per_ack)
		ack(cc, per_ack, now);
}

/* A loss in a full window of `flight` bytes, then the end of its recovery. */
static void loss_and_recovery(struct tcp_cc *cc, uint32_t flight, uint64_t now)
{
	cc->ops->on_loss(cc, flight, now);
	cc->ops->on_recovery_end(cc, now);
}

/* Asserts `value` within 1% of `expected`. */
static void assert_within_1_percent(uint64_t value, uint64_t expected)
{
	uint64_t tolerance = expected / 100;

	if (value + tolerance < expected || value > expected + tolerance)
		fail_msg("%llu is not within 1%% of %llu", (unsigned long long)value,
		         (unsigned long long)expected);
}

/* Slow start from the initial window of 10 MSS up to `segments` MSS, 2 MSS per ACK. */
static void grow_by_slow_start(struct tcp_cc *cc, uint32_t segments)
{
	while (cc->cwnd < segments * MSS)
		ack(cc, 2 * MSS, T0);
	assert_int_equal(cc->cwnd, segments * MSS);
}

static void initial_window_follows_rfc6928(void **state)
{
	static const struct {
		uint32_t mss, cwnd;
	} cases[] = {
	        {1, 10},         /* 10 segments of the smallest MSS */
	        {536, 5360},     /* 10 segments */
	        {1000, 10000},   /* 10 segments */
	        {1460, 14600},   /* 10 segments, also the byte floor */
	        {4000, 14600},   /* the 14600-byte floor */
	        {9000, 18000},   /* 2 segments exceed the floor */
	        {65535, 131070}, /* 2 segments of the largest MSS */
	};

	for (size_t a = 0; a < sizeof(all_algos) / sizeof(all_algos[0]); a++) {
		for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			struct tcp_cc cc;

			tcp_cc_init(&cc, all_algos[a], cases[i].mss, T0);
			assert_int_equal(cc.mss, cases[i].mss);
			assert_int_equal(cc.cwnd, cases[i].cwnd);
			assert_int_equal(cc.ssthresh, UINT32_MAX);
			assert_string_equal(cc.ops->name, tcp_cc_name(all_algos[a]));
		}
	}
}

static void slow_start_doubles_cwnd_per_round_trip(void **state)
{
	for (size_t a = 0; a < sizeof(all_algos) / sizeof(all_algos[0]); a++) {
		struct tcp_cc cc;

		tcp_cc_init(&cc, all_algos[a], MSS, T0);
		/* An ACK per segment: +1 MSS each. */
		ack_one_window(&cc, MSS, T0);
		assert_int_equal(cc.cwnd, 20 * MSS);
		ack_one_window(&cc, MSS, T0);
		assert_int_equal(cc.cwnd, 40 * MSS);
		/* Delayed ACKs, one per two segments: +2 MSS each (L = 2*SMSS). */
		ack_one_window(&cc, 2 * MSS, T0);
		assert_int_equal(cc.cwnd, 80 * MSS);
		ack_one_window(&cc, 2 * MSS, T0);
		assert_int_equal(cc.cwnd, 160 * MSS);
	}
}

static void slow_start_counts_at_most_two_mss_per_ack(void **state)
{
	for (size_t a = 0; a < sizeof(all_algos) / sizeof(all_algos[0]); a++) {
		struct tcp_cc cc;

		tcp_cc_init(&cc, all_algos[a], MSS, T0);
		ack(&cc, 10 * MSS, T0); /* a stretch ACK of a whole window */
		assert_int_equal(cc.cwnd, 12 * MSS);
		ack(&cc, 500, T0); /* bytes, not segments, are counted */
		assert_int_equal(cc.cwnd, 12 * MSS + 500);
	}
}

static void rto_leaves_one_mss_and_slow_start_of_one_mss_per_ack(void **state)
{
	for (size_t a = 0; a < sizeof(all_algos) / sizeof(all_algos[0]); a++) {
		struct tcp_cc cc;

		tcp_cc_init(&cc, all_algos[a], MSS, T0);
		grow_by_slow_start(&cc, 60);
		cc.ops->on_rto(&cc, 40 * MSS, T0);
		assert_int_equal(cc.cwnd, MSS);
		/* NewReno: flight / 2 (RFC 5681 eq. 4); CUBIC: 0.7 * flight (RFC 9438 §4.8). */
		assert_int_equal(cc.ssthresh, all_algos[a] == TCP_CC_NEWRENO ? 20 * MSS : 28 * MSS);
		/* RFC 3465 §2.3: after an RTO, L = 1*SMSS. */
		ack(&cc, 2 * MSS, T0);
		assert_int_equal(cc.cwnd, 2 * MSS);
		ack(&cc, 4 * MSS, T0);
		assert_int_equal(cc.cwnd, 3 * MSS);
	}
}

static void slow_start_stops_at_ssthresh(void **state)
{
	for (size_t a = 0; a < sizeof(all_algos) / sizeof(all_algos[0]); a++) {
		struct tcp_cc cc;

		tcp_cc_init(&cc, all_algos[a], MSS, T0);
		/* ssthresh is not a multiple of the MSS: 20250 (NewReno), 28350 (CUBIC). */
		cc.ops->on_rto(&cc, 40500, T0);
		uint32_t ssthresh = cc.ssthresh;

		assert_int_equal(ssthresh % MSS, all_algos[a] == TCP_CC_NEWRENO ? 250 : 350);
		/* One MSS per ACK up to ssthresh, never past it. */
		while (ssthresh - cc.cwnd > MSS) {
			uint32_t before = cc.cwnd;

			ack(&cc, MSS, T0);
			assert_int_equal(cc.cwnd, before + MSS);
		}
		/*
		 * The last ACK brings cwnd to ssthresh; its 650 (CUBIC) or 750
		 * (NewReno) bytes beyond count for congestion avoidance, not as
		 * slow start: nothing yet for NewReno, 650/28350 MSS = 22 bytes
		 * of W_est for CUBIC.
		 */
		ack(&cc, MSS, T0);
		assert_in_range(cc.cwnd, ssthresh, ssthresh + MSS / 40);
	}
}

static void slow_start_hands_over_to_congestion_avoidance_at_ssthresh(void **state)
{
	struct tcp_cc cc;

	tcp_cc_init(&cc, TCP_CC_NEWRENO, MSS, T0);
	cc.ops->on_rto(&cc, 40 * MSS, T0);
	assert_int_equal(cc.ssthresh, 20 * MSS);
	for (int i = 0; i < 19; i++)
		ack(&cc, MSS, T0);
	assert_int_equal(cc.cwnd, 20 * MSS);
	/* Now one MSS per 20 MSS ACKed, no longer one per ACK. */
	for (int i = 0; i < 19; i++)
		ack(&cc, MSS, T0);
	assert_int_equal(cc.cwnd, 20 * MSS);
	ack(&cc, MSS, T0);
	assert_int_equal(cc.cwnd, 21 * MSS);
}

static void newreno_avoidance_adds_one_mss_per_window_acked(void **state)
{
	struct tcp_cc cc;

	tcp_cc_init(&cc, TCP_CC_NEWRENO, MSS, T0);
	loss_and_recovery(&cc, 40 * MSS, T0);
	assert_int_equal(cc.cwnd, 20 * MSS);
	/* Delayed ACKs of 2 MSS: the 10th completes a window of 20 MSS. */
	for (int i = 0; i < 9; i++)
		ack(&cc, 2 * MSS, T0);
	assert_int_equal(cc.cwnd, 20 * MSS);
	ack(&cc, 2 * MSS, T0);
	assert_int_equal(cc.cwnd, 21 * MSS);
	/* Ten more round trips: ten more MSS (the partial count carries over). */
	for (int rtt = 0; rtt < 10; rtt++)
		ack_one_window(&cc, MSS, T0);
	assert_int_equal(cc.cwnd, 31 * MSS);
	/*
	 * A stretch ACK of three windows adds one MSS and carries at most one
	 * more window: the next ACK adds the second MSS, the third none.
	 */
	ack(&cc, 3 * cc.cwnd, T0);
	assert_int_equal(cc.cwnd, 32 * MSS);
	ack(&cc, 1, T0);
	assert_int_equal(cc.cwnd, 33 * MSS);
	ack(&cc, 33 * MSS - 2, T0);
	assert_int_equal(cc.cwnd, 33 * MSS);
	ack(&cc, 1, T0);
	assert_int_equal(cc.cwnd, 34 * MSS);
}

static void newreno_loss_sets_ssthresh_to_half_the_flight(void **state)
{
	struct tcp_cc cc;

	tcp_cc_init(&cc, TCP_CC_NEWRENO, MSS, T0);
	grow_by_slow_start(&cc, 50);
	cc.ops->on_loss(&cc, 30001, T0);
	assert_int_equal(cc.ssthresh, 15000);
	assert_int_equal(cc.cwnd, 15000);
	/* Never below 2*SMSS (RFC 5681 eq. 4). */
	cc.ops->on_loss(&cc, 3 * MSS, T0);
	assert_int_equal(cc.ssthresh, 2 * MSS);
	assert_int_equal(cc.cwnd, 2 * MSS);
	cc.ops->on_loss(&cc, 0, T0);
	assert_int_equal(cc.ssthresh, 2 * MSS);
}

static void app_limited_acks_do_not_grow_cwnd(void **state)
{
	for (size_t a = 0; a < sizeof(all_algos) / sizeof(all_algos[0]); a++) {
		struct tcp_cc cc;

		tcp_cc_init(&cc, all_algos[a], MSS, T0);
		for (int i = 0; i < 50; i++)
			cc.ops->on_ack(&cc, MSS, 3 * MSS, true, MS(10), T0 + MS(i));
		assert_int_equal(cc.cwnd, 10 * MSS);
		/* In congestion avoidance too. */
		loss_and_recovery(&cc, 10 * MSS, T0);
		uint32_t cwnd = cc.cwnd;

		for (int i = 0; i < 50; i++)
			cc.ops->on_ack(&cc, MSS, MSS, true, MS(10), T0 + SEC(i));
		assert_int_equal(cc.cwnd, cwnd);
	}
}

static void recovery_end_deflates_cwnd_to_ssthresh(void **state)
{
	for (size_t a = 0; a < sizeof(all_algos) / sizeof(all_algos[0]); a++) {
		struct tcp_cc cc;

		tcp_cc_init(&cc, all_algos[a], MSS, T0);
		grow_by_slow_start(&cc, 40);
		cc.ops->on_loss(&cc, 40 * MSS, T0);
		uint32_t ssthresh = cc.ssthresh;

		assert_int_equal(cc.cwnd, ssthresh);
		cc.cwnd += 5 * MSS; /* the core's NewReno inflation during recovery */
		cc.ops->on_recovery_end(&cc, T0 + MS(50));
		assert_int_equal(cc.cwnd, ssthresh);
		assert_int_equal(cc.ssthresh, ssthresh);
	}
}

static void names_parse_back_to_their_algorithm(void **state)
{
	enum tcp_cc_algo algo = TCP_CC_NEWRENO;

	assert_string_equal(tcp_cc_name(TCP_CC_NEWRENO), "newreno");
	assert_string_equal(tcp_cc_name(TCP_CC_CUBIC), "cubic");
	assert_true(tcp_cc_parse("cubic", &algo));
	assert_int_equal(algo, TCP_CC_CUBIC);
	assert_true(tcp_cc_parse("newreno", &algo));
	assert_int_equal(algo, TCP_CC_NEWRENO);

	static const char *const unknown[] = {"", "reno", "CUBIC", "cubic ", "cubi", "newreno2"};

	for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
		algo = TCP_CC_CUBIC;
		assert_false(tcp_cc_parse(unknown[i], &algo));
		assert_int_equal(algo, TCP_CC_CUBIC);
	}
}

static void init_with_mss_0(void)
{
	struct tcp_cc cc;

	tcp_cc_init(&cc, TCP_CC_CUBIC, 0, T0);
}

static void init_with_mss_65536(void)
{
	struct tcp_cc cc;

	tcp_cc_init(&cc, TCP_CC_NEWRENO, TCP_CC_MSS_MAX + 1, T0);
}

static void mss_outside_the_option_range_stops_the_program(void **state)
{
	assert_misuse_aborts(init_with_mss_0, "assertion failed");
	assert_misuse_aborts(init_with_mss_65536, "assertion failed");
}

static void newreno_window_saturates_without_wrapping(void **state)
{
	struct tcp_cc cc;

	tcp_cc_init(&cc, TCP_CC_NEWRENO, TCP_CC_MSS_MAX, T0);
	/* Slow start all the way to the "arbitrarily high" ssthresh: 32768 ACKs. */
	while (cc.cwnd < UINT32_MAX) {
		uint32_t before = cc.cwnd;

		ack(&cc, UINT32_MAX, T0);
		assert_true(cc.cwnd > before);
	}
	/* Congestion avoidance at the top: the window stays there. */
	for (int i = 0; i < 4; i++) {
		ack(&cc, UINT32_MAX, T0);
		assert_int_equal(cc.cwnd, UINT32_MAX);
	}
	cc.ops->on_loss(&cc, UINT32_MAX, T0);
	assert_int_equal(cc.ssthresh, UINT32_MAX / 2);
	assert_int_equal(cc.cwnd, UINT32_MAX / 2);
}

static void cubic_loss_cuts_to_0_7_of_the_flight(void **state)
{
	struct tcp_cc cc;

	tcp_cc_init(&cc, TCP_CC_CUBIC, MSS, T0);
	grow_by_slow_start(&cc, 100);
	cc.ops->on_loss(&cc, 100 * MSS, T0);
	assert_int_equal(cc.ssthresh, 70 * MSS);
	assert_int_equal(cc.cwnd, 70 * MSS);
	cc.ops->on_recovery_end(&cc, T0);
	assert_int_equal(cc.cwnd, 70 * MSS);
	/* 0.7 * 2 MSS is below the floor of 2 MSS. */
	cc.ops->on_loss(&cc, 2 * MSS, T0);
	assert_int_equal(cc.ssthresh, 2 * MSS);
	assert_int_equal(cc.cwnd, 2 * MSS);
}

/*
 * A loss at W_max = 100 MSS, flight 100 MSS: cwnd = 70 MSS, and
 * K = cbrt((W_max - cwnd_epoch) / C) = cbrt(30 / 0.4) = cbrt(75) = 4.2172 s.
 * Returns the time at which congestion avoidance (the epoch) began.
 */
static uint64_t cubic_after_loss_at_100_mss(struct tcp_cc *cc)
{
	tcp_cc_init(cc, TCP_CC_CUBIC, MSS, T0);
	grow_by_slow_start(cc, 100);
	loss_and_recovery(cc, 100 * MSS, T0);
	/* One byte ACKed starts the epoch and moves W_est by a negligible 9/17000 byte. */
	ack(cc, 1, T0);
	return T0;
}

static void cubic_k_for_w_max_of_100_mss(void **state)
{
	struct tcp_cc cc;

	cubic_after_loss_at_100_mss(&cc);
	assert_int_equal(cc.u.cubic.k_ms, 4217); /* 4217.16 ms, rounded down */
}

static void cubic_window_follows_the_curve(void **state)
{
	struct tcp_cc cc;
	uint64_t epoch = cubic_after_loss_at_100_mss(&cc);

	/*
	 * W_cubic(t) = 0.4 * (t - 4.2172)^3 + 100 MSS; one ACK of a whole
	 * window moves cwnd onto the curve (target - cwnd per window ACKed).
	 * t = 0: 0.4 * -75 + 100 = 70 MSS.
	 */
	assert_within_1_percent(cc.cwnd, 70 * MSS);
	/* t = K/2 = 2.1086 s: 100 - 0.4 * 2.1086^3 = 100 - 3.750 = 96.25 MSS. */
	ack(&cc, cc.cwnd, epoch + MS(2109));
	assert_within_1_percent(cc.cwnd, 96250);
	/* t = K: W_max. */
	ack(&cc, cc.cwnd, epoch + MS(4217));
	assert_within_1_percent(cc.cwnd, 100 * MSS);
	/* t = 2K: 100 + 0.4 * 75 = 130 MSS, the convex side. */
	ack(&cc, cc.cwnd, epoch + MS(8434));
	assert_within_1_percent(cc.cwnd, 130 * MSS);
}

static void cubic_target_looks_one_rtt_ahead(void **state)
{
	struct tcp_cc cc;
	uint64_t epoch = cubic_after_loss_at_100_mss(&cc);

	/*
	 * At t = 0.5 s with an RTT of 0.5 s the target is W_cubic(1 s) =
	 * 100 - 0.4 * 3.2172^3 = 86.68 MSS, not W_cubic(0.5 s) = 79.46 MSS.
	 */
	ack_with_rtt(&cc, cc.cwnd, MS(500), epoch + MS(500));
	assert_within_1_percent(cc.cwnd, 86680);
}

/*
 * At W_max = 10 MSS (K = cbrt(3 / 0.4) = 1.957 s) and an RTT of 1 ms, Reno
 * grows much faster than the cubic curve: every window ACKed adds 9/17 MSS
 * to W_est until it reaches cwnd_prior = 10 MSS (six round trips: 7 + 6 * 9/17
 * = 10.176 MSS), then 1 MSS. After 20 round trips, 20 ms, cwnd is
 * 10.176 + 14 = 24.176 MSS, though the curve stays below 10 MSS until K.
 */
static void cubic_reno_friendly_region_dominates_at_small_rtt(void **state)
{
	struct tcp_cc cc;

	tcp_cc_init(&cc, TCP_CC_CUBIC, MSS, T0);
	assert_int_equal(cc.cwnd, 10 * MSS);
	loss_and_recovery(&cc, 10 * MSS, T0);
	assert_int_equal(cc.cwnd, 7 * MSS);
	for (int rtt = 1; rtt <= 20; rtt++)
		ack_with_rtt(&cc, cc.cwnd, MS(1), T0 + MS(rtt));
	assert_in_range(cc.cwnd, 24176 - 3, 24176 + 3);
}

static void cubic_fast_convergence_lowers_w_max(void **state)
{
	struct tcp_cc cc;
	uint64_t now = cubic_after_loss_at_100_mss(&cc);

	/*
	 * A second loss at 70 MSS, before W_max = 100 MSS was regained:
	 * W_max = 70 * 0.85 = 59.5 MSS, cwnd = 70 * 0.7 = 49 MSS, so
	 * K = cbrt(10.5 / 0.4) = 2.9724 s and W_cubic(K) = 59.5 MSS. Without
	 * fast convergence W_max would be 70 MSS and, with K = cbrt(52.5) =
	 * 3.7444 s, W_cubic(2.9724 s) = 69.82 MSS.
	 */
	loss_and_recovery(&cc, 70 * MSS, now);
	assert_int_equal(cc.cwnd, 49 * MSS);
	ack(&cc, 1, now);
	ack(&cc, cc.cwnd, now + MS(2972));
	assert_within_1_percent(cc.cwnd, 59500);

	/*
	 * Past the lowered W_max (t = 2K: 59.5 + 10.5 = 70 MSS), a loss sets
	 * W_max to cwnd itself: 70 MSS, K = 3.7444 s again.
	 */
	ack(&cc, cc.cwnd, now + MS(5945));
	assert_within_1_percent(cc.cwnd, 70 * MSS);
	uint32_t at_loss = cc.cwnd;

	now += SEC(10);
	loss_and_recovery(&cc, at_loss, now);
	ack(&cc, 1, now);
	ack(&cc, cc.cwnd, now + MS(3744));
	assert_within_1_percent(cc.cwnd, at_loss);
}

/*
 * RFC 9438 §4.8: W_max is 100 MSS from an earlier loss; an RTO at 70 MSS sets
 * ssthresh to 49 MSS, slow start runs up to it, and the curve starts there
 * with K = 0 and W_max = 49 MSS: W_cubic(2 s) = 49 + 0.4 * 8 = 52.2 MSS. Had
 * W_max stayed at 100 MSS (K = cbrt(51 / 0.4) = 5.03 s), the target would
 * have been 100 - 0.4 * 3.03^3 = 88.9 MSS, capped at 1.5 * 49 = 73.5 MSS.
 */
static void cubic_rto_restarts_the_curve_from_the_window_at_avoidance(void **state)
{
	struct tcp_cc cc;
	uint64_t now = cubic_after_loss_at_100_mss(&cc) + SEC(1);

	cc.ops->on_rto(&cc, 70 * MSS, now);
	assert_int_equal(cc.cwnd, MSS);
	assert_int_equal(cc.ssthresh, 49 * MSS);
	while (cc.cwnd < cc.ssthresh)
		ack(&cc, MSS, now);
	assert_int_equal(cc.cwnd, 49 * MSS);
	ack(&cc, 1, now);
	assert_int_equal(cc.u.cubic.k_ms, 0);
	ack(&cc, cc.cwnd, now + SEC(2));
	assert_within_1_percent(cc.cwnd, 52200);
}

/* A loss at 2000 MSS: cwnd 1400 MSS, K = cbrt(600 / 0.4) = 11.447 s. */
static uint64_t cubic_after_loss_at_2000_mss(struct tcp_cc *cc)
{
	tcp_cc_init(cc, TCP_CC_CUBIC, MSS, T0);
	grow_by_slow_start(cc, 2000);
	loss_and_recovery(cc, 2000 * MSS, T0);
	ack(cc, 1, T0);
	assert_int_equal(cc->u.cubic.k_ms, 11447);
	return T0;
}

/*
 * At 1400 MSS an ACK per segment adds 9/17 * 1000 / 1400 = 0.38 byte to
 * W_est: a window of them must still add 9/17 MSS = 529 bytes (§4.3), which
 * puts cwnd in the Reno-friendly region, above W_cubic(0) = 1400.03 MSS.
 */
static void cubic_w_est_grows_by_less_than_a_byte_per_ack(void **state)
{
	struct tcp_cc cc;
	uint64_t epoch = cubic_after_loss_at_2000_mss(&cc);

	for (int i = 0; i < 1400; i++)
		ack(&cc, MSS, epoch);
	assert_in_range(cc.cwnd, 1400529 - 1, 1400529 + 1);
}

/*
 * On the plateau at W_max = 2000 MSS, one second past K the target is
 * 2000.4 MSS: 400 bytes above cwnd, 0.2 byte per ACK of one segment. Each ACK
 * closes 1/2000 of the gap, so a window of 2000 ACKs closes
 * 1 - (1 - 1/2000)^2000 = 1 - 1/e = 63.2% of it: 253 bytes.
 */
static void cubic_growth_below_a_byte_per_ack_adds_up(void **state)
{
	struct tcp_cc cc;
	uint64_t epoch = cubic_after_loss_at_2000_mss(&cc);

	ack(&cc, cc.cwnd, epoch + MS(11447));
	assert_int_equal(cc.cwnd, 2000 * MSS);
	for (int i = 0; i < 2000; i++)
		ack(&cc, MSS, epoch + MS(12447));
	assert_in_range(cc.cwnd, 2000 * MSS + 250, 2000 * MSS + 256);
}

/*
 * RFC 9438 §5.8: 10 s of application-limited ACKs do not count as time on
 * the curve. Counted, W_cubic(10 s) = 177 MSS would let cwnd jump to the
 * 1.5 * cwnd cap of 105 MSS; not counted, the curve restarts at 70 MSS and
 * only W_est's 9/17 MSS is added.
 */
static void cubic_app_limited_time_is_not_counted(void **state)
{
	struct tcp_cc cc;
	uint64_t epoch = cubic_after_loss_at_100_mss(&cc);

	for (int s = 1; s <= 10; s++) {
		cc.ops->on_ack(&cc, MSS, 10 * MSS, true, MS(10), epoch + SEC(s));
		assert_int_equal(cc.cwnd, 70 * MSS);
	}
	ack(&cc, cc.cwnd, epoch + SEC(10));
	assert_in_range(cc.cwnd, 70 * MSS, 71 * MSS);
}

/* The exact reference: r is the cube root of x when r^3 <= x < (r + 1)^3, in 128 bits. */
static void assert_is_cube_root(uint64_t r, unsigned __int128 x)
{
	unsigned __int128 r128 = r;

	if (!(r128 * r128 * r128 <= x && (r128 + 1) * (r128 + 1) * (r128 + 1) > x))
		fail_msg("%llu is not the cube root of %llu", (unsigned long long)r,
		         (unsigned long long)x);
}

static void assert_cube_root(uint64_t x)
{
	assert_is_cube_root(tcp_cc_cbrt(x), x);
}

static void cube_root_is_exact(void **state)
{
	assert_int_equal(tcp_cc_cbrt(0), 0);
	assert_int_equal(tcp_cc_cbrt(75000000000ull), 4217); /* K in ms for 75 s^3 */
	assert_int_equal(tcp_cc_cbrt(UINT64_MAX), 2642245);
	assert_int_equal(tcp_cc_cbrt(2642245ull * 2642245 * 2642245), 2642245);
	assert_int_equal(tcp_cc_cbrt(2642245ull * 2642245 * 2642245 - 1), 2642244);
	/* Every cube and its neighbours, over the whole range (step 997). */
	for (uint64_t n = 1; n <= 2642245; n += n < 2000 ? 1 : 997) {
		uint64_t cube = n * n * n;

		assert_int_equal(tcp_cc_cbrt(cube), n);
		assert_int_equal(tcp_cc_cbrt(cube - 1), n - 1);
		assert_int_equal(tcp_cc_cbrt(cube + 1), n);
	}
	/* Powers of two and their neighbours. */
	for (int bit = 0; bit < 64; bit++) {
		uint64_t x = 1ull << bit;

		assert_cube_root(x - 1);
		assert_cube_root(x);
		assert_cube_root(x + 1);
	}
	/* Pseudo-random values of every magnitude (xorshift64). */
	uint64_t s = 0x9e3779b97f4a7c15ull;

	for (int i = 0; i < 200000; i++) {
		s ^= s << 13;
		s ^= s >> 7;
		s ^= s << 17;
		assert_cube_root(s >> (s % 64));
	}
}

/*
 * Windows near 1 GiB and beyond, t from hours to centuries, RTTs of minutes,
 * for the smallest, a common and the largest MSS: cwnd grows monotonically
 * up to UINT32_MAX and stays there (UBSan watches the arithmetic; a wrap
 * would show as a smaller window).
 */
static void cubic_survives_1_gib_windows_and_hours(void **state)
{
	static const uint32_t mss_values[] = {1, 1448, TCP_CC_MSS_MAX};
	static const uint64_t later[] = {HOUR, 3 * HOUR, 24 * HOUR, 100 * 24 * HOUR,
	                                 500ull * 365 * 24 * HOUR};

	for (size_t m = 0; m < sizeof(mss_values) / sizeof(mss_values[0]); m++) {
		struct tcp_cc cc;
		uint64_t now = T0;

		tcp_cc_init(&cc, TCP_CC_CUBIC, mss_values[m], now);
		loss_and_recovery(&cc, cc.cwnd, now);
		ack(&cc, 1, now);
		/* An hour later the curve is far above: 1.5 * cwnd per window ACKed. */
		now += HOUR;
		while (cc.cwnd < (1u << 30)) {
			uint32_t before = cc.cwnd;

			ack_with_rtt(&cc, cc.cwnd, SEC(300), now);
			assert_true(cc.cwnd > before);
			assert_true(cc.cwnd <= before + before / 2);
		}

		/*
		 * A loss at over 1 GiB: K = cbrt((W_max - cwnd) / (0.4 * MSS)) s,
		 * so K in ms is the cube root of (W_max - cwnd) * 1e9 / (0.4 * MSS).
		 */
		uint32_t w_max = cc.cwnd;

		loss_and_recovery(&cc, w_max, now);
		assert_int_equal(cc.cwnd, (uint32_t)((uint64_t)w_max * 7 / 10));
		ack(&cc, 1, now);
		uint64_t k_ms = cc.u.cubic.k_ms;
		unsigned __int128 k_cubed =
		        (unsigned __int128)(w_max - cc.cwnd) * 1000000000 * 10 / 4 / mss_values[m];

		assert_is_cube_root(k_ms, k_cubed);
		ack(&cc, cc.cwnd, now + MS(k_ms));
		assert_within_1_percent(cc.cwnd, w_max);

		/*
		 * Each later time, after a loss: the curve is far above, so one
		 * ACK of the window takes cwnd to exactly the 1.5 * cwnd cap.
		 */
		for (size_t i = 0; i < sizeof(later) / sizeof(later[0]); i++) {
			loss_and_recovery(&cc, cc.cwnd, now);
			ack(&cc, 1, now);
			uint32_t before = cc.cwnd;

			now += later[i];
			ack_with_rtt(&cc, cc.cwnd, SEC(300), now);
			assert_int_equal(cc.cwnd, (uint64_t)before * 3 / 2);
		}
		/*
		 * A distance from K of exactly 1000 * 2^22 ms (48.5 days): in ms,
		 * (t - K)^3 / 1000 is 1e6 * 2^66, a multiple of 2^64, so arithmetic
		 * that let it wrap would find the curve back at W_max here.
		 */
		loss_and_recovery(&cc, cc.cwnd, now);
		ack(&cc, 1, now);
		uint32_t after_loss = cc.cwnd;

		now += MS(cc.u.cubic.k_ms + (1000ull << 22));
		ack(&cc, cc.cwnd, now);
		assert_int_equal(cc.cwnd, (uint64_t)after_loss * 3 / 2);

		/* Up to UINT32_MAX, where the window stays. */
		for (int i = 0; i < 8; i++) {
			uint32_t before = cc.cwnd;

			ack_with_rtt(&cc, UINT32_MAX, SEC(300), now);
			assert_true(cc.cwnd >= before);
		}
		assert_int_equal(cc.cwnd, UINT32_MAX);

		/* At the top: reductions still work from there. */
		cc.ops->on_rto(&cc, UINT32_MAX, now);
		assert_int_equal(cc.cwnd, mss_values[m]);
		assert_int_equal(cc.ssthresh, (uint32_t)((uint64_t)UINT32_MAX * 7 / 10));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(initial_window_follows_rfc6928),
	        cmocka_unit_test(slow_start_doubles_cwnd_per_round_trip),
	        cmocka_unit_test(slow_start_counts_at_most_two_mss_per_ack),
	        cmocka_unit_test(rto_leaves_one_mss_and_slow_start_of_one_mss_per_ack),
	        cmocka_unit_test(slow_start_stops_at_ssthresh),
	        cmocka_unit_test(slow_start_hands_over_to_congestion_avoidance_at_ssthresh),
	        cmocka_unit_test(newreno_avoidance_adds_one_mss_per_window_acked),
	        cmocka_unit_test(newreno_loss_sets_ssthresh_to_half_the_flight),
	        cmocka_unit_test(app_limited_acks_do_not_grow_cwnd),
	        cmocka_unit_test(recovery_end_deflates_cwnd_to_ssthresh),
	        cmocka_unit_test(names_parse_back_to_their_algorithm),
	        cmocka_unit_test(mss_outside_the_option_range_stops_the_program),
	        cmocka_unit_test(newreno_window_saturates_without_wrapping),
	        cmocka_unit_test(cubic_loss_cuts_to_0_7_of_the_flight),
	        cmocka_unit_test(cubic_k_for_w_max_of_100_mss),
	        cmocka_unit_test(cubic_window_follows_the_curve),
	        cmocka_unit_test(cubic_target_looks_one_rtt_ahead),
	        cmocka_unit_test(cubic_reno_friendly_region_dominates_at_small_rtt),
	        cmocka_unit_test(cubic_fast_convergence_lowers_w_max),
	        cmocka_unit_test(cubic_rto_restarts_the_curve_from_the_window_at_avoidance),
	        cmocka_unit_test(cubic_app_limited_time_is_not_counted),
	        cmocka_unit_test(cubic_w_est_grows_by_less_than_a_byte_per_ack),
	        cmocka_unit_test(cubic_growth_below_a_byte_per_ack_adds_up),
	        cmocka_unit_test(cube_root_is_exact),
	        cmocka_unit_test(cubic_survives_1_gib_windows_and_hours),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
