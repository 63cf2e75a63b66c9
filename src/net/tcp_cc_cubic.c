/*
 * CUBIC congestion control (RFC 9438) in integer arithmetic, without
 * HyStart++: slow start is Reno's (tcp_cc_slow_start). In congestion
 * avoidance the window follows W_cubic(t) = C*(t-K)^3 + W_max (§4.2), or
 * Reno's estimate W_est where that is larger (§4.3); losses cut it to
 * beta_cubic = 0.7 of the flight (§4.6), with fast convergence (§4.7) and the
 * timeout rules of §4.8.
 *
 * Units: windows in bytes (so W_cubic carries a factor of SMSS), t and K in
 * ms. Each product below has its bound worked next to it; the worst cases are
 * a window of UINT32_MAX bytes, an SMSS of TCP_CC_MSS_MAX and a t of years.
 */
#include "base/compiler.h"
#include "net/tcp_cc.h"

/* §4.6: beta_cubic = 0.7. */
#define BETA_NUM 7u
#define BETA_DEN 10u

/* §4.7: fast convergence leaves W_max at cwnd * (1 + beta_cubic) / 2 = cwnd * 17/20. */
#define FAST_CONVERGENCE_NUM 17u
#define FAST_CONVERGENCE_DEN 20u

/* §4.2: C = 0.4 segments/s^3 = 2/5. */
#define C_NUM 2u
#define C_DEN 5u

/* §4.3: alpha_cubic = 3 * (1 - beta_cubic) / (1 + beta_cubic) = 0.9/1.7 = 9/17, later 17/17. */
#define ALPHA_NUM 9u
#define ALPHA_DEN 17u

/* §4.4: the target is at most 1.5 * cwnd. */
#define TARGET_MAX_NUM 3u
#define TARGET_MAX_DEN 2u

#define NS_PER_MS  1000000u
#define MS_PER_S   1000u
#define MS3_PER_S3 1000000000u
#define MILLION    1000000u

/* A bound for micro_segments * mss in cubic_offset(), far from 2^64. */
#define PRODUCT_LIMIT (1ull << 52)

/*
 * K in ms is cbrt(1e9 * (W_max - cwnd_epoch) / (C * SMSS)) (§4.2, with the
 * seconds cubed turned into ms cubed): the factor 1e9 / C = 2.5e9.
 */
#define K_SCALE ((uint64_t)MS3_PER_S3 * C_DEN / C_NUM)

/*
 * At a distance of 2^22 ms (70 minutes) from K the cubic term is already
 * 0.4 * 4194^3 > 2^34 segments, past UINT32_MAX bytes for any SMSS >= 1:
 * from there on it saturates, and below it d^2 < 2^44 (see cubic_offset).
 */
#define OFFSET_SATURATES_MS (1ull << 22)

/*
 * 2642245 is the cube root of 2^64, rounded down: the root of any uint64_t
 * lies in [0, 2642245], and the cube of any number in that range fits.
 */
#define CBRT_U64_MAX 2642245u

uint32_t tcp_cc_cbrt(uint64_t x)
{
	/* Binary search on the answer: 22 steps, once per epoch (cubic_start_epoch). */
	uint32_t lo = 0, hi = CBRT_U64_MAX; /* lo^3 <= x and the root is <= hi */

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo + 1) / 2;

		if ((uint64_t)mid * mid * mid <= x)
			lo = mid;
		else
			hi = mid - 1;
	}
	return lo;
}

/*
 * C * (d/1000)^3 segments for a distance of `d_ms` from K, in bytes, rounded
 * down and saturated at UINT32_MAX.
 */
static uint32_t cubic_offset(uint64_t d_ms, uint32_t mss)
{
	if (d_ms >= OFFSET_SATURATES_MS)
		return UINT32_MAX;
	/*
	 * d < 2^22: d^2 < 2^44, and (d^2 / 1000) * d < 2^34 * 2^22 = 2^56. That
	 * is d^3 / 1000 in ms^3, i.e. (t-K)^3 in millionths of s^3; dropping the
	 * remainder of d^2 / 1000 costs less than d millionths of s^3, under two
	 * segments even at the saturation point where the term is 2^34 segments.
	 */
	uint64_t cube_micro_s3 = d_ms * d_ms / MS_PER_S * d_ms;
	uint64_t micro_segments = cube_micro_s3 * C_NUM / C_DEN; /* < 2^57 */

	/*
	 * From 2^52 / mss millionths of a segment on, the product would not
	 * fit, but the offset is then over 2^52 / 1e6 > 2^32 bytes: saturated.
	 */
	if (micro_segments >= PRODUCT_LIMIT / mss)
		return UINT32_MAX;
	uint64_t bytes = micro_segments * mss / MILLION; /* < 2^52 / 1e6 < 2^33 */

	return (uint32_t)MIST_MIN(bytes, UINT32_MAX);
}

/* W_cubic(t) in bytes (§4.2, eq. 1) for `t_ms` since the epoch began; saturated at UINT32_MAX. */
static uint32_t cubic_window(const struct tcp_cc *cc, uint64_t t_ms)
{
	const struct tcp_cc_cubic *c = &cc->u.cubic;

	if (t_ms < c->k_ms) {
		/*
		 * Concave side. K was rounded down, and so is the offset, so
		 * the offset is at most W_max - cwnd_epoch: no underflow.
		 */
		return c->w_max - cubic_offset(c->k_ms - t_ms, cc->mss);
	}
	uint64_t w = (uint64_t)c->w_max + cubic_offset(t_ms - c->k_ms, cc->mss);

	return (uint32_t)MIST_MIN(w, UINT32_MAX);
}

/*
 * A congestion avoidance stage begins (§4.2): t counts from now, W_cubic(0)
 * is the current window, and K is when the curve comes back to W_max.
 */
static void cubic_start_epoch(struct tcp_cc *cc, uint64_t now)
{
	struct tcp_cc_cubic *c = &cc->u.cubic;

	c->in_epoch = true;
	c->epoch_start = now;
	c->w_est = cc->cwnd; /* §4.3: W_est = cwnd_epoch */
	c->w_est_rem = 0;
	c->grow_rem = 0;
	if (cc->cwnd < c->w_max) {
		/* W_max - cwnd < 2^32, times 2.5e9 < 1.08e19 < 2^64; the root is < 2.3e6 ms. */
		c->k_ms = tcp_cc_cbrt((uint64_t)(c->w_max - cc->cwnd) * K_SCALE / cc->mss);
	} else {
		/*
		 * At or past W_max (after an RTO W_max is 0, §4.8): the curve
		 * starts convex from here, K = 0 and W_max = cwnd_epoch. Fast
		 * convergence is unaffected: cwnd will not fall below this
		 * before the next loss, so that loss finds cwnd >= W_max as it
		 * would have with the old W_max.
		 */
		c->w_max = cc->cwnd;
		c->k_ms = 0;
	}
}

/*
 * §4.3: W_est += alpha_cubic * segments_acked / cwnd (in segments), i.e.
 * alpha * SMSS * acked / cwnd bytes; alpha is 9/17 until W_est reaches
 * cwnd_prior, then 1. The remainder is carried so that growth smaller than a
 * byte per ACK (large windows) is not lost.
 */
static void cubic_grow_w_est(struct tcp_cc *cc, uint32_t acked)
{
	struct tcp_cc_cubic *c = &cc->u.cubic;
	uint32_t alpha = c->w_est >= c->cwnd_prior ? ALPHA_DEN : ALPHA_NUM;
	/* acked < 2^32, mss < 2^16, alpha < 2^5: < 2^53; the remainder is < 17 * cwnd < 2^37. */
	uint64_t num = (uint64_t)acked * cc->mss * alpha + c->w_est_rem;
	uint64_t den = (uint64_t)cc->cwnd * ALPHA_DEN;
	uint64_t w_est = c->w_est + num / den; /* < 2^32 + 2^53 / 17 */

	c->w_est_rem = num % den;
	c->w_est = (uint32_t)MIST_MIN(w_est, UINT32_MAX);
}

/*
 * §4.4, §4.5: cwnd += (target - cwnd) / cwnd per SMSS ACKed, i.e.
 * (target - cwnd) * acked / cwnd bytes, never past the target.
 */
static void cubic_grow_toward(struct tcp_cc *cc, uint32_t target, uint32_t acked)
{
	struct tcp_cc_cubic *c = &cc->u.cubic;
	uint32_t gap = target - cc->cwnd;
	/* gap <= cwnd / 2 < 2^31 and acked < 2^32: < 2^63; grow_rem < cwnd < 2^32. */
	uint64_t num = (uint64_t)gap * acked + c->grow_rem;
	uint64_t grow = num / cc->cwnd;

	c->grow_rem = (uint32_t)(num % cc->cwnd);
	cc->cwnd = grow >= gap ? target : cc->cwnd + (uint32_t)grow;
}

static void cubic_init(struct tcp_cc *cc, uint32_t mss, uint64_t now)
{
	tcp_cc_start(cc, mss);
}

static void cubic_on_ack(struct tcp_cc *cc, uint32_t acked, uint32_t flight, bool app_limited,
                         uint64_t srtt, uint64_t now)
{
	struct tcp_cc_cubic *c = &cc->u.cubic;

	if (app_limited) {
		/*
		 * §5.8: t must not include application-limited periods. The
		 * next stage restarts from the window reached, which on the
		 * concave side is the same curve shifted in time.
		 */
		c->in_epoch = false;
		return;
	}
	if (cc->cwnd < cc->ssthresh) {
		acked = tcp_cc_slow_start(cc, acked, &c->rto_slow_start);
		if (acked == 0)
			return;
	}
	if (!c->in_epoch)
		cubic_start_epoch(cc, now);

	uint64_t t_ms = (now - c->epoch_start) / NS_PER_MS;

	cubic_grow_w_est(cc, acked);
	if (cubic_window(cc, t_ms) < c->w_est) {
		/*
		 * §4.3, the Reno-friendly region: cwnd = W_est. cwnd may have
		 * run ahead of W_est towards W_cubic(t + RTT); it is not cut.
		 */
		cc->cwnd = MIST_MAX(cc->cwnd, c->w_est);
		return;
	}
	/* §4.4: target = W_cubic(t + RTT), kept within [cwnd, 1.5 * cwnd]. */
	uint32_t target = cubic_window(cc, t_ms + srtt / NS_PER_MS);
	uint64_t target_max = (uint64_t)cc->cwnd * TARGET_MAX_NUM / TARGET_MAX_DEN;

	target = (uint32_t)MIST_MIN((uint64_t)target, target_max);
	if (target > cc->cwnd)
		cubic_grow_toward(cc, target, acked);
}

/* §4.6 and §4.7: the reduction on a loss found by duplicate ACKs or SACK. */
static void cubic_on_loss(struct tcp_cc *cc, uint32_t flight, uint64_t now)
{
	struct tcp_cc_cubic *c = &cc->u.cubic;

	/*
	 * §4.7: a loss before W_max was regained means a competing flow took
	 * bandwidth; leaving W_max lower releases some to it.
	 */
	if (cc->cwnd < c->w_max)
		c->w_max = (uint32_t)((uint64_t)cc->cwnd * FAST_CONVERGENCE_NUM /
		                      FAST_CONVERGENCE_DEN);
	else
		c->w_max = cc->cwnd;
	c->cwnd_prior = cc->cwnd;
	cc->ssthresh = tcp_cc_reduced_ssthresh(cc, flight, BETA_NUM, BETA_DEN);
	cc->cwnd = cc->ssthresh;
	c->in_epoch = false;
}

/*
 * §4.8: Reno's timeout reaction (cwnd = 1*SMSS, slow start) with ssthresh
 * from beta_cubic. The next congestion avoidance stage starts with K = 0 and
 * W_max = W_est = the window at its start: W_max = 0 makes
 * cubic_start_epoch() take that branch.
 */
static void cubic_on_rto(struct tcp_cc *cc, uint32_t flight, uint64_t now)
{
	struct tcp_cc_cubic *c = &cc->u.cubic;

	c->cwnd_prior = cc->cwnd;
	c->w_max = 0;
	c->in_epoch = false;
	c->rto_slow_start = true;
	cc->ssthresh = tcp_cc_reduced_ssthresh(cc, flight, BETA_NUM, BETA_DEN);
	cc->cwnd = cc->mss;
}

/* RFC 6675 §5 / RFC 6582 §3.2 step 3: leave recovery at ssthresh; t starts at the next ACK. */
static void cubic_on_recovery_end(struct tcp_cc *cc, uint64_t now)
{
	cc->cwnd = cc->ssthresh;
}

const struct tcp_cc_ops tcp_cc_cubic_ops = {
        .name = "cubic",
        .init = cubic_init,
        .on_ack = cubic_on_ack,
        .on_loss = cubic_on_loss,
        .on_rto = cubic_on_rto,
        .on_recovery_end = cubic_on_recovery_end,
};
