/*
 * Unit tests of TCP data transfer, segment in, segment out
 * (tcp_harness.h). Receiving: delayed ACKs, at least every second
 * full-sized segment and otherwise after 40 ms (RFC 5681 4.2, RFC 9293
 * 3.8.6.3); out-of-order data acknowledged at once with SACK blocks in the
 * order RFC 2018 4 prescribes, as many as fit; the offered window shrinking
 * as data waits, never moving its right edge back, refusing data past it,
 * and reopening by a window update once the application reads, subject to
 * receiver SWS avoidance (RFC 9293 3.8.6.2.2). Sending: the initial window
 * of RFC 6928 and slow start with byte counting (RFC 5681, RFC 3465),
 * Nagle and nodelay, the FIN riding on the last data, sender SWS avoidance
 * and its override timer, and zero-window probes with exponential backoff
 * (RFC 9293 3.8.6.1).
 */
#include "tcp_harness.h"

#define IRS 1000u
#define MSS 1460u

/* The peer's TH_PLAIN with SACK-permitted. */
#define SACK_PEER (&(const struct th_opts){.mss = 1460, .window = 65535, .sack = true})

/* The peer sends `len` bytes of the stream at stream offset `off` (sequence IRS + 1 + off). */
static void peer_data(struct th *h, uint32_t iss, uint32_t off, uint32_t len)
{
	uint8_t buf[MSS];
	assert_true(len <= sizeof(buf));
	th_pattern(buf, off, len);
	TH_SEND(h, buf, len, .seq = IRS + 1 + off, .ack = iss + 1, .flags = TH_ACK,
	        .window = 65535);
}

static void delayed_ack_every_second_full_segment_or_after_40ms(void **state)
{
	struct th *h = *state;
	th_listen(h);
	uint32_t iss = th_accept(h, IRS, TH_PLAIN);
	th_start_reader(h);

	peer_data(h, iss, 0, MSS);
	th_expect_none(h);
	peer_data(h, iss, MSS, MSS);
	TH_EXPECT(h, 0, .flags = TH_ACK, .seq = iss + 1, .ack = IRS + 1 + 2 * MSS, .window = 65535);
	th_expect_none(h);

	/* A lone small segment, PSH or not, waits for the timer. */
	th_advance(h, 5 * MIST_MSEC);
	TH_SEND(h, "tail", 4, .seq = IRS + 1 + 2 * MSS, .ack = iss + 1, .flags = TH_ACK | TH_PSH,
	        .window = 65535);
	th_run_until(h, TH_T0 + 45 * MIST_MSEC - 1);
	th_expect_none(h);
	th_advance(h, 1);
	const struct th_seg *g = TH_EXPECT(h, 0, .flags = TH_ACK, .seq = iss + 1,
	                                   .ack = IRS + 5 + 2 * MSS, .window = 65535);
	assert_int_equal(g->at, TH_T0 + 45 * MIST_MSEC);
	assert_int_equal(th_stats(h)->delayed_acks, 1);
	assert_int_equal(h->rx_len, 2 * MSS + 4);
	assert_int_equal(th_stats(h)->rx_bytes, 2 * MSS + 4);
}

static void out_of_order_data_gets_sack_blocks_most_recent_first(void **state)
{
	struct th *h = *state;
	th_listen(h);
	uint32_t iss = th_accept(h, IRS, SACK_PEER);
	th_start_reader(h);
	const uint32_t B = IRS + 1;

	/* RFC 5681 4.2: an immediate ACK; RFC 2018 4: the first block holds the newest segment. */
	peer_data(h, iss, 200, 100);
	TH_EXPECT(h, 0, .flags = TH_ACK, .seq = iss + 1, .ack = B, .window = 65535, .sack_count = 1,
	          .sack = {{B + 200, B + 300}});
	peer_data(h, iss, 400, 100);
	TH_EXPECT(h, 0, .flags = TH_ACK, .seq = iss + 1, .ack = B, .window = 65535, .sack_count = 2,
	          .sack = {{B + 400, B + 500}, {B + 200, B + 300}});
	peer_data(h, iss, 600, 100);
	TH_EXPECT(h, 0, .flags = TH_ACK, .seq = iss + 1, .ack = B, .window = 65535, .sack_count = 3,
	          .sack = {{B + 600, B + 700}, {B + 400, B + 500}, {B + 200, B + 300}});
	/* Joining two blocks: the merged one comes first, the others by recency. */
	peer_data(h, iss, 300, 100);
	TH_EXPECT(h, 0, .flags = TH_ACK, .seq = iss + 1, .ack = B, .window = 65535, .sack_count = 2,
	          .sack = {{B + 200, B + 500}, {B + 600, B + 700}});
	assert_int_equal(th_stats(h)->ooo_segments, 4);
	assert_int_equal(h->rx_len, 0);

	/* Filling the first hole: an immediate cumulative ACK with what is still held. */
	peer_data(h, iss, 0, 200);
	TH_EXPECT(h, 0, .flags = TH_ACK, .seq = iss + 1, .ack = B + 500, .window = 65535,
	          .sack_count = 1, .sack = {{B + 600, B + 700}});
	peer_data(h, iss, 500, 100);
	TH_EXPECT(h, 0, .flags = TH_ACK, .seq = iss + 1, .ack = B + 700, .window = 65535);
	th_expect_none(h);

	uint8_t want[700];
	th_pattern(want, 0, sizeof(want));
	assert_int_equal(h->rx_len, 700);
	assert_memory_equal(h->rx, want, 700);
}

static void sack_blocks_are_limited_to_what_the_header_holds(void **state)
{
	struct th *h = *state;
	th_listen(h);
	uint32_t iss = th_accept(h, IRS, SACK_PEER);
	const uint32_t B = IRS + 1;

	/* Five islands: 40 option bytes hold four blocks (RFC 2018 3), the oldest is left out. */
	for (uint32_t i = 1; i <= 5; i++) {
		peer_data(h, iss, 200 * i, 100);
		th_next(h);
	}
	peer_data(h, iss, 1200, 100);
	TH_EXPECT(h, 0, .flags = TH_ACK, .seq = iss + 1, .ack = B, .window = 65535, .sack_count = 4,
	          .sack = {{B + 1200, B + 1300},
	                   {B + 1000, B + 1100},
	                   {B + 800, B + 900},
	                   {B + 600, B + 700}});
}

static void sack_blocks_with_timestamps_are_three(void **state)
{
	struct th *h = *state;
	th_listen(h);
	const struct th_opts o = {
	        .mss = 1460, .window = 65535, .sack = true, .ts = true, .ts_val = 9};
	uint32_t iss = th_accept(h, IRS, &o);
	const uint32_t B = IRS + 1;

	for (uint32_t i = 1; i <= 4; i++) {
		uint8_t buf[100];
		th_pattern(buf, 200 * i, sizeof(buf));
		TH_SEND(h, buf, sizeof(buf), .seq = B + 200 * i, .ack = iss + 1, .flags = TH_ACK,
		        .window = 65535, .has_timestamps = true, .ts_val = 10 + i, .ts_ecr = 1000);
	}
	th_drain(h);
	TH_SEND(h, "z", 1, .seq = B + 1000, .ack = iss + 1, .flags = TH_ACK, .window = 65535,
	        .has_timestamps = true, .ts_val = 20, .ts_ecr = 1000);
	/* Timestamps take 12 of the 40 option bytes: three blocks (RFC 2018 3). */
	TH_EXPECT(h, 0, .flags = TH_ACK, .seq = iss + 1, .ack = B, .window = 65535,
	          .has_timestamps = true, .ts_val = 1000, .ts_ecr = 9, .sack_count = 3,
	          .sack = {{B + 1000, B + 1001}, {B + 800, B + 900}, {B + 600, B + 700}});
}

static void window_closes_as_data_waits_and_reopens_after_reading(void **state)
{
	struct th *h = *state;
	th_listen(h);
	uint32_t iss = th_accept(h, IRS, TH_PLAIN);
	assert_int_equal(mist_flow_set_buffers(h->flow, 0, 4096), 0);

	/*
	 * 65535 bytes were offered in the SYN-ACK. The buffer is now 4096, but a
	 * window once offered is not taken back (RFC 9293 3.8.6): the window
	 * falls only as the data fills it, down to zero.
	 */
	uint32_t off = 0;
	while (off < 65535) {
		uint32_t n = MIST_MIN(MSS, 65535 - off);
		peer_data(h, iss, off, n);
		off += n;
		if (off % (2 * MSS) == 0)
			TH_EXPECT(h, 0, .flags = TH_ACK, .seq = iss + 1, .ack = IRS + 1 + off,
			          .window = 65535 - off);
	}
	th_expect_none(h);
	th_advance(h, 40 * MIST_MSEC);
	TH_EXPECT(h, 0, .flags = TH_ACK, .seq = iss + 1, .ack = IRS + 65536, .window = 0);

	/* Data past the window is refused, with an ACK (RFC 9293 3.10.7.4, first check). */
	TH_SEND(h, "x", 1, .seq = IRS + 65536, .ack = iss + 1, .flags = TH_ACK, .window = 65535);
	TH_EXPECT(h, 0, .flags = TH_ACK, .seq = iss + 1, .ack = IRS + 65536, .window = 0);
	assert_int_equal(th_stats(h)->drop_out_of_window, 1);

	/*
	 * Reading: the window stays shut while more than the 4096-byte buffer
	 * waits, and opens once it can move by at least min(buffer / 2, MSS)
	 * (RFC 9293 3.8.6.2.2); the update is sent when it grew by at least
	 * min(buffer / 2, 2 * MSS). With 1295 bytes left unread that is
	 * 4096 - 1295 = 2801 bytes.
	 */
	uint8_t *buf = malloc(65535);
	assert_non_null(buf);
	uint32_t got = 0;
	struct tcp_conn *c = tcp_conn_of(h->flow);
	while (c->rcvq != NULL) {
		struct mist_buf *b;
		assert_int_equal(mist_flow_read_deadline(h->flow, MIST_FOREVER, &b), 0);
		assert_int_equal(mist_buf_copyout(b, 0, buf + got, b->len), 0);
		got += b->len;
		mist_buf_free(b);
		if (got < 65535 - 1295)
			th_expect_none(h);
		else if (got == 65535 - 1295)
			TH_EXPECT(h, 0, .flags = TH_ACK, .seq = iss + 1, .ack = IRS + 65536,
			          .window = 2801);
	}
	th_expect_none(h);
	assert_int_equal(got, 65535);
	for (uint32_t i = 0; i < got; i++)
		assert_int_equal(buf[i], th_byte(i));
	free(buf);
}

static void initial_window_is_ten_segments_then_slow_start(void **state)
{
	struct th *h = *state;
	th_listen(h);
	uint32_t iss = th_accept(h, IRS, TH_PLAIN);

	/* RFC 6928: min(10 * 1460, max(2 * 1460, 14600)) = 14600 bytes. */
	th_write_pattern(h, 0, 40000);
	for (uint32_t i = 0; i < 10; i++)
		th_assert_pattern(TH_EXPECT(h, MSS, .flags = TH_ACK, .seq = iss + 1 + i * MSS,
		                            .ack = IRS + 1, .window = 65535),
		                  i * MSS);
	th_expect_none(h);

	/*
	 * An ACK of two segments: slow start grows cwnd by the bytes acknowledged,
	 * at most 2 * SMSS (RFC 3465 2.2): 12 segments, 8 in flight, 4 go.
	 */
	TH_SEND(h, NULL, 0, .seq = IRS + 1, .ack = iss + 1 + 2 * MSS, .flags = TH_ACK,
	        .window = 65535);
	for (uint32_t i = 10; i < 14; i++)
		TH_EXPECT(h, MSS, .flags = TH_ACK, .seq = iss + 1 + i * MSS, .ack = IRS + 1,
		          .window = 65535);
	th_expect_none(h);
}

static void nagle_holds_small_segments_unless_nodelay(void **state)
{
	struct th *h = *state;
	th_listen(h);
	uint32_t iss = th_accept(h, IRS, TH_PLAIN);

	/* RFC 896: one small segment may be in flight; the next waits for its ACK. */
	th_write_pattern(h, 0, 100);
	TH_EXPECT(h, 100, .flags = TH_ACK | TH_PSH, .seq = iss + 1, .ack = IRS + 1,
	          .window = 65535);
	th_write_pattern(h, 100, 100);
	th_write_pattern(h, 200, 100);
	th_expect_none(h);
	TH_SEND(h, NULL, 0, .seq = IRS + 1, .ack = iss + 101, .flags = TH_ACK, .window = 65535);
	th_assert_pattern(TH_EXPECT(h, 200, .flags = TH_ACK | TH_PSH, .seq = iss + 101,
	                            .ack = IRS + 1, .window = 65535),
	                  100);

	assert_int_equal(mist_flow_set_nodelay(h->flow, true), 0);
	th_write_pattern(h, 300, 100);
	TH_EXPECT(h, 100, .flags = TH_ACK | TH_PSH, .seq = iss + 301, .ack = IRS + 1,
	          .window = 65535);
	th_write_pattern(h, 400, 100);
	TH_EXPECT(h, 100, .flags = TH_ACK | TH_PSH, .seq = iss + 401, .ack = IRS + 1,
	          .window = 65535);
}

static void fin_rides_on_the_last_data_segment(void **state)
{
	struct th *h = *state;
	th_listen(h);
	uint32_t iss = th_accept(h, IRS, TH_PLAIN);
	th_write_pattern(h, 0, 2000);
	TH_EXPECT(h, MSS, .flags = TH_ACK, .seq = iss + 1, .ack = IRS + 1, .window = 65535);
	th_expect_none(h);

	/* Closing releases the held tail at once, with the FIN on it. */
	th_close(h);
	TH_EXPECT(h, 540, .flags = TH_ACK | TH_PSH | TH_FIN, .seq = iss + 1461, .ack = IRS + 1,
	          .window = 65535);
	th_expect_none(h);
	TH_SEND(h, NULL, 0, .seq = IRS + 1, .ack = iss + 2002, .flags = TH_ACK, .window = 65535);
	assert_int_equal(th_state(h), TCP_FIN_WAIT_2);
}

static void small_window_waits_for_the_sws_override_timer(void **state)
{
	struct th *h = *state;
	th_listen(h);
	uint32_t iss = th_accept(h, IRS, TH_PLAIN);
	th_write_pattern(h, 0, 2000);
	TH_EXPECT(h, MSS, .flags = TH_ACK, .seq = iss + 1, .ack = IRS + 1, .window = 65535);

	/*
	 * The peer takes the segment but offers 300 bytes: less than an MSS and
	 * less than half its largest window, so RFC 9293 3.8.6.2.1 holds the
	 * 540 bytes back; the override timeout (the persist timer: the 200 ms
	 * minimum RTO here) sends what fits.
	 */
	TH_SEND(h, NULL, 0, .seq = IRS + 1, .ack = iss + 1461, .flags = TH_ACK, .window = 300);
	th_expect_none(h);
	th_advance(h, 200 * MIST_MSEC);
	const struct th_seg *g = TH_EXPECT(h, 300, .flags = TH_ACK, .seq = iss + 1461,
	                                   .ack = IRS + 1, .window = 65535);
	th_assert_pattern(g, MSS);
	assert_int_equal(g->at, TH_T0 + 200 * MIST_MSEC);
	th_expect_none(h);
}

static void zero_window_is_probed_with_backoff(void **state)
{
	struct th *h = *state;
	th_listen(h);
	const struct th_opts shut = {.mss = 1460, .window = 0};
	uint32_t iss = th_accept(h, IRS, &shut);

	th_write_pattern(h, 0, 100);
	th_expect_none(h);

	/*
	 * RFC 9293 3.8.6.1: probes while the window is zero, the interval
	 * starting at the RTO (200 ms: the handshake took no time) and doubling:
	 * at 0.2, 0.6, 1.4, 3.0 and 6.2 s. The probe is an ACK one below
	 * SND.UNA, which the peer must answer with its window.
	 */
	th_advance(h, 7 * MIST_SEC);
	static const unsigned at_ms[] = {200, 600, 1400, 3000, 6200};
	for (unsigned i = 0; i < MIST_ARRAY_SIZE(at_ms); i++) {
		const struct th_seg *g = TH_EXPECT(h, 0, .flags = TH_ACK, .seq = iss,
		                                   .ack = IRS + 1, .window = 65535);
		assert_int_equal(g->at, TH_T0 + at_ms[i] * MIST_MSEC);
	}
	th_expect_none(h);
	assert_int_equal(th_stats(h)->persist_probes, 5);
	assert_int_equal(th_state(h), TCP_ESTABLISHED);

	/* The window opens: the data goes, and its retransmission timer is the plain RTO. */
	TH_SEND(h, NULL, 0, .seq = IRS + 1, .ack = iss + 1, .flags = TH_ACK, .window = 65535);
	th_assert_pattern(TH_EXPECT(h, 100, .flags = TH_ACK | TH_PSH, .seq = iss + 1,
	                            .ack = IRS + 1, .window = 65535),
	                  0);
	th_advance(h, 200 * MIST_MSEC);
	TH_EXPECT(h, 100, .flags = TH_ACK | TH_PSH, .seq = iss + 1, .ack = IRS + 1,
	          .window = 65535);
}

/*
 * A segment sent but not yet gone (held in a device queue until the flush,
 * or here waiting for ARP to resolve the peer again) keeps a view of the
 * send buffer it was cut from; a write meanwhile must not grow that buffer
 * in place.
 */
static void write_while_a_sent_segment_still_holds_the_buffer(void **state)
{
	struct th *h = *state;
	th_listen(h);
	uint32_t iss = th_accept(h, IRS, TH_PLAIN);
	assert_int_equal(mist_flow_set_nodelay(h->flow, true), 0);

	/* The peer's ARP entry expires after 60 s unused; the next segment waits for a reply. */
	th_advance(h, 61 * MIST_SEC);
	uint64_t requests = h->s->stats.arp.tx_request;
	th_write_pattern(h, 0, 100);
	assert_int_equal(h->s->stats.arp.tx_request, requests + 1);
	th_expect_none(h);
	th_write_pattern(h, 100, 100);

	th_settle(h);
	th_assert_pattern(TH_EXPECT(h, 100, .flags = TH_ACK | TH_PSH, .seq = iss + 1,
	                            .ack = IRS + 1, .window = 65535),
	                  0);
	th_assert_pattern(TH_EXPECT(h, 100, .flags = TH_ACK | TH_PSH, .seq = iss + 101,
	                            .ack = IRS + 1, .window = 65535),
	                  100);
	th_expect_none(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(delayed_ack_every_second_full_segment_or_after_40ms,
	                                        th_setup, th_teardown),
	        cmocka_unit_test_setup_teardown(
	                out_of_order_data_gets_sack_blocks_most_recent_first, th_setup,
	                th_teardown),
	        cmocka_unit_test_setup_teardown(sack_blocks_are_limited_to_what_the_header_holds,
	                                        th_setup, th_teardown),
	        cmocka_unit_test_setup_teardown(sack_blocks_with_timestamps_are_three, th_setup,
	                                        th_teardown),
	        cmocka_unit_test_setup_teardown(
	                window_closes_as_data_waits_and_reopens_after_reading, th_setup,
	                th_teardown),
	        cmocka_unit_test_setup_teardown(initial_window_is_ten_segments_then_slow_start,
	                                        th_setup, th_teardown),
	        cmocka_unit_test_setup_teardown(nagle_holds_small_segments_unless_nodelay, th_setup,
	                                        th_teardown),
	        cmocka_unit_test_setup_teardown(fin_rides_on_the_last_data_segment, th_setup,
	                                        th_teardown),
	        cmocka_unit_test_setup_teardown(small_window_waits_for_the_sws_override_timer,
	                                        th_setup, th_teardown),
	        cmocka_unit_test_setup_teardown(zero_window_is_probed_with_backoff, th_setup,
	                                        th_teardown),
	        cmocka_unit_test_setup_teardown(write_while_a_sent_segment_still_holds_the_buffer,
	                                        th_setup, th_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
