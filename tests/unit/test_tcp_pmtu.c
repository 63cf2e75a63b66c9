/*
 * Unit tests of TCP path MTU discovery (RFC 1191), segment in, segment out
 * (tcp_harness.h): an ICMP "fragmentation needed" quoting a segment in
 * flight lowers the MSS to the next hop's MTU less 40 and resends what is
 * in flight at once in the new size, without touching cwnd; the RFC 1191 5
 * plateau when the router gives no MTU; messages about data not in flight
 * (RFC 5927 4.1) or with an MTU no lower than the current one (RFC 1191
 * 3) change nothing; the 576-byte floor. The peer offers MSS 1460 and
 * timestamps, so full segments carry 1448 bytes; virtual time stands still,
 * so every TSval is 1000.
 */
#include "tcp_harness.h"

#include "wire/icmp.h"

#define IRS       1000u
#define PEER_TS   100u
#define OUR_TS    1000u
#define FULL      1448u /* 1500 - 20 - 20 - 12 */
#define ROUTER_IP MIST_IPV4(10, 0, 0, 254)

static const struct th_opts peer_opts = {
        .mss = 1460, .window = 65535, .sack = true, .ts = true, .ts_val = PEER_TS};

static int setup_newreno(void **state)
{
	struct th *h = th_create(TH_MTU);
	h->s->tcp.cc_algo = TCP_CC_NEWRENO;
	*state = h;
	return 0;
}

/* The next segment carries stream bytes [off, off + len) at iss + 1 + off. */
static void expect_data(struct th *h, uint32_t iss, uint32_t off, uint32_t len, uint8_t flags)
{
	th_assert_pattern(TH_EXPECT(h, len, .flags = flags, .seq = iss + 1 + off, .ack = IRS + 1,
	                            .window = 65535, .has_timestamps = true, .ts_val = OUR_TS,
	                            .ts_ecr = PEER_TS),
	                  off);
}

/*
 * A router's "fragmentation needed" (RFC 792, RFC 1191 4) quoting our
 * segment with sequence number `seq` in a datagram of `total_len` bytes,
 * with next-hop MTU `mtu` (0: a router older than RFC 1191).
 */
static void frag_needed(struct th *h, uint32_t seq, uint16_t total_len, uint16_t mtu)
{
	uint8_t msg[MIST_ICMP_HDR_LEN + MIST_IPV4_HDR_MIN + MIST_ICMP_ORIG_PAYLOAD];
	memset(msg, 0, sizeof(msg));
	uint8_t *orig = msg + MIST_ICMP_HDR_LEN;
	struct mist_ipv4_repr ip = {.src = TH_LOCAL_IP,
	                            .dst = TH_PEER_IP,
	                            .protocol = MIST_IP_PROTO_TCP,
	                            .ttl = 63,
	                            .dont_frag = true,
	                            .payload_len = (uint16_t)(total_len - MIST_IPV4_HDR_MIN)};
	assert_int_equal(mist_ipv4_emit(&ip, orig, MIST_IPV4_HDR_MIN), 0);
	uint8_t *tcp = orig + MIST_IPV4_HDR_MIN;
	mist_tcp_set_src_port(tcp, h->lport);
	mist_tcp_set_dst_port(tcp, h->rport);
	mist_tcp_set_seq(tcp, seq);
	struct mist_icmp_repr r = {.type = MIST_ICMP_DEST_UNREACH,
	                           .code = MIST_ICMP_UNREACH_FRAG_NEEDED,
	                           .next_hop_mtu = mtu,
	                           .data_len = sizeof(msg) - MIST_ICMP_HDR_LEN};
	assert_int_equal(mist_icmp_emit(&r, msg, sizeof(msg)), 0);
	th_input_ipv4(h, ROUTER_IP, MIST_IP_PROTO_ICMP, msg, sizeof(msg));
}

/* An established connection with three full segments in flight. Returns our ISS. */
static uint32_t three_in_flight(struct th *h)
{
	th_listen(h);
	uint32_t iss = th_accept(h, IRS, &peer_opts);
	th_write_pattern(h, 0, 3 * FULL);
	expect_data(h, iss, 0, FULL, TH_ACK);
	expect_data(h, iss, FULL, FULL, TH_ACK);
	expect_data(h, iss, 2 * FULL, FULL, TH_ACK | TH_PSH);
	th_expect_none(h);
	return iss;
}

static void frag_needed_shrinks_and_resends_in_flight(void **state)
{
	struct th *h = *state;
	uint32_t iss = three_in_flight(h);
	struct tcp_conn *c = th_conn(h);
	uint32_t cwnd = c->cc.cwnd, ssthresh = c->cc.ssthresh;
	assert_int_equal(cwnd, 10 * FULL); /* RFC 6928 */

	/*
	 * About the second segment, next hop 1280: MSS 1240, 1228 bytes of data
	 * with timestamps. All 4344 bytes in flight go again at once from
	 * SND.UNA (3 * 1228 + 660), within the unchanged cwnd.
	 */
	frag_needed(h, iss + 1 + FULL, 1500, 1280);
	assert_int_equal(c->mss, 1240);
	assert_int_equal(c->cc.mss, 1228);
	expect_data(h, iss, 0, 1228, TH_ACK);
	expect_data(h, iss, 1228, 1228, TH_ACK);
	expect_data(h, iss, 2 * 1228, 1228, TH_ACK);
	expect_data(h, iss, 3 * 1228, 660, TH_ACK | TH_PSH);
	th_expect_none(h);
	assert_int_equal(th_stats(h)->retransmits, 4);
	assert_int_equal(th_stats(h)->icmp_errors, 1);
	/* Not a congestion signal: no cut, no recovery, no soft error. */
	assert_int_equal(c->cc.cwnd, cwnd);
	assert_int_equal(c->cc.ssthresh, ssthresh);
	assert_false(c->flags & TCP_F_IN_RECOVERY);
	assert_int_equal(c->soft_error, 0);

	/* RFC 1191 6.4: the messages about the rest of the burst lower nothing: no second resend. */
	frag_needed(h, iss + 1, 1500, 1280);
	frag_needed(h, iss + 1 + 2 * FULL, 1500, 1280);
	th_expect_none(h);
	assert_int_equal(c->mss, 1240);

	/* New data goes out in the new size. */
	TH_SEND(h, NULL, 0, .seq = IRS + 1, .ack = iss + 1 + 3 * FULL, .flags = TH_ACK,
	        .window = 65535, .has_timestamps = true, .ts_val = PEER_TS, .ts_ecr = OUR_TS);
	th_write_pattern(h, 3 * FULL, 2 * 1228);
	expect_data(h, iss, 3 * FULL, 1228, TH_ACK);
	expect_data(h, iss, 3 * FULL + 1228, 1228, TH_ACK | TH_PSH);
	th_expect_none(h);
}

static void frag_needed_not_in_flight_is_ignored(void **state)
{
	struct th *h = *state;
	uint32_t iss = three_in_flight(h);
	struct tcp_conn *c = th_conn(h);

	/* RFC 5927 4.1: SND.MAX and below SND.UNA were never in flight. */
	frag_needed(h, iss + 1 + 3 * FULL, 1500, 1280);
	frag_needed(h, iss, 1500, 1280);
	th_expect_none(h);
	assert_int_equal(c->mss, 1460);
	assert_int_equal(th_stats(h)->icmp_errors, 0);
}

static void frag_needed_without_mtu_takes_the_plateau(void **state)
{
	struct th *h = *state;
	uint32_t iss = three_in_flight(h);
	struct tcp_conn *c = th_conn(h);

	/* RFC 1191 5, table 7-1: the largest plateau below 1500 is 1492: MSS 1452, 1440 bytes. */
	frag_needed(h, iss + 1, 1500, 0);
	assert_int_equal(c->mss, 1452);
	expect_data(h, iss, 0, 1440, TH_ACK);
	expect_data(h, iss, 1440, 1440, TH_ACK);
	expect_data(h, iss, 2 * 1440, 1440, TH_ACK);
	expect_data(h, iss, 3 * 1440, 24, TH_ACK | TH_PSH);
	th_expect_none(h);

	/* Quoting a 1492-byte datagram: the next plateau, 1006: MSS 966, 954 bytes. */
	frag_needed(h, iss + 1, 1492, 0);
	assert_int_equal(c->mss, 966);
	for (uint32_t i = 0; i < 4; i++)
		expect_data(h, iss, i * 954, 954, TH_ACK);
	expect_data(h, iss, 4 * 954, 528, TH_ACK | TH_PSH);
	th_expect_none(h);
}

static void frag_needed_never_raises(void **state)
{
	struct th *h = *state;
	uint32_t iss = three_in_flight(h);
	struct tcp_conn *c = th_conn(h);

	/* RFC 1191 3: an MTU equal to or above the current one changes nothing. */
	frag_needed(h, iss + 1, 1500, 1500);
	frag_needed(h, iss + 1, 1500, 9000);
	th_expect_none(h);
	assert_int_equal(c->mss, 1460);
	assert_int_equal(c->soft_error, 0);
	assert_int_equal(th_stats(h)->icmp_errors, 2);
}

static void frag_needed_stops_at_576(void **state)
{
	struct th *h = *state;
	uint32_t iss = three_in_flight(h);
	struct tcp_conn *c = th_conn(h);

	/*
	 * Next hop 296: the MTU goes no lower than 576 (MSS 536, 524 bytes),
	 * and the error stays as the soft error a timeout would report.
	 */
	frag_needed(h, iss + 1, 1500, 296);
	assert_int_equal(c->mss, 536);
	assert_int_equal(c->soft_error, MIST_EMSGSIZE);
	for (uint32_t i = 0; i < 8; i++)
		expect_data(h, iss, i * 524, 524, TH_ACK);
	expect_data(h, iss, 8 * 524, 152, TH_ACK | TH_PSH);
	th_expect_none(h);

	/* 68, RFC 791's minimum, cannot take it lower. */
	frag_needed(h, iss + 1, 576, 68);
	assert_int_equal(c->mss, 536);
	th_expect_none(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(frag_needed_shrinks_and_resends_in_flight,
	                                        setup_newreno, th_teardown),
	        cmocka_unit_test_setup_teardown(frag_needed_not_in_flight_is_ignored, setup_newreno,
	                                        th_teardown),
	        cmocka_unit_test_setup_teardown(frag_needed_without_mtu_takes_the_plateau,
	                                        setup_newreno, th_teardown),
	        cmocka_unit_test_setup_teardown(frag_needed_never_raises, setup_newreno,
	                                        th_teardown),
	        cmocka_unit_test_setup_teardown(frag_needed_stops_at_576, setup_newreno,
	                                        th_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
