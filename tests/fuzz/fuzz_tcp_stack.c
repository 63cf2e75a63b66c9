/*
 * libFuzzer target for Mist's whole TCP (src/net/tcp*.c) under the sim
 * platform's virtual time. Each input builds a fresh stack at 10.0.0.1 with
 * a listener on port 80 and one connection from 10.0.0.2:40000 already
 * established through it, then plays the input as a sequence of events:
 * segments from the peer (built with the wire emitters, valid IPv4 and TCP
 * checksums, so that they reach the state machine), ICMP errors, and calls
 * of the flow API by the application, with virtual time advancing between
 * them so that every timer gets to fire. After every event the connections'
 * invariants are checked; at the end every connection is ended, every
 * fiber returns, the stack and the loop are destroyed, and the heap must be
 * back where it started. A broken invariant or a leak traps.
 *
 * Input layout (all fields big-endian; a short input ends early):
 *
 *   preamble  1 byte  the peer's SYN options: bit 0 MSS (1460), bit 1 window
 *                     scale (shift = bits 4-7, above 14 on purpose), bit 2
 *                     SACK-permitted, bit 3 timestamps
 *             4 bytes the peer's ISN
 *             1 byte  bit 0: congestion control NewReno instead of CUBIC
 *   events    repeated: kind (1 byte), delay (1 byte: an index into
 *             delays[] below, low 4 bits), length n (1 byte), n body bytes
 *
 * Kinds (low 3 bits; bit 3 asks for raw numbers, bits 5-7 pick a peer port):
 *   0  a segment on the established connection
 *   1  a segment to the listener from port 41000 + (kind >> 5)
 *   2  a segment to the closed port 81
 *   3  an ICMP destination unreachable (code: body byte 0) about the
 *      established connection, quoting SND.UNA + a 16-bit offset
 *   4  an application call on the established flow (body byte 0 picks it)
 *   5  mist_tcp_connect() to 10.0.0.2:9000 (once)
 *   6  a segment on that active connection
 *   7  as 3, about the active connection
 *
 * A segment body: seq (4), ack (4), flags (1), window (2), option mask (1),
 * the options it asks for, then the payload. With kind bit 3 set, seq and
 * ack are taken as they are; otherwise their low 16 bits are a signed
 * offset from RCV.NXT and SND.UNA of the connection they go to, so that
 * most segments land in the window. Option mask: bit 0 MSS (2 bytes), bit 1
 * window scale (1), bit 2 SACK-permitted, bit 3 timestamps (TSval and
 * TSecr, 4 each), bits 4-6 the number of SACK blocks, modulo 5 (each 2
 * bytes offset from SND.UNA and 2 bytes length).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/log_internal.h"
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
#include "wire/icmp.h"
#include "wire/ipv4.h"
#include "wire/tcp.h"
/* Built with -Iinclude -Isrc only; the sim platform's header is found relative to here. */
#include "../../platform/sim/sim.h"

#define INVARIANT(x)                      \
	do {                              \
		if (!(x))                 \
			__builtin_trap(); \
	} while (0)

#define MTU          1500u
#define RX_BUFS      128u
#define TX_BUFS      512u
#define RXQ_MAX      8u
#define SETTLE_TURNS 64u
#define LOCAL_IP     MIST_IPV4(10, 0, 0, 1)
#define PEER_IP      MIST_IPV4(10, 0, 0, 2)
#define ROUTER_IP    MIST_IPV4(10, 0, 0, 254)
#define PORT         80u
#define PEER_PORT    40000u
#define OTHER_PORT   41000u
#define CLOSED_PORT  81u
#define ACTIVE_PORT  9000u
#define WRITE_MAX    70000u
#define PREAMBLE_LEN 6u

static const struct mist_ether_addr our_mac = {{0x02, 0, 0, 0, 0, 0x0a}};
static const struct mist_ether_addr peer_mac = {{0x02, 0, 0, 0, 0, 0x0b}};

/* What may pass before an event. */
static const uint64_t delays[16] = {
        0,
        MIST_MSEC,
        5 * MIST_MSEC,
        20 * MIST_MSEC,
        40 * MIST_MSEC,
        100 * MIST_MSEC,
        200 * MIST_MSEC,
        500 * MIST_MSEC,
        MIST_SEC,
        3 * MIST_SEC,
        10 * MIST_SEC,
        30 * MIST_SEC,
        60 * MIST_SEC,
        61 * MIST_SEC,
        120 * MIST_SEC,
        300 * MIST_SEC,
};

enum app_call {
	CALL_WRITE,
	CALL_READ,
	CALL_SHUT_RD,
	CALL_SHUT_WR,
	CALL_CLOSE,
	CALL_ABORT,
	CALL_NODELAY,
	CALL_KEEPALIVE,
	CALL_BUFFERS,
	CALL_USER_TIMEOUT,
	CALL_COUNT,
	CALL_NONE = CALL_COUNT,
};

/* Everything one input works on; zeroed before each. */
static struct fz {
	struct mist_netdev dev;
	struct mist_buf *rxq[RXQ_MAX];
	unsigned nrx;
	struct sim_source source;
	struct mist_sched *sched;
	struct mist_pool *rx_pool;
	struct mist_stack *s;
	uint64_t heap_before;
	uint64_t until;
	uint16_t ip_ident;
	uint32_t last_synack_seq;

	/* The established flow and the fiber that makes its calls. */
	struct mist_flow *flow;
	bool flow_gone; /* closed or aborted: the pointer is dead */
	bool busy;      /* the fiber is inside a call (a write may block) */
	bool stop;
	enum app_call call;
	uint32_t arg;
	struct mist_waitq calls;

	/* The active connection. */
	bool connecting;
	uint16_t active_lport;
} fz;

/* --- the device ------------------------------------------------------------ */

static void queue_frame(const uint8_t *frame, size_t len)
{
	if (fz.nrx == RXQ_MAX)
		return;
	struct mist_buf *b = mist_buf_alloc(fz.rx_pool, (uint32_t)len);
	if (b == NULL)
		return;
	memcpy(b->data, frame, len);
	fz.rxq[fz.nrx++] = b;
}

/* The peer answers ARP requests for its address, so that resolution never stalls. */
static void answer_arp(const uint8_t *p, size_t len)
{
	struct mist_arp_repr req;
	if (mist_arp_parse(p, len, &req) != 0 || req.op != MIST_ARP_OP_REQUEST ||
	    !mist_ipv4_addr_eq(req.tpa, PEER_IP))
		return;
	uint8_t frame[MIST_ETHER_HDR_LEN + MIST_ARP_LEN];
	struct mist_ether_repr e = {
	        .dst = req.sha, .src = peer_mac, .ethertype = MIST_ETHERTYPE_ARP};
	struct mist_arp_repr rep = {.op = MIST_ARP_OP_REPLY,
	                            .sha = peer_mac,
	                            .spa = PEER_IP,
	                            .tha = req.sha,
	                            .tpa = req.spa};
	mist_ether_emit(&e, frame, sizeof(frame));
	mist_arp_emit(&rep, frame + MIST_ETHER_HDR_LEN, MIST_ARP_LEN);
	queue_frame(frame, sizeof(frame));
}

static int dev_tx(struct mist_netdev *dev, struct mist_buf *frame)
{
	uint8_t bytes[2048];
	size_t len = mist_buf_chain_len(frame);
	INVARIANT(len <= sizeof(bytes) && len >= MIST_ETHER_HDR_LEN);
	mist_buf_copyout(frame, 0, bytes, len);
	mist_buf_free_chain(frame);
	const uint8_t *p = bytes + MIST_ETHER_HDR_LEN;
	size_t plen = len - MIST_ETHER_HDR_LEN;
	if (mist_ether_type(bytes) == MIST_ETHERTYPE_ARP) {
		answer_arp(p, plen);
		return 0;
	}
	/* What the stack sends is well formed: a checked header and a correct checksum. */
	INVARIANT(mist_ipv4_check(p, plen) == 0 && mist_ipv4_verify_checksum(p));
	INVARIANT(len - MIST_ETHER_HDR_LEN <= MTU);
	if (mist_ipv4_protocol(p) != MIST_IP_PROTO_TCP)
		return 0;
	const uint8_t *tcp = p + mist_ipv4_header_len(p);
	size_t tcp_len = mist_ipv4_total_len(p) - mist_ipv4_header_len(p);
	struct mist_tcp_repr r;
	INVARIANT(mist_tcp_parse(tcp, tcp_len, &r) == 0);
	INVARIANT(mist_tcp_verify_checksum(tcp, tcp_len, mist_ipv4_src(p), mist_ipv4_dst(p)));
	if ((r.flags & (MIST_TCP_SYN | MIST_TCP_ACK)) == (MIST_TCP_SYN | MIST_TCP_ACK))
		fz.last_synack_seq = r.seq;
	/* The active connection's SYN names its ephemeral port, which kind 6 segments need. */
	if (r.flags == MIST_TCP_SYN && r.dst_port == ACTIVE_PORT)
		fz.active_lport = r.src_port;
	return 0;
}

static unsigned dev_rx_burst(struct mist_netdev *dev, struct mist_buf **bufs, unsigned max)
{
	unsigned n = 0;
	while (n < max && n < fz.nrx) {
		bufs[n] = fz.rxq[n];
		n++;
	}
	memmove(fz.rxq, fz.rxq + n, (fz.nrx - n) * sizeof(fz.rxq[0]));
	fz.nrx -= n;
	return n;
}

static void dev_flush(struct mist_netdev *dev)
{
}

static void dev_close(struct mist_netdev *dev)
{
	for (unsigned i = 0; i < fz.nrx; i++)
		mist_buf_free(fz.rxq[i]);
	fz.nrx = 0;
}

static const struct mist_netdev_ops dev_ops = {
        .rx_burst = dev_rx_burst, .tx = dev_tx, .flush = dev_flush, .close = dev_close};

static uint64_t source_next(struct sim_source *source)
{
	return fz.nrx > 0 ? mist_now() : UINT64_MAX;
}

/* --- the loop ---------------------------------------------------------------- */

static void stopper(void *arg)
{
	mist_sleep_until(fz.until);
	for (unsigned i = 0; i < SETTLE_TURNS; i++) {
		struct mist_sched_stats st;
		mist_sched_stats(fz.sched, &st);
		if (st.ready == 0 && fz.nrx == 0)
			break;
		mist_fiber_yield();
	}
	mist_sched_stop(fz.sched);
}

/* Runs the loop until virtual time `t`, everything due until then included. */
static void run_until(uint64_t t)
{
	fz.until = t;
	struct mist_fiber *f = mist_fiber_spawn("fz-stopper", stopper, NULL, 0);
	INVARIANT(f != NULL);
	mist_fiber_detach(f);
	mist_sched_run(fz.sched);
}

/* --- the application ------------------------------------------------------- */

static uint32_t flow_arg(unsigned shift, uint32_t mod)
{
	return (fz.arg >> shift) % mod;
}

static void app_call(struct mist_flow *flow, enum app_call call)
{
	struct mist_buf *b;
	switch (call) {
	case CALL_WRITE: {
		uint32_t n = 1 + fz.arg % WRITE_MAX;
		uint8_t *data = malloc(n);
		INVARIANT(data != NULL);
		memset(data, 'm', n);
		(void)mist_flow_write(flow, data, n);
		free(data);
		break;
	}
	case CALL_READ:
		while (mist_flow_read_deadline(flow, mist_now(), &b) == 0 && b != NULL)
			mist_buf_free(b);
		break;
	case CALL_SHUT_RD:
		(void)mist_flow_shutdown(flow, MIST_SHUT_RD);
		break;
	case CALL_SHUT_WR:
		(void)mist_flow_shutdown(flow, MIST_SHUT_WR);
		break;
	case CALL_CLOSE:
		mist_flow_close(flow);
		fz.flow_gone = true;
		break;
	case CALL_ABORT:
		mist_flow_abort(flow);
		fz.flow_gone = true;
		break;
	case CALL_NODELAY:
		(void)mist_flow_set_nodelay(flow, fz.arg & 1);
		break;
	case CALL_KEEPALIVE:
		(void)mist_flow_set_keepalive(flow, flow_arg(0, 8) * MIST_SEC,
		                              flow_arg(3, 4) * MIST_SEC, flow_arg(5, 4));
		break;
	case CALL_BUFFERS:
		(void)mist_flow_set_buffers(flow, flow_arg(0, 256) * 1024, flow_arg(8, 256) * 1024);
		break;
	case CALL_USER_TIMEOUT:
		(void)mist_flow_set_user_timeout(flow, flow_arg(0, 16) * MIST_SEC);
		break;
	case CALL_NONE:
		break;
	}
}

/*
 * The listener's handler. The first connection is the established one the
 * input drives: its fiber makes the calls the input asks for. Later ones
 * (from kind 1 segments) read until their end.
 */
static void handler(struct mist_flow *flow, void *arg)
{
	if (fz.flow != NULL) {
		struct mist_buf *b;
		while ((b = mist_flow_read(flow)) != NULL)
			mist_buf_free(b);
		return;
	}
	fz.flow = flow;
	while (!fz.stop && !fz.flow_gone) {
		if (fz.call == CALL_NONE) {
			mist_wait(&fz.calls, MIST_FOREVER);
			continue;
		}
		enum app_call call = fz.call;
		fz.call = CALL_NONE;
		fz.busy = true;
		app_call(flow, call);
		fz.busy = false;
	}
}

static void connect_main(void *arg)
{
	struct mist_addr to = {.ip = PEER_IP, .port = ACTIVE_PORT};
	struct mist_flow *flow;
	if (mist_tcp_connect(fz.s, &to, mist_now() + 60 * MIST_SEC, &flow) != 0)
		return;
	struct mist_buf *b;
	while ((b = mist_flow_read(flow)) != NULL)
		mist_buf_free(b);
	mist_flow_close(flow);
}

/* --- what the peer sends --------------------------------------------------- */

static void input_ipv4(struct mist_ipv4_addr src, uint8_t protocol, const uint8_t *payload,
                       size_t len)
{
	struct mist_buf *b = mist_buf_alloc(
	        fz.rx_pool, (uint32_t)(MIST_ETHER_HDR_LEN + MIST_IPV4_HDR_MIN + len));
	if (b == NULL)
		return; /* every receive buffer is held by queues: the device would drop it */
	struct mist_ether_repr e = {
	        .dst = our_mac, .src = peer_mac, .ethertype = MIST_ETHERTYPE_IPV4};
	mist_ether_emit(&e, b->data, MIST_ETHER_HDR_LEN);
	struct mist_ipv4_repr ip = {.src = src,
	                            .dst = LOCAL_IP,
	                            .protocol = protocol,
	                            .ttl = 64,
	                            .ident = fz.ip_ident++,
	                            .dont_frag = true,
	                            .payload_len = (uint16_t)len};
	INVARIANT(mist_ipv4_emit(&ip, b->data + MIST_ETHER_HDR_LEN, MIST_IPV4_HDR_MIN) == 0);
	memcpy(b->data + MIST_ETHER_HDR_LEN + MIST_IPV4_HDR_MIN, payload, len);
	mist_stack_input(fz.s, b);
}

static void send_segment(struct mist_tcp_repr *r, const uint8_t *payload, size_t len)
{
	uint8_t seg[MIST_TCP_HDR_MAX + MTU];
	/* Drop SACK blocks until the options fit: the wire parser has its own fuzz target. */
	while (mist_tcp_header_len(r) > MIST_TCP_HDR_MAX && r->sack_count > 0)
		r->sack_count--;
	size_t hlen = mist_tcp_header_len(r);
	if (hlen > MIST_TCP_HDR_MAX)
		return;
	len = len < MTU - MIST_IPV4_HDR_MIN - hlen ? len : MTU - MIST_IPV4_HDR_MIN - hlen;
	INVARIANT(mist_tcp_emit(r, seg, hlen) == (int)hlen);
	if (len > 0)
		memcpy(seg + hlen, payload, len);
	mist_tcp_fill_checksum(seg, hlen + len, PEER_IP, LOCAL_IP,
	                       mist_csum_partial(seg + hlen, len, 0));
	input_ipv4(PEER_IP, MIST_IP_PROTO_TCP, seg, hlen + len);
}

/* A cursor over the bytes of one event's body; reads past its end give zeros. */
struct body {
	const uint8_t *p;
	size_t len, off;
};

static uint32_t take(struct body *b, unsigned n)
{
	uint32_t v = 0;
	for (unsigned i = 0; i < n; i++)
		v = v << 8 | (b->off < b->len ? b->p[b->off++] : 0);
	return v;
}

static struct tcp_conn *conn_of(uint16_t lport, uint16_t rport)
{
	struct tcp_tuple t = {.local = LOCAL_IP, .remote = PEER_IP, .lport = lport, .rport = rport};
	return tcp_conn_find(fz.s, &t);
}

/* Builds a segment from `b` and sends it from rport to lport. */
static void segment_event(struct body *b, uint16_t lport, uint16_t rport, bool raw)
{
	struct tcp_conn *c = conn_of(lport, rport);
	struct mist_tcp_repr r = {.src_port = rport, .dst_port = lport};
	uint32_t seq = take(b, 4), ack = take(b, 4);
	r.seq = raw || c == NULL ? seq : c->rcv_nxt + (uint32_t)(int32_t)(int16_t)seq;
	r.ack = raw || c == NULL ? ack : c->snd_una + (uint32_t)(int32_t)(int16_t)ack;
	r.flags = (uint8_t)take(b, 1);
	r.window = (uint16_t)take(b, 2);
	uint32_t mask = take(b, 1);
	if (mask & 1)
		r.mss = (uint16_t)take(b, 2);
	if (mask & 2) {
		r.has_wscale = true;
		r.wscale = (uint8_t)take(b, 1);
	}
	r.sack_permitted = mask & 4;
	if (mask & 8) {
		r.has_timestamps = true;
		r.ts_val = take(b, 4);
		r.ts_ecr = take(b, 4);
	}
	r.sack_count = (uint8_t)((mask >> 4) % (MIST_TCP_SACK_MAX + 1));
	uint32_t una = c != NULL ? c->snd_una : 0;
	for (unsigned i = 0; i < r.sack_count; i++) {
		r.sack[i].start = una + take(b, 2);
		r.sack[i].end = r.sack[i].start + take(b, 2);
	}
	size_t off = b->off < b->len ? b->off : b->len;
	send_segment(&r, b->p + off, b->len - off);
}

/* An ICMP destination unreachable about our segment from lport to rport. */
static void icmp_event(struct body *b, uint16_t lport, uint16_t rport)
{
	struct tcp_conn *c = conn_of(lport, rport);
	uint8_t code = (uint8_t)take(b, 1);
	uint32_t seq = (c != NULL ? c->snd_una : 0) + take(b, 2);
	uint8_t msg[MIST_ICMP_HDR_LEN + MIST_IPV4_HDR_MIN + MIST_ICMP_ORIG_PAYLOAD] = {0};
	uint8_t *orig = msg + MIST_ICMP_HDR_LEN;
	struct mist_ipv4_repr ip = {.src = LOCAL_IP,
	                            .dst = PEER_IP,
	                            .protocol = MIST_IP_PROTO_TCP,
	                            .ttl = 1,
	                            .payload_len = MIST_TCP_HDR_MIN};
	INVARIANT(mist_ipv4_emit(&ip, orig, MIST_IPV4_HDR_MIN) == 0);
	mist_tcp_set_src_port(orig + MIST_IPV4_HDR_MIN, lport);
	mist_tcp_set_dst_port(orig + MIST_IPV4_HDR_MIN, rport);
	mist_tcp_set_seq(orig + MIST_IPV4_HDR_MIN, seq);
	struct mist_icmp_repr r = {.type = MIST_ICMP_DEST_UNREACH,
	                           .code = code % (MIST_ICMP_UNREACH_FRAG_NEEDED + 1),
	                           .data_len = sizeof(msg) - MIST_ICMP_HDR_LEN};
	INVARIANT(mist_icmp_emit(&r, msg, sizeof(msg)) == 0);
	input_ipv4(ROUTER_IP, MIST_IP_PROTO_ICMP, msg, sizeof(msg));
}

static void event(uint8_t kind, struct body *b)
{
	bool raw = (kind & 8) != 0;
	switch (kind & 7) {
	case 0:
		segment_event(b, PORT, PEER_PORT, raw);
		break;
	case 1:
		segment_event(b, PORT, (uint16_t)(OTHER_PORT + (kind >> 5)), raw);
		break;
	case 2:
		segment_event(b, CLOSED_PORT, PEER_PORT, true);
		break;
	case 3:
		icmp_event(b, PORT, PEER_PORT);
		break;
	case 4:
		if (fz.flow != NULL && !fz.flow_gone && !fz.busy) {
			fz.call = (enum app_call)(take(b, 1) % CALL_COUNT);
			fz.arg = take(b, 4);
			mist_wake_all(&fz.calls);
		}
		break;
	case 5:
		if (!fz.connecting) {
			fz.connecting = true;
			struct mist_fiber *f =
			        mist_fiber_spawn("fz-connect", connect_main, NULL, 0);
			INVARIANT(f != NULL);
			mist_fiber_detach(f);
		}
		break;
	case 6:
		if (fz.active_lport != 0)
			segment_event(b, fz.active_lport, ACTIVE_PORT, raw);
		break;
	case 7:
		if (fz.active_lport != 0)
			icmp_event(b, fz.active_lport, ACTIVE_PORT);
		break;
	}
}

/* --- invariants ------------------------------------------------------------ */

struct census {
	uint64_t ooo_bytes;
	uint32_t half_open;
};

static uint32_t chain_len(const struct mist_buf *b, const struct mist_buf *tail)
{
	uint32_t n = 0;
	const struct mist_buf *last = NULL;
	for (; b != NULL; b = b->next) {
		n += b->len;
		last = b;
	}
	INVARIANT(last == tail);
	return n;
}

static void check_conn(struct tcp_table_node *node, void *arg)
{
	struct census *census = arg;
	struct tcp_conn *c = mist_container_of(node, struct tcp_conn, node);
	/* Only live connections are in the table. */
	INVARIANT(c->state > TCP_CLOSED && c->state <= TCP_TIME_WAIT);
	INVARIANT(c->flags & TCP_F_IN_TABLE);
	/* RFC 9293 3.3.1: SND.UNA <= SND.NXT <= SND.MAX, modulo 2^32. */
	INVARIANT(seq_le(c->snd_una, c->snd_nxt) && seq_le(c->snd_nxt, c->snd_max));
	/* What is outstanding is queued data, plus the SYN and the FIN. */
	INVARIANT(c->snd_max - c->snd_una <= c->sndq_len + 2);
	INVARIANT(chain_len(c->sndq, c->sndq_tail) == c->sndq_len);
	INVARIANT(chain_len(c->rcvq, c->rcvq_tail) == c->rcvq_len);
	/* Data is taken only within the window offered. */
	if (c->state >= TCP_ESTABLISHED)
		INVARIANT(seq_le(c->rcv_nxt, c->rcv_adv));
	/* The scoreboard holds sorted ranges between SND.UNA and SND.MAX. */
	INVARIANT(c->sack.count <= TCP_SACK_RANGES);
	for (unsigned i = 0; i < c->sack.count; i++) {
		INVARIANT(seq_lt(c->sack.r[i].start, c->sack.r[i].end));
		INVARIANT(seq_ge(c->sack.r[i].start, c->snd_una));
		INVARIANT(seq_le(c->sack.r[i].end, c->snd_max));
		if (i > 0)
			INVARIANT(seq_lt(c->sack.r[i - 1].end, c->sack.r[i].start));
	}
	INVARIANT(c->ooo.nsegs <= TCP_REASM_MAX_SEGS);
	census->ooo_bytes += c->ooo.bytes;
	if (c->state == TCP_SYN_RECEIVED && c->listener != NULL)
		census->half_open++;
}

static void check_invariants(void)
{
	struct census census = {0};
	tcp_table_foreach(&fz.s->tcp.conns, check_conn, &census);
	INVARIANT(census.ooo_bytes == fz.s->tcp.ooo_budget.bytes);
	struct tcp_listener *l = tcp_listener_find(fz.s, PORT);
	INVARIANT(l != NULL && l->half_open == census.half_open);
	INVARIANT(l->half_open <= TCP_BACKLOG);
}

/* --- one input ----------------------------------------------------------------- */

static void setup(const uint8_t *data, size_t size)
{
	memset(&fz, 0, sizeof(fz));
	fz.call = CALL_NONE;
	sim_reset(1);
	uint8_t seed[32];
	mist_plat_entropy(seed, sizeof(seed));
	mist_rng_seed(seed, sizeof(seed));
	struct mist_mem_stats ms;
	mist_mem_stats(&ms);
	fz.heap_before = ms.bytes_in_use;

	fz.sched = mist_sched_create();
	INVARIANT(fz.sched != NULL);
	fz.rx_pool =
	        mist_pool_create("fz-rx", RX_BUFS, mist_stack_rx_buf_size(MTU), NET_RX_HEADROOM);
	INVARIANT(fz.rx_pool != NULL);
	fz.dev.ops = &dev_ops;
	strcpy(fz.dev.name, "fz0");
	memcpy(fz.dev.mac, our_mac.b, sizeof(our_mac.b));
	fz.dev.mtu = MTU;
	fz.source.next_event = source_next;
	sim_add_source(&fz.source);
	mist_waitq_init(&fz.calls);
	struct mist_stack_config config = {.dev = &fz.dev,
	                                   .rx_pool = fz.rx_pool,
	                                   .ip = LOCAL_IP,
	                                   .prefix = 24,
	                                   .tx_buffers = TX_BUFS};
	INVARIANT(mist_stack_create(&config, &fz.s) == 0);
	INVARIANT(mist_tcp_listen(fz.s, PORT, handler, NULL) == 0);
	struct body b = {.p = data, .len = size};
	uint8_t opts = (uint8_t)take(&b, 1);
	uint32_t irs = take(&b, 4);
	fz.s->tcp.cc_algo = (take(&b, 1) & 1) ? TCP_CC_NEWRENO : TCP_CC_CUBIC;

	/* The peer's MAC, learnt from its ARP request (RFC 826). */
	struct mist_arp_repr req = {
	        .op = MIST_ARP_OP_REQUEST, .sha = peer_mac, .spa = PEER_IP, .tpa = LOCAL_IP};
	uint8_t frame[MIST_ETHER_HDR_LEN + MIST_ARP_LEN];
	struct mist_ether_repr e = {
	        .dst = MIST_ETHER_BROADCAST, .src = peer_mac, .ethertype = MIST_ETHERTYPE_ARP};
	mist_ether_emit(&e, frame, sizeof(frame));
	mist_arp_emit(&req, frame + MIST_ETHER_HDR_LEN, MIST_ARP_LEN);
	queue_frame(frame, sizeof(frame));
	run_until(MIST_SEC);

	/* The established connection: SYN with the preamble's options, SYN-ACK, ACK. */
	struct mist_tcp_repr syn = {.src_port = PEER_PORT,
	                            .dst_port = PORT,
	                            .seq = irs,
	                            .flags = MIST_TCP_SYN,
	                            .window = 65535,
	                            .mss = (opts & 1) ? 1460 : 0,
	                            .has_wscale = (opts & 2) != 0,
	                            .wscale = opts >> 4,
	                            .sack_permitted = (opts & 4) != 0,
	                            .has_timestamps = (opts & 8) != 0,
	                            .ts_val = 1};
	send_segment(&syn, NULL, 0);
	struct mist_tcp_repr ack = {.src_port = PEER_PORT,
	                            .dst_port = PORT,
	                            .seq = irs + 1,
	                            .ack = fz.last_synack_seq + 1,
	                            .flags = MIST_TCP_ACK,
	                            .window = 65535,
	                            .has_timestamps = (opts & 8) != 0,
	                            .ts_val = 1};
	send_segment(&ack, NULL, 0);
	run_until(mist_now());
	INVARIANT(fz.flow != NULL);
}

static void end_conn(struct tcp_table_node *node, void *arg)
{
	struct tcp_conn *c = mist_container_of(node, struct tcp_conn, node);
	c->flags |= TCP_F_BUSY;
	tcp_conn_done(c, MIST_ECANCELED);
	c->flags &= (uint16_t)~TCP_F_BUSY;
	tcp_conn_release(c);
}

/* Ends every connection (which wakes every fiber blocked on one), lets every fiber return. */
static void teardown(void)
{
	tcp_table_foreach(&fz.s->tcp.conns, end_conn, NULL);
	fz.stop = true;
	mist_wake_all(&fz.calls);
	struct mist_sched_stats st;
	for (unsigned i = 0; i < SETTLE_TURNS; i++) {
		run_until(mist_now());
		mist_sched_stats(fz.sched, &st);
		if (st.fibers == 0)
			break;
	}
	INVARIANT(st.fibers == 0);
	INVARIANT(mist_tcp_unlisten(fz.s, PORT) == 0);
	/* Every connection is gone, and every buffer with them. */
	INVARIANT(fz.s->tcp.conns.count == 0);
	struct mist_pool_stats ps;
	mist_pool_stats(fz.rx_pool, &ps);
	INVARIANT(ps.in_use == fz.nrx);
	mist_pool_stats(fz.s->tx_pool, &ps);
	INVARIANT(ps.in_use == 0);
	mist_stack_destroy(fz.s);
	sim_remove_source(&fz.source);
	INVARIANT(mist_sched_destroy(fz.sched) == 0);
	struct mist_mem_stats ms;
	mist_mem_stats(&ms);
	INVARIANT(ms.bytes_in_use == fz.heap_before);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	/* The stack logs each creation at info level: once per input is noise. */
	static const char quiet[] = "error";
	mist_log_configure(quiet, sizeof(quiet) - 1);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	setup(data, size);
	struct body in = {.p = data, .len = size, .off = PREAMBLE_LEN};
	while (in.off + 3 <= in.len) {
		uint8_t kind = (uint8_t)take(&in, 1);
		uint64_t delay = delays[take(&in, 1) & 15];
		uint32_t n = take(&in, 1);
		struct body b = {.p = in.p + in.off, .len = MIST_MIN((size_t)n, in.len - in.off)};
		in.off += b.len;
		run_until(mist_now() + delay);
		check_invariants();
		event(kind, &b);
		run_until(mist_now());
		check_invariants();
	}
	teardown();
	return 0;
}
