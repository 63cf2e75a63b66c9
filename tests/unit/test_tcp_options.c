/*
 * Unit tests of TCP option negotiation, segment in, segment out
 * (tcp_harness.h): the MSS option clamped to the device MTU both ways
 * (RFC 9293 3.7.1, RFC 6691); window scaling used only when both SYNs
 * carry it (RFC 7323 2); SACK-permitted echoed only when offered, and SACK
 * blocks only then (RFC 2018 2); timestamps on every segment once agreed,
 * TSecr echoing the segment at the left edge (RFC 7323 4.3), and PAWS
 * dropping old duplicates but not a RST, nor anything after 24 days of
 * idleness (RFC 7323 5).
 */
#include "tcp_harness.h"

#define IRS 1000u

static int setup_mtu_1280(void **state)
{
	*state = th_create(1280);
	return 0;
}

static void mss_is_clamped_to_the_mtu(void **state)
{
	struct th *h = *state;
	th_listen(h);
	/* 1280 less 20 bytes of IPv4 and 20 of TCP header. */
	TH_SEND(h, NULL, 0, .seq = IRS, .flags = TH_SYN, .window = 65535, .mss = 1460);
	uint32_t iss = TH_EXPECT(h, 0, .flags = TH_SYN | TH_ACK, .seq = th_isn(h), .ack = IRS + 1,
	                         .window = 65535, .mss = 1240)
	                       ->r.seq;
	TH_SEND(h, NULL, 0, .seq = IRS + 1, .ack = iss + 1, .flags = TH_ACK, .window = 65535);

	/* The peer takes 1460, our MTU carries 1240: segments of 1240. */
	th_write_pattern(h, 0, 3000);
	th_assert_pattern(TH_EXPECT(h, 1240, .flags = TH_ACK, .seq = iss + 1, .ack = IRS + 1,
	                            .window = 65535),
	                  0);
	th_assert_pattern(TH_EXPECT(h, 1240, .flags = TH_ACK, .seq = iss + 1241, .ack = IRS + 1,
	                            .window = 65535),
	                  1240);
	th_expect_none(h);

	/* The other way round: a peer taking less than our MTU gets segments of its MSS. */
	h->rport = TH_PEER_PORT + 1;
	TH_SEND(h, NULL, 0, .seq = IRS, .flags = TH_SYN, .window = 65535, .mss = 1000);
	iss = TH_EXPECT(h, 0, .flags = TH_SYN | TH_ACK, .seq = th_isn(h), .ack = IRS + 1,
	                .window = 65535, .mss = 1240)
	              ->r.seq;
	TH_SEND(h, NULL, 0, .seq = IRS + 1, .ack = iss + 1, .flags = TH_ACK, .window = 65535);
	th_write_pattern(h, 0, 3000);
	TH_EXPECT(h, 1000, .flags = TH_ACK, .seq = iss + 1, .ack = IRS + 1, .window = 65535);
	TH_EXPECT(h, 1000, .flags = TH_ACK, .seq = iss + 1001, .ack = IRS + 1, .window = 65535);
	TH_EXPECT(h, 1000, .flags = TH_ACK | TH_PSH, .seq = iss + 2001, .ack = IRS + 1,
	          .window = 65535);
}

static void active_open_offers_the_mtu_mss(void **state)
{
	struct th *h = *state;
	th_connect_start(h, MIST_FOREVER);
	TH_EXPECT(h, 0, .flags = TH_SYN, .seq = th_isn(h), .window = 65535, .mss = 1240,
	          .has_wscale = true, .wscale = 8, .sack_permitted = true, .has_timestamps = true,
	          .ts_val = 1000);
}

static void window_scale_applies_when_both_offer_it(void **state)
{
	struct th *h = *state;
	th_listen(h);
	const struct th_opts ws = {.mss = 1460, .window = 65535, .wscale = true, .shift = 2};
	uint32_t iss = th_accept(h, IRS, &ws);

	/* Our window is 256 KiB >> 8. The peer's 1000 means 4000 bytes (RFC 7323 2.3). */
	TH_SEND(h, NULL, 0, .seq = IRS + 1, .ack = iss + 1, .flags = TH_ACK, .window = 1000);
	th_write_pattern(h, 0, 10000);
	TH_EXPECT(h, 1460, .flags = TH_ACK, .seq = iss + 1, .ack = IRS + 1, .window = 1024);
	TH_EXPECT(h, 1460, .flags = TH_ACK, .seq = iss + 1461, .ack = IRS + 1, .window = 1024);
	/* The 1080 bytes left in the window are less than half the largest window seen: SWS. */
	th_expect_none(h);

	/* The window field of a SYN itself is never scaled (RFC 7323 2.2): checked above (65535). */
	TH_SEND(h, NULL, 0, .seq = IRS + 1, .ack = iss + 2921, .flags = TH_ACK, .window = 2000);
	TH_EXPECT(h, 1460, .flags = TH_ACK, .seq = iss + 2921, .ack = IRS + 1, .window = 1024);
	TH_EXPECT(h, 1460, .flags = TH_ACK, .seq = iss + 4381, .ack = IRS + 1, .window = 1024);
	TH_EXPECT(h, 1460, .flags = TH_ACK, .seq = iss + 5841, .ack = IRS + 1, .window = 1024);
	TH_EXPECT(h, 1460, .flags = TH_ACK, .seq = iss + 7301, .ack = IRS + 1, .window = 1024);
	th_expect_none(h);
}

static void window_scale_is_off_when_the_peer_does_not_offer_it(void **state)
{
	struct th *h = *state;
	th_listen(h);
	TH_SEND(h, NULL, 0, .seq = IRS, .flags = TH_SYN, .window = 65535, .mss = 1460);
	uint32_t iss = TH_EXPECT(h, 0, .flags = TH_SYN | TH_ACK, .seq = th_isn(h), .ack = IRS + 1,
	                         .window = 65535, .mss = 1460)
	                       ->r.seq;
	TH_SEND(h, NULL, 0, .seq = IRS + 1, .ack = iss + 1, .flags = TH_ACK, .window = 1000);

	/* Unscaled both ways: our 256 KiB shows as 65535, the peer's 1000 is 1000 bytes. */
	th_write_pattern(h, 0, 10000);
	TH_EXPECT(h, 1000, .flags = TH_ACK, .seq = iss + 1, .ack = IRS + 1, .window = 65535);
	th_expect_none(h);
}

static void sack_blocks_only_when_sack_was_permitted(void **state)
{
	struct th *h = *state;
	th_listen(h);
	uint32_t iss = th_accept(h, IRS, TH_PLAIN);

	/* Out-of-order data gets an immediate duplicate ACK (RFC 5681 4.2), with no SACK option. */
	TH_SEND(h, "later", 5, .seq = IRS + 101, .ack = iss + 1, .flags = TH_ACK, .window = 65535);
	TH_EXPECT(h, 0, .flags = TH_ACK, .seq = iss + 1, .ack = IRS + 1, .window = 65535);
	th_expect_none(h);
}

static void timestamps_echo_the_segment_at_the_left_edge(void **state)
{
	struct th *h = *state;
	th_listen(h);
	const struct th_opts ts = {.mss = 1460, .window = 65535, .ts = true, .ts_val = 100};
	uint32_t iss = th_accept(h, IRS, &ts);

	/* Two full segments (1448 bytes each with timestamps): the ACK goes at once. */
	uint8_t data[2 * 1448];
	th_pattern(data, 0, sizeof(data));
	th_advance(h, 10 * MIST_MSEC);
	TH_SEND(h, data, 1448, .seq = IRS + 1, .ack = iss + 1, .flags = TH_ACK, .window = 65535,
	        .has_timestamps = true, .ts_val = 200, .ts_ecr = 1000);
	th_expect_none(h);
	TH_SEND(h, data + 1448, 1448, .seq = IRS + 1449, .ack = iss + 1, .flags = TH_ACK,
	        .window = 65535, .has_timestamps = true, .ts_val = 201, .ts_ecr = 1000);
	/* RFC 7323 4.3: a delayed ACK echoes the earlier segment's TSval, 200. */
	TH_EXPECT(h, 0, .flags = TH_ACK, .seq = iss + 1, .ack = IRS + 2897, .window = 65535,
	          .has_timestamps = true, .ts_val = 1010, .ts_ecr = 200);

	/* An out-of-order segment does not move TS.Recent: the duplicate ACK still echoes 200. */
	TH_SEND(h, "x", 1, .seq = IRS + 3000, .ack = iss + 1, .flags = TH_ACK, .window = 65535,
	        .has_timestamps = true, .ts_val = 300, .ts_ecr = 1000);
	TH_EXPECT(h, 0, .flags = TH_ACK, .seq = iss + 1, .ack = IRS + 2897, .window = 65535,
	          .has_timestamps = true, .ts_val = 1010, .ts_ecr = 200);

	/*
	 * The next in-order segment does; it fills part of the gap, so it is
	 * acknowledged at once (RFC 5681 4.2).
	 */
	TH_SEND(h, "y", 1, .seq = IRS + 2897, .ack = iss + 1, .flags = TH_ACK, .window = 65535,
	        .has_timestamps = true, .ts_val = 301, .ts_ecr = 1000);
	TH_EXPECT(h, 0, .flags = TH_ACK, .seq = iss + 1, .ack = IRS + 2898, .window = 65535,
	          .has_timestamps = true, .ts_val = 1010, .ts_ecr = 301);
}

static void paws_drops_an_old_duplicate_but_not_a_rst(void **state)
{
	struct th *h = *state;
	th_listen(h);
	const struct th_opts ts = {.mss = 1460, .window = 65535, .ts = true, .ts_val = 100};
	uint32_t iss = th_accept(h, IRS, &ts);
	th_start_reader(h);

	/* RFC 7323 5.3: TSval 99 < TS.Recent 100: dropped, counted and acknowledged. */
	TH_SEND(h, "old", 3, .seq = IRS + 1, .ack = iss + 1, .flags = TH_ACK, .window = 65535,
	        .has_timestamps = true, .ts_val = 99, .ts_ecr = 1000);
	TH_EXPECT(h, 0, .flags = TH_ACK, .seq = iss + 1, .ack = IRS + 1, .window = 65535,
	          .has_timestamps = true, .ts_val = 1000, .ts_ecr = 100);
	assert_int_equal(h->rx_len, 0);
	assert_int_equal(th_stats(h)->drop_paws, 1);

	/* An equal TSval passes (RFC 7323 5.3 R1 drops only older ones). */
	TH_SEND(h, "new", 3, .seq = IRS + 1, .ack = iss + 1, .flags = TH_ACK, .window = 65535,
	        .has_timestamps = true, .ts_val = 100, .ts_ecr = 1000);
	assert_int_equal(h->rx_len, 3);
	assert_memory_equal(h->rx, "new", 3);

	/* RFC 7323 5.3 R1 applies only with RST off: an old TSval does not save a connection. */
	TH_SEND(h, NULL, 0, .seq = IRS + 4, .flags = TH_RST, .has_timestamps = true, .ts_val = 1);
	assert_int_equal(th_state(h), TCP_CLOSED);
	assert_int_equal(h->read_error, MIST_ECONNRESET);
}

static void paws_is_not_applied_after_24_days_idle(void **state)
{
	struct th *h = *state;
	th_listen(h);
	const struct th_opts ts = {.mss = 1460, .window = 65535, .ts = true, .ts_val = 100000};
	uint32_t iss = th_accept(h, IRS, &ts);
	th_start_reader(h);

	/* RFC 7323 5.5: TS.Recent is invalid after 24 days; the peer's clock may have wrapped. */
	th_advance(h, 24ull * 24 * 3600 * MIST_SEC);
	TH_SEND(h, "wrapped", 7, .seq = IRS + 1, .ack = iss + 1, .flags = TH_ACK, .window = 65535,
	        .has_timestamps = true, .ts_val = 5, .ts_ecr = 1000);
	assert_int_equal(h->rx_len, 7);
	assert_int_equal(th_stats(h)->drop_paws, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(mss_is_clamped_to_the_mtu, setup_mtu_1280,
	                                        th_teardown),
	        cmocka_unit_test_setup_teardown(active_open_offers_the_mtu_mss, setup_mtu_1280,
	                                        th_teardown),
	        cmocka_unit_test_setup_teardown(window_scale_applies_when_both_offer_it, th_setup,
	                                        th_teardown),
	        cmocka_unit_test_setup_teardown(window_scale_is_off_when_the_peer_does_not_offer_it,
	                                        th_setup, th_teardown),
	        cmocka_unit_test_setup_teardown(sack_blocks_only_when_sack_was_permitted, th_setup,
	                                        th_teardown),
	        cmocka_unit_test_setup_teardown(timestamps_echo_the_segment_at_the_left_edge,
	                                        th_setup, th_teardown),
	        cmocka_unit_test_setup_teardown(paws_drops_an_old_duplicate_but_not_a_rst, th_setup,
	                                        th_teardown),
	        cmocka_unit_test_setup_teardown(paws_is_not_applied_after_24_days_idle, th_setup,
	                                        th_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
