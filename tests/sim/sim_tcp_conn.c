/*
 * Sim scenarios of the life of Mist's TCP connections: 1,000 concurrent
 * connections to one listener, each echoing its own message; half-close;
 * abort reaching the peer as MIST_ECONNRESET; a closed port refusing; a
 * connect timing out on the SYN retry schedule; keepalive and the user
 * timeout ending connections to a peer that vanished; a zero window probed
 * until the reader comes back; and a window the peer takes back over data in
 * flight. Each prints what it measured. The world and the helpers are in
 * sim_tcp_world.h; the data transfer scenarios in sim_tcp.c.
 */
#include "sim_tcp_world.h"

/* --- thousand_connections ------------------------------------------------------------ */

#define CONNS        1000u
#define CONN_MSG_MAX 4000u
#define CLIENT_STACK (64u * 1024)

struct client {
	uint32_t index;
	bool ok;
	struct mist_fiber *fiber;
};

/* The clients connect, then wait for one another: all CONNS are open at once. */
static struct {
	uint32_t connected; /* clients that connected */
	bool all;           /* every client connected: go on */
	struct mist_waitq q;
} barrier;

static uint32_t conn_msg_len(uint32_t index)
{
	return 1 + (index * 7919u) % CONN_MSG_MAX;
}

/* Connects, waits for the others, sends its own message, reads the echo to the end and compares. */
static void client_fn(void *arg)
{
	struct client *cl = arg;
	uint32_t len = conn_msg_len(cl->index);
	uint8_t *msg = malloc(len), *back = malloc(CONN_MSG_MAX + 1);
	struct stream st = {.state = 0x400 + cl->index};
	stream_fill(&st, msg, len);
	struct mist_flow *f = connect_b(PORT);
	if (f != NULL && ++barrier.connected == CONNS) {
		barrier.all = true;
		mist_wake_all(&barrier.q);
	}
	if (f != NULL && wait_flag(&barrier.q, &barrier.all, mist_now() + 60 * MIST_SEC)) {
		CHECK(mist_flow_write(f, msg, len) == 0, "client %u: write", cl->index);
		CHECK(mist_flow_shutdown(f, MIST_SHUT_WR) == 0, "client %u: shutdown", cl->index);
		size_t got = 0;
		struct mist_buf *b;
		while ((b = mist_flow_read(f)) != NULL) {
			size_t n = mist_buf_chain_len(b);
			if (got + n <= CONN_MSG_MAX + 1)
				mist_buf_copyout(b, 0, back + got, n);
			got += n;
			mist_buf_free_chain(b);
		}
		cl->ok = mist_flow_error(f) == 0 && got == len && memcmp(back, msg, len) == 0;
		CHECK(cl->ok, "client %u: %zu bytes back of %u, error %d", cl->index, got, len,
		      mist_flow_error(f));
	}
	CHECK(barrier.all, "client %u: only %u of %u clients connected", cl->index,
	      barrier.connected, CONNS);
	if (f != NULL)
		mist_flow_close(f);
	free(msg);
	free(back);
}

static struct client clients[CONNS];

static void thousand_body(void)
{
	/* Else ARP would hold 8 of the 1,000 SYNs and drop the rest. */
	resolve_arp();
	CHECK(mist_tcp_listen(W.b, PORT, echo_handler, NULL) == 0, "listen");
	memset(&barrier, 0, sizeof(barrier));
	mist_waitq_init(&barrier.q);
	uint64_t t0 = mist_now();
	for (uint32_t i = 0; i < CONNS; i++) {
		clients[i] = (struct client){.index = i};
		clients[i].fiber = mist_fiber_spawn("client", client_fn, &clients[i], CLIENT_STACK);
		CHECK(clients[i].fiber != NULL, "spawn client %u", i);
	}
	uint32_t ok = 0;
	for (uint32_t i = 0; i < CONNS; i++) {
		if (clients[i].fiber != NULL)
			mist_fiber_join(clients[i].fiber);
		ok += clients[i].ok;
	}
	uint64_t t = mist_now() - t0;
	struct sim_link_stats ls;
	sim_link_stats(W.link, 0, &ls);
	/* Let the handlers see the clients' FINs out and finish. */
	mist_sleep(MIST_SEC);
	CHECK(mist_tcp_unlisten(W.b, PORT) == 0, "unlisten");
	const struct net_tcp_stats *a = tcp_a(), *b = tcp_b();
	figures("%u connections open at once, %u of %u echoes verified in %.3f s virtual; B "
	        "accepted %llu (%llu by SYN cookie, %llu cookies sent), A connected %llu; "
	        "retransmits A %llu B %llu; A's device refused %llu frames (its queue holds %u "
	        "between flushes)",
	        barrier.connected, ok, CONNS, seconds(t), (unsigned long long)b->accepted,
	        (unsigned long long)b->syn_cookies_ok, (unsigned long long)b->syn_cookies_sent,
	        (unsigned long long)a->connected, (unsigned long long)a->retransmits,
	        (unsigned long long)b->retransmits, (unsigned long long)ls.tx_queue_full,
	        SIM_LINK_TX_QUEUE_LEN);
	CHECK(ok == CONNS, "%u of %u echoes came back whole", ok, CONNS);
	CHECK(a->connected == CONNS && b->accepted == CONNS, "A connected %llu, B accepted %llu",
	      (unsigned long long)a->connected, (unsigned long long)b->accepted);
	/* The one reset A got refused resolve_arp()'s connection. */
	CHECK(a->reset_rx == 1 && b->reset_rx == 0, "resets: A %llu B %llu",
	      (unsigned long long)a->reset_rx, (unsigned long long)b->reset_rx);
}

static void scenario_thousand_connections(void)
{
	struct world_config cfg = clean_config(LAN_BW, LAN_DELAY);
	run_world(41, &cfg, thousand_body);
}

/* --- half_close ------------------------------------------------------------------------ */

#define REQUEST_BYTES (300u * 1024)
#define REPLY_BYTES   (500u * 1024)

/* What B's handler saw, for the scenarios below. */
struct peer {
	struct sink rx;
	bool done;
	struct mist_waitq doneq;
	int write_err;
};

static struct peer PB;

static void peer_init(void)
{
	memset(&PB, 0, sizeof(PB));
	mist_waitq_init(&PB.doneq);
}

static void peer_done(void)
{
	PB.done = true;
	mist_wake_all(&PB.doneq);
}

/* Reads the request to its end, then answers, then closes. */
static void half_close_handler(struct mist_flow *f, void *arg)
{
	(void)arg;
	sink_read(f, &PB.rx);
	uint8_t digest[MIST_SHA256_DIGEST_LEN];
	PB.write_err = stream_write(f, 0x601, REPLY_BYTES, digest);
	peer_done();
}

static void half_close_body(void)
{
	peer_init();
	CHECK(mist_tcp_listen(W.b, PORT, half_close_handler, NULL) == 0, "listen");
	struct mist_flow *f = connect_b(PORT);
	if (f == NULL)
		return;
	uint8_t sent[MIST_SHA256_DIGEST_LEN], expected[MIST_SHA256_DIGEST_LEN];
	CHECK(stream_write(f, 0x600, REQUEST_BYTES, sent) == 0, "write the request");
	CHECK(mist_flow_shutdown(f, MIST_SHUT_WR) == 0, "shutdown");
	CHECK(mist_flow_write(f, "x", 1) == MIST_EPIPE, "a write after shutdown did not fail");
	/* The first byte of the answer comes after B read our FIN: it is acknowledged. */
	struct mist_buf *b = NULL;
	CHECK(mist_flow_read_deadline(f, mist_now() + 10 * MIST_SEC, &b) == 0 && b != NULL,
	      "no answer");
	CHECK(tcp_conn_of(f)->state == TCP_FIN_WAIT_2, "A in state %u, not FIN-WAIT-2",
	      tcp_conn_of(f)->state);
	struct sink rx = {0};
	struct mist_sha256 h;
	mist_sha256_init(&h);
	if (b != NULL) {
		mist_sha256_update(&h, b->data, b->len);
		rx.bytes = b->len;
		mist_buf_free_chain(b);
	}
	while ((b = mist_flow_read(f)) != NULL) {
		mist_sha256_update(&h, b->data, b->len);
		rx.bytes += b->len;
		mist_buf_free_chain(b);
	}
	mist_sha256_final(&h, rx.digest);
	CHECK(mist_flow_error(f) == 0, "A's flow ended with %d", mist_flow_error(f));
	stream_digest(0x601, REPLY_BYTES, expected);
	CHECK(rx.bytes == REPLY_BYTES && memcmp(rx.digest, expected, sizeof(expected)) == 0,
	      "A got %llu bytes of the %u-byte answer, or other bytes",
	      (unsigned long long)rx.bytes, REPLY_BYTES);
	CHECK(wait_flag(&PB.doneq, &PB.done, mist_now() + 10 * MIST_SEC), "B never finished");
	CHECK(PB.rx.error == 0 && PB.write_err == 0, "B: read ended with %d, write with %d",
	      PB.rx.error, PB.write_err);
	CHECK(PB.rx.bytes == REQUEST_BYTES && memcmp(PB.rx.digest, sent, sizeof(sent)) == 0,
	      "B got %llu bytes of the %u-byte request, or other bytes",
	      (unsigned long long)PB.rx.bytes, REQUEST_BYTES);
	/* A closed first: it waits in TIME-WAIT, B's side is gone. */
	mist_sleep(10 * LAN_RTT);
	CHECK(tcp_conn_of(f)->state == TCP_TIME_WAIT, "A in state %u, not TIME-WAIT",
	      tcp_conn_of(f)->state);
	mist_flow_close(f);
	CHECK(tcp_a()->closed == 0 && tcp_b()->closed == 1, "closed: A %llu, B %llu",
	      (unsigned long long)tcp_a()->closed, (unsigned long long)tcp_b()->closed);
	CHECK(mist_tcp_unlisten(W.b, PORT) == 0, "unlisten");
	figures("request %u bytes, answer %u bytes after A's FIN; A in TIME-WAIT at the end",
	        REQUEST_BYTES, REPLY_BYTES);
}

static void scenario_half_close(void)
{
	struct world_config cfg = clean_config(LAN_BW, LAN_DELAY);
	run_world(61, &cfg, half_close_body);
}

/* --- abort_resets_peer ----------------------------------------------------------------- */

static bool b_aborts; /* which side aborts */

/* Reads the first data; then aborts, or reads on until the connection ends. */
static void abort_handler(struct mist_flow *f, void *arg)
{
	(void)arg;
	struct mist_buf *b = mist_flow_read(f);
	CHECK(b != NULL, "B read nothing");
	mist_buf_free_chain(b);
	if (b_aborts)
		mist_flow_abort(f);
	else
		sink_read(f, &PB.rx);
	peer_done();
}

static void abort_body(void)
{
	peer_init();
	CHECK(mist_tcp_listen(W.b, PORT, abort_handler, NULL) == 0, "listen");
	struct mist_flow *f = connect_b(PORT);
	if (f == NULL)
		return;
	CHECK(mist_flow_write(f, "hello", 5) == 0, "write");
	if (b_aborts) {
		struct mist_buf *b = mist_flow_read(f);
		CHECK(b == NULL, "A read data after B aborted");
		mist_buf_free_chain(b);
		CHECK(mist_flow_error(f) == MIST_ECONNRESET, "A's flow ended with %d, not %d",
		      mist_flow_error(f), MIST_ECONNRESET);
		CHECK(mist_flow_write(f, "x", 1) == MIST_ECONNRESET,
		      "a write after the reset did not fail with MIST_ECONNRESET");
		mist_flow_close(f);
		CHECK(tcp_b()->aborted == 1 && tcp_a()->reset_rx == 1,
		      "B aborted %llu, A reset %llu", (unsigned long long)tcp_b()->aborted,
		      (unsigned long long)tcp_a()->reset_rx);
	} else {
		mist_sleep(10 * LAN_RTT); /* B has read the first data and waits for more */
		mist_flow_abort(f);
		CHECK(wait_flag(&PB.doneq, &PB.done, mist_now() + MIST_SEC), "B never finished");
		CHECK(PB.rx.error == MIST_ECONNRESET, "B's flow ended with %d, not %d", PB.rx.error,
		      MIST_ECONNRESET);
		CHECK(tcp_a()->aborted == 1 && tcp_b()->reset_rx == 1,
		      "A aborted %llu, B reset %llu", (unsigned long long)tcp_a()->aborted,
		      (unsigned long long)tcp_b()->reset_rx);
	}
	wait_flag(&PB.doneq, &PB.done, mist_now() + MIST_SEC);
	CHECK(mist_tcp_unlisten(W.b, PORT) == 0, "unlisten");
}

static void scenario_abort_resets_peer(void)
{
	struct world_config cfg = clean_config(LAN_BW, LAN_DELAY);
	b_aborts = false;
	run_world(62, &cfg, abort_body);
	if (failed)
		return;
	b_aborts = true;
	run_world(63, &cfg, abort_body);
	figures("A aborts: B's read ends with MIST_ECONNRESET; B aborts: A's read and write too");
}

/* --- connect_refused --------------------------------------------------------------------- */

static void refused_body(void)
{
	struct mist_flow *f = NULL;
	struct mist_addr to = {.ip = IP_B, .port = 9};
	/* Once with ARP to resolve first, once without: the second takes one round trip. */
	for (unsigned i = 0; i < 2; i++) {
		uint64_t t0 = mist_now();
		int err = mist_tcp_connect(W.a, &to, t0 + 10 * MIST_SEC, &f);
		uint64_t t = mist_now() - t0;
		CHECK(err == MIST_ECONNREFUSED, "connect to a closed port returned %d, not %d", err,
		      MIST_ECONNREFUSED);
		figures("%s: refused after %.6f ms", i == 0 ? "ARP unresolved" : "ARP resolved",
		        t / 1e6);
		/* The RST answers the first SYN, not a retransmission. */
		CHECK(t < LAN_RTT * (i == 0 ? 3 : 1) + 10 * MIST_USEC,
		      "refused after %.6f ms, more than %u round trips", t / 1e6, i == 0 ? 3 : 1);
	}
	CHECK(tcp_a()->retransmits == 0, "A retransmitted a SYN");
	CHECK(tcp_b()->drop_no_conn == 2 && tcp_b()->reset_tx == 2,
	      "B: drop_no_conn %llu, reset_tx %llu", (unsigned long long)tcp_b()->drop_no_conn,
	      (unsigned long long)tcp_b()->reset_tx);
	CHECK(tcp_a()->reset_rx == 2, "A: reset_rx %llu", (unsigned long long)tcp_a()->reset_rx);
}

static void scenario_connect_refused(void)
{
	struct world_config cfg = clean_config(LAN_BW, LAN_DELAY);
	run_world(64, &cfg, refused_body);
}

/* --- connect_timeout ---------------------------------------------------------------- */

static void connect_timeout_body(void)
{
	/* ARP first, so that only TCP's timers are left to measure. */
	resolve_arp();
	struct mist_flow *f = NULL;
	struct mist_addr open = {.ip = IP_B, .port = PORT};
	CHECK(mist_tcp_listen(W.b, PORT, echo_handler, NULL) == 0, "listen");
	link_cut(true);

	/*
	 * RFC 6298 2.1 and 5.5: the SYN is resent after 1 s, then after each
	 * doubled timeout (at most TCP_RTO_MAX), TCP_SYN_RETRIES times; the
	 * connection gives up when the timer expires once more.
	 */
	uint64_t schedule = 0, rto = TCP_RTO_INITIAL;
	for (unsigned i = 0; i <= TCP_SYN_RETRIES; i++) {
		schedule += rto;
		rto = rto * 2 < TCP_RTO_MAX ? rto * 2 : TCP_RTO_MAX;
	}
	uint64_t retransmits = tcp_a()->retransmits, t0 = mist_now();
	int err = mist_tcp_connect(W.a, &open, MIST_FOREVER, &f);
	uint64_t t = mist_now() - t0;
	CHECK(err == MIST_ETIMEDOUT, "connect returned %d, not %d", err, MIST_ETIMEDOUT);
	CHECK(t == schedule, "gave up after %.3f s, the schedule says %.3f s", seconds(t),
	      seconds(schedule));
	CHECK(tcp_a()->retransmits - retransmits == TCP_SYN_RETRIES, "%llu SYNs resent, not %u",
	      (unsigned long long)(tcp_a()->retransmits - retransmits), TCP_SYN_RETRIES);
	figures("gave up after %.3f s and %u retransmitted SYNs, as the schedule says", seconds(t),
	        TCP_SYN_RETRIES);

	/* With a deadline, the deadline wins. */
	t0 = mist_now();
	err = mist_tcp_connect(W.a, &open, t0 + 2500 * MIST_MSEC, &f);
	t = mist_now() - t0;
	CHECK(err == MIST_ETIMEDOUT && t == 2500 * MIST_MSEC,
	      "connect with a deadline 2.5 s ahead returned %d after %.3f s", err, seconds(t));
	CHECK(mist_tcp_unlisten(W.b, PORT) == 0, "unlisten");
	CHECK(tcp_b()->accepted == 0, "B accepted a connection through a dead link");
	/* ARP still holds the last SYN: let it resolve, or give up, and let go of it. */
	link_cut(false);
	mist_sleep(5 * MIST_SEC);
}

static void scenario_connect_timeout(void)
{
	struct world_config cfg = clean_config(LAN_BW, LAN_DELAY);
	run_world(65, &cfg, connect_timeout_body);
}

/* --- keepalive_detects_dead_peer --------------------------------------------------------- */

#define KEEP_IDLE     (10 * MIST_SEC)
#define KEEP_INTERVAL (2 * MIST_SEC)
#define KEEP_PROBES   3u

/* Waits for data that never comes; gives up after a minute and leaves. */
static void idle_handler(struct mist_flow *f, void *arg)
{
	(void)arg;
	struct mist_buf *b = NULL;
	int err;
	while ((err = mist_flow_read_deadline(f, mist_now() + 60 * MIST_SEC, &b)) == 0 && b != NULL)
		mist_buf_free_chain(b);
	PB.rx.error = err;
	peer_done();
}

static void keepalive_body(void)
{
	peer_init();
	CHECK(mist_tcp_listen(W.b, PORT, idle_handler, NULL) == 0, "listen");
	struct mist_flow *f = connect_b(PORT);
	if (f == NULL)
		return;
	CHECK(mist_flow_set_keepalive(f, KEEP_IDLE, KEEP_INTERVAL, KEEP_PROBES) == 0,
	      "set_keepalive");
	/* One probe answered while the link is up: keepalive alone keeps it open. */
	mist_sleep(KEEP_IDLE + KEEP_INTERVAL / 2);
	CHECK(tcp_a()->keepalive_probes == 1 && tcp_conn_of(f)->state == TCP_ESTABLISHED,
	      "after the idle time: %llu probes, state %u",
	      (unsigned long long)tcp_a()->keepalive_probes, tcp_conn_of(f)->state);
	/* The answer reset the idle time; now the peer vanishes. */
	uint64_t last_heard = tcp_conn_of(f)->last_rx;
	link_cut(true);
	struct mist_buf *b = mist_flow_read(f);
	uint64_t t = mist_now() - last_heard;
	CHECK(b == NULL && mist_flow_error(f) == MIST_ETIMEDOUT,
	      "the read returned %p with error %d, not MIST_ETIMEDOUT", (void *)b,
	      mist_flow_error(f));
	mist_buf_free_chain(b);
	/* RFC 1122 4.2.3.6: idle, then `probes` probes an interval apart, then one more interval. */
	uint64_t expected = KEEP_IDLE + KEEP_PROBES * KEEP_INTERVAL;
	CHECK(t == expected, "ended %.3f s after the last answer, expected %.3f s", seconds(t),
	      seconds(expected));
	CHECK(tcp_a()->keepalive_probes == 1 + KEEP_PROBES && tcp_a()->timed_out == 1,
	      "keepalive_probes %llu, timed_out %llu",
	      (unsigned long long)tcp_a()->keepalive_probes,
	      (unsigned long long)tcp_a()->timed_out);
	figures("ended with MIST_ETIMEDOUT %.3f s after the last answer, %u unanswered probes",
	        seconds(t), KEEP_PROBES);
	mist_flow_close(f);
	/* B never heard of it; its handler gives up on its own. */
	link_cut(false);
	CHECK(wait_flag(&PB.doneq, &PB.done, mist_now() + 2 * 60 * MIST_SEC), "B never finished");
	CHECK(mist_tcp_unlisten(W.b, PORT) == 0, "unlisten");
}

static void scenario_keepalive_detects_dead_peer(void)
{
	struct world_config cfg = clean_config(LAN_BW, LAN_DELAY);
	run_world(66, &cfg, keepalive_body);
}

/* --- user_timeout ------------------------------------------------------------------------- */

#define USER_TIMEOUT (5 * MIST_SEC)

static void user_timeout_body(void)
{
	peer_init();
	CHECK(mist_tcp_listen(W.b, PORT, idle_handler, NULL) == 0, "listen");
	struct mist_flow *f = connect_b(PORT);
	if (f == NULL)
		return;
	CHECK(mist_flow_set_user_timeout(f, USER_TIMEOUT) == 0, "set_user_timeout");
	CHECK(mist_flow_write(f, "ping", 4) == 0, "write");
	mist_sleep(10 * LAN_RTT); /* acknowledged */
	link_cut(true);
	uint64_t t0 = mist_now();
	CHECK(mist_flow_write(f, "lost", 4) == 0, "write");
	struct mist_buf *b = mist_flow_read(f);
	uint64_t t = mist_now() - t0;
	CHECK(b == NULL && mist_flow_error(f) == MIST_ETIMEDOUT,
	      "the read returned %p with error %d, not MIST_ETIMEDOUT", (void *)b,
	      mist_flow_error(f));
	mist_buf_free_chain(b);
	/*
	 * RFC 9293 3.8.3: not before the user timeout. Mist checks it when the
	 * retransmission timer expires, so at the latest at the first expiry
	 * after it; the timeouts double from 200 ms: 0.2, 0.6, 1.4, 3.0, 6.2 s.
	 */
	uint64_t latest = 0, rto = TCP_RTO_MIN_DEFAULT;
	while (latest < USER_TIMEOUT) {
		latest += rto;
		rto *= 2;
	}
	CHECK(t >= USER_TIMEOUT && t <= latest,
	      "ended %.3f s after the write, not between %.3f s and %.3f s", seconds(t),
	      seconds(USER_TIMEOUT), seconds(latest));
	CHECK(tcp_a()->timed_out == 1, "timed_out %llu", (unsigned long long)tcp_a()->timed_out);
	figures("ended with MIST_ETIMEDOUT %.3f s after the unanswered write (%llu "
	        "retransmissions)",
	        seconds(t), (unsigned long long)tcp_a()->retransmits);
	mist_flow_close(f);
	link_cut(false);
	CHECK(wait_flag(&PB.doneq, &PB.done, mist_now() + 2 * 60 * MIST_SEC), "B never finished");
	CHECK(mist_tcp_unlisten(W.b, PORT) == 0, "unlisten");
}

static void scenario_user_timeout(void)
{
	struct world_config cfg = clean_config(LAN_BW, LAN_DELAY);
	run_world(67, &cfg, user_timeout_body);
}

/* --- zero_window_persist --------------------------------------------------------------- */

#define ZW_BYTES (4u * MIB)
#define ZW_PAUSE (5 * MIST_SEC)

static bool zw_resume;

/* Reads nothing until told to, then everything. */
static void zero_window_handler(struct mist_flow *f, void *arg)
{
	(void)arg;
	wait_flag(&PB.doneq, &zw_resume, MIST_FOREVER);
	sink_read(f, &PB.rx);
	peer_done();
}

/* A writes in a fiber of its own: it blocks once B's window and A's send buffer are full. */
static struct {
	struct mist_flow *f;
	uint8_t digest[MIST_SHA256_DIGEST_LEN];
	int err;
	bool done;
} ZW;

static void zero_window_writer(void *arg)
{
	(void)arg;
	ZW.err = stream_write(ZW.f, 0x680, ZW_BYTES, ZW.digest);
	ZW.done = true;
}

static void zero_window_body(void)
{
	peer_init();
	zw_resume = false;
	CHECK(mist_tcp_listen(W.b, PORT, zero_window_handler, NULL) == 0, "listen");
	struct mist_flow *f = connect_b(PORT);
	if (f == NULL)
		return;
	memset(&ZW, 0, sizeof(ZW));
	ZW.f = f;
	struct mist_fiber *writer =
	        mist_fiber_spawn("writer", zero_window_writer, NULL, FIBER_STACK);
	CHECK(writer != NULL, "spawn writer");
	if (writer == NULL)
		return;
	mist_sleep(ZW_PAUSE);
	uint64_t probes = tcp_a()->persist_probes;
	CHECK(!ZW.done, "the writer finished though B read nothing");
	CHECK(tcp_conn_of(f)->snd_wnd == 0, "B offers a window of %u, not 0",
	      tcp_conn_of(f)->snd_wnd);
	/*
	 * RFC 9293 3.8.6.1: probes while the window is closed, backing off
	 * from 200 ms: 0.2, 0.6, 1.4 and 3.0 s after it closed (a few ms in);
	 * the next would be due at 6.2 s.
	 */
	CHECK(probes == 4, "%llu persist probes in %.0f s, not 4", (unsigned long long)probes,
	      seconds(ZW_PAUSE));
	uint64_t t0 = mist_now();
	zw_resume = true;
	mist_wake_all(&PB.doneq);
	mist_fiber_join(writer);
	CHECK(ZW.err == 0, "write: %d", ZW.err);
	mist_flow_close(f);
	CHECK(wait_flag(&PB.doneq, &PB.done, mist_now() + 60 * MIST_SEC), "B never finished");
	CHECK(PB.rx.error == 0, "B's flow ended with %d", PB.rx.error);
	CHECK(PB.rx.bytes == ZW_BYTES && memcmp(PB.rx.digest, ZW.digest, sizeof(ZW.digest)) == 0,
	      "B got %llu bytes of %u, or other bytes", (unsigned long long)PB.rx.bytes, ZW_BYTES);
	figures("window closed for %.0f s: %llu persist probes; after reading resumed, %u bytes "
	        "in %.3f s; %llu probes in all",
	        seconds(ZW_PAUSE), (unsigned long long)probes, ZW_BYTES, seconds(mist_now() - t0),
	        (unsigned long long)tcp_a()->persist_probes);
	CHECK(mist_tcp_unlisten(W.b, PORT) == 0, "unlisten");
}

static void scenario_zero_window_persist(void)
{
	struct world_config cfg = clean_config(LAN_BW, LAN_DELAY);
	run_world(68, &cfg, zero_window_body);
}

/* --- window_retracted ------------------------------------------------------------------ */

#define RETRACT_PAUSE (20 * MIST_SEC)

/* B's end of the connection from A's flow `f`. */
static struct tcp_conn *b_conn_of(struct mist_flow *f)
{
	struct tcp_tuple t = {
	        .local = IP_B, .remote = IP_A, .lport = PORT, .rport = mist_flow_local(f).port};
	return tcp_conn_find(W.b, &t);
}

/*
 * A peer that takes back a window it offered (RFC 9293 3.8.6 discourages it
 * but a sender must live with it) while A has data in flight beyond the new
 * edge: that data is not lost, it is refused. A must probe the closed window
 * rather than retransmit into it or give up, and must keep the connection
 * for as long as the probes are answered (RFC 1122 4.2.2.17), even past its
 * user timeout. Mist never retracts a window, so the test moves B's right
 * edge back itself.
 */
static void window_retracted_body(void)
{
	peer_init();
	zw_resume = false;
	CHECK(mist_tcp_listen(W.b, PORT, zero_window_handler, NULL) == 0, "listen");
	struct mist_flow *f = connect_b(PORT);
	if (f == NULL)
		return;
	CHECK(mist_flow_set_user_timeout(f, USER_TIMEOUT) == 0, "set_user_timeout");
	memset(&ZW, 0, sizeof(ZW));
	ZW.f = f;
	struct mist_fiber *writer =
	        mist_fiber_spawn("writer", zero_window_writer, NULL, FIBER_STACK);
	CHECK(writer != NULL, "spawn writer");
	if (writer == NULL)
		return;
	/* Three round trips of slow start in, 80 segments are on their way; B shuts its window. */
	mist_sleep(3 * LAN_RTT + LAN_DELAY);
	struct tcp_conn *a = tcp_conn_of(f), *b = b_conn_of(f);
	CHECK(b != NULL && a->snd_max - a->snd_una > 10u * SEG,
	      "not enough data in flight to retract the window over");
	if (failed)
		return;
	uint32_t rcvbuf = b->rcvbuf, in_flight = a->snd_max - a->snd_una;
	b->rcvbuf = b->rcvq_len + b->ooo.bytes;
	b->rcv_adv = b->rcv_nxt;
	mist_sleep(RETRACT_PAUSE);
	uint64_t probes = tcp_a()->persist_probes;
	CHECK(a->state == TCP_ESTABLISHED && !ZW.done,
	      "A's connection is in state %u, the writer %s, %.0f s after the window closed",
	      a->state, ZW.done ? "done" : "waiting", seconds(RETRACT_PAUSE));
	CHECK(a->snd_wnd == 0, "B offers a window of %u, not 0", a->snd_wnd);
	/*
	 * One timeout (200 ms) finds the window closed; from then on probes,
	 * backing off from the doubled 400 ms: 0.4, 1.2, 2.8, 6.0 and 12.4 s
	 * after it; the next would be due at 25.2 s.
	 */
	CHECK(tcp_a()->rto == 1 && probes == 5, "%llu timeouts and %llu persist probes in %.0f s",
	      (unsigned long long)tcp_a()->rto, (unsigned long long)probes, seconds(RETRACT_PAUSE));
	b->rcvbuf = rcvbuf;
	zw_resume = true;
	mist_wake_all(&PB.doneq);
	mist_fiber_join(writer);
	CHECK(ZW.err == 0, "write: %d", ZW.err);
	mist_flow_close(f);
	CHECK(wait_flag(&PB.doneq, &PB.done, mist_now() + 60 * MIST_SEC), "B never finished");
	CHECK(PB.rx.error == 0, "B's flow ended with %d", PB.rx.error);
	CHECK(PB.rx.bytes == ZW_BYTES && memcmp(PB.rx.digest, ZW.digest, sizeof(ZW.digest)) == 0,
	      "B got %llu bytes of %u, or other bytes", (unsigned long long)PB.rx.bytes, ZW_BYTES);
	figures("window retracted over %u bytes in flight and closed for %.0f s (user timeout "
	        "%.0f s): %llu timeouts, %llu persist probes; then %llu of %u bytes arrived",
	        in_flight, seconds(RETRACT_PAUSE), seconds(USER_TIMEOUT),
	        (unsigned long long)tcp_a()->rto, (unsigned long long)probes,
	        (unsigned long long)PB.rx.bytes, ZW_BYTES);
	CHECK(mist_tcp_unlisten(W.b, PORT) == 0, "unlisten");
}

static void scenario_window_retracted(void)
{
	struct world_config cfg = clean_config(LAN_BW, LAN_DELAY);
	run_world(69, &cfg, window_retracted_body);
}

/* --- main ---------------------------------------------------------------------- */

static const struct scenario scenarios[] = {
        {"thousand_connections", scenario_thousand_connections},
        {"half_close", scenario_half_close},
        {"abort_resets_peer", scenario_abort_resets_peer},
        {"connect_refused", scenario_connect_refused},
        {"connect_timeout", scenario_connect_timeout},
        {"keepalive_detects_dead_peer", scenario_keepalive_detects_dead_peer},
        {"user_timeout", scenario_user_timeout},
        {"zero_window_persist", scenario_zero_window_persist},
        {"window_retracted", scenario_window_retracted},
};

int main(int argc, char **argv)
{
	return run_scenarios(scenarios, sizeof(scenarios) / sizeof(scenarios[0]), argc, argv);
}
