/*
 * Unit tests of TCP connection establishment (RFC 9293 3.5 and 3.10.7),
 * segment in, segment out (tcp_harness.h): the passive open through
 * SYN-RECEIVED, with the SYN-ACK offering what the peer offered and an ISN
 * by RFC 6528; the SYN-ACK retransmitted with exponential backoff until the
 * half-open connection is dropped; duplicate SYNs and bad ACKs in
 * SYN-RECEIVED; the active open from mist_tcp_connect() in a fiber, its SYN
 * retransmitted with backoff until it times out, cut short by its deadline,
 * refused by a RST; the acceptability rules of SYN-SENT; and the
 * simultaneous open of RFC 9293 figure 8. Times are virtual and exact.
 */
#include "tcp_harness.h"

#define IRS 1000u

static struct tcp_listener *listener(struct th *h)
{
	struct tcp_listener *l = tcp_listener_find(h->s, TH_PORT);
	assert_non_null(l);
	return l;
}

static void passive_open_offers_back_what_the_syn_offered(void **state)
{
	struct th *h = *state;
	th_listen(h);
	uint32_t iss = th_isn(h);

	TH_SEND(h, NULL, 0, .seq = IRS, .flags = TH_SYN, .window = 65535, .mss = 1460,
	        .has_wscale = true, .wscale = 7, .sack_permitted = true, .has_timestamps = true,
	        .ts_val = 5000);
	/* RFC 7323: our scale is 8, the SYN-ACK's window unscaled, TSval our 1 ms clock (t = 1 s). */
	TH_EXPECT(h, 0, .flags = TH_SYN | TH_ACK, .seq = iss, .ack = IRS + 1, .window = 65535,
	          .mss = 1460, .has_wscale = true, .wscale = 8, .sack_permitted = true,
	          .has_timestamps = true, .ts_val = 1000, .ts_ecr = 5000);
	th_expect_none(h);
	assert_int_equal(th_state(h), TCP_SYN_RECEIVED);
	assert_int_equal(listener(h)->half_open, 1);
	assert_int_equal(h->accepted, 0);

	TH_SEND(h, NULL, 0, .seq = IRS + 1, .ack = iss + 1, .flags = TH_ACK, .window = 512,
	        .has_timestamps = true, .ts_val = 5001, .ts_ecr = 1000);
	th_expect_none(h);
	assert_int_equal(th_state(h), TCP_ESTABLISHED);
	assert_int_equal(listener(h)->half_open, 0);
	assert_int_equal(h->accepted, 1);
	assert_int_equal(th_stats(h)->accepted, 1);
	struct mist_addr peer = mist_flow_peer(h->flow), local = mist_flow_local(h->flow);
	assert_true(mist_ipv4_addr_eq(peer.ip, TH_PEER_IP));
	assert_int_equal(peer.port, TH_PEER_PORT);
	assert_true(mist_ipv4_addr_eq(local.ip, TH_LOCAL_IP));
	assert_int_equal(local.port, TH_PORT);

	/* Our window is now scaled: 256 KiB >> 8; TSecr echoes the ACK's TSval. */
	th_write_pattern(h, 0, 10);
	TH_EXPECT(h, 10, .flags = TH_ACK | TH_PSH, .seq = iss + 1, .ack = IRS + 1, .window = 1024,
	          .has_timestamps = true, .ts_val = 1000, .ts_ecr = 5001);
}

static void passive_open_without_options_gets_only_our_mss(void **state)
{
	struct th *h = *state;
	th_listen(h);
	TH_SEND(h, NULL, 0, .seq = IRS, .flags = TH_SYN, .window = 8192);
	const struct th_seg *synack = TH_EXPECT(h, 0, .flags = TH_SYN | TH_ACK, .seq = th_isn(h),
	                                        .ack = IRS + 1, .window = 65535, .mss = 1460);
	uint32_t iss = synack->r.seq;
	TH_SEND(h, NULL, 0, .seq = IRS + 1, .ack = iss + 1, .flags = TH_ACK, .window = 8192);
	assert_int_equal(th_state(h), TCP_ESTABLISHED);

	/* RFC 9293 3.7.1: without an MSS option the peer takes 536-byte segments. */
	th_write_pattern(h, 0, 1000);
	const struct th_seg *g =
	        TH_EXPECT(h, 536, .flags = TH_ACK, .seq = iss + 1, .ack = IRS + 1, .window = 65535);
	th_assert_pattern(g, 0);
	/* Nagle (RFC 896): the small rest waits for that ACK. */
	th_expect_none(h);
	TH_SEND(h, NULL, 0, .seq = IRS + 1, .ack = iss + 537, .flags = TH_ACK, .window = 8192);
	g = TH_EXPECT(h, 464, .flags = TH_ACK | TH_PSH, .seq = iss + 537, .ack = IRS + 1,
	              .window = 65535);
	th_assert_pattern(g, 536);
}

static void synack_is_retransmitted_with_backoff_then_dropped(void **state)
{
	struct th *h = *state;
	th_listen(h);
	TH_SEND(h, NULL, 0, .seq = IRS, .flags = TH_SYN, .window = 65535, .mss = 1460);
	uint32_t iss = th_next(h)->r.seq;

	th_run_until(h, TH_T0 + 100 * MIST_SEC);
	/* RFC 6298 2.1 and 5.5: 1 s, then doubling; TCP_SYNACK_RETRIES (5) retransmissions. */
	static const unsigned at[] = {1, 3, 7, 15, 31};
	for (unsigned i = 0; i < 5; i++) {
		const struct th_seg *g = TH_EXPECT(h, 0, .flags = TH_SYN | TH_ACK, .seq = iss,
		                                   .ack = IRS + 1, .window = 65535, .mss = 1460);
		assert_int_equal(g->at, TH_T0 + at[i] * MIST_SEC);
	}
	th_expect_none(h);
	/* The sixth expiry, at 63 s, gives up: the half-open connection goes without a word. */
	assert_int_equal(th_state(h), TCP_CLOSED);
	assert_int_equal(listener(h)->half_open, 0);
	assert_int_equal(h->accepted, 0);
	assert_int_equal(th_stats(h)->retransmits, 5);
	assert_int_equal(th_stats(h)->rto, 6);
	assert_int_equal(th_stats(h)->timed_out, 1);
}

static void syn_received_answers_a_repeated_syn_and_challenges_another(void **state)
{
	struct th *h = *state;
	th_listen(h);
	TH_SEND(h, NULL, 0, .seq = IRS, .flags = TH_SYN, .window = 65535, .mss = 1460);
	uint32_t iss = th_next(h)->r.seq;

	/* The peer did not get our SYN-ACK and repeats its SYN: the same SYN-ACK again. */
	th_advance(h, 300 * MIST_MSEC);
	TH_SEND(h, NULL, 0, .seq = IRS, .flags = TH_SYN, .window = 65535, .mss = 1460);
	TH_EXPECT(h, 0, .flags = TH_SYN | TH_ACK, .seq = iss, .ack = IRS + 1, .window = 65535,
	          .mss = 1460);
	th_expect_none(h);

	/* RFC 5961 4.2: a SYN with another sequence number in the window gets a challenge ACK. */
	TH_SEND(h, NULL, 0, .seq = IRS + 100, .flags = TH_SYN, .window = 65535, .mss = 1460);
	TH_EXPECT(h, 0, .flags = TH_ACK, .seq = iss + 1, .ack = IRS + 1, .window = 65535);
	th_expect_none(h);
	assert_int_equal(th_stats(h)->challenge_acks, 1);
	assert_int_equal(th_state(h), TCP_SYN_RECEIVED);
}

static void syn_received_resets_an_unacceptable_ack(void **state)
{
	struct th *h = *state;
	th_listen(h);
	TH_SEND(h, NULL, 0, .seq = IRS, .flags = TH_SYN, .window = 65535, .mss = 1460);
	uint32_t iss = th_next(h)->r.seq;

	/* RFC 9293 3.10.7.4, fifth check: an ACK outside (SND.UNA, SND.NXT] gets <SEQ=SEG.ACK><RST>. */
	TH_SEND(h, NULL, 0, .seq = IRS + 1, .ack = iss + 5, .flags = TH_ACK, .window = 65535);
	TH_EXPECT(h, 0, .flags = TH_RST, .seq = iss + 5);
	TH_SEND(h, NULL, 0, .seq = IRS + 1, .ack = iss, .flags = TH_ACK, .window = 65535);
	TH_EXPECT(h, 0, .flags = TH_RST, .seq = iss);
	th_expect_none(h);
	assert_int_equal(th_state(h), TCP_SYN_RECEIVED);

	TH_SEND(h, NULL, 0, .seq = IRS + 1, .ack = iss + 1, .flags = TH_ACK, .window = 65535);
	th_expect_none(h);
	assert_int_equal(th_state(h), TCP_ESTABLISHED);
	assert_int_equal(h->accepted, 1);
}

static void syn_received_acks_a_segment_outside_the_window(void **state)
{
	struct th *h = *state;
	th_listen(h);
	TH_SEND(h, NULL, 0, .seq = IRS, .flags = TH_SYN, .window = 65535, .mss = 1460);
	uint32_t iss = th_next(h)->r.seq;

	/* RFC 9293 3.10.7.4, first check: not acceptable, so <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>. */
	TH_SEND(h, NULL, 0, .seq = IRS + 1 + 100000, .ack = iss + 1, .flags = TH_ACK,
	        .window = 65535);
	TH_EXPECT(h, 0, .flags = TH_ACK, .seq = iss + 1, .ack = IRS + 1, .window = 65535);
	th_expect_none(h);
	assert_int_equal(th_state(h), TCP_SYN_RECEIVED);
}

static void rst_in_syn_received_forgets_the_half_open_connection(void **state)
{
	struct th *h = *state;
	th_listen(h);
	TH_SEND(h, NULL, 0, .seq = IRS, .flags = TH_SYN, .window = 65535, .mss = 1460);
	th_drain(h);
	assert_int_equal(listener(h)->half_open, 1);

	/* RFC 9293 3.10.7.4, second check: a passive connection returns to LISTEN. */
	TH_SEND(h, NULL, 0, .seq = IRS + 1, .flags = TH_RST);
	th_expect_none(h);
	assert_int_equal(th_state(h), TCP_CLOSED);
	assert_int_equal(listener(h)->half_open, 0);
	assert_int_equal(h->accepted, 0);

	/* The listener still answers. */
	TH_SEND(h, NULL, 0, .seq = 7000, .flags = TH_SYN, .window = 65535, .mss = 1460);
	TH_EXPECT(h, 0, .flags = TH_SYN | TH_ACK, .seq = th_isn(h), .ack = 7001, .window = 65535,
	          .mss = 1460);
}

/* A peer ISN in the upper half of the sequence space, so that 0 lies "ahead" of it. */
#define PEER_ISN 0x90000000u

static void active_open_sends_every_option_and_acks_the_synack(void **state)
{
	struct th *h = *state;
	th_connect_start(h, MIST_FOREVER);
	uint32_t iss = th_isn(h);
	TH_EXPECT(h, 0, .flags = TH_SYN, .seq = iss, .window = 65535, .mss = 1460,
	          .has_wscale = true, .wscale = 8, .sack_permitted = true, .has_timestamps = true,
	          .ts_val = 1000, .ts_ecr = 0);
	assert_int_equal(th_state(h), TCP_SYN_SENT);
	assert_false(h->connect_done);

	th_advance(h, 50 * MIST_MSEC);
	TH_SEND(h, NULL, 0, .seq = PEER_ISN, .ack = iss + 1, .flags = TH_SYN | TH_ACK,
	        .window = 65535, .mss = 1400, .has_wscale = true, .wscale = 3,
	        .sack_permitted = true, .has_timestamps = true, .ts_val = 7000, .ts_ecr = 1000);
	/* The window we offer is our 256 KiB buffer, scaled by 8. */
	TH_EXPECT(h, 0, .flags = TH_ACK, .seq = iss + 1, .ack = PEER_ISN + 1, .window = 1024,
	          .has_timestamps = true, .ts_val = 1050, .ts_ecr = 7000);
	th_expect_none(h);
	assert_true(h->connect_done);
	assert_int_equal(h->connect_result, 0);
	assert_int_equal(th_state(h), TCP_ESTABLISHED);
	assert_int_equal(th_stats(h)->connected, 1);

	/*
	 * The peer's MSS 1400 less 12 bytes of timestamps per segment; the
	 * handshake's 50 ms RTT gives RTO = 50 + 4 * 25 ms, raised to the 200 ms
	 * minimum (RFC 6298 2.2, 2.4).
	 */
	th_write_pattern(h, 0, 3000);
	TH_EXPECT(h, 1388, .flags = TH_ACK, .seq = iss + 1, .ack = PEER_ISN + 1, .window = 1024,
	          .has_timestamps = true, .ts_val = 1050, .ts_ecr = 7000);
	TH_EXPECT(h, 1388, .flags = TH_ACK, .seq = iss + 1389, .ack = PEER_ISN + 1, .window = 1024,
	          .has_timestamps = true, .ts_val = 1050, .ts_ecr = 7000);
	th_expect_none(h);
	th_advance(h, 200 * MIST_MSEC);
	const struct th_seg *g =
	        TH_EXPECT(h, 1388, .flags = TH_ACK, .seq = iss + 1, .ack = PEER_ISN + 1,
	                  .window = 1024, .has_timestamps = true, .ts_val = 1250, .ts_ecr = 7000);
	assert_int_equal(g->at, TH_T0 + 250 * MIST_MSEC);
}

static void active_open_retransmits_syn_with_backoff_then_times_out(void **state)
{
	struct th *h = *state;
	th_connect_start(h, MIST_FOREVER);
	uint32_t iss = th_isn(h);

	/*
	 * RFC 6298 2.1, 5.5: 1 s, doubling; TCP_SYN_RETRIES (6) retransmissions.
	 * The last wait, 64 s, is cut to the 60 s maximum (2.5): 63 + 60.
	 */
	th_run_until(h, TH_T0 + 123 * MIST_SEC - 1);
	assert_false(h->connect_done);
	static const unsigned at[] = {0, 1, 3, 7, 15, 31, 63};
	for (unsigned i = 0; i < 7; i++) {
		const struct th_seg *g = TH_EXPECT(
		        h, 0, .flags = TH_SYN, .seq = iss, .window = 65535, .mss = 1460,
		        .has_wscale = true, .wscale = 8, .sack_permitted = true,
		        .has_timestamps = true, .ts_val = 1000 + at[i] * 1000, .ts_ecr = 0);
		assert_int_equal(g->at, TH_T0 + at[i] * MIST_SEC);
	}
	th_expect_none(h);

	th_advance(h, 1);
	assert_true(h->connect_done);
	assert_int_equal(h->connect_result, MIST_ETIMEDOUT);
	th_expect_none(h);
	assert_int_equal(th_state(h), TCP_CLOSED);
	assert_int_equal(th_stats(h)->retransmits, 6);
	assert_int_equal(th_stats(h)->timed_out, 1);
}

static void connect_deadline_ends_the_attempt(void **state)
{
	struct th *h = *state;
	th_connect_start(h, TH_T0 + 2500 * MIST_MSEC);
	uint32_t iss = th_next(h)->r.seq;

	th_run_until(h, TH_T0 + 2500 * MIST_MSEC);
	assert_true(h->connect_done);
	assert_int_equal(h->connect_result, MIST_ETIMEDOUT);
	const struct th_seg *g = th_next(h);
	assert_int_equal(g->r.flags, TH_SYN);
	assert_int_equal(g->at, TH_T0 + MIST_SEC);
	th_expect_none(h);
	assert_int_equal(th_state(h), TCP_CLOSED);

	/* Nothing more is sent, and a late SYN-ACK finds no connection (RFC 9293 3.10.7.1). */
	th_advance(h, 10 * MIST_SEC);
	th_expect_none(h);
	TH_SEND(h, NULL, 0, .seq = PEER_ISN, .ack = iss + 1, .flags = TH_SYN | TH_ACK,
	        .window = 65535, .mss = 1460);
	TH_EXPECT(h, 0, .flags = TH_RST, .seq = iss + 1);
}

static void connect_is_refused_by_a_rst_acking_the_syn(void **state)
{
	struct th *h = *state;
	th_connect_start(h, MIST_FOREVER);
	uint32_t iss = th_next(h)->r.seq;

	TH_SEND(h, NULL, 0, .seq = 0, .ack = iss + 1, .flags = TH_RST | TH_ACK);
	th_expect_none(h);
	assert_true(h->connect_done);
	assert_int_equal(h->connect_result, MIST_ECONNREFUSED);
	assert_int_equal(th_state(h), TCP_CLOSED);
	assert_int_equal(th_stats(h)->reset_rx, 1);
}

static void syn_sent_takes_only_segments_that_ack_the_syn(void **state)
{
	struct th *h = *state;
	th_connect_start(h, MIST_FOREVER);
	uint32_t iss = th_next(h)->r.seq;

	/* RFC 9293 3.10.7.3 and RFC 5961 3.2: a RST without an acceptable ACK is dropped. */
	TH_SEND(h, NULL, 0, .seq = 5, .flags = TH_RST);
	TH_SEND(h, NULL, 0, .seq = 5, .ack = iss, .flags = TH_RST | TH_ACK);
	TH_SEND(h, NULL, 0, .seq = 5, .ack = iss + 2, .flags = TH_RST | TH_ACK);
	th_expect_none(h);
	assert_int_equal(th_state(h), TCP_SYN_SENT);

	/* An unacceptable ACK without RST gets <SEQ=SEG.ACK><CTL=RST>. */
	TH_SEND(h, NULL, 0, .seq = 5, .ack = iss + 100, .flags = TH_ACK, .window = 65535);
	TH_EXPECT(h, 0, .flags = TH_RST, .seq = iss + 100);
	/* An acceptable ACK without SYN is dropped. */
	TH_SEND(h, NULL, 0, .seq = 5, .ack = iss + 1, .flags = TH_ACK, .window = 65535);
	th_expect_none(h);
	assert_int_equal(th_state(h), TCP_SYN_SENT);
	assert_false(h->connect_done);

	TH_SEND(h, NULL, 0, .seq = PEER_ISN, .ack = iss + 1, .flags = TH_SYN | TH_ACK,
	        .window = 65535, .mss = 1460);
	TH_EXPECT(h, 0, .flags = TH_ACK, .seq = iss + 1, .ack = PEER_ISN + 1, .window = 65535);
	assert_int_equal(h->connect_result, 0);
}

/* RFC 9293 3.5, figure 8: both sides send SYN at once. */
static void simultaneous_open_completes_on_the_peers_synack(void **state)
{
	struct th *h = *state;
	th_connect_start(h, MIST_FOREVER);
	uint32_t iss = th_next(h)->r.seq;

	TH_SEND(h, NULL, 0, .seq = PEER_ISN, .flags = TH_SYN, .window = 65535, .mss = 1460);
	/* Our SYN again, now with the ACK of theirs, and only the options both offered. */
	TH_EXPECT(h, 0, .flags = TH_SYN | TH_ACK, .seq = iss, .ack = PEER_ISN + 1, .window = 65535,
	          .mss = 1460);
	th_expect_none(h);
	assert_int_equal(th_state(h), TCP_SYN_RECEIVED);
	assert_false(h->connect_done);

	TH_SEND(h, NULL, 0, .seq = PEER_ISN, .ack = iss + 1, .flags = TH_SYN | TH_ACK,
	        .window = 65535, .mss = 1460);
	th_expect_none(h);
	assert_int_equal(th_state(h), TCP_ESTABLISHED);
	assert_true(h->connect_done);
	assert_int_equal(h->connect_result, 0);
	assert_int_equal(th_stats(h)->connected, 1);

	th_write_pattern(h, 0, 100);
	TH_EXPECT(h, 100, .flags = TH_ACK | TH_PSH, .seq = iss + 1, .ack = PEER_ISN + 1,
	          .window = 65535);
}

static void simultaneous_open_completes_on_a_plain_ack(void **state)
{
	struct th *h = *state;
	th_connect_start(h, MIST_FOREVER);
	uint32_t iss = th_next(h)->r.seq;
	TH_SEND(h, NULL, 0, .seq = PEER_ISN, .flags = TH_SYN, .window = 65535, .mss = 1460);
	th_drain(h);

	TH_SEND(h, NULL, 0, .seq = PEER_ISN + 1, .ack = iss + 1, .flags = TH_ACK, .window = 65535);
	th_expect_none(h);
	assert_int_equal(th_state(h), TCP_ESTABLISHED);
	assert_int_equal(h->connect_result, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(passive_open_offers_back_what_the_syn_offered,
	                                        th_setup, th_teardown),
	        cmocka_unit_test_setup_teardown(passive_open_without_options_gets_only_our_mss,
	                                        th_setup, th_teardown),
	        cmocka_unit_test_setup_teardown(synack_is_retransmitted_with_backoff_then_dropped,
	                                        th_setup, th_teardown),
	        cmocka_unit_test_setup_teardown(
	                syn_received_answers_a_repeated_syn_and_challenges_another, th_setup,
	                th_teardown),
	        cmocka_unit_test_setup_teardown(syn_received_resets_an_unacceptable_ack, th_setup,
	                                        th_teardown),
	        cmocka_unit_test_setup_teardown(syn_received_acks_a_segment_outside_the_window,
	                                        th_setup, th_teardown),
	        cmocka_unit_test_setup_teardown(
	                rst_in_syn_received_forgets_the_half_open_connection, th_setup,
	                th_teardown),
	        cmocka_unit_test_setup_teardown(active_open_sends_every_option_and_acks_the_synack,
	                                        th_setup, th_teardown),
	        cmocka_unit_test_setup_teardown(
	                active_open_retransmits_syn_with_backoff_then_times_out, th_setup,
	                th_teardown),
	        cmocka_unit_test_setup_teardown(connect_deadline_ends_the_attempt, th_setup,
	                                        th_teardown),
	        cmocka_unit_test_setup_teardown(connect_is_refused_by_a_rst_acking_the_syn,
	                                        th_setup, th_teardown),
	        cmocka_unit_test_setup_teardown(syn_sent_takes_only_segments_that_ack_the_syn,
	                                        th_setup, th_teardown),
	        cmocka_unit_test_setup_teardown(simultaneous_open_completes_on_the_peers_synack,
	                                        th_setup, th_teardown),
	        cmocka_unit_test_setup_teardown(simultaneous_open_completes_on_a_plain_ack,
	                                        th_setup, th_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
