/*
 * A harness for unit tests of Mist's TCP, in the style of smoltcp's: one
 * stack at 10.0.0.1/24 on a capture device under the sim platform's virtual
 * time, a peer at 10.0.0.2 that exists only as the segments a test crafts,
 * and assertions on the exact segments the stack sends back. It is not a
 * second TCP: the test plays the peer by hand, with every sequence number
 * written out.
 *
 * How a test runs:
 *   - th_create() seeds the sim platform and the CSPRNG (so that a run, our
 *     ISNs included, replays exactly), builds the stack and teaches it the
 *     peer's MAC with an ARP request; the device answers any later ARP
 *     request for the peer itself, so that ARP expiry never stalls a test.
 *   - TH_SEND() builds an Ethernet + IPv4 + TCP frame with the wire emitters
 *     (correct checksums), hands it to the stack, then lets the loop run
 *     whatever became due at this instant (fibers woken, handlers started).
 *   - Every TCP segment the stack transmits is parsed, its checksum
 *     verified, and queued; TH_EXPECT() pops the next one and compares every
 *     header field and option with what the test wrote, and th_expect_none()
 *     checks that nothing else was sent.
 *   - th_run_until() / th_advance() run the loop while virtual time jumps
 *     from deadline to deadline, so retransmission and other timers fire at
 *     their exact times; each captured segment records when it was sent.
 *   - The application side: a listener whose handler parks the accepted
 *     flow for the test (th_listen), mist_tcp_connect() in a fiber
 *     (th_connect_start), a reader fiber that drains the flow into a buffer
 *     (th_start_reader), and non-blocking writes, reads, close and abort
 *     called from the test itself.
 *   - th_destroy() lets every fiber end, destroys the stack and the loop,
 *     and asserts that the heap is back where it started: nothing leaked.
 *
 * Header-only (static inline), for cmocka tests. It reaches into net/tcp.h
 * for what the API does not show: a connection's state and queues, the
 * listener's half-open count, the stack's ISN secret, and tcp_conn_done()
 * to end a connect() still waiting at teardown.
 */
#ifndef MIST_TESTS_UNIT_TCP_HARNESS_H
#define MIST_TESTS_UNIT_TCP_HARNESS_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/mem.h"
#include "core/netdev.h"
#include "core/platform.h"
#include "core/rng_seed.h"
#include "core/sched.h"
#include "mist/buf.h"
#include "mist/fiber.h"
#include "mist/flow.h"
#include "mist/mist.h"
#include "net/stack.h"
#include "net/tcp.h"
#include "wire/arp.h"
#include "wire/checksum.h"
#include "wire/ether.h"
#include "wire/ipv4.h"
#include "wire/tcp.h"
/* Tests build with -Iinclude -Isrc only; the sim platform's headers are found relative to here. */
#include "../../platform/sim/sim.h"

#define TH_MTU        1500u
#define TH_RX_BUFS    256u /* the stack's receive pool */
#define TH_SEGS_MAX   512u /* segments captured and not yet examined */
#define TH_DATA_MAX   1600u
#define TH_FRAME_MAX  2048u
#define TH_RXQ_MAX    16u            /* frames the device holds for the stack (ARP replies) */
#define TH_RX_MAX     (1024u * 1024) /* bytes the reader fiber collects */
#define TH_SETTLE_MAX 64u            /* loop turns to let one instant settle */
#define TH_SEED       1u
/*
 * Tests start at this virtual time, not 0: an instant of 0 reads as "not
 * set" in a few timers, and a timestamp clock of 0 as "no echo".
 */
#define TH_T0 MIST_SEC

#define TH_LOCAL_IP  MIST_IPV4(10, 0, 0, 1)
#define TH_PEER_IP   MIST_IPV4(10, 0, 0, 2)
#define TH_PORT      80u /* where th_listen() listens */
#define TH_PEER_PORT 40000u

/* Short names for the control bits, which every line of a test spells. */
#define TH_FIN MIST_TCP_FIN
#define TH_SYN MIST_TCP_SYN
#define TH_RST MIST_TCP_RST
#define TH_PSH MIST_TCP_PSH
#define TH_ACK MIST_TCP_ACK

static const struct mist_ether_addr th_our_mac = {{0x02, 0, 0, 0, 0, 0x0a}};
static const struct mist_ether_addr th_peer_mac = {{0x02, 0, 0, 0, 0, 0x0b}};

/* One segment the stack sent. */
struct th_seg {
	struct mist_tcp_repr r;
	uint32_t len;   /* payload bytes */
	uint64_t at;    /* virtual time it was handed to the device */
	bool dont_frag; /* the IPv4 DF bit */
	uint8_t data[TH_DATA_MAX];
};

struct th;

struct th_dev {
	struct mist_netdev netdev;
	struct th *h;
	struct mist_buf *rxq[TH_RXQ_MAX];
	unsigned nrx;
};

struct th {
	struct th_dev dev;
	struct sim_source source; /* keeps virtual time still while the device has frames */
	struct mist_sched *sched;
	struct mist_pool *rx_pool;
	struct mist_stack *s;
	uint64_t heap_before;

	/* Segments sent, oldest first: a ring. */
	struct th_seg *segs;
	unsigned seg_head, nsegs, seg_index;
	unsigned other_frames; /* frames sent that were neither TCP to the peer nor ARP */

	/* The 4-tuple seen from the stack. */
	uint16_t lport, rport;
	uint16_t ip_ident;

	/* The application side. */
	bool listening;
	unsigned accepted;
	struct mist_flow *flow; /* the accepted or connected flow the test drives */
	bool flow_active;       /* from th_connect_start(): the test owns it */
	bool release;           /* parked handlers may return */
	struct mist_waitq park;
	uint64_t until; /* where the current run stops */

	bool connect_done;
	int connect_result;
	uint64_t connect_deadline;

	bool reading, read_done;
	int read_error;
	uint8_t *rx;
	uint32_t rx_len;
};

/* --- the capture device ---------------------------------------------------- */

static inline struct th *th_of(struct mist_netdev *netdev)
{
	return ((struct th_dev *)netdev)->h;
}

static inline unsigned th_dev_rx_burst(struct mist_netdev *netdev, struct mist_buf **bufs,
                                       unsigned max)
{
	struct th_dev *d = (struct th_dev *)netdev;
	unsigned n = 0;
	while (n < max && n < d->nrx) {
		bufs[n] = d->rxq[n];
		n++;
	}
	memmove(d->rxq, d->rxq + n, (d->nrx - n) * sizeof(d->rxq[0]));
	d->nrx -= n;
	return n;
}

/* A frame from the peer, queued for the stack's next poll. */
static inline void th_dev_queue(struct th *h, const uint8_t *frame, size_t len)
{
	assert_true(h->dev.nrx < TH_RXQ_MAX);
	struct mist_buf *b = mist_buf_alloc(h->rx_pool, (uint32_t)len);
	assert_non_null(b);
	memcpy(b->data, frame, len);
	h->dev.rxq[h->dev.nrx++] = b;
}

/* RFC 826: the peer answers a request for its address. */
static inline void th_answer_arp(struct th *h, const uint8_t *arp, size_t len)
{
	struct mist_arp_repr req;
	if (mist_arp_parse(arp, len, &req) != 0 || req.op != MIST_ARP_OP_REQUEST ||
	    !mist_ipv4_addr_eq(req.tpa, TH_PEER_IP))
		return;
	uint8_t frame[MIST_ETHER_HDR_LEN + MIST_ARP_LEN];
	struct mist_ether_repr e = {
	        .dst = req.sha, .src = th_peer_mac, .ethertype = MIST_ETHERTYPE_ARP};
	struct mist_arp_repr rep = {.op = MIST_ARP_OP_REPLY,
	                            .sha = th_peer_mac,
	                            .spa = TH_PEER_IP,
	                            .tha = req.sha,
	                            .tpa = req.spa};
	mist_ether_emit(&e, frame, sizeof(frame));
	mist_arp_emit(&rep, frame + MIST_ETHER_HDR_LEN, MIST_ARP_LEN);
	th_dev_queue(h, frame, sizeof(frame));
}

/* Parses a TCP segment to the peer into the capture ring; anything malformed fails the test. */
static inline void th_capture_tcp(struct th *h, const uint8_t *ip, size_t len)
{
	struct mist_ipv4_repr ir;
	assert_int_equal(mist_ipv4_parse(ip, len, &ir), 0);
	assert_true(mist_ipv4_verify_checksum(ip));
	assert_true(mist_ipv4_addr_eq(ir.src, TH_LOCAL_IP));
	assert_true(mist_ipv4_addr_eq(ir.dst, TH_PEER_IP));
	const uint8_t *tcp = ip + mist_ipv4_header_len(ip);
	size_t tcp_len = ir.payload_len;
	assert_true(mist_tcp_verify_checksum(tcp, tcp_len, ir.src, ir.dst));
	if (h->nsegs == TH_SEGS_MAX)
		fail_msg("more than %u segments sent and not examined", TH_SEGS_MAX);
	struct th_seg *g = &h->segs[(h->seg_head + h->nsegs) % TH_SEGS_MAX];
	memset(g, 0, sizeof(*g));
	assert_int_equal(mist_tcp_parse(tcp, tcp_len, &g->r), 0);
	g->len = (uint32_t)(tcp_len - g->r.header_len);
	assert_true(g->len <= TH_DATA_MAX);
	memcpy(g->data, tcp + g->r.header_len, g->len);
	g->at = mist_now();
	g->dont_frag = ir.dont_frag;
	h->nsegs++;
}

static inline int th_dev_tx(struct mist_netdev *netdev, struct mist_buf *frame)
{
	struct th *h = th_of(netdev);
	uint8_t bytes[TH_FRAME_MAX];
	size_t len = mist_buf_chain_len(frame);
	assert_true(len <= sizeof(bytes));
	assert_int_equal(mist_buf_copyout(frame, 0, bytes, len), 0);
	mist_buf_free_chain(frame);
	assert_true(len >= MIST_ETHER_HDR_LEN);
	uint16_t type = mist_ether_type(bytes);
	const uint8_t *p = bytes + MIST_ETHER_HDR_LEN;
	size_t plen = len - MIST_ETHER_HDR_LEN;
	if (type == MIST_ETHERTYPE_ARP)
		th_answer_arp(h, p, plen);
	else if (type == MIST_ETHERTYPE_IPV4 && plen >= MIST_IPV4_HDR_MIN &&
	         mist_ipv4_protocol(p) == MIST_IP_PROTO_TCP)
		th_capture_tcp(h, p, plen);
	else
		h->other_frames++;
	return 0;
}

static inline void th_dev_flush(struct mist_netdev *netdev)
{
}

static inline void th_dev_close(struct mist_netdev *netdev)
{
	struct th_dev *d = (struct th_dev *)netdev;
	for (unsigned i = 0; i < d->nrx; i++)
		mist_buf_free(d->rxq[i]);
	d->nrx = 0;
}

static const struct mist_netdev_ops th_dev_ops = {
        .rx_burst = th_dev_rx_burst,
        .tx = th_dev_tx,
        .flush = th_dev_flush,
        .close = th_dev_close,
};

/* While frames wait in the device, the next event is now: the clock must not jump past them. */
static inline uint64_t th_source_next(struct sim_source *source)
{
	struct th *h = mist_container_of(source, struct th, source);
	return h->dev.nrx > 0 ? mist_now() : UINT64_MAX;
}

/* --- running the loop ------------------------------------------------------ */

/*
 * Sleeps until h->until, then yields while anything is still due at that
 * instant (ready fibers, frames in the device), then stops the loop.
 */
static inline void th_stopper(void *arg)
{
	struct th *h = arg;
	mist_sleep_until(h->until);
	for (unsigned i = 0; i < TH_SETTLE_MAX; i++) {
		struct mist_sched_stats st;
		mist_sched_stats(h->sched, &st);
		if (st.ready == 0 && h->dev.nrx == 0)
			break;
		mist_fiber_yield();
	}
	mist_sched_stop(h->sched);
}

/* Runs the loop until virtual time `t`, everything due until then included. */
static inline void th_run_until(struct th *h, uint64_t t)
{
	assert_true(t >= mist_now());
	h->until = t;
	struct mist_fiber *f = mist_fiber_spawn("th-stopper", th_stopper, h, 0);
	assert_non_null(f);
	mist_fiber_detach(f);
	mist_sched_run(h->sched);
	assert_int_equal(mist_now(), t);
}

static inline void th_advance(struct th *h, uint64_t ns)
{
	th_run_until(h, mist_now() + ns);
}

/* Lets whatever is due now run: fibers woken, handlers started. */
static inline void th_settle(struct th *h)
{
	th_run_until(h, mist_now());
}

/* --- the segments the stack sent ------------------------------------------- */

static inline unsigned th_pending(const struct th *h)
{
	return h->nsegs;
}

/* Pops the next segment sent; fails the test when there is none. */
static inline const struct th_seg *th_next_at(struct th *h, const char *file, int line)
{
	if (h->nsegs == 0) {
		print_error("%s:%d: expected a segment (#%u), the stack sent none\n", file, line,
		            h->seg_index);
		_fail(file, line);
	}
	const struct th_seg *g = &h->segs[h->seg_head];
	h->seg_head = (h->seg_head + 1) % TH_SEGS_MAX;
	h->nsegs--;
	h->seg_index++;
	return g;
}
#define th_next(h) th_next_at((h), __FILE__, __LINE__)

/* Forgets every segment sent so far. */
static inline void th_drain(struct th *h)
{
	h->seg_index += h->nsegs;
	h->seg_head = (h->seg_head + h->nsegs) % TH_SEGS_MAX;
	h->nsegs = 0;
}

#define th_expect_none(h)                                                                        \
	do {                                                                                     \
		if ((h)->nsegs != 0) {                                                           \
			const struct th_seg *g_ = &(h)->segs[(h)->seg_head];                     \
			print_error("expected no segment, got flags %#x seq %u ack %u len %u\n", \
			            g_->r.flags, g_->r.seq, g_->r.ack, g_->len);                 \
			fail();                                                                  \
		}                                                                                \
	} while (0)

static inline void th_field(bool *ok, const char *name, uint64_t got, uint64_t want)
{
	if (got != want) {
		print_error("  %s: got %llu (%#llx), want %llu (%#llx)\n", name,
		            (unsigned long long)got, (unsigned long long)got,
		            (unsigned long long)want, (unsigned long long)want);
		*ok = false;
	}
}

/*
 * Pops the next segment and checks it against `want` and `len` payload
 * bytes: ports (the connection's unless want sets them), flags, sequence and
 * acknowledgment numbers, window, urgent pointer and every option. Returns
 * the segment, for its payload and time.
 */
static inline const struct th_seg *th_expect_at(struct th *h, const struct mist_tcp_repr *want,
                                                uint32_t len, const char *file, int line)
{
	unsigned index = h->seg_index;
	const struct th_seg *g = th_next_at(h, file, line);
	const struct mist_tcp_repr *r = &g->r;
	bool ok = true;
	th_field(&ok, "src_port", r->src_port, want->src_port != 0 ? want->src_port : h->lport);
	th_field(&ok, "dst_port", r->dst_port, want->dst_port != 0 ? want->dst_port : h->rport);
	th_field(&ok, "flags", r->flags, want->flags);
	th_field(&ok, "seq", r->seq, want->seq);
	th_field(&ok, "ack", r->ack, want->ack);
	th_field(&ok, "window", r->window, want->window);
	th_field(&ok, "urgent", r->urgent, want->urgent);
	th_field(&ok, "mss", r->mss, want->mss);
	th_field(&ok, "has_wscale", r->has_wscale, want->has_wscale);
	if (want->has_wscale)
		th_field(&ok, "wscale", r->wscale, want->wscale);
	th_field(&ok, "sack_permitted", r->sack_permitted, want->sack_permitted);
	th_field(&ok, "has_timestamps", r->has_timestamps, want->has_timestamps);
	if (want->has_timestamps) {
		th_field(&ok, "ts_val", r->ts_val, want->ts_val);
		th_field(&ok, "ts_ecr", r->ts_ecr, want->ts_ecr);
	}
	th_field(&ok, "sack_count", r->sack_count, want->sack_count);
	for (unsigned i = 0; i < want->sack_count && i < r->sack_count; i++) {
		th_field(&ok, "sack.start", r->sack[i].start, want->sack[i].start);
		th_field(&ok, "sack.end", r->sack[i].end, want->sack[i].end);
	}
	th_field(&ok, "payload length", g->len, len);
	th_field(&ok, "IPv4 DF", g->dont_frag, 1);
	if (!ok) {
		print_error("%s:%d: segment #%u sent at %llu ns differs\n", file, line, index,
		            (unsigned long long)g->at);
		_fail(file, line);
	}
	return g;
}

/* TH_EXPECT(h, len, .flags = ..., .seq = ..., ...): the next segment is exactly this. */
#define TH_EXPECT(h, len, ...) \
	th_expect_at((h), &(const struct mist_tcp_repr){__VA_ARGS__}, (len), __FILE__, __LINE__)

/* --- what the peer sends --------------------------------------------------- */

/*
 * Hands the stack an IPv4 datagram of `protocol` from `src` to us, carrying
 * `len` bytes of `payload`, in an Ethernet frame from the peer's MAC; then
 * lets the instant settle.
 */
static inline void th_input_ipv4(struct th *h, struct mist_ipv4_addr src, uint8_t protocol,
                                 const uint8_t *payload, size_t len)
{
	size_t frame_len = MIST_ETHER_HDR_LEN + MIST_IPV4_HDR_MIN + len;
	struct mist_buf *b = mist_buf_alloc(h->rx_pool, (uint32_t)frame_len);
	assert_non_null(b);
	struct mist_ether_repr e = {
	        .dst = th_our_mac, .src = th_peer_mac, .ethertype = MIST_ETHERTYPE_IPV4};
	assert_int_equal(mist_ether_emit(&e, b->data, MIST_ETHER_HDR_LEN), 0);
	struct mist_ipv4_repr ip = {
	        .src = src,
	        .dst = TH_LOCAL_IP,
	        .protocol = protocol,
	        .ttl = 64,
	        .ident = h->ip_ident++,
	        .dont_frag = true,
	        .payload_len = (uint16_t)len,
	};
	assert_int_equal(mist_ipv4_emit(&ip, b->data + MIST_ETHER_HDR_LEN, MIST_IPV4_HDR_MIN), 0);
	memcpy(b->data + MIST_ETHER_HDR_LEN + MIST_IPV4_HDR_MIN, payload, len);
	mist_stack_input(h->s, b);
	th_settle(h);
}

/*
 * Sends the segment *r (ports default to the connection's) with `len` bytes
 * of `data` from the peer, then lets the instant settle.
 */
static inline void th_send(struct th *h, const struct mist_tcp_repr *r, const void *data,
                           uint32_t len)
{
	struct mist_tcp_repr t = *r;
	if (t.src_port == 0)
		t.src_port = h->rport;
	if (t.dst_port == 0)
		t.dst_port = h->lport;
	size_t hlen = mist_tcp_header_len(&t);
	assert_true(hlen <= MIST_TCP_HDR_MAX);
	size_t tcp_len = hlen + len;
	uint8_t *tcp = malloc(tcp_len);
	assert_non_null(tcp);
	assert_int_equal(mist_tcp_emit(&t, tcp, hlen), (int)hlen);
	if (len > 0)
		memcpy(tcp + hlen, data, len);
	mist_tcp_fill_checksum(tcp, tcp_len, TH_PEER_IP, TH_LOCAL_IP,
	                       mist_csum_partial(tcp + hlen, len, 0));
	th_input_ipv4(h, TH_PEER_IP, MIST_IP_PROTO_TCP, tcp, tcp_len);
	free(tcp);
}

/* TH_SEND(h, data, len, .flags = ..., .seq = ..., ...) */
#define TH_SEND(h, data, len, ...) \
	th_send((h), &(const struct mist_tcp_repr){__VA_ARGS__}, (data), (len))

/* A deterministic byte pattern: byte i of a stream is th_byte(i). */
static inline uint8_t th_byte(uint32_t i)
{
	return (uint8_t)(i * 7u + i / 251u + 1u);
}

static inline void th_pattern(uint8_t *buf, uint32_t offset, uint32_t len)
{
	for (uint32_t i = 0; i < len; i++)
		buf[i] = th_byte(offset + i);
}

/* Asserts that the segment carries stream bytes [offset, offset + g->len). */
static inline void th_assert_pattern(const struct th_seg *g, uint32_t offset)
{
	for (uint32_t i = 0; i < g->len; i++)
		if (g->data[i] != th_byte(offset + i))
			fail_msg("payload byte %u (stream offset %u) differs", i, offset + i);
}

/* --- the application side -------------------------------------------------- */

/* The listener's handler: hands the flow to the test and waits until released. */
static inline void th_handler(struct mist_flow *flow, void *arg)
{
	struct th *h = arg;
	h->flow = flow;
	h->accepted++;
	while (!h->release)
		mist_wait(&h->park, MIST_FOREVER);
}

static inline void th_listen(struct th *h)
{
	assert_int_equal(mist_tcp_listen(h->s, TH_PORT, th_handler, h), 0);
	h->listening = true;
	h->lport = TH_PORT;
	h->rport = TH_PEER_PORT;
}

static inline void th_connect_main(void *arg)
{
	struct th *h = arg;
	struct mist_addr to = {.ip = TH_PEER_IP, .port = TH_PEER_PORT};
	struct mist_flow *flow = NULL;
	h->connect_result = mist_tcp_connect(h->s, &to, h->connect_deadline, &flow);
	if (h->connect_result == 0) {
		h->flow = flow;
		h->flow_active = true;
	}
	h->connect_done = true;
}

/*
 * Starts mist_tcp_connect() to the peer in a fiber, lets it send its SYN,
 * learns the ephemeral port from it and returns it (still queued).
 */
static inline const struct th_seg *th_connect_start(struct th *h, uint64_t deadline)
{
	h->connect_deadline = deadline;
	h->connect_done = false;
	h->rport = TH_PEER_PORT;
	struct mist_fiber *f = mist_fiber_spawn("th-connect", th_connect_main, h, 0);
	assert_non_null(f);
	mist_fiber_detach(f);
	th_settle(h);
	assert_true(h->nsegs > 0);
	const struct th_seg *syn = &h->segs[h->seg_head];
	assert_int_equal(syn->r.flags, MIST_TCP_SYN);
	h->lport = syn->r.src_port;
	return syn;
}

/* The connection of the current 4-tuple, or NULL. */
static inline struct tcp_conn *th_conn(struct th *h)
{
	struct tcp_tuple t = {
	        .local = TH_LOCAL_IP, .remote = TH_PEER_IP, .lport = h->lport, .rport = h->rport};
	return tcp_conn_find(h->s, &t);
}

/* The state of the current 4-tuple's connection; TCP_CLOSED when there is none. */
static inline int th_state(struct th *h)
{
	struct tcp_conn *c = th_conn(h);
	return c != NULL ? c->state : TCP_CLOSED;
}

/* The ISN RFC 6528 gives the current 4-tuple now, under the stack's secret. */
static inline uint32_t th_isn(struct th *h)
{
	return tcp_isn(&h->s->tcp.secret, TH_LOCAL_IP, h->lport, TH_PEER_IP, h->rport, mist_now());
}

static inline const struct net_tcp_stats *th_stats(struct th *h)
{
	return &h->s->stats.tcp;
}

/* Writes without blocking: the send buffer must have room. */
static inline void th_write(struct th *h, const void *data, uint32_t len)
{
	assert_non_null(h->flow);
	struct tcp_conn *c = tcp_conn_of(h->flow);
	assert_true(c->sndq_len + len <= c->sndbuf);
	assert_int_equal(mist_flow_write(h->flow, data, len), 0);
}

/* Writes `len` bytes of the stream pattern starting at stream offset `offset`. */
static inline void th_write_pattern(struct th *h, uint32_t offset, uint32_t len)
{
	uint8_t *buf = malloc(len);
	assert_non_null(buf);
	th_pattern(buf, offset, len);
	th_write(h, buf, len);
	free(buf);
}

/* Reads what is queued, without blocking; returns the bytes copied into buf. */
static inline uint32_t th_read(struct th *h, uint8_t *buf, uint32_t max)
{
	struct tcp_conn *c = tcp_conn_of(h->flow);
	uint32_t n = 0;
	while (c->rcvq != NULL) {
		struct mist_buf *b = NULL;
		assert_int_equal(mist_flow_read_deadline(h->flow, MIST_FOREVER, &b), 0);
		assert_non_null(b);
		assert_true(n + b->len <= max);
		assert_int_equal(mist_buf_copyout(b, 0, buf + n, b->len), 0);
		n += b->len;
		mist_buf_free(b);
	}
	return n;
}

/* The reader fiber: collects the stream into h->rx until its end or an error. */
static inline void th_reader_main(void *arg)
{
	struct th *h = arg;
	struct mist_flow *flow = h->flow;
	for (;;) {
		struct mist_buf *b = NULL;
		int err = mist_flow_read_deadline(flow, MIST_FOREVER, &b);
		if (b == NULL) {
			h->read_error = err;
			break;
		}
		assert_true(h->rx_len + b->len <= TH_RX_MAX);
		assert_int_equal(mist_buf_copyout(b, 0, h->rx + h->rx_len, b->len), 0);
		h->rx_len += b->len;
		mist_buf_free(b);
	}
	h->read_done = true;
	h->reading = false;
}

static inline void th_start_reader(struct th *h)
{
	assert_non_null(h->flow);
	h->reading = true;
	h->read_done = false;
	struct mist_fiber *f = mist_fiber_spawn("th-reader", th_reader_main, h, 0);
	assert_non_null(f);
	mist_fiber_detach(f);
	th_settle(h);
}

/* The application closes or aborts the flow; the test must not touch it afterwards. */
static inline void th_close(struct th *h)
{
	mist_flow_close(h->flow);
	h->flow = NULL;
	h->flow_active = false;
}

static inline void th_abort(struct th *h)
{
	mist_flow_abort(h->flow);
	h->flow = NULL;
	h->flow_active = false;
}

/* --- the connection set up by hand ----------------------------------------- */

/* What the peer's SYN offers. */
struct th_opts {
	uint16_t mss;
	bool wscale;
	uint8_t shift;
	bool sack;
	bool ts;
	uint32_t ts_val;
	uint16_t window;
};

/*
 * A passive open on the listener: the peer sends SYN with sequence number
 * `irs` and options `o`, the stack's SYN-ACK is checked for what it must
 * carry, the peer ACKs it with window o->window, and the handler gets the
 * flow. Returns the stack's ISS.
 */
static inline uint32_t th_accept(struct th *h, uint32_t irs, const struct th_opts *o)
{
	TH_SEND(h, NULL, 0, .seq = irs, .flags = MIST_TCP_SYN, .window = o->window, .mss = o->mss,
	        .has_wscale = o->wscale, .wscale = o->shift, .sack_permitted = o->sack,
	        .has_timestamps = o->ts, .ts_val = o->ts_val);
	const struct th_seg *synack = th_next(h);
	assert_int_equal(synack->r.flags, MIST_TCP_SYN | MIST_TCP_ACK);
	assert_int_equal(synack->r.ack, irs + 1);
	uint32_t iss = synack->r.seq;
	unsigned accepted = h->accepted;
	TH_SEND(h, NULL, 0, .seq = irs + 1, .ack = iss + 1, .flags = MIST_TCP_ACK,
	        .window = o->window, .has_timestamps = o->ts, .ts_val = o->ts_val,
	        .ts_ecr = synack->r.ts_val);
	assert_int_equal(h->accepted, accepted + 1);
	assert_int_equal(th_state(h), TCP_ESTABLISHED);
	return iss;
}

/* The plainest peer: MSS 1460 and a 65535-byte window, no other option. */
#define TH_PLAIN (&(const struct th_opts){.mss = 1460, .window = 65535})

/* --- life of the harness ----------------------------------------------------- */

static inline struct th *th_create(uint16_t mtu)
{
	struct th *h = calloc(1, sizeof(*h));
	assert_non_null(h);
	h->segs = calloc(TH_SEGS_MAX, sizeof(*h->segs));
	h->rx = malloc(TH_RX_MAX);
	assert_non_null(h->segs);
	assert_non_null(h->rx);

	/*
	 * Virtual time from 0 and the CSPRNG seeded from the sim platform's
	 * seeded entropy: every key, ISN and ephemeral port of the run is
	 * fixed by TH_SEED, whatever ran before in this process.
	 */
	sim_reset(TH_SEED);
	uint8_t seed[32];
	assert_int_equal(mist_plat_entropy(seed, sizeof(seed)), 0);
	mist_rng_seed(seed, sizeof(seed));

	struct mist_mem_stats ms;
	mist_mem_stats(&ms);
	h->heap_before = ms.bytes_in_use;
	h->sched = mist_sched_create();
	assert_non_null(h->sched);
	h->rx_pool =
	        mist_pool_create("th-rx", TH_RX_BUFS, mist_stack_rx_buf_size(mtu), NET_RX_HEADROOM);
	assert_non_null(h->rx_pool);
	h->dev.h = h;
	h->dev.netdev.ops = &th_dev_ops;
	strcpy(h->dev.netdev.name, "th0");
	memcpy(h->dev.netdev.mac, th_our_mac.b, sizeof(th_our_mac.b));
	h->dev.netdev.mtu = mtu;
	h->source.next_event = th_source_next;
	sim_add_source(&h->source);
	mist_waitq_init(&h->park);
	struct mist_stack_config c = {
	        .dev = &h->dev.netdev, .rx_pool = h->rx_pool, .ip = TH_LOCAL_IP, .prefix = 24};
	assert_int_equal(mist_stack_create(&c, &h->s), 0);

	/* The peer asks for our address: the stack learns its MAC (RFC 826) and replies. */
	struct mist_arp_repr req = {.op = MIST_ARP_OP_REQUEST,
	                            .sha = th_peer_mac,
	                            .spa = TH_PEER_IP,
	                            .tpa = TH_LOCAL_IP};
	uint8_t frame[MIST_ETHER_HDR_LEN + MIST_ARP_LEN];
	struct mist_ether_repr e = {
	        .dst = MIST_ETHER_BROADCAST, .src = th_peer_mac, .ethertype = MIST_ETHERTYPE_ARP};
	mist_ether_emit(&e, frame, sizeof(frame));
	mist_arp_emit(&req, frame + MIST_ETHER_HDR_LEN, MIST_ARP_LEN);
	th_dev_queue(h, frame, sizeof(frame));
	th_run_until(h, TH_T0);
	assert_int_equal(h->s->stats.arp.tx_reply, 1);
	assert_int_equal(h->nsegs, 0);
	return h;
}

/*
 * Lets every fiber end (the reader by shutting the read side, parked
 * handlers by releasing them, a connected flow by aborting it), destroys the
 * stack and the loop, and checks that nothing is left on the heap.
 */
static inline void th_destroy(struct th *h)
{
	if (h->reading && h->flow != NULL && tcp_conn_of(h->flow)->state != TCP_CLOSED)
		mist_flow_shutdown(h->flow, MIST_SHUT_RD);
	h->release = true;
	mist_wake_all(&h->park);
	if (!h->connect_done && th_conn(h) != NULL)
		tcp_conn_done(th_conn(h), MIST_ECANCELED); /* wakes mist_tcp_connect() */
	th_settle(h);
	assert_false(h->reading);
	if (h->flow_active)
		th_abort(h);
	th_drain(h);
	if (h->listening)
		assert_int_equal(mist_tcp_unlisten(h->s, TH_PORT), 0);
	th_settle(h);
	assert_int_equal(h->other_frames, 0); /* TCP and ARP only: no ICMP, nothing else */
	mist_stack_destroy(h->s);
	sim_remove_source(&h->source);
	assert_int_equal(mist_sched_destroy(h->sched), 0);
	struct mist_mem_stats ms;
	mist_mem_stats(&ms);
	assert_int_equal(ms.bytes_in_use, h->heap_before);
	free(h->rx);
	free(h->segs);
	free(h);
}

static inline int th_setup(void **state)
{
	*state = th_create(TH_MTU);
	return 0;
}

static inline int th_teardown(void **state)
{
	th_destroy(*state);
	return 0;
}

#endif
