/*
 * Unit tests of TCP connection termination (RFC 9293 3.6 and 3.10.7.4),
 * segment in, segment out (tcp_harness.h): the active close through
 * FIN-WAIT-1, FIN-WAIT-2 and TIME-WAIT with its 2*MSL; the passive close
 * through CLOSE-WAIT and LAST-ACK; the simultaneous close through CLOSING;
 * half-close in both directions; a RST at RCV.NXT in every synchronized
 * state; abort, and close with unread data or with data still arriving,
 * both answered with RST (RFC 2525 2.17); and a new SYN in TIME-WAIT,
 * which starts a new incarnation only when RFC 6191 proves it newer.
 */
#include "tcp_harness.h"

#define IRS 1000u

/* 2*MSL: how long TIME-WAIT lasts. */
#define TWO_MSL (60 * MIST_SEC)

static void active_close_passes_fin_wait_and_time_wait(void **state)
{
	struct th *h = *state;
	th_listen(h);
	uint32_t iss = th_accept(h, IRS, TH_PLAIN);

	th_close(h);
	TH_EXPECT(h, 0, .flags = TH_FIN | TH_ACK, .seq = iss + 1, .ack = IRS + 1, .window = 65535);
	th_expect_none(h);
	assert_int_equal(th_state(h), TCP_FIN_WAIT_1);

	TH_SEND(h, NULL, 0, .seq = IRS + 1, .ack = iss + 2, .flags = TH_ACK, .window = 65535);
	th_expect_none(h);
	assert_int_equal(th_state(h), TCP_FIN_WAIT_2);

	th_advance(h, 5 * MIST_SEC);
	TH_SEND(h, NULL, 0, .seq = IRS + 1, .ack = iss + 2, .flags = TH_FIN | TH_ACK,
	        .window = 65535);
	TH_EXPECT(h, 0, .flags = TH_ACK, .seq = iss + 2, .ack = IRS + 2, .window = 65535);
	th_expect_none(h);
	assert_int_equal(th_state(h), TCP_TIME_WAIT);
	uint64_t entered = mist_now();

	/* RFC 9293 3.10.7.4: a retransmitted FIN (our ACK was lost) is acknowledged again ... */
	th_advance(h, 10 * MIST_SEC);
	TH_SEND(h, NULL, 0, .seq = IRS + 1, .ack = iss + 2, .flags = TH_FIN | TH_ACK,
	        .window = 65535);
	TH_EXPECT(h, 0, .flags = TH_ACK, .seq = iss + 2, .ack = IRS + 2, .window = 65535);

	/* ... and restarts the 2*MSL wait, after which the connection is deleted. */
	entered = mist_now();
	th_run_until(h, entered + TWO_MSL - 1);
	assert_int_equal(th_state(h), TCP_TIME_WAIT);
	th_run_until(h, entered + TWO_MSL);
	assert_int_equal(th_state(h), TCP_CLOSED);
	th_expect_none(h);
	assert_int_equal(th_stats(h)->closed, 1);

	/* Gone: what arrives now gets <SEQ=SEG.ACK><CTL=RST> (RFC 9293 3.10.7.1). */
	TH_SEND(h, NULL, 0, .seq = IRS + 2, .ack = iss + 2, .flags = TH_ACK, .window = 65535);
	TH_EXPECT(h, 0, .flags = TH_RST, .seq = iss + 2);
}

/* After close, FIN-WAIT-2 is bounded: a peer that never sends its FIN does not hold the connection. */
static void fin_wait_2_after_close_ends_after_its_limit(void **state)
{
	struct th *h = *state;
	th_listen(h);
	uint32_t iss = th_accept(h, IRS, TH_PLAIN);
	th_close(h);
	th_drain(h);
	TH_SEND(h, NULL, 0, .seq = IRS + 1, .ack = iss + 2, .flags = TH_ACK, .window = 65535);
	assert_int_equal(th_state(h), TCP_FIN_WAIT_2);
	uint64_t entered = mist_now();

	th_run_until(h, entered + TCP_FIN_WAIT_2_LEN - 1);
	assert_int_equal(th_state(h), TCP_FIN_WAIT_2);
	th_run_until(h, entered + TCP_FIN_WAIT_2_LEN);
	assert_int_equal(th_state(h), TCP_CLOSED);
	th_expect_none(h);
}

static void fin_acking_our_fin_goes_from_fin_wait_1_to_time_wait(void **state)
{
	struct th *h = *state;
	th_listen(h);
	uint32_t iss = th_accept(h, IRS, TH_PLAIN);
	th_close(h);
	th_drain(h);

	TH_SEND(h, NULL, 0, .seq = IRS + 1, .ack = iss + 2, .flags = TH_FIN | TH_ACK,
	        .window = 65535);
	TH_EXPECT(h, 0, .flags = TH_ACK, .seq = iss + 2, .ack = IRS + 2, .window = 65535);
	assert_int_equal(th_state(h), TCP_TIME_WAIT);
}

static void passive_close_passes_close_wait_and_last_ack(void **state)
{
	struct th *h = *state;
	th_listen(h);
	uint32_t iss = th_accept(h, IRS, TH_PLAIN);
	th_start_reader(h);

	TH_SEND(h, NULL, 0, .seq = IRS + 1, .ack = iss + 1, .flags = TH_FIN | TH_ACK,
	        .window = 65535);
	/* RFC 9293 3.10.7.4, eighth: the FIN is acknowledged at once; reading returns the end. */
	TH_EXPECT(h, 0, .flags = TH_ACK, .seq = iss + 1, .ack = IRS + 2, .window = 65535);
	th_expect_none(h);
	assert_int_equal(th_state(h), TCP_CLOSE_WAIT);
	assert_true(h->read_done);
	assert_int_equal(h->read_error, 0);
	assert_int_equal(h->rx_len, 0);

	/* Half-closed: we may still send, and the peer acknowledges. */
	th_write_pattern(h, 0, 100);
	TH_EXPECT(h, 100, .flags = TH_ACK | TH_PSH, .seq = iss + 1, .ack = IRS + 2,
	          .window = 65535);
	TH_SEND(h, NULL, 0, .seq = IRS + 2, .ack = iss + 101, .flags = TH_ACK, .window = 65535);
	th_expect_none(h);

	th_close(h);
	TH_EXPECT(h, 0, .flags = TH_FIN | TH_ACK, .seq = iss + 101, .ack = IRS + 2,
	          .window = 65535);
	assert_int_equal(th_state(h), TCP_LAST_ACK);
	TH_SEND(h, NULL, 0, .seq = IRS + 2, .ack = iss + 102, .flags = TH_ACK, .window = 65535);
	th_expect_none(h);
	assert_int_equal(th_state(h), TCP_CLOSED);
	assert_int_equal(th_stats(h)->closed, 1);
}

/* RFC 9293 3.6, figure 13: both FINs cross. */
static void simultaneous_close_passes_closing(void **state)
{
	struct th *h = *state;
	th_listen(h);
	uint32_t iss = th_accept(h, IRS, TH_PLAIN);
	th_close(h);
	TH_EXPECT(h, 0, .flags = TH_FIN | TH_ACK, .seq = iss + 1, .ack = IRS + 1, .window = 65535);

	/* The peer's FIN does not acknowledge ours. */
	TH_SEND(h, NULL, 0, .seq = IRS + 1, .ack = iss + 1, .flags = TH_FIN | TH_ACK,
	        .window = 65535);
	TH_EXPECT(h, 0, .flags = TH_ACK, .seq = iss + 2, .ack = IRS + 2, .window = 65535);
	th_expect_none(h);
	assert_int_equal(th_state(h), TCP_CLOSING);

	TH_SEND(h, NULL, 0, .seq = IRS + 2, .ack = iss + 2, .flags = TH_ACK, .window = 65535);
	th_expect_none(h);
	assert_int_equal(th_state(h), TCP_TIME_WAIT);
	th_advance(h, TWO_MSL);
	assert_int_equal(th_state(h), TCP_CLOSED);
	th_expect_none(h);
}

static void shut_write_still_receives_until_the_peers_fin(void **state)
{
	struct th *h = *state;
	th_listen(h);
	uint32_t iss = th_accept(h, IRS, TH_PLAIN);
	th_start_reader(h);

	assert_int_equal(mist_flow_shutdown(h->flow, MIST_SHUT_WR), 0);
	TH_EXPECT(h, 0, .flags = TH_FIN | TH_ACK, .seq = iss + 1, .ack = IRS + 1, .window = 65535);
	assert_int_equal(mist_flow_write(h->flow, "x", 1), MIST_EPIPE);
	TH_SEND(h, NULL, 0, .seq = IRS + 1, .ack = iss + 2, .flags = TH_ACK, .window = 65535);
	assert_int_equal(th_state(h), TCP_FIN_WAIT_2);

	uint8_t data[1000];
	th_pattern(data, 0, sizeof(data));
	TH_SEND(h, data, sizeof(data), .seq = IRS + 1, .ack = iss + 2, .flags = TH_ACK | TH_PSH,
	        .window = 65535);
	assert_int_equal(h->rx_len, 1000);
	assert_memory_equal(h->rx, data, 1000);
	assert_false(h->read_done);
	/* One segment of less than two MSS: the ACK waits for the delayed-ACK timer, 40 ms. */
	th_expect_none(h);
	th_advance(h, 40 * MIST_MSEC);
	TH_EXPECT(h, 0, .flags = TH_ACK, .seq = iss + 2, .ack = IRS + 1001, .window = 65535);

	TH_SEND(h, NULL, 0, .seq = IRS + 1001, .ack = iss + 2, .flags = TH_FIN | TH_ACK,
	        .window = 65535);
	TH_EXPECT(h, 0, .flags = TH_ACK, .seq = iss + 2, .ack = IRS + 1002, .window = 65535);
	assert_int_equal(th_state(h), TCP_TIME_WAIT);
	assert_true(h->read_done);
	assert_int_equal(h->read_error, 0);
}

/* Brings the connection to `want` by the shortest exchange; returns RCV.NXT then. */
static uint32_t reach(struct th *h, uint32_t iss, int want)
{
	switch (want) {
	case TCP_ESTABLISHED:
		return IRS + 1;
	case TCP_FIN_WAIT_1:
		th_close(h);
		break;
	case TCP_FIN_WAIT_2:
		th_close(h);
		TH_SEND(h, NULL, 0, .seq = IRS + 1, .ack = iss + 2, .flags = TH_ACK,
		        .window = 65535);
		break;
	case TCP_CLOSE_WAIT:
		TH_SEND(h, NULL, 0, .seq = IRS + 1, .ack = iss + 1, .flags = TH_FIN | TH_ACK,
		        .window = 65535);
		break;
	case TCP_CLOSING:
		th_close(h);
		TH_SEND(h, NULL, 0, .seq = IRS + 1, .ack = iss + 1, .flags = TH_FIN | TH_ACK,
		        .window = 65535);
		break;
	case TCP_LAST_ACK:
		TH_SEND(h, NULL, 0, .seq = IRS + 1, .ack = iss + 1, .flags = TH_FIN | TH_ACK,
		        .window = 65535);
		th_close(h);
		break;
	case TCP_TIME_WAIT:
		th_close(h);
		TH_SEND(h, NULL, 0, .seq = IRS + 1, .ack = iss + 2, .flags = TH_FIN | TH_ACK,
		        .window = 65535);
		break;
	default:
		fail();
	}
	assert_int_equal(th_state(h), want);
	return th_conn(h)->rcv_nxt;
}

/*
 * RFC 9293 3.10.7.4, second check, with RFC 5961 3.2: a RST exactly at
 * RCV.NXT ends the connection in every synchronized state, without a reply;
 * a reset in the closing states (the peer was done anyway) counts as a
 * normal end.
 */
static void rst_at_rcv_nxt_ends_every_synchronized_state(void **state)
{
	static const struct {
		int state;
		bool reset; /* counted as a reset, not a normal end */
	} cases[] = {
	        {TCP_ESTABLISHED, true}, {TCP_FIN_WAIT_1, true}, {TCP_FIN_WAIT_2, true},
	        {TCP_CLOSE_WAIT, true},  {TCP_CLOSING, false},   {TCP_LAST_ACK, false},
	        {TCP_TIME_WAIT, false},
	};
	th_destroy(*state);
	for (unsigned i = 0; i < MIST_ARRAY_SIZE(cases); i++) {
		struct th *h = th_create(TH_MTU);
		th_listen(h);
		uint32_t iss = th_accept(h, IRS, TH_PLAIN);
		bool app_has_flow =
		        cases[i].state == TCP_ESTABLISHED || cases[i].state == TCP_CLOSE_WAIT;
		uint32_t rcv_nxt = reach(h, iss, cases[i].state);
		th_drain(h);

		TH_SEND(h, NULL, 0, .seq = rcv_nxt, .flags = TH_RST);
		th_expect_none(h);
		assert_int_equal(th_state(h), TCP_CLOSED);
		assert_int_equal(th_stats(h)->reset_rx, cases[i].reset ? 1 : 0);
		assert_int_equal(th_stats(h)->closed, cases[i].reset ? 0 : 1);
		if (app_has_flow) {
			assert_int_equal(mist_flow_error(h->flow), MIST_ECONNRESET);
			assert_int_equal(mist_flow_write(h->flow, "x", 1), MIST_ECONNRESET);
		}
		th_destroy(h);
	}
	*state = th_create(TH_MTU);
}

static void rst_ends_a_blocked_read_with_econnreset(void **state)
{
	struct th *h = *state;
	th_listen(h);
	th_accept(h, IRS, TH_PLAIN);
	th_start_reader(h);
	assert_false(h->read_done);

	TH_SEND(h, NULL, 0, .seq = IRS + 1, .flags = TH_RST);
	assert_true(h->read_done);
	assert_int_equal(h->read_error, MIST_ECONNRESET);
}

static void abort_sends_rst_and_frees_the_connection(void **state)
{
	struct th *h = *state;
	th_listen(h);
	uint32_t iss = th_accept(h, IRS, TH_PLAIN);
	th_write_pattern(h, 0, 100);
	th_drain(h);

	th_abort(h);
	/* Queued data is discarded: the RST is at SND.NXT, after the 100 bytes sent. */
	TH_EXPECT(h, 0, .flags = TH_RST | TH_ACK, .seq = iss + 101, .ack = IRS + 1,
	          .window = 65535);
	th_expect_none(h);
	assert_int_equal(th_state(h), TCP_CLOSED);
	assert_int_equal(th_stats(h)->aborted, 1);
	/* Its retransmission timer went with it. */
	th_advance(h, 10 * MIST_SEC);
	th_expect_none(h);
}

static void close_with_unread_data_resets(void **state)
{
	struct th *h = *state;
	th_listen(h);
	uint32_t iss = th_accept(h, IRS, TH_PLAIN);
	uint8_t data[100];
	th_pattern(data, 0, sizeof(data));
	TH_SEND(h, data, sizeof(data), .seq = IRS + 1, .ack = iss + 1, .flags = TH_ACK | TH_PSH,
	        .window = 65535);

	/* RFC 2525 2.17: the peer learns that what it sent was not read. */
	th_close(h);
	TH_EXPECT(h, 0, .flags = TH_RST | TH_ACK, .seq = iss + 1, .ack = IRS + 101,
	          .window = 65535);
	th_expect_none(h);
	assert_int_equal(th_state(h), TCP_CLOSED);
	th_advance(h, MIST_SEC);
	th_expect_none(h);
}

static void data_after_close_resets(void **state)
{
	struct th *h = *state;
	th_listen(h);
	uint32_t iss = th_accept(h, IRS, TH_PLAIN);
	reach(h, iss, TCP_FIN_WAIT_2);
	th_drain(h);

	/* RFC 9293 3.10.7.4 (seventh, FIN-WAIT states) with RFC 2525 2.17: nobody will read it. */
	TH_SEND(h, "data", 4, .seq = IRS + 1, .ack = iss + 2, .flags = TH_ACK | TH_PSH,
	        .window = 65535);
	TH_EXPECT(h, 0, .flags = TH_RST | TH_ACK, .seq = iss + 2, .ack = IRS + 1, .window = 65535);
	th_expect_none(h);
	assert_int_equal(th_state(h), TCP_CLOSED);
}

/* RFC 6191 without timestamps: a SYN above RCV.NXT may open a new incarnation. */
static void syn_above_rcv_nxt_reopens_from_time_wait(void **state)
{
	struct th *h = *state;
	th_listen(h);
	uint32_t iss = th_accept(h, IRS, TH_PLAIN);
	reach(h, iss, TCP_TIME_WAIT);
	th_drain(h);
	th_advance(h, 10 * MIST_SEC);

	/* An old duplicate SYN, at or below RCV.NXT, gets the TIME-WAIT ACK. */
	TH_SEND(h, NULL, 0, .seq = IRS, .flags = TH_SYN, .window = 65535, .mss = 1460);
	TH_EXPECT(h, 0, .flags = TH_ACK, .seq = iss + 2, .ack = IRS + 2, .window = 65535);
	assert_int_equal(th_state(h), TCP_TIME_WAIT);

	/* A SYN above it is a new connection, with a new ISN from the clock (RFC 6528). */
	uint32_t new_iss = th_isn(h);
	assert_true(seq_gt(new_iss, iss + 2));
	TH_SEND(h, NULL, 0, .seq = IRS + 100000, .flags = TH_SYN, .window = 65535, .mss = 1460);
	TH_EXPECT(h, 0, .flags = TH_SYN | TH_ACK, .seq = new_iss, .ack = IRS + 100001,
	          .window = 65535, .mss = 1460);
	th_expect_none(h);
	assert_int_equal(th_state(h), TCP_SYN_RECEIVED);
	assert_int_equal(th_stats(h)->closed, 1);
	TH_SEND(h, NULL, 0, .seq = IRS + 100001, .ack = new_iss + 1, .flags = TH_ACK,
	        .window = 65535);
	assert_int_equal(th_state(h), TCP_ESTABLISHED);
	assert_int_equal(h->accepted, 2);
}

/* RFC 6191 with timestamps: the TSval decides, whatever the sequence number. */
static void syn_with_newer_timestamp_reopens_from_time_wait(void **state)
{
	struct th *h = *state;
	th_listen(h);
	const struct th_opts ts = {.mss = 1460, .window = 65535, .ts = true, .ts_val = 100};
	uint32_t iss = th_accept(h, IRS, &ts);
	th_close(h);
	TH_EXPECT(h, 0, .flags = TH_FIN | TH_ACK, .seq = iss + 1, .ack = IRS + 1, .window = 65535,
	          .has_timestamps = true, .ts_val = 1000, .ts_ecr = 100);
	TH_SEND(h, NULL, 0, .seq = IRS + 1, .ack = iss + 2, .flags = TH_FIN | TH_ACK,
	        .window = 65535, .has_timestamps = true, .ts_val = 101, .ts_ecr = 1000);
	TH_EXPECT(h, 0, .flags = TH_ACK, .seq = iss + 2, .ack = IRS + 2, .window = 65535,
	          .has_timestamps = true, .ts_val = 1000, .ts_ecr = 101);
	assert_int_equal(th_state(h), TCP_TIME_WAIT);

	/* A higher sequence number with an older TSval: PAWS drops it (RFC 7323 5.3) with an ACK. */
	TH_SEND(h, NULL, 0, .seq = IRS + 100000, .flags = TH_SYN, .window = 65535, .mss = 1460,
	        .has_timestamps = true, .ts_val = 50);
	TH_EXPECT(h, 0, .flags = TH_ACK, .seq = iss + 2, .ack = IRS + 2, .window = 65535,
	          .has_timestamps = true, .ts_val = 1000, .ts_ecr = 101);
	assert_int_equal(th_state(h), TCP_TIME_WAIT);
	assert_int_equal(th_stats(h)->drop_paws, 1);

	/* A lower sequence number with a newer TSval opens the new incarnation. */
	uint32_t new_iss = th_isn(h);
	TH_SEND(h, NULL, 0, .seq = IRS - 5000, .flags = TH_SYN, .window = 65535, .mss = 1460,
	        .has_timestamps = true, .ts_val = 200);
	TH_EXPECT(h, 0, .flags = TH_SYN | TH_ACK, .seq = new_iss, .ack = IRS - 4999,
	          .window = 65535, .mss = 1460, .has_timestamps = true, .ts_val = 1000,
	          .ts_ecr = 200);
	assert_int_equal(th_state(h), TCP_SYN_RECEIVED);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(active_close_passes_fin_wait_and_time_wait,
	                                        th_setup, th_teardown),
	        cmocka_unit_test_setup_teardown(
	                fin_acking_our_fin_goes_from_fin_wait_1_to_time_wait, th_setup,
	                th_teardown),
	        cmocka_unit_test_setup_teardown(fin_wait_2_after_close_ends_after_its_limit,
	                                        th_setup, th_teardown),
	        cmocka_unit_test_setup_teardown(passive_close_passes_close_wait_and_last_ack,
	                                        th_setup, th_teardown),
	        cmocka_unit_test_setup_teardown(simultaneous_close_passes_closing, th_setup,
	                                        th_teardown),
	        cmocka_unit_test_setup_teardown(shut_write_still_receives_until_the_peers_fin,
	                                        th_setup, th_teardown),
	        cmocka_unit_test_setup_teardown(rst_at_rcv_nxt_ends_every_synchronized_state,
	                                        th_setup, th_teardown),
	        cmocka_unit_test_setup_teardown(rst_ends_a_blocked_read_with_econnreset, th_setup,
	                                        th_teardown),
	        cmocka_unit_test_setup_teardown(abort_sends_rst_and_frees_the_connection, th_setup,
	                                        th_teardown),
	        cmocka_unit_test_setup_teardown(close_with_unread_data_resets, th_setup,
	                                        th_teardown),
	        cmocka_unit_test_setup_teardown(data_after_close_resets, th_setup, th_teardown),
	        cmocka_unit_test_setup_teardown(syn_above_rcv_nxt_reopens_from_time_wait, th_setup,
	                                        th_teardown),
	        cmocka_unit_test_setup_teardown(syn_with_newer_timestamp_reopens_from_time_wait,
	                                        th_setup, th_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
