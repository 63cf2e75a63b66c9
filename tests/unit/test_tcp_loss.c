/*
 * Unit tests of TCP loss recovery and the connection timers, segment in,
 * segment out, at exact virtual times (tcp_harness.h): the retransmission
 * timer of RFC 6298 (RTO from the handshake's RTT and from timestamp
 * samples, exponential backoff, go-back-N in slow start after a timeout,
 * Karn's rule and the backed-off RTO kept until a new measurement); fast
 * retransmit on the third duplicate ACK with limited transmit before it
 * (RFC 5681, RFC 3042); NewReno's window inflation and partial ACKs for a
 * peer without SACK (RFC 6582); SACK-based recovery that retransmits only
 * the holes the peer's blocks reveal (RFC 6675); the user timeout (RFC
 * 5482) and keepalive probes (RFC 1122 4.2.3.6). Congestion control is
 * NewReno throughout, so that every window can be worked out by hand.
 */
#include "tcp_harness.h"

#define IRS 1000u
#define MSS 1460u

static int setup_newreno(void **state)
{
	struct th *h = th_create(TH_MTU);
	h->s->tcp.cc_algo = TCP_CC_NEWRENO;
	*state = h;
	return 0;
}

/*
 * A passive open whose handshake takes `rtt` (the SYN-ACK to the ACK), so
 * that RFC 6298 2.2 gives SRTT = rtt, RTTVAR = rtt / 2. Returns our ISS.
 */
static uint32_t accept_after(struct th *h, uint64_t rtt, const struct th_opts *o)
{
	th_listen(h);
	TH_SEND(h, NULL, 0, .seq = IRS, .flags = TH_SYN, .window = o->window, .mss = o->mss,
	        .sack_permitted = o->sack, .has_timestamps = o->ts, .ts_val = o->ts_val);
	const struct th_seg *synack = th_next(h);
	uint32_t iss = synack->r.seq;
	uint32_t ts = synack->r.ts_val;
	th_advance(h, rtt);
	TH_SEND(h, NULL, 0, .seq = IRS + 1, .ack = iss + 1, .flags = TH_ACK, .window = o->window,
	        .has_timestamps = o->ts, .ts_val = o->ts_val, .ts_ecr = ts);
	assert_int_equal(th_state(h), TCP_ESTABLISHED);
	return iss;
}

/* The peer acknowledges up to our sequence number `ack`, window 65535, no options. */
static void peer_ack(struct th *h, uint32_t ack)
{
	TH_SEND(h, NULL, 0, .seq = IRS + 1, .ack = ack, .flags = TH_ACK, .window = 65535);
}

/* Data segment i (of MSS bytes) of our stream. */
static uint32_t seg(uint32_t iss, uint32_t i)
{
	return iss + 1 + i * MSS;
}

static void expect_seg(struct th *h, uint32_t iss, uint32_t i)
{
	th_assert_pattern(TH_EXPECT(h, MSS, .flags = TH_ACK, .seq = seg(iss, i), .ack = IRS + 1,
	                            .window = 65535),
	                  i * MSS);
}

static void rto_backs_off_exponentially_then_goes_back_n(void **state)
{
	struct th *h = *state;
	/* RTO = SRTT + 4 * RTTVAR = 100 + 4 * 50 ms (RFC 6298 2.2). */
	uint32_t iss = accept_after(h, 100 * MIST_MSEC, TH_PLAIN);
	uint64_t t = mist_now();
	th_write_pattern(h, 0, 3 * MSS + 1); /* the last byte waits (Nagle) */
	for (uint32_t i = 0; i < 3; i++)
		expect_seg(h, iss, i);

	/* RFC 6298 5.4-5.6: the first segment alone, at 300 ms, then each wait doubled. */
	th_run_until(h, t + 4500 * MIST_MSEC);
	static const unsigned at_ms[] = {300, 900, 2100, 4500};
	for (unsigned i = 0; i < MIST_ARRAY_SIZE(at_ms); i++) {
		const struct th_seg *g = TH_EXPECT(h, MSS, .flags = TH_ACK, .seq = seg(iss, 0),
		                                   .ack = IRS + 1, .window = 65535);
		assert_int_equal(g->at, t + at_ms[i] * MIST_MSEC);
	}
	th_expect_none(h);
	assert_int_equal(th_stats(h)->rto, 4);
	assert_int_equal(th_stats(h)->retransmits, 4);

	/*
	 * RFC 5681 3.1: after a timeout cwnd is one segment, and slow start
	 * after it grows by at most one SMSS per ACK (RFC 3465 2.3): the ACK of
	 * the first segment lets the next two go, from SND.UNA (go-back-N).
	 */
	peer_ack(h, seg(iss, 1));
	expect_seg(h, iss, 1);
	expect_seg(h, iss, 2);
	th_expect_none(h);
}

static void karn_keeps_the_backed_off_rto_until_a_clean_sample(void **state)
{
	struct th *h = *state;
	uint32_t iss = accept_after(h, 100 * MIST_MSEC, TH_PLAIN);
	uint64_t t = mist_now();
	th_write_pattern(h, 0, 100);
	th_drain(h);
	th_run_until(h, t + 900 * MIST_MSEC); /* retransmitted at 300 and 900 ms */
	assert_int_equal(th_pending(h), 2);
	th_drain(h);

	/*
	 * The ACK of a retransmitted segment gives no RTT sample (Karn, RFC
	 * 6298 3), and without a new sample the backed-off RTO stays (RFC 6298
	 * 5, after 5.7): the next segment waits 4 * 300 ms, not 300 ms.
	 */
	th_run_until(h, t + 1000 * MIST_MSEC);
	peer_ack(h, iss + 101);
	th_write_pattern(h, 100, 100);
	TH_EXPECT(h, 100, .flags = TH_ACK | TH_PSH, .seq = iss + 101, .ack = IRS + 1,
	          .window = 65535);
	th_run_until(h, t + 2200 * MIST_MSEC - 1);
	th_expect_none(h);
	th_advance(h, 1);
	TH_EXPECT(h, 100, .flags = TH_ACK | TH_PSH, .seq = iss + 101, .ack = IRS + 1,
	          .window = 65535);

	/* Again ambiguous: still backed off (now 8 * 300 ms). */
	th_advance(h, 50 * MIST_MSEC);
	peer_ack(h, iss + 201);

	/*
	 * A segment sent once and acknowledged after 100 ms is a clean sample:
	 * SRTT = 7/8 * 100 + 1/8 * 100, RTTVAR = 3/4 * 50 + 1/4 * 0, so the RTO
	 * collapses to 100 + 4 * 37.5 = 250 ms.
	 */
	th_write_pattern(h, 200, 100);
	th_drain(h);
	th_advance(h, 100 * MIST_MSEC);
	peer_ack(h, iss + 301);
	th_write_pattern(h, 300, 100);
	uint64_t sent = TH_EXPECT(h, 100, .flags = TH_ACK | TH_PSH, .seq = iss + 301,
	                          .ack = IRS + 1, .window = 65535)
	                        ->at;
	th_run_until(h, sent + 250 * MIST_MSEC);
	const struct th_seg *g = TH_EXPECT(h, 100, .flags = TH_ACK | TH_PSH, .seq = iss + 301,
	                                   .ack = IRS + 1, .window = 65535);
	assert_int_equal(g->at, sent + 250 * MIST_MSEC);
}

static void rto_follows_timestamp_samples(void **state)
{
	struct th *h = *state;
	const struct th_opts ts = {.mss = 1460, .window = 65535, .ts = true, .ts_val = 7};
	/* The handshake: SRTT 300 ms, RTTVAR 150 ms, RTO 900 ms. */
	uint32_t iss = accept_after(h, 300 * MIST_MSEC, &ts);
	th_write_pattern(h, 0, 100);
	uint32_t tsval =
	        TH_EXPECT(h, 100, .flags = TH_ACK | TH_PSH, .seq = iss + 1, .ack = IRS + 1,
	                  .window = 65535, .has_timestamps = true, .ts_val = 1300, .ts_ecr = 7)
	                ->r.ts_val;

	/*
	 * RFC 7323 4.1: the echo of TSval 1300 arrives 500 ms later; a 1 ms
	 * clock reads as 500.5 ms. RFC 6298 2.3: RTTVAR = 3/4 * 150 + 1/4 *
	 * 200.5 = 162.625 ms, SRTT = 7/8 * 300 + 1/8 * 500.5 = 325.0625 ms,
	 * RTO = SRTT + 4 * RTTVAR = 975.5625 ms.
	 */
	th_advance(h, 500 * MIST_MSEC);
	TH_SEND(h, NULL, 0, .seq = IRS + 1, .ack = iss + 101, .flags = TH_ACK, .window = 65535,
	        .has_timestamps = true, .ts_val = 8, .ts_ecr = tsval);
	th_write_pattern(h, 100, 100);
	uint64_t sent = th_next(h)->at;
	th_run_until(h, sent + 975562500 - 1);
	th_expect_none(h);
	th_advance(h, 1);
	const struct th_seg *g = TH_EXPECT(h, 100, .flags = TH_ACK | TH_PSH, .seq = iss + 101,
	                                   .ack = IRS + 1, .window = 65535, .has_timestamps = true,
	                                   .ts_val = 1800 + 975, .ts_ecr = 8);
	assert_int_equal(g->at, sent + 975562500);
}

/*
 * Twelve segments sent (the first ten by the initial window, two more by
 * limited transmit) with the first one lost: three duplicate ACKs and the
 * state of fast recovery that follows.
 */
static uint32_t fast_retransmit(struct th *h, const struct th_opts *o)
{
	uint32_t iss = accept_after(h, 100 * MIST_MSEC, o);
	th_write_pattern(h, 0, 30 * MSS);
	for (uint32_t i = 0; i < 10; i++)
		expect_seg(h, iss, i);
	th_expect_none(h);

	/* RFC 3042: one new segment for each of the first two duplicate ACKs. */
	peer_ack(h, seg(iss, 0));
	expect_seg(h, iss, 10);
	peer_ack(h, seg(iss, 0));
	expect_seg(h, iss, 11);
	th_expect_none(h);
	assert_int_equal(th_stats(h)->fast_retransmits, 0);
	/* RFC 5681 3.2: the third resends the first unacknowledged segment at once. */
	peer_ack(h, seg(iss, 0));
	expect_seg(h, iss, 0);
	th_expect_none(h);
	assert_int_equal(th_stats(h)->fast_retransmits, 1);
	assert_int_equal(th_stats(h)->dup_acks, 3);
	return iss;
}

static void fast_retransmit_on_the_third_duplicate_ack(void **state)
{
	struct th *h = *state;
	uint32_t iss = fast_retransmit(h, TH_PLAIN);

	/*
	 * RFC 6582 3.2: ssthresh = 12 * 1460 / 2 = 8760, cwnd = ssthresh + 3 *
	 * SMSS = 13140 and one SMSS more per further duplicate ACK: with 12
	 * segments (17520 bytes) outstanding, new data goes from the seventh on.
	 */
	for (unsigned dup = 4; dup <= 6; dup++) {
		peer_ack(h, seg(iss, 0));
		th_expect_none(h);
	}
	for (uint32_t i = 12; i < 17; i++) {
		peer_ack(h, seg(iss, 0));
		expect_seg(h, iss, i);
		th_expect_none(h);
	}
	assert_int_equal(th_stats(h)->dup_acks, 11);

	/*
	 * The full ACK (everything sent before recovery) ends it with cwnd =
	 * ssthresh (RFC 6582 3.2 step 3): 8760 bytes, 5 segments in flight, one
	 * more goes.
	 */
	peer_ack(h, seg(iss, 12));
	expect_seg(h, iss, 17);
	th_expect_none(h);
	assert_int_equal(th_stats(h)->retransmits, 1);
}

static void newreno_partial_ack_resends_the_next_hole(void **state)
{
	struct th *h = *state;
	uint32_t iss = fast_retransmit(h, TH_PLAIN);

	/*
	 * Segments 0 and 3 were lost. The retransmitted 0 fills the first hole:
	 * the ACK stops at 3, below the recovery point (segment 12), a partial
	 * ACK (RFC 6582 3.2 step 5): segment 3 goes at once, and cwnd deflates
	 * by the 4380 bytes acknowledged, plus one SMSS back: 13140 - 4380 +
	 * 1460 = 10220, less than the 9 segments in flight, so nothing else.
	 */
	peer_ack(h, seg(iss, 3));
	expect_seg(h, iss, 3);
	th_expect_none(h);
	assert_int_equal(th_stats(h)->retransmits, 2);
	assert_int_equal(th_stats(h)->fast_retransmits, 1);

	/* The full ACK: cwnd = ssthresh = 8760 with nothing in flight: 6 new segments. */
	peer_ack(h, seg(iss, 12));
	for (uint32_t i = 12; i < 18; i++)
		expect_seg(h, iss, i);
	th_expect_none(h);
}

/* The peer acknowledges `ack` with the SACK blocks given as [start, end) segment numbers. */
static void peer_sack(struct th *h, uint32_t iss, uint32_t ack_seg, const uint32_t *blocks,
                      unsigned n)
{
	struct mist_tcp_repr r = {.seq = IRS + 1,
	                          .ack = seg(iss, ack_seg),
	                          .flags = TH_ACK,
	                          .window = 65535,
	                          .sack_count = (uint8_t)n};
	for (unsigned i = 0; i < n; i++) {
		r.sack[i].start = seg(iss, blocks[2 * i]);
		r.sack[i].end = seg(iss, blocks[2 * i + 1]);
	}
	th_send(h, &r, NULL, 0);
}

#define SACK(h, iss, ack, ...)                                        \
	peer_sack((h), (iss), (ack), (const uint32_t[]){__VA_ARGS__}, \
	          (unsigned)(sizeof((const uint32_t[]){__VA_ARGS__}) / sizeof(uint32_t) / 2))

static void sack_recovery_resends_only_the_holes(void **state)
{
	struct th *h = *state;
	const struct th_opts sack = {.mss = 1460, .window = 65535, .sack = true};
	uint32_t iss = accept_after(h, 100 * MIST_MSEC, &sack);
	th_write_pattern(h, 0, 30 * MSS);
	for (uint32_t i = 0; i < 10; i++)
		expect_seg(h, iss, i);

	/* Segments 0 and 3 are lost. The peer reports what arrives above them. */
	SACK(h, iss, 0, 1, 2);
	expect_seg(h, iss, 10); /* limited transmit */
	SACK(h, iss, 0, 1, 3);
	expect_seg(h, iss, 11);
	th_expect_none(h);

	/*
	 * Third duplicate: recovery (RFC 6675 5). ssthresh = cwnd = 8760. The
	 * first segment is resent; the pipe then holds it (retransmitted) and
	 * segments 3 and 5-11 (not lost: only one SACKed segment lies above 3),
	 * 13140 bytes, more than cwnd.
	 */
	SACK(h, iss, 0, 4, 5, 1, 3);
	expect_seg(h, iss, 0);
	th_expect_none(h);
	assert_int_equal(th_stats(h)->sack_recovery, 1);

	/* Two SACKed segments above 3 (2920 bytes) are not yet more than 2 * SMSS. */
	SACK(h, iss, 0, 4, 6, 1, 3);
	th_expect_none(h);
	/* Three: segment 3 is lost (IsLost); the pipe is 1460 + 5 * 1460 = cwnd: still full. */
	SACK(h, iss, 0, 4, 7, 1, 3);
	th_expect_none(h);
	/* Segment 7 arrives: the pipe drops to 7300; NextSeg rule 1 picks the hole, segment 3. */
	SACK(h, iss, 0, 4, 8, 1, 3);
	expect_seg(h, iss, 3);
	th_expect_none(h);
	/* No hole left to fill: rule 2, new data, as the pipe drains. */
	SACK(h, iss, 0, 4, 9, 1, 3);
	expect_seg(h, iss, 12);
	th_expect_none(h);

	/*
	 * Both retransmissions arrived: a cumulative ACK to 9, short of the
	 * recovery point (segment 12). RFC 6675 5 (B), (C): the pipe is now
	 * segments 9-12, 5840 bytes, so two more new segments fit in cwnd.
	 */
	SACK(h, iss, 9);
	expect_seg(h, iss, 13);
	expect_seg(h, iss, 14);
	th_expect_none(h);

	/* The recovery point is covered: recovery ends with cwnd = ssthresh, 3 segments more. */
	SACK(h, iss, 12);
	for (uint32_t i = 15; i < 18; i++)
		expect_seg(h, iss, i);
	th_expect_none(h);
	assert_int_equal(th_stats(h)->retransmits, 2);
	assert_int_equal(th_stats(h)->fast_retransmits, 1);
}

static void user_timeout_gives_up_at_the_next_expiry(void **state)
{
	struct th *h = *state;
	uint32_t iss = accept_after(h, 50 * MIST_MSEC, TH_PLAIN); /* RTO 200 ms, the minimum */
	th_start_reader(h);
	assert_int_equal(mist_flow_set_user_timeout(h->flow, 2500 * MIST_MSEC), 0);
	uint64_t t = mist_now();
	th_write_pattern(h, 0, 100);

	/*
	 * Retransmissions at 0.2, 0.6 and 1.4 s; at the expiry of 3.0 s the data
	 * has waited more than 2.5 s (RFC 5482): RST and MIST_ETIMEDOUT.
	 */
	th_run_until(h, t + 3 * MIST_SEC);
	for (unsigned i = 0; i < 4; i++)
		TH_EXPECT(h, 100, .flags = TH_ACK | TH_PSH, .seq = iss + 1, .ack = IRS + 1,
		          .window = 65535);
	const struct th_seg *g = TH_EXPECT(h, 0, .flags = TH_RST | TH_ACK, .seq = iss + 101,
	                                   .ack = IRS + 1, .window = 65535);
	assert_int_equal(g->at, t + 3 * MIST_SEC);
	th_expect_none(h);
	assert_int_equal(th_state(h), TCP_CLOSED);
	assert_true(h->read_done);
	assert_int_equal(h->read_error, MIST_ETIMEDOUT);
	assert_int_equal(th_stats(h)->timed_out, 1);
}

static void keepalive_probes_an_idle_peer_then_gives_up(void **state)
{
	struct th *h = *state;
	th_listen(h);
	uint32_t iss = th_accept(h, IRS, TH_PLAIN);
	th_start_reader(h);
	uint64_t t = mist_now();
	assert_int_equal(mist_flow_set_keepalive(h->flow, 10 * MIST_SEC, 2 * MIST_SEC, 3), 0);

	/* RFC 1122 4.2.3.6: after 10 s idle, a probe one below SND.NXT; the answer resets the clock. */
	th_run_until(h, t + 10 * MIST_SEC);
	const struct th_seg *g =
	        TH_EXPECT(h, 0, .flags = TH_ACK, .seq = iss, .ack = IRS + 1, .window = 65535);
	assert_int_equal(g->at, t + 10 * MIST_SEC);
	th_advance(h, MIST_SEC);
	peer_ack(h, iss + 1);
	th_expect_none(h);

	/* Unanswered from then: probes at 21, 23 and 25 s, and at 27 s the end. */
	th_run_until(h, t + 27 * MIST_SEC);
	static const unsigned at[] = {21, 23, 25};
	for (unsigned i = 0; i < MIST_ARRAY_SIZE(at); i++) {
		g = TH_EXPECT(h, 0, .flags = TH_ACK, .seq = iss, .ack = IRS + 1, .window = 65535);
		assert_int_equal(g->at, t + at[i] * MIST_SEC);
	}
	g = TH_EXPECT(h, 0, .flags = TH_RST | TH_ACK, .seq = iss + 1, .ack = IRS + 1,
	              .window = 65535);
	assert_int_equal(g->at, t + 27 * MIST_SEC);
	th_expect_none(h);
	assert_int_equal(th_stats(h)->keepalive_probes, 4);
	assert_int_equal(h->read_error, MIST_ETIMEDOUT);
	assert_int_equal(th_state(h), TCP_CLOSED);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(rto_backs_off_exponentially_then_goes_back_n,
	                                        setup_newreno, th_teardown),
	        cmocka_unit_test_setup_teardown(karn_keeps_the_backed_off_rto_until_a_clean_sample,
	                                        setup_newreno, th_teardown),
	        cmocka_unit_test_setup_teardown(rto_follows_timestamp_samples, setup_newreno,
	                                        th_teardown),
	        cmocka_unit_test_setup_teardown(fast_retransmit_on_the_third_duplicate_ack,
	                                        setup_newreno, th_teardown),
	        cmocka_unit_test_setup_teardown(newreno_partial_ack_resends_the_next_hole,
	                                        setup_newreno, th_teardown),
	        cmocka_unit_test_setup_teardown(sack_recovery_resends_only_the_holes, setup_newreno,
	                                        th_teardown),
	        cmocka_unit_test_setup_teardown(user_timeout_gives_up_at_the_next_expiry,
	                                        setup_newreno, th_teardown),
	        cmocka_unit_test_setup_teardown(keepalive_probes_an_idle_peer_then_gives_up,
	                                        setup_newreno, th_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
