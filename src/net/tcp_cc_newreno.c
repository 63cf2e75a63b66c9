/*
 * NewReno congestion control (RFC 5681 §3.1 with RFC 3465 byte counting), and
 * the Reno base that CUBIC reuses: the initial window, slow start, the ssthresh
 * reduction and the table of algorithms behind tcp_cc_init(). NewReno's fast
 * recovery (RFC 6582) is the core's; here are only cwnd and ssthresh.
 */
#include "base/compiler.h"
#include "base/str.h"
#include "core/panic.h"
#include "net/tcp_cc.h"

/* RFC 6928 §2: the initial window is min(10*MSS, max(2*MSS, 14600)). */
#define IW_SEGMENTS     10u
#define IW_MIN_BYTES    14600u
#define IW_MIN_SEGMENTS 2u

/* RFC 3465 §2.3: slow start grows by at most L = 2*SMSS per ACK, 1*SMSS after an RTO. */
#define ABC_LIMIT_SEGMENTS 2u

/* RFC 5681 §3.1 eq. 4: ssthresh never below 2*SMSS. */
#define SSTHRESH_MIN_SEGMENTS 2u

static const struct tcp_cc_ops *const tcp_cc_algos[] = {
        [TCP_CC_NEWRENO] = &tcp_cc_newreno_ops,
        [TCP_CC_CUBIC] = &tcp_cc_cubic_ops,
};

void tcp_cc_start(struct tcp_cc *cc, uint32_t mss)
{
	MIST_ASSERT(mss >= 1 && mss <= TCP_CC_MSS_MAX);
	cc->mss = mss;
	/* mss <= 65535, so 10*mss fits easily. */
	cc->cwnd = MIST_MIN(IW_SEGMENTS * mss, MIST_MAX(IW_MIN_SEGMENTS * mss, IW_MIN_BYTES));
	/* RFC 5681 §3.1: "arbitrarily high"; the first loss or timeout sets it. */
	cc->ssthresh = UINT32_MAX;
	mist_memset(&cc->u, 0, sizeof(cc->u));
}

uint32_t tcp_cc_slow_start(struct tcp_cc *cc, uint32_t acked, bool *after_rto)
{
	/*
	 * RFC 3465 §2.3: after an RTO the ACK of the retransmission may cover
	 * segments the receiver had kept out of order; L = 1*SMSS keeps that ACK
	 * from releasing a burst.
	 */
	uint32_t limit = (*after_rto ? 1u : ABC_LIMIT_SEGMENTS) * cc->mss;
	uint32_t grow = MIST_MIN(MIST_MIN(acked, limit), cc->ssthresh - cc->cwnd);

	cc->cwnd += grow;
	if (cc->cwnd < cc->ssthresh)
		return 0;
	/*
	 * Stopping at ssthresh rather than overshooting it starts congestion
	 * avoidance (and CUBIC's K) from the window the reduction chose.
	 */
	*after_rto = false;
	return acked - grow;
}

uint32_t tcp_cc_reduced_ssthresh(const struct tcp_cc *cc, uint32_t flight, uint32_t num,
                                 uint32_t den)
{
	/* flight < 2^32 and num < den, so the product fits 64 bits and the result 32. */
	uint32_t reduced = (uint32_t)((uint64_t)flight * num / den);

	return MIST_MAX(reduced, SSTHRESH_MIN_SEGMENTS * cc->mss);
}

static void newreno_init(struct tcp_cc *cc, uint32_t mss, uint64_t now)
{
	tcp_cc_start(cc, mss);
}

static void newreno_on_ack(struct tcp_cc *cc, uint32_t acked, uint32_t flight, bool app_limited,
                           uint64_t srtt, uint64_t now)
{
	struct tcp_cc_newreno *r = &cc->u.newreno;

	if (app_limited)
		return;
	if (cc->cwnd < cc->ssthresh) {
		acked = tcp_cc_slow_start(cc, acked, &r->rto_slow_start);
		if (acked == 0)
			return;
	}
	/*
	 * RFC 3465 §2.1 / RFC 5681 §3.1: count the bytes ACKed; once they reach
	 * cwnd, take cwnd off the count and add one SMSS. One step per ACK; the
	 * count is then capped at cwnd, so a stretch ACK of several windows
	 * yields at most one more step and the counter cannot wrap.
	 */
	uint64_t counted = (uint64_t)r->ca_bytes_acked + acked;

	if (counted >= cc->cwnd) {
		counted -= cc->cwnd;
		cc->cwnd = (uint32_t)MIST_MIN((uint64_t)cc->cwnd + cc->mss, UINT32_MAX);
	}
	r->ca_bytes_acked = (uint32_t)MIST_MIN(counted, cc->cwnd);
}

/* RFC 5681 §3.1 eq. 4: ssthresh = max(FlightSize / 2, 2*SMSS). */
static void newreno_on_loss(struct tcp_cc *cc, uint32_t flight, uint64_t now)
{
	cc->ssthresh = tcp_cc_reduced_ssthresh(cc, flight, 1, 2);
	cc->cwnd = cc->ssthresh;
	cc->u.newreno.ca_bytes_acked = 0;
}

/* RFC 5681 §3.1: eq. 4, then cwnd = the loss window, 1*SMSS; RFC 3465 §2.1 resets the count. */
static void newreno_on_rto(struct tcp_cc *cc, uint32_t flight, uint64_t now)
{
	cc->ssthresh = tcp_cc_reduced_ssthresh(cc, flight, 1, 2);
	cc->cwnd = cc->mss;
	cc->u.newreno.ca_bytes_acked = 0;
	cc->u.newreno.rto_slow_start = true;
}

/* RFC 6582 §3.2 step 3, second option: deflate the window to ssthresh. */
static void newreno_on_recovery_end(struct tcp_cc *cc, uint64_t now)
{
	cc->cwnd = cc->ssthresh;
}

const struct tcp_cc_ops tcp_cc_newreno_ops = {
        .name = "newreno",
        .init = newreno_init,
        .on_ack = newreno_on_ack,
        .on_loss = newreno_on_loss,
        .on_rto = newreno_on_rto,
        .on_recovery_end = newreno_on_recovery_end,
};

static const struct tcp_cc_ops *algo_ops(enum tcp_cc_algo algo)
{
	MIST_ASSERT((unsigned)algo < MIST_ARRAY_SIZE(tcp_cc_algos));
	return tcp_cc_algos[algo];
}

void tcp_cc_init(struct tcp_cc *cc, enum tcp_cc_algo algo, uint32_t mss, uint64_t now)
{
	cc->ops = algo_ops(algo);
	cc->ops->init(cc, mss, now);
}

const char *tcp_cc_name(enum tcp_cc_algo algo)
{
	return algo_ops(algo)->name;
}

bool tcp_cc_parse(const char *name, enum tcp_cc_algo *out)
{
	for (unsigned i = 0; i < MIST_ARRAY_SIZE(tcp_cc_algos); i++) {
		if (mist_strcmp(name, tcp_cc_algos[i]->name) == 0) {
			*out = (enum tcp_cc_algo)i;
			return true;
		}
	}
	return false;
}
