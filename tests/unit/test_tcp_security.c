/*
 * Unit tests of TCP against blind and off-path attacks and of its answers
 * to the network, segment in, segment out (tcp_harness.h): RFC 5961's
 * challenge ACKs for an in-window RST or SYN, its ACK-range check and the
 * rate limit on challenges; SYN cookies (RFC 4987) once a listener's
 * backlog is full, which make a connection from the right ACK and a RST
 * from a wrong one; the two forms of RST for a closed port (RFC 9293
 * 3.10.7.1) and their rate limit; ICMP errors, hard in SYN-SENT and soft
 * when established (RFC 1122 4.2.3.9, RFC 5461), only about data in flight
 * (RFC 5927); and sequence numbers that wrap past 2^32 on both sides.
 */
#include "tcp_harness.h"
#include "wire/icmp.h"

#define IRS 1000u
#define MSS 1460u

/* --- RFC 5961 -------------------------------------------------------------- */

static void in_window_rst_gets_a_challenge_ack(void **state)
{
	struct th *h = *state;
	th_listen(h);
	uint32_t iss = th_accept(h, IRS, TH_PLAIN);

	/* RFC 5961 3.2: in the window but not at RCV.NXT: a challenge ACK, the connection stays. */
	TH_SEND(h, NULL, 0, .seq = IRS + 1 + 5000, .flags = TH_RST);
	TH_EXPECT(h, 0, .flags = TH_ACK, .seq = iss + 1, .ack = IRS + 1, .window = 65535);
	th_expect_none(h);
	assert_int_equal(th_state(h), TCP_ESTABLISHED);
	assert_int_equal(th_stats(h)->challenge_acks, 1);

	/* Outside the window: dropped without a word (RFC 9293 3.10.7.4, first check). */
	TH_SEND(h, NULL, 0, .seq = IRS + 1 + 70000, .flags = TH_RST);
	th_expect_none(h);
	assert_int_equal(th_state(h), TCP_ESTABLISHED);

	/* Exactly at RCV.NXT: the reset. */
	TH_SEND(h, NULL, 0, .seq = IRS + 1, .flags = TH_RST);
	th_expect_none(h);
	assert_int_equal(th_state(h), TCP_CLOSED);
	assert_int_equal(th_stats(h)->reset_rx, 1);
}

static void syn_in_a_synchronized_state_gets_a_challenge_ack(void **state)
{
	struct th *h = *state;
	th_listen(h);
	uint32_t iss = th_accept(h, IRS, TH_PLAIN);

	/* RFC 5961 4.2: whatever its sequence number in the window, RCV.NXT included. */
	TH_SEND(h, NULL, 0, .seq = IRS + 1, .flags = TH_SYN, .window = 65535, .mss = 1460);
	TH_EXPECT(h, 0, .flags = TH_ACK, .seq = iss + 1, .ack = IRS + 1, .window = 65535);
	TH_SEND(h, NULL, 0, .seq = IRS + 30000, .flags = TH_SYN, .window = 65535, .mss = 1460);
	TH_EXPECT(h, 0, .flags = TH_ACK, .seq = iss + 1, .ack = IRS + 1, .window = 65535);
	th_expect_none(h);
	assert_int_equal(th_state(h), TCP_ESTABLISHED);
	assert_int_equal(th_stats(h)->challenge_acks, 2);
}

static void ack_outside_the_acceptable_range_is_dropped(void **state)
{
	struct th *h = *state;
	th_listen(h);
	uint32_t iss = th_accept(h, IRS, TH_PLAIN);
	th_start_reader(h);
	th_write_pattern(h, 0, 100);
	th_drain(h);

	/* RFC 5961 5.2: acknowledging data never sent: dropped, data and all, with an ACK. */
	TH_SEND(h, "evil", 4, .seq = IRS + 1, .ack = iss + 102, .flags = TH_ACK, .window = 65535);
	TH_EXPECT(h, 0, .flags = TH_ACK, .seq = iss + 101, .ack = IRS + 1, .window = 65535);
	assert_int_equal(h->rx_len, 0);
	assert_int_equal(th_stats(h)->drop_bad_ack, 1);

	/* Below SND.UNA - MAX.SND.WND (65535): dropped with a challenge ACK. */
	TH_SEND(h, "evil", 4, .seq = IRS + 1, .ack = iss + 1 - 65536, .flags = TH_ACK,
	        .window = 65535);
	TH_EXPECT(h, 0, .flags = TH_ACK, .seq = iss + 101, .ack = IRS + 1, .window = 65535);
	assert_int_equal(h->rx_len, 0);
	assert_int_equal(th_stats(h)->drop_bad_ack, 2);
	assert_int_equal(th_stats(h)->challenge_acks, 1);

	/* An old ACK within the range is fine: its data is taken. */
	TH_SEND(h, "good", 4, .seq = IRS + 1, .ack = iss + 1 - 65535, .flags = TH_ACK,
	        .window = 65535);
	assert_int_equal(h->rx_len, 4);
	assert_memory_equal(h->rx, "good", 4);
	th_expect_none(h); /* the data's ACK is delayed */
}

static void challenge_acks_are_rate_limited(void **state)
{
	struct th *h = *state;
	th_listen(h);
	th_accept(h, IRS, TH_PLAIN);

	/* RFC 5961 7: at most TCP_CHALLENGE_ACKS (100) a second for the whole stack. */
	for (unsigned i = 0; i < 101; i++)
		TH_SEND(h, NULL, 0, .seq = IRS + 1 + 1000 + i, .flags = TH_RST);
	assert_int_equal(th_pending(h), 100);
	th_drain(h);
	assert_int_equal(th_stats(h)->challenge_acks, 100);
	assert_int_equal(th_stats(h)->challenge_limited, 1);

	/* The next second brings new tokens. */
	th_advance(h, MIST_SEC);
	TH_SEND(h, NULL, 0, .seq = IRS + 2000, .flags = TH_RST);
	assert_int_equal(th_pending(h), 1);
	assert_int_equal(th_stats(h)->challenge_acks, 101);
	assert_int_equal(th_state(h), TCP_ESTABLISHED);
}

/* --- SYN cookies --------------------------------------------------------------- */

/* Fills the listener's backlog with TCP_BACKLOG half-open connections from ports 1000... */
static void fill_backlog(struct th *h)
{
	for (unsigned i = 0; i < TCP_BACKLOG; i++)
		TH_SEND(h, NULL, 0, .src_port = (uint16_t)(1000 + i), .seq = 5000, .flags = TH_SYN,
		        .window = 65535, .mss = 1460);
	assert_int_equal(th_pending(h), TCP_BACKLOG);
	th_drain(h);
	assert_int_equal(tcp_listener_find(h->s, TH_PORT)->half_open, TCP_BACKLOG);
	assert_int_equal(th_stats(h)->syn_cookies_sent, 0);
}

static void full_backlog_answers_with_a_syn_cookie(void **state)
{
	struct th *h = *state;
	th_listen(h);
	fill_backlog(h);
	h->rport = 2000;

	/* RFC 4987 3.6: a SYN-ACK whose ISN is the cookie, and no state; no options but the MSS. */
	uint32_t cookie = tcp_cookie_make(&h->s->tcp.secret, TH_LOCAL_IP, TH_PORT, TH_PEER_IP, 2000,
	                                  IRS, 1460, mist_now());
	TH_SEND(h, NULL, 0, .seq = IRS, .flags = TH_SYN, .window = 65535, .mss = 1460,
	        .has_wscale = true, .wscale = 7, .sack_permitted = true, .has_timestamps = true,
	        .ts_val = 77);
	TH_EXPECT(h, 0, .flags = TH_SYN | TH_ACK, .seq = cookie, .ack = IRS + 1, .window = 65535,
	          .mss = 1460);
	th_expect_none(h);
	assert_null(th_conn(h));
	assert_int_equal(th_stats(h)->syn_cookies_sent, 1);

	/* The ACK returning the cookie makes the connection, data included. */
	th_advance(h, 500 * MIST_MSEC);
	TH_SEND(h, "hello", 5, .seq = IRS + 1, .ack = cookie + 1, .flags = TH_ACK | TH_PSH,
	        .window = 65535);
	assert_int_equal(th_state(h), TCP_ESTABLISHED);
	assert_int_equal(h->accepted, 1);
	assert_int_equal(th_stats(h)->syn_cookies_ok, 1);
	uint8_t buf[16];
	assert_int_equal(th_read(h, buf, sizeof(buf)), 5);
	assert_memory_equal(buf, "hello", 5);

	/* Its MSS is the one the cookie encoded; windows are unscaled. */
	th_write_pattern(h, 0, 2 * MSS);
	TH_EXPECT(h, MSS, .flags = TH_ACK, .seq = cookie + 1, .ack = IRS + 6, .window = 65535);
	TH_EXPECT(h, MSS, .flags = TH_ACK | TH_PSH, .seq = cookie + 1 + MSS, .ack = IRS + 6,
	          .window = 65535);
}

static void syn_cookie_encodes_a_smaller_mss(void **state)
{
	struct th *h = *state;
	th_listen(h);
	fill_backlog(h);
	h->rport = 2000;

	/* 1000 is not in the cookie's table: the largest entry below it, 536, is used. */
	TH_SEND(h, NULL, 0, .seq = IRS, .flags = TH_SYN, .window = 65535, .mss = 1000);
	uint32_t cookie = th_next(h)->r.seq;
	TH_SEND(h, NULL, 0, .seq = IRS + 1, .ack = cookie + 1, .flags = TH_ACK, .window = 65535);
	assert_int_equal(th_state(h), TCP_ESTABLISHED);
	th_write_pattern(h, 0, 1000);
	TH_EXPECT(h, 536, .flags = TH_ACK, .seq = cookie + 1, .ack = IRS + 1, .window = 65535);
}

static void wrong_syn_cookie_gets_a_reset(void **state)
{
	struct th *h = *state;
	th_listen(h);
	fill_backlog(h);
	h->rport = 2000;
	TH_SEND(h, NULL, 0, .seq = IRS, .flags = TH_SYN, .window = 65535, .mss = 1460);
	uint32_t cookie = th_next(h)->r.seq;

	/* One bit off, or the right cookie for another peer ISN: RST <SEQ=SEG.ACK>, no connection. */
	TH_SEND(h, NULL, 0, .seq = IRS + 1, .ack = (cookie ^ 0x100) + 1, .flags = TH_ACK,
	        .window = 65535);
	TH_EXPECT(h, 0, .flags = TH_RST, .seq = (cookie ^ 0x100) + 1);
	TH_SEND(h, NULL, 0, .seq = IRS + 2, .ack = cookie + 1, .flags = TH_ACK, .window = 65535);
	TH_EXPECT(h, 0, .flags = TH_RST, .seq = cookie + 1);
	th_expect_none(h);
	assert_null(th_conn(h));
	assert_int_equal(th_stats(h)->drop_bad_cookie, 2);
	assert_int_equal(th_stats(h)->syn_cookies_ok, 0);
	assert_int_equal(h->accepted, 0);
}

/* --- closed ports ----------------------------------------------------------------- */

static void closed_port_gets_the_right_form_of_rst(void **state)
{
	struct th *h = *state;
	h->lport = 81;
	h->rport = TH_PEER_PORT;

	/* RFC 9293 3.10.7.1, ACK off: <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>; SYN and FIN count. */
	TH_SEND(h, NULL, 0, .seq = IRS, .flags = TH_SYN, .window = 65535, .mss = 1460);
	TH_EXPECT(h, 0, .flags = TH_RST | TH_ACK, .seq = 0, .ack = IRS + 1);
	TH_SEND(h, "0123456789", 10, .seq = IRS, .flags = TH_SYN | TH_FIN, .window = 65535);
	TH_EXPECT(h, 0, .flags = TH_RST | TH_ACK, .seq = 0, .ack = IRS + 12);
	/* ACK on: <SEQ=SEG.ACK><CTL=RST>. */
	TH_SEND(h, "data", 4, .seq = IRS, .ack = 0xdeadbeef, .flags = TH_ACK, .window = 65535);
	TH_EXPECT(h, 0, .flags = TH_RST, .seq = 0xdeadbeef);
	/* A RST is never answered. */
	TH_SEND(h, NULL, 0, .seq = IRS, .flags = TH_RST);
	TH_SEND(h, NULL, 0, .seq = IRS, .ack = 5, .flags = TH_RST | TH_ACK);
	th_expect_none(h);
	assert_int_equal(th_stats(h)->drop_no_conn, 5);
	assert_int_equal(th_stats(h)->reset_tx, 3);
}

static void closed_port_resets_are_rate_limited(void **state)
{
	struct th *h = *state;
	h->lport = 81;
	h->rport = TH_PEER_PORT;
	for (unsigned i = 0; i < TCP_RST_PER_SEC + 1; i++)
		TH_SEND(h, NULL, 0, .seq = IRS + i, .flags = TH_SYN, .window = 65535);
	assert_int_equal(th_pending(h), TCP_RST_PER_SEC);
	th_drain(h);
	th_advance(h, MIST_SEC);
	TH_SEND(h, NULL, 0, .seq = IRS, .flags = TH_SYN, .window = 65535);
	TH_EXPECT(h, 0, .flags = TH_RST | TH_ACK, .seq = 0, .ack = IRS + 1);
}

/* --- ICMP errors ------------------------------------------------------------------- */

#define ROUTER_IP MIST_IPV4(10, 0, 0, 254)

/* An ICMP error of `type`/`code` from a router, quoting our segment to the peer with `seq`. */
static void icmp_about(struct th *h, uint8_t type, uint8_t code, uint32_t seq)
{
	uint8_t msg[MIST_ICMP_HDR_LEN + MIST_IPV4_HDR_MIN + MIST_ICMP_ORIG_PAYLOAD];
	memset(msg, 0, sizeof(msg));
	uint8_t *orig = msg + MIST_ICMP_HDR_LEN;
	struct mist_ipv4_repr ip = {.src = TH_LOCAL_IP,
	                            .dst = TH_PEER_IP,
	                            .protocol = MIST_IP_PROTO_TCP,
	                            .ttl = 1,
	                            .dont_frag = true,
	                            .payload_len = MIST_TCP_HDR_MIN};
	assert_int_equal(mist_ipv4_emit(&ip, orig, MIST_IPV4_HDR_MIN), 0);
	uint8_t *tcp = orig + MIST_IPV4_HDR_MIN;
	mist_tcp_set_src_port(tcp, h->lport);
	mist_tcp_set_dst_port(tcp, h->rport);
	mist_tcp_set_seq(tcp, seq);
	struct mist_icmp_repr r = {
	        .type = type, .code = code, .data_len = sizeof(msg) - MIST_ICMP_HDR_LEN};
	assert_int_equal(mist_icmp_emit(&r, msg, sizeof(msg)), 0);
	th_input_ipv4(h, ROUTER_IP, MIST_IP_PROTO_ICMP, msg, sizeof(msg));
}

static void host_unreachable_aborts_a_connect(void **state)
{
	struct th *h = *state;
	uint32_t iss = th_connect_start(h, MIST_FOREVER)->r.seq;
	th_drain(h);

	/* RFC 5927 4.1: about a sequence number we never sent: ignored. */
	icmp_about(h, MIST_ICMP_DEST_UNREACH, MIST_ICMP_UNREACH_HOST, iss + 1);
	assert_false(h->connect_done);
	assert_int_equal(th_stats(h)->icmp_errors, 0);

	/* RFC 1122 4.2.3.9: in SYN-SENT a hard error aborts the connection. */
	icmp_about(h, MIST_ICMP_DEST_UNREACH, MIST_ICMP_UNREACH_HOST, iss);
	assert_true(h->connect_done);
	assert_int_equal(h->connect_result, MIST_EHOSTUNREACH);
	assert_int_equal(th_state(h), TCP_CLOSED);
	assert_int_equal(th_stats(h)->icmp_errors, 1);
	th_expect_none(h);
}

static void port_unreachable_refuses_a_connect(void **state)
{
	struct th *h = *state;
	uint32_t iss = th_connect_start(h, MIST_FOREVER)->r.seq;
	th_drain(h);
	icmp_about(h, MIST_ICMP_DEST_UNREACH, MIST_ICMP_UNREACH_PORT, iss);
	assert_true(h->connect_done);
	assert_int_equal(h->connect_result, MIST_ECONNREFUSED);
}

static void icmp_error_is_soft_once_established(void **state)
{
	struct th *h = *state;
	th_listen(h);
	uint32_t iss = th_accept(h, IRS, TH_PLAIN);
	th_start_reader(h);
	assert_int_equal(mist_flow_set_user_timeout(h->flow, MIST_SEC), 0);
	uint64_t t = mist_now();
	th_write_pattern(h, 0, 100);
	th_drain(h);

	/* RFC 5461: noted, not fatal; the connection goes on. */
	icmp_about(h, MIST_ICMP_DEST_UNREACH, MIST_ICMP_UNREACH_HOST, iss + 1);
	assert_int_equal(th_stats(h)->icmp_errors, 1);
	assert_int_equal(th_state(h), TCP_ESTABLISHED);
	th_expect_none(h);

	/* When it then times out (at the 1.4 s expiry), the error it reports is the ICMP one. */
	th_run_until(h, t + 1400 * MIST_MSEC);
	assert_int_equal(th_pending(h), 3); /* retransmissions at 0.2 and 0.6 s, then the RST */
	th_drain(h);
	assert_int_equal(th_state(h), TCP_CLOSED);
	assert_true(h->read_done);
	assert_int_equal(h->read_error, MIST_EHOSTUNREACH);
}

/* --- sequence numbers across 2^32 --------------------------------------------------- */

static void peer_sequence_numbers_wrap(void **state)
{
	struct th *h = *state;
	th_listen(h);
	const uint32_t irs = 0xffffff00u - 1; /* the peer's data starts 256 bytes below 2^32 */
	const struct th_opts sack = {.mss = 1460, .window = 65535, .sack = true};
	uint32_t iss = th_accept(h, irs, &sack);
	th_start_reader(h);
	uint8_t data[384];
	th_pattern(data, 0, sizeof(data));

	/* The third 128-byte piece lies above 2^32 and comes first: held, SACKed across the wrap. */
	TH_SEND(h, data + 256, 128, .seq = 0, .ack = iss + 1, .flags = TH_ACK, .window = 65535);
	TH_EXPECT(h, 0, .flags = TH_ACK, .seq = iss + 1, .ack = 0xffffff00u, .window = 65535,
	          .sack_count = 1, .sack = {{0, 128}});
	TH_SEND(h, data, 128, .seq = 0xffffff00u, .ack = iss + 1, .flags = TH_ACK, .window = 65535);
	TH_EXPECT(h, 0, .flags = TH_ACK, .seq = iss + 1, .ack = 0xffffff80u, .window = 65535,
	          .sack_count = 1, .sack = {{0, 128}});
	TH_SEND(h, data + 128, 128, .seq = 0xffffff80u, .ack = iss + 1, .flags = TH_ACK,
	        .window = 65535);
	TH_EXPECT(h, 0, .flags = TH_ACK, .seq = iss + 1, .ack = 128, .window = 65535);
	assert_int_equal(h->rx_len, 384);
	assert_memory_equal(h->rx, data, 384);

	TH_SEND(h, NULL, 0, .seq = 128, .ack = iss + 1, .flags = TH_FIN | TH_ACK, .window = 65535);
	TH_EXPECT(h, 0, .flags = TH_ACK, .seq = iss + 1, .ack = 129, .window = 65535);
	assert_true(h->read_done);
}

/*
 * Our ISN is M + F (RFC 6528): F, the keyed hash of the 4-tuple, is fixed
 * by the seed the harness gives the sim platform (TH_SEED), and M is
 * virtual time in 4 us ticks. So the test reads F off tcp_isn() at time 0
 * and lets virtual time run to the tick that makes M + F = 2^32 - 256.
 */
static void our_sequence_numbers_wrap(void **state)
{
	struct th *h = *state;
	th_listen(h);
	h->lport = TH_PORT;
	h->rport = TH_PEER_PORT;
	const uint32_t want = 0xffffff00u;
	uint32_t f = tcp_isn(&h->s->tcp.secret, TH_LOCAL_IP, TH_PORT, TH_PEER_IP, TH_PEER_PORT, 0);
	uint64_t ticks = (uint32_t)(want - f);
	if (ticks * TCP_ISN_TICK_NS < mist_now())
		ticks += 1ull << 32;
	th_run_until(h, ticks * TCP_ISN_TICK_NS);

	uint32_t iss = th_accept(h, IRS, TH_PLAIN);
	assert_int_equal(iss, want);

	/* 600 bytes cross 2^32 after 255; the peer acknowledges them in two steps. */
	th_write_pattern(h, 0, MSS + 600);
	TH_EXPECT(h, MSS, .flags = TH_ACK, .seq = 0xffffff01u, .ack = IRS + 1, .window = 65535);
	TH_SEND(h, NULL, 0, .seq = IRS + 1, .ack = 0xffffff01u + MSS, .flags = TH_ACK,
	        .window = 65535);
	th_assert_pattern(TH_EXPECT(h, 600, .flags = TH_ACK | TH_PSH, .seq = MSS - 255,
	                            .ack = IRS + 1, .window = 65535),
	                  MSS);
	/* Unacknowledged, it is retransmitted from the right place. */
	th_advance(h, 200 * MIST_MSEC);
	TH_EXPECT(h, 600, .flags = TH_ACK | TH_PSH, .seq = MSS - 255, .ack = IRS + 1,
	          .window = 65535);
	TH_SEND(h, NULL, 0, .seq = IRS + 1, .ack = MSS - 255 + 600, .flags = TH_ACK,
	        .window = 65535);
	th_expect_none(h);
	struct tcp_conn *c = th_conn(h);
	assert_int_equal(c->sndq_len, 0);
	assert_int_equal(c->snd_una, c->snd_max);
	assert_int_equal(c->snd_una, MSS + 600 - 255);

	th_close(h);
	TH_EXPECT(h, 0, .flags = TH_FIN | TH_ACK, .seq = MSS + 600 - 255, .ack = IRS + 1,
	          .window = 65535);
	TH_SEND(h, NULL, 0, .seq = IRS + 1, .ack = MSS + 600 - 254, .flags = TH_ACK,
	        .window = 65535);
	assert_int_equal(th_state(h), TCP_FIN_WAIT_2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(in_window_rst_gets_a_challenge_ack, th_setup,
	                                        th_teardown),
	        cmocka_unit_test_setup_teardown(syn_in_a_synchronized_state_gets_a_challenge_ack,
	                                        th_setup, th_teardown),
	        cmocka_unit_test_setup_teardown(ack_outside_the_acceptable_range_is_dropped,
	                                        th_setup, th_teardown),
	        cmocka_unit_test_setup_teardown(challenge_acks_are_rate_limited, th_setup,
	                                        th_teardown),
	        cmocka_unit_test_setup_teardown(full_backlog_answers_with_a_syn_cookie, th_setup,
	                                        th_teardown),
	        cmocka_unit_test_setup_teardown(syn_cookie_encodes_a_smaller_mss, th_setup,
	                                        th_teardown),
	        cmocka_unit_test_setup_teardown(wrong_syn_cookie_gets_a_reset, th_setup,
	                                        th_teardown),
	        cmocka_unit_test_setup_teardown(closed_port_gets_the_right_form_of_rst, th_setup,
	                                        th_teardown),
	        cmocka_unit_test_setup_teardown(closed_port_resets_are_rate_limited, th_setup,
	                                        th_teardown),
	        cmocka_unit_test_setup_teardown(host_unreachable_aborts_a_connect, th_setup,
	                                        th_teardown),
	        cmocka_unit_test_setup_teardown(port_unreachable_refuses_a_connect, th_setup,
	                                        th_teardown),
	        cmocka_unit_test_setup_teardown(icmp_error_is_soft_once_established, th_setup,
	                                        th_teardown),
	        cmocka_unit_test_setup_teardown(peer_sequence_numbers_wrap, th_setup, th_teardown),
	        cmocka_unit_test_setup_teardown(our_sequence_numbers_wrap, th_setup, th_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
