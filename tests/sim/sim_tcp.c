/*
 * Sim scenarios of Mist's TCP moving data, each checked end to end by
 * SHA-256 and against a time bound worked out from the link: 100 MB over a
 * clean 1 Gbit/s link with 1 ms each way; the same at 1% and at 5% loss with
 * reordering, duplication and corruption on; 100 MB over a long fat link
 * (1 Gbit/s, 100 ms RTT, 16 MB buffers) that must ramp up to the line rate;
 * a lossy transfer with NewReno and with CUBIC; and 8 MB echoed across the
 * 2^32 wrap of each side's sequence numbers. Each prints its virtual time,
 * the bound, and the retransmission counters. The world and the helpers are
 * in sim_tcp_world.h; the connection scenarios in sim_tcp_conn.c.
 */
#include "sim_tcp_world.h"

/* --- bulk transfer: A sends, B's handler receives ------------------------------------- */

struct bulk {
	/* Set by the scenario. */
	uint64_t bytes;  /* to send */
	uint32_t sndbuf; /* A's send buffer, 0 for the default */
	uint32_t rcvbuf; /* B's receive buffer, 0 for the default */
	uint64_t seed;   /* of the bytes sent */
	uint64_t bound;  /* virtual time the transfer must take at most */
	/* Results. */
	uint8_t tx_digest[MIST_SHA256_DIGEST_LEN];
	struct sink rx;
	uint64_t t_start; /* connect called */
	uint64_t t_end;   /* the receiver saw the end of the stream */
	bool rx_done;
	struct mist_waitq rx_doneq;
};

static struct bulk BK;

static void bulk_receiver(struct mist_flow *f, void *arg)
{
	struct bulk *bk = arg;
	if (bk->rcvbuf != 0)
		CHECK(mist_flow_set_buffers(f, 0, bk->rcvbuf) == 0, "B: set_buffers");
	bk->rx.half = bk->bytes / 2;
	sink_read(f, &bk->rx);
	bk->t_end = mist_now();
	bk->rx_done = true;
	mist_wake_all(&bk->rx_doneq);
}

/*
 * Connects A to B, sends bk->bytes, closes, waits for B's receiver and
 * checks what it got: every byte, in order (SHA-256), within bk->bound.
 * Prints the time, the rate and the bound.
 */
static void bulk_run(struct bulk *bk)
{
	mist_waitq_init(&bk->rx_doneq);
	CHECK(mist_tcp_listen(W.b, PORT, bulk_receiver, bk) == 0, "listen");
	bk->t_start = mist_now();
	struct mist_flow *f = connect_b(PORT);
	if (f != NULL) {
		if (bk->sndbuf != 0)
			CHECK(mist_flow_set_buffers(f, bk->sndbuf, 0) == 0, "A: set_buffers");
		int err = stream_write(f, bk->seed, bk->bytes, bk->tx_digest);
		CHECK(err == 0, "write: %d", err);
		mist_flow_close(f);
	}
	/* Long enough to tell a slow transfer from a stuck one in the message. */
	wait_flag(&bk->rx_doneq, &bk->rx_done, bk->t_start + 10 * bk->bound);
	CHECK(bk->rx_done, "the receiver was not done after %.3f s (%llu of %llu bytes)",
	      seconds(mist_now() - bk->t_start), (unsigned long long)bk->rx.bytes,
	      (unsigned long long)bk->bytes);
	CHECK(mist_tcp_unlisten(W.b, PORT) == 0, "unlisten");
	if (!bk->rx_done)
		return;
	uint64_t t = bk->t_end - bk->t_start;
	figures("%llu bytes in %.3f s virtual, %.1f Mbit/s; bound %.3f s, time/bound %.2f",
	        (unsigned long long)bk->bytes, seconds(t), (double)bk->bytes * 8 / seconds(t) / 1e6,
	        seconds(bk->bound), (double)t / (double)bk->bound);
	CHECK(bk->rx.error == 0, "the receiver's flow ended with %d", bk->rx.error);
	CHECK(bk->rx.bytes == bk->bytes, "received %llu bytes of %llu",
	      (unsigned long long)bk->rx.bytes, (unsigned long long)bk->bytes);
	CHECK(memcmp(bk->tx_digest, bk->rx.digest, sizeof(bk->tx_digest)) == 0,
	      "SHA-256 of the bytes received differs from the bytes sent");
	CHECK(t <= bk->bound, "took %.3f s, bound %.3f s", seconds(t), seconds(bk->bound));
}

/*
 * Time to put `bytes` of payload on a link of `bandwidth_bps` in full
 * segments: each frame carries the segment plus the Ethernet, IPv4 and TCP
 * headers with the timestamp option (the link counts a frame's length in the
 * buffer, no preamble or FCS).
 */
static uint64_t wire_time(uint64_t bytes, uint64_t bandwidth_bps)
{
	uint64_t frames = (bytes + SEG - 1) / SEG;
	uint64_t frame_bytes = bytes + frames * (MTU - SEG + 14);
	return frame_bytes * 8 * MIST_SEC / bandwidth_bps;
}

/* An integer square root (rounded down), for the Mathis bound. */
static uint64_t isqrt(uint64_t n)
{
	uint64_t r = 0;
	for (uint64_t bit = 1ull << 62; bit != 0; bit >>= 2) {
		if (n >= r + bit) {
			n -= r + bit;
			r = (r >> 1) + bit;
		} else {
			r >>= 1;
		}
	}
	return r;
}

/*
 * Mathis, Semke, Mahdavi and Ott (1997): with a fraction p of segments lost,
 * TCP moves MSS/RTT * C/sqrt(p) bytes a second, C = sqrt(3/2) ~ 1.22. Returns
 * the time that takes for `bytes` over a path of `rtt`, p in parts per
 * million: bytes/MSS * RTT * sqrt(p) / C, with sqrt(p) = sqrt(p_ppm) / 1000.
 */
static uint64_t mathis_time(uint64_t bytes, uint64_t rtt, uint32_t p_ppm)
{
	return bytes / SEG * rtt / 1000 * isqrt(p_ppm) * 100 / 122;
}

/* Over a link that neither loses nor reorders, nothing is resent and no ACK is a duplicate. */
static void check_clean_run(void)
{
	CHECK(tcp_a()->retransmits == 0 && tcp_a()->dup_acks == 0,
	      "A retransmitted %llu segments and took %llu ACKs for duplicates over a clean link",
	      (unsigned long long)tcp_a()->retransmits, (unsigned long long)tcp_a()->dup_acks);
}

/* --- bulk_clean_100mb ------------------------------------------------------------- */

#define BULK_BYTES (100ull * MIB)

static void bulk_clean_body(void)
{
	uint64_t line = wire_time(BULK_BYTES, LAN_BW);
	/*
	 * 1.5 times the line time, plus ten round trips for the handshake, the
	 * slow start to the bandwidth-delay product (250 KB, 2^5 times the
	 * initial window of 10 segments: five round trips) and the close.
	 */
	BK = (struct bulk){
	        .bytes = BULK_BYTES, .seed = 0x100, .bound = line * 3 / 2 + 10 * LAN_RTT};
	figures("link 1 Gbit/s, %llu ms each way: line time %.3f s",
	        (unsigned long long)(LAN_DELAY / MIST_MSEC), seconds(line));
	bulk_run(&BK);
	figures_retransmits();
	check_clean_run();
}

static void scenario_bulk_clean_100mb(void)
{
	struct world_config cfg = clean_config(LAN_BW, LAN_DELAY);
	run_world(11, &cfg, bulk_clean_body);
}

/* --- bulk_lossy_1pct, bulk_lossy_5pct ------------------------------------------------ */

/* Reordering, duplication and corruption each at this rate, besides the loss. */
#define IMPAIR_PPM 10000u

static uint32_t lossy_ppm;

/*
 * The bound. Mathis leaves out timeouts, and at these rates they cost more
 * than the rest: RFC 6675 cannot tell that a retransmission was lost too, so
 * each such loss, about segments * p^2 of them, waits for the retransmission
 * timer, at least TCP_RTO_MIN_DEFAULT. Twice the sum of the two, or of the
 * line time when that is longer.
 */
static void bulk_lossy_body(void)
{
	/* Segments the receiver never takes: those lost, and those corrupted (checksum). */
	uint32_t p = lossy_ppm + IMPAIR_PPM;
	uint64_t mathis = mathis_time(BULK_BYTES, LAN_RTT, p);
	uint64_t timeouts = BULK_BYTES / SEG * p / 1000000 * p / 1000000;
	uint64_t model = mathis + timeouts * TCP_RTO_MIN_DEFAULT;
	uint64_t line = wire_time(BULK_BYTES, LAN_BW);
	BK = (struct bulk){.bytes = BULK_BYTES,
	                   .seed = 0x200 + p,
	                   .bound = 2 * (model > line ? model : line) + 10 * LAN_RTT};
	figures("link 1 Gbit/s, 1 ms each way, loss %.1f%%, reordering, duplication and "
	        "corruption %.1f%% each: p = %.3f, Mathis time %.3f s, %llu timeouts expected",
	        lossy_ppm / 1e4, IMPAIR_PPM / 1e4, p / 1e6, seconds(mathis),
	        (unsigned long long)timeouts);
	bulk_run(&BK);
	if (BK.rx_done)
		figures("time/Mathis time %.2f, %llu timeouts",
		        (double)(BK.t_end - BK.t_start) / (double)mathis,
		        (unsigned long long)tcp_a()->rto);
	figures_retransmits();
	struct sim_link_stats ls;
	sim_link_stats(W.link, 0, &ls);
	CHECK(ls.lost > 0 && ls.duplicated > 0 && ls.reordered > 0 && ls.corrupted > 0,
	      "the link did not impair A->B");
	CHECK(tcp_b()->drop_bad_checksum + mist_stack_stats(W.b)->ipv4.drop_bad_checksum > 0,
	      "no checksum caught a corrupted frame");
	CHECK(tcp_a()->fast_retransmits > 0 && tcp_a()->sack_recovery > 0,
	      "A never recovered by SACK (fast retransmits %llu, SACK recoveries %llu)",
	      (unsigned long long)tcp_a()->fast_retransmits,
	      (unsigned long long)tcp_a()->sack_recovery);
}

/* Loss at `loss_ppm` and the other impairments at IMPAIR_PPM, both ways. */
static struct world_config lossy_config(uint64_t bandwidth_bps, uint64_t delay_ns,
                                        uint32_t loss_ppm)
{
	struct world_config cfg = clean_config(bandwidth_bps, delay_ns);
	cfg.link.loss_ppm = loss_ppm;
	cfg.link.reorder_ppm = IMPAIR_PPM;
	cfg.link.dup_ppm = IMPAIR_PPM;
	cfg.link.corrupt_ppm = IMPAIR_PPM;
	return cfg;
}

static void scenario_bulk_lossy_1pct(void)
{
	lossy_ppm = 10000;
	struct world_config cfg = lossy_config(LAN_BW, LAN_DELAY, lossy_ppm);
	run_world(21, &cfg, bulk_lossy_body);
}

static void scenario_bulk_lossy_5pct(void)
{
	lossy_ppm = 50000;
	struct world_config cfg = lossy_config(LAN_BW, LAN_DELAY, lossy_ppm);
	run_world(22, &cfg, bulk_lossy_body);
}

/* --- long_fat_link ------------------------------------------------------------------ */

#define LFN_DELAY (50 * MIST_MSEC)
#define LFN_RTT   (2 * LFN_DELAY)
#define LFN_BUF   (16u * MIB) /* TCP_BUF_MAX */
#define IW        (10u * SEG) /* RFC 6928 */

static void long_fat_body(void)
{
	uint64_t line = wire_time(BULK_BYTES, LAN_BW);
	uint64_t bdp = LAN_BW / 8 * LFN_RTT / MIST_SEC;
	/* Slow start doubles the window each round trip: log2(BDP / IW) rounds, rounded up. */
	unsigned rounds = 0;
	while (((uint64_t)IW << rounds) < bdp)
		rounds++;
	/* 1.5 times the line time, the slow start, the handshake and the last data's trip. */
	BK = (struct bulk){.bytes = BULK_BYTES,
	                   .sndbuf = LFN_BUF,
	                   .rcvbuf = LFN_BUF,
	                   .seed = 0x300,
	                   .bound = line * 3 / 2 + (rounds + 2) * LFN_RTT};
	figures("link 1 Gbit/s, RTT %llu ms: BDP %llu bytes, %u rounds of slow start, line time "
	        "%.3f s",
	        (unsigned long long)(LFN_RTT / MIST_MSEC), (unsigned long long)bdp, rounds,
	        seconds(line));
	bulk_run(&BK);
	figures_retransmits();
	check_clean_run();
	if (!BK.rx_done)
		return;
	/* Ramped up: the second half moves at close to the line rate. */
	uint64_t second_half = BK.t_end - BK.rx.t_half;
	uint64_t half_line = wire_time(BULK_BYTES - BK.rx.half, LAN_BW);
	figures("second half: %.3f s, %.1f Mbit/s (%.0f%% of the line time)", seconds(second_half),
	        (double)(BULK_BYTES - BK.rx.half) * 8 / seconds(second_half) / 1e6,
	        100.0 * (double)half_line / (double)second_half);
	CHECK(second_half <= half_line * 5 / 4,
	      "the second half took %.3f s, more than 1.25 times its line time %.3f s",
	      seconds(second_half), seconds(half_line));
}

static void scenario_long_fat_link(void)
{
	struct world_config cfg = clean_config(LAN_BW, LFN_DELAY);
	/* In flight at once: a window of 16 MB, each frame holding one of the receiver's buffers. */
	cfg.rx_count = 16384;
	cfg.tx_count = 16384;
	run_world(31, &cfg, long_fat_body);
}

/* --- cc_newreno_vs_cubic ------------------------------------------------------------ */

#define CC_BYTES  (32ull * MIB)
#define CC_BW     100000000ull /* 100 Mbit/s */
#define CC_DELAY  (10 * MIST_MSEC)
#define CC_RTT    (2 * CC_DELAY)
#define CC_LOSS   1000u /* 0.1% */
#define CC_IMPAIR 1000u /* reordering, duplication and corruption each */
#define CC_BUF    (1u * MIB)

static uint64_t cc_time[2];
static const char *const cc_names[2] = {"NewReno", "CUBIC"};
static enum tcp_cc_algo cc_running;

/* The bound: twice the Mathis time (which is Reno's), at least the line time. */
static void cc_body(void)
{
	uint32_t p = CC_LOSS + CC_IMPAIR; /* lost or corrupted */
	uint64_t mathis = mathis_time(CC_BYTES, CC_RTT, p);
	uint64_t line = wire_time(CC_BYTES, CC_BW);
	BK = (struct bulk){.bytes = CC_BYTES,
	                   .sndbuf = CC_BUF,
	                   .rcvbuf = CC_BUF,
	                   .seed = 0x500,
	                   .bound = 2 * (mathis > line ? mathis : line) + 10 * CC_RTT};
	figures("%s; link 100 Mbit/s, RTT 20 ms, loss %.2f%%, reordering, duplication and "
	        "corruption %.2f%%: Mathis time at p = %.4f %.3f s",
	        cc_names[cc_running], CC_LOSS / 1e4, CC_IMPAIR / 1e4, p / 1e6, seconds(mathis));
	bulk_run(&BK);
	figures_retransmits();
	CHECK(tcp_a()->fast_retransmits > 0, "no loss recovery: the link lost nothing?");
	if (BK.rx_done)
		cc_time[cc_running] = BK.t_end - BK.t_start;
}

static void scenario_cc_newreno_vs_cubic(void)
{
	struct world_config cfg = clean_config(CC_BW, CC_DELAY);
	cfg.link.loss_ppm = CC_LOSS;
	cfg.link.reorder_ppm = CC_IMPAIR;
	cfg.link.dup_ppm = CC_IMPAIR;
	cfg.link.corrupt_ppm = CC_IMPAIR;
	memset(cc_time, 0, sizeof(cc_time));
	/* The same seed: both see the same link. */
	cfg.cc = cc_running = TCP_CC_NEWRENO;
	run_world(51, &cfg, cc_body);
	cfg.cc = cc_running = TCP_CC_CUBIC;
	run_world(51, &cfg, cc_body);
	if (failed)
		return;
	figures("NewReno %.3f s, CUBIC %.3f s: CUBIC/NewReno %.2f", seconds(cc_time[0]),
	        seconds(cc_time[1]), (double)cc_time[1] / (double)cc_time[0]);
	/* RFC 9438 1: CUBIC is meant to do better than Reno on paths of large BDP. */
	CHECK(cc_time[1] <= cc_time[0], "CUBIC took longer than NewReno");
}

/* --- sequence_wrap ------------------------------------------------------------------ */

#define WRAP_BYTES  (8u * MIB)
#define WRAP_BEFORE (1u * MIB)   /* the ISN aimed at lies this far below 2^32 */
#define WRAP_SLACK  (64u * 1024) /* how far from there it may land */

/*
 * How the test puts an ISN just below 2^32 without touching the stack: RFC
 * 6528 makes the ISN M + F(4-tuple, secret), M a clock of 4 us ticks. The
 * test can compute F with the stack's own secret (tcp_isn() at time 0), and
 * in virtual time it can wait for any M; what it cannot know in advance is
 * the ephemeral port, which the connect draws from the CSPRNG. So it seeds
 * the CSPRNG with a fixed key, draws the port as the connect will (RFC 6056
 * 3.3.1: a random start in the range, then the first free port, and all are
 * free here), sleeps until the clock brings that tuple's ISN to WRAP_BEFORE
 * below 2^32, seeds the CSPRNG with the same key again and connects. The
 * wait is at most 2^32 ticks, 4.8 hours of virtual time, and costs nothing.
 * Looping over connections until one happened to start close enough below
 * the wrap would take 2^32 / WRAP_BYTES = 512 of them on average, and would
 * put the wrap anywhere in the transfer instead of where the test wants it.
 */
static struct {
	struct mist_flow *f;
	struct sink rx;
} WR;

static void wrap_reader(void *arg)
{
	(void)arg;
	sink_read(WR.f, &WR.rx);
}

/* The ISN of the connection from A's `port` to B, on `side` (0: A's, 1: B's). */
static uint32_t wrap_isn(unsigned side, uint16_t port)
{
	struct tcp_tuple t = {.local = IP_A, .remote = IP_B, .lport = port, .rport = PORT};
	if (side == 0) {
		struct tcp_conn *c = tcp_conn_find(W.a, &t);
		return c != NULL ? c->iss : 0;
	}
	t = (struct tcp_tuple){.local = IP_B, .remote = IP_A, .lport = PORT, .rport = port};
	struct tcp_conn *c = tcp_conn_find(W.b, &t);
	return c != NULL ? c->iss : 0;
}

/* Echoes WRAP_BYTES over a connection whose ISN on `side` lies just below 2^32. */
static void wrap_one(unsigned side)
{
	static const char *const keys[2] = {"sim_tcp: A's ISN", "sim_tcp: B's ISN"};
	const char *key = keys[side];
	mist_rng_seed(key, strlen(key));
	uint16_t port = (uint16_t)(TCP_EPHEMERAL_FIRST + mist_random_below(TCP_EPHEMERAL_COUNT));
	uint32_t f = side == 0 ? tcp_isn(&W.a->tcp.secret, IP_A, port, IP_B, PORT, 0)
	                       : tcp_isn(&W.b->tcp.secret, IP_B, PORT, IP_A, port, 0);
	uint32_t target = (uint32_t)0 - WRAP_BEFORE;
	/* B picks its ISN when the SYN arrives, one delay after A sends it. */
	uint64_t lead = side == 0 ? 0 : LAN_DELAY;
	uint64_t earliest = (mist_now() + lead) / TCP_ISN_TICK_NS + 1;
	uint64_t tick = earliest + (uint32_t)(target - f - (uint32_t)earliest);
	mist_sleep_until(tick * TCP_ISN_TICK_NS - lead);

	mist_rng_seed(key, strlen(key));
	struct mist_flow *fl = connect_b(PORT);
	if (fl == NULL)
		return;
	CHECK(mist_flow_local(fl).port == port, "the connect took port %u, not %u",
	      mist_flow_local(fl).port, port);
	uint32_t iss = wrap_isn(side, port);
	CHECK(iss - (target - WRAP_SLACK) <= 2 * WRAP_SLACK,
	      "%s ISN is 0x%08x, not within %u bytes of 0x%08x", side == 0 ? "A's" : "B's", iss,
	      WRAP_SLACK, target);
	/* The data crosses the wrap: its last byte's sequence number is below the first's. */
	CHECK((uint32_t)(iss + WRAP_BYTES) < iss, "the data would not cross the wrap");

	/* The handshake ran clean, so that the ISN came out as planned; now the impairments. */
	struct world_config lossy = lossy_config(LAN_BW, LAN_DELAY, 10000);
	CHECK(sim_link_set_params(W.link, 0, &lossy.link) == 0 &&
	              sim_link_set_params(W.link, 1, &lossy.link) == 0,
	      "sim_link_set_params");
	memset(&WR, 0, sizeof(WR));
	WR.f = fl;
	struct mist_fiber *reader = mist_fiber_spawn("reader", wrap_reader, NULL, FIBER_STACK);
	CHECK(reader != NULL, "spawn reader");
	if (reader == NULL)
		return;
	uint64_t t0 = mist_now(), retransmits = tcp_a()->retransmits + tcp_b()->retransmits;
	uint8_t sent[MIST_SHA256_DIGEST_LEN];
	CHECK(stream_write(fl, 0x700 + side, WRAP_BYTES, sent) == 0, "write");
	CHECK(mist_flow_shutdown(fl, MIST_SHUT_WR) == 0, "shutdown");
	mist_fiber_join(reader);
	uint64_t t = mist_now() - t0;
	CHECK(WR.rx.error == 0, "the echo ended with %d", WR.rx.error);
	CHECK(WR.rx.bytes == WRAP_BYTES && memcmp(WR.rx.digest, sent, sizeof(sent)) == 0,
	      "%llu bytes came back of %u, or other bytes", (unsigned long long)WR.rx.bytes,
	      WRAP_BYTES);
	figures("%s ISN 0x%08x, %u bytes below 2^32: %u bytes echoed across the wrap in %.3f s "
	        "over the lossy link, %llu retransmissions",
	        side == 0 ? "A's" : "B's", iss, (uint32_t)0 - iss, WRAP_BYTES, seconds(t),
	        (unsigned long long)(tcp_a()->retransmits + tcp_b()->retransmits - retransmits));
	mist_flow_close(fl);
	link_cut(false);
	mist_sleep(MIST_SEC); /* the closing handshake, with any retransmission */
}

static void wrap_body(void)
{
	CHECK(mist_tcp_listen(W.b, PORT, echo_handler, NULL) == 0, "listen");
	wrap_one(0);
	if (!failed)
		wrap_one(1);
	CHECK(mist_tcp_unlisten(W.b, PORT) == 0, "unlisten");
}

static void scenario_sequence_wrap(void)
{
	struct world_config cfg = clean_config(LAN_BW, LAN_DELAY);
	run_world(71, &cfg, wrap_body);
}

/* --- main ---------------------------------------------------------------------- */

static const struct scenario scenarios[] = {
        {"bulk_clean_100mb", scenario_bulk_clean_100mb},
        {"bulk_lossy_1pct", scenario_bulk_lossy_1pct},
        {"bulk_lossy_5pct", scenario_bulk_lossy_5pct},
        {"long_fat_link", scenario_long_fat_link},
        {"cc_newreno_vs_cubic", scenario_cc_newreno_vs_cubic},
        {"sequence_wrap", scenario_sequence_wrap},
};

int main(int argc, char **argv)
{
	return run_scenarios(scenarios, sizeof(scenarios) / sizeof(scenarios[0]), argc, argv);
}
