/*
 * TCP output: building segments and deciding what to send.
 *
 * Data is never copied here: a segment is a small header buffer chained in
 * front of views onto the send queue (net_chain_slice), so a retransmission
 * sends the same bytes again from the same storage.
 */
#include "base/str.h"
#include "net/stack.h"
#include "net/tcp.h"
#include "wire/checksum.h"

/* Option bytes the timestamps take with their padding (RFC 7323 Appendix A). */
#define TCP_TS_OPT_LEN 12

/* Data bytes per segment: the MSS less the options every segment carries (RFC 6691). */
uint32_t tcp_seg_size(const struct tcp_conn *c)
{
	return c->mss - ((c->flags & TCP_F_TS_OK) ? TCP_TS_OPT_LEN : 0);
}

/*
 * The most data one segment may carry: tcp_seg_size(), or with a device that
 * segments (core/netdev.h, TX_TSO4) as many whole tcp_seg_size() as a frame
 * of MIST_NETDEV_GSO_MAX_FRAME holds behind the largest headers.
 */
static uint32_t tcp_send_max(const struct tcp_conn *c)
{
	uint32_t seg = tcp_seg_size(c);
	if (!(c->stack->dev->offloads & MIST_NETDEV_OFF_TX_TSO4))
		return seg;
	uint32_t room = MIST_NETDEV_GSO_MAX_FRAME - MIST_ETHER_HDR_LEN - MIST_IPV4_HDR_MIN -
	                MIST_TCP_HDR_MAX;
	return MIST_MAX(seg, room / seg * seg);
}

/*
 * Builds the header for *r in front of `payload` (len bytes, may be NULL),
 * computes the checksum and hands the segment to IPv4. Takes the payload.
 * A device that completes checksums gets the segment with the checksum left
 * to it; with `gso_size` non-zero (only then) the segment is a super-segment
 * the device cuts into segments of gso_size bytes (core/netdev.h).
 */
static int tcp_emit_gso(struct mist_stack *s, const struct tcp_tuple *t, struct mist_tcp_repr *r,
                        struct mist_buf *payload, uint32_t len, uint16_t gso_size)
{
	r->src_port = t->lport;
	r->dst_port = t->rport;
	size_t hlen = mist_tcp_header_len(r);
	struct mist_buf *h = mist_buf_alloc(s->tx_pool, (uint32_t)hlen);
	if (h == NULL) {
		s->stats.tcp.drop_no_buffer++;
		mist_buf_free_chain(payload);
		return MIST_ENOMEM;
	}
	mist_tcp_emit(r, h->data, hlen);
	if (s->dev->offloads & MIST_NETDEV_OFF_TX_CSUM) {
		/* The payload is summed where it is copied anyway, by the device. */
		mist_tcp_fill_partial_checksum(h->data, hlen + len, t->local, t->remote);
		h->flags = gso_size != 0 ? mist_buf_gso_flags(gso_size) : MIST_BUF_F_CSUM_PARTIAL;
	} else {
		uint32_t sum = 0, off = 0;
		for (struct mist_buf *v = payload; v != NULL; v = v->next) {
			sum = mist_csum_add(sum, mist_csum_partial(v->data, v->len, 0), off);
			off += v->len;
		}
		mist_tcp_fill_checksum(h->data, hlen + len, t->local, t->remote, sum);
	}
	h->next = payload;
	s->stats.tcp.tx++;
	s->stats.tcp.tx_bytes += len;
	if (r->flags & MIST_TCP_RST)
		s->stats.tcp.reset_tx++;
	return net_ipv4_output(s, t->remote, MIST_IP_PROTO_TCP, h, true);
}

static int tcp_emit(struct mist_stack *s, const struct tcp_tuple *t, struct mist_tcp_repr *r,
                    struct mist_buf *payload, uint32_t len)
{
	return tcp_emit_gso(s, t, r, payload, len, 0);
}

uint32_t tcp_rcv_window(const struct tcp_conn *c)
{
	uint32_t used = c->rcvq_len + c->ooo.bytes;
	uint32_t space = c->rcvbuf > used ? c->rcvbuf - used : 0;
	uint32_t offered = seq_gt(c->rcv_adv, c->rcv_nxt) ? c->rcv_adv - c->rcv_nxt : 0;
	/*
	 * RFC 9293 3.8.6.2.2 (receiver SWS avoidance): move the right edge only
	 * by at least min(half the buffer, one MSS); and never shrink a window
	 * already offered (3.8.6).
	 */
	if (space > offered && space - offered < MIST_MIN(c->rcvbuf / 2, (uint32_t)c->mss))
		space = offered;
	space = MIST_MAX(space, offered);
	return MIST_MIN(space, (uint32_t)0xffff << c->rcv_wscale);
}

/* Fills the options every segment of an established connection carries, and the header fields. */
static void tcp_fill_repr(struct tcp_conn *c, struct mist_tcp_repr *r, uint32_t seq, uint8_t flags,
                          uint32_t payload_len)
{
	mist_memset(r, 0, sizeof(*r));
	r->seq = seq;
	r->flags = flags;
	if (flags & MIST_TCP_ACK) {
		r->ack = c->rcv_nxt;
		uint32_t wnd = tcp_rcv_window(c);
		uint32_t offered = seq_gt(c->rcv_adv, c->rcv_nxt) ? c->rcv_adv - c->rcv_nxt : 0;
		uint32_t field = wnd >> c->rcv_wscale;
		/*
		 * RFC 9293 3.8.6: the right edge must not move left. Scaling drops
		 * the window's low bits (RFC 7323 2.3), which may retract an edge
		 * offered before; round up to keep it.
		 */
		if ((field << c->rcv_wscale) < offered)
			field = (offered + (1u << c->rcv_wscale) - 1) >> c->rcv_wscale;
		r->window = (uint16_t)field;
		c->rcv_adv = c->rcv_nxt + ((uint32_t)r->window << c->rcv_wscale);
		c->last_ack_sent = c->rcv_nxt;
		c->delack_at = 0;
		c->flags &= (uint16_t)~TCP_F_ACK_NOW;
	}
	if (c->flags & TCP_F_TS_OK) {
		r->has_timestamps = true;
		r->ts_val = tcp_ts_now();
		r->ts_ecr = c->ts_recent;
	}
	/* RFC 2018 4: SACK blocks for the out-of-order data held, as many as fit the MTU. */
	if ((c->flags & TCP_F_SACK_OK) && c->ooo.nsegs > 0 && (flags & MIST_TCP_ACK)) {
		uint32_t room = (uint32_t)c->stack->mtu - MIST_IPV4_HDR_MIN - MIST_TCP_HDR_MIN -
		                payload_len - (r->has_timestamps ? TCP_TS_OPT_LEN : 0);
		uint32_t fit = room >= 12 ? (room - 4) / 8 : 0;
		unsigned max = (unsigned)MIST_MIN(fit, (uint32_t)(r->has_timestamps ? 3 : 4));
		struct tcp_sack_block blocks[MIST_TCP_SACK_MAX];
		r->sack_count = (uint8_t)tcp_reasm_sack_blocks(&c->ooo, blocks, max);
		for (unsigned i = 0; i < r->sack_count; i++) {
			r->sack[i].start = blocks[i].start;
			r->sack[i].end = blocks[i].end;
		}
	}
}

int tcp_send_control(struct tcp_conn *c, uint32_t seq, uint8_t flags)
{
	struct mist_tcp_repr r;
	tcp_fill_repr(c, &r, seq, flags, 0);
	if (flags & MIST_TCP_SYN) {
		/* RFC 9293 3.7.1, RFC 7323 2.2 and 3.2, RFC 2018 2: what we offer. */
		r.mss = tcp_mss_for(c->stack, UINT16_MAX);
		r.has_wscale = true;
		r.wscale = c->rcv_wscale;
		r.sack_permitted = true;
		r.has_timestamps = true;
		r.ts_val = tcp_ts_now();
		r.ts_ecr = 0;
		r.window = (uint16_t)MIST_MIN(c->rcvbuf, 0xffffu); /* never scaled in a SYN */
	}
	return tcp_emit(c->stack, &c->node.tuple, &r, NULL, 0);
}

int tcp_send_synack(struct mist_stack *s, struct tcp_conn *c, const struct tcp_tuple *t,
                    uint32_t iss, uint32_t ack)
{
	struct mist_tcp_repr r;
	mist_memset(&r, 0, sizeof(r));
	r.seq = iss;
	r.ack = ack;
	r.flags = MIST_TCP_SYN | MIST_TCP_ACK;
	r.mss = tcp_mss_for(s, UINT16_MAX);
	if (c != NULL) {
		/* A connection's SYN-ACK, first or retransmitted: what was agreed. */
		r.window = (uint16_t)MIST_MIN(c->rcvbuf, 0xffffu);
		r.sack_permitted = c->flags & TCP_F_SACK_OK;
		r.has_wscale = c->flags & TCP_F_WSCALE_OK;
		r.wscale = c->rcv_wscale;
		r.has_timestamps = c->flags & TCP_F_TS_OK;
		r.ts_ecr = c->ts_recent;
		c->rcv_adv = ack + r.window;
		/* RFC 7323 4.3: Last.ACK.sent, which decides whose TSval is echoed next. */
		c->last_ack_sent = ack;
	} else {
		/* A SYN cookie keeps no state: no window scaling, SACK or timestamps. */
		r.window = (uint16_t)MIST_MIN(TCP_RCVBUF_DEFAULT, 0xffffu);
	}
	if (r.has_timestamps)
		r.ts_val = tcp_ts_now();
	return tcp_emit(s, t, &r, NULL, 0);
}

void tcp_send_reset(struct mist_stack *s, const struct tcp_tuple *t, uint32_t seq, uint32_t ack,
                    uint8_t flags)
{
	struct mist_tcp_repr r;
	mist_memset(&r, 0, sizeof(r));
	r.seq = seq;
	r.ack = ack;
	r.flags = flags;
	tcp_emit(s, t, &r, NULL, 0);
}

/*
 * The view of the send queue that holds byte `seq`, and the offset of that
 * byte in it. New data is cut in order, so the search starts at the cursor
 * left by the previous cut: O(1) per segment instead of a walk from the head
 * of a queue that may hold megabytes.
 */
static struct mist_buf *tcp_sndq_seek(struct tcp_conn *c, uint32_t seq, uint32_t *off)
{
	struct mist_buf *b = c->sndq;
	uint32_t start = c->snd_una;
	if (c->snd_cursor != NULL && seq_ge(seq, c->snd_cursor_seq)) {
		b = c->snd_cursor;
		start = c->snd_cursor_seq;
	}
	while (b != NULL && seq_ge(seq, start + b->len)) {
		start += b->len;
		b = b->next;
	}
	c->snd_cursor = b;
	c->snd_cursor_seq = start;
	*off = seq - start;
	return b;
}

int tcp_send_data(struct tcp_conn *c, uint32_t seq, uint32_t len, bool retransmit)
{
	struct mist_stack *s = c->stack;
	uint32_t data_end = c->snd_una + c->sndq_len;
	bool fin = (c->flags & TCP_F_FIN_QUEUED) && seq + len == data_end;
	struct mist_buf *payload = NULL;

	if (len > 0) {
		uint32_t off;
		struct mist_buf *from = tcp_sndq_seek(c, seq, &off);
		payload = net_chain_slice(from, off, len);
		if (payload == NULL) {
			s->stats.tcp.drop_no_buffer++;
			return MIST_ENOMEM;
		}
	}
	uint8_t flags = MIST_TCP_ACK;
	if (seq + len == data_end && len > 0)
		flags |= MIST_TCP_PSH;
	if (fin)
		flags |= MIST_TCP_FIN;
	/* A super-segment (len > seg) goes out as segments of seg bytes, each with this header. */
	uint32_t seg = tcp_seg_size(c);
	struct mist_tcp_repr r;
	tcp_fill_repr(c, &r, seq, flags, MIST_MIN(len, seg));
	if (retransmit)
		s->stats.tcp.retransmits++;
	else if (!(c->flags & (TCP_F_TS_OK | TCP_F_RTT_TIMING)) && len > 0) {
		/* RFC 6298 3: time one segment per RTT when timestamps do not time them all. */
		c->flags |= TCP_F_RTT_TIMING;
		c->rtt_seq = seq + len;
		c->rtt_start = mist_now();
	}
	if (c->snd_una == c->snd_max)
		c->unacked_since = mist_now();
	/*
	 * Data goes out again after zero-window probing: RFC 6298 5.5 backs the
	 * RTO off for its own expiries only, so the probes' backoff ends here.
	 */
	if (c->persist_at != 0) {
		c->persist_at = 0;
		c->backoff = 0;
	}
	int err = tcp_emit_gso(s, &c->node.tuple, &r, payload, len, len > seg ? (uint16_t)seg : 0);
	uint32_t end = seq + len + (fin ? 1 : 0);
	if (fin)
		c->flags |= TCP_F_FIN_SENT;
	if (seq_gt(end, c->snd_max))
		c->snd_max = end;
	/* RFC 6298 5.1: the timer runs whenever data is outstanding. */
	if (c->rto_at == 0)
		tcp_rto_restart(c);
	return err;
}

/* Flight size as RFC 5681 defines it. */
static uint32_t tcp_flight(const struct tcp_conn *c)
{
	return c->snd_max - c->snd_una;
}

void tcp_enter_recovery(struct tcp_conn *c)
{
	struct net_tcp_stats *st = &c->stack->stats.tcp;
	uint32_t data_end = c->snd_una + c->sndq_len;
	uint32_t len = MIST_MIN(tcp_seg_size(c), data_end - c->snd_una);

	st->fast_retransmits++;
	c->flags |= TCP_F_IN_RECOVERY;
	c->flags &= (uint16_t)~TCP_F_RTT_TIMING; /* Karn's rule */
	c->recover = c->snd_max;                 /* RFC 6582 3.2 step 2, RFC 6675 5 step 4.1 */
	c->cc.ops->on_loss(&c->cc, tcp_flight(c), mist_now());
	/* RFC 6675 5 step 4.2 / RFC 6582 3.2 step 2: resend the first unacknowledged segment. */
	tcp_send_data(c, c->snd_una, len, true);
	c->high_rxt = c->snd_una + len;
	if (c->flags & TCP_F_SACK_OK) {
		st->sack_recovery++;
	} else {
		/* RFC 6582 3.2 step 2: inflate by the three segments that left the network. */
		c->cc.cwnd = c->cc.ssthresh + TCP_DUPTHRESH * tcp_seg_size(c);
	}
	tcp_output(c);
}

/* RFC 6675 5 steps (C): during SACK recovery, send while the pipe allows. */
static void tcp_output_sack_recovery(struct tcp_conn *c)
{
	uint32_t seg = tcp_seg_size(c);
	uint32_t data_end = c->snd_una + c->sndq_len;

	for (;;) {
		if (seq_lt(c->high_rxt, c->snd_una))
			c->high_rxt = c->snd_una;
		uint32_t pipe = tcp_sack_pipe(&c->sack, c->snd_una, c->snd_max, c->high_rxt, seg,
		                              TCP_DUPTHRESH);
		if (pipe + seg > c->cc.cwnd)
			return;
		uint32_t seq, len;
		if (tcp_sack_next_lost(&c->sack, c->snd_una, c->snd_max, c->high_rxt, seg,
		                       TCP_DUPTHRESH, &seq, &len)) {
			/* NextSeg rule 1: a lost segment. */
		} else if (seq_lt(c->snd_max, data_end) &&
		           seq_lt(c->snd_max, c->snd_una + c->snd_wnd)) {
			/* Rule 2: new data the receiver's window allows. */
			uint32_t wnd = c->snd_una + c->snd_wnd - c->snd_max;
			len = MIST_MIN(MIST_MIN(seg, data_end - c->snd_max), wnd);
			tcp_send_data(c, c->snd_max, len, false);
			c->snd_nxt = c->snd_max;
			continue;
		} else if (!tcp_sack_next_unsacked(&c->sack, c->snd_una, c->snd_max, c->high_rxt,
		                                   seg, &seq, &len)) {
			return;
		}
		/* The FIN is not in the queue: a range ending past the data stops at it. */
		if (seq_ge(seq, data_end))
			return;
		len = MIST_MIN(len, data_end - seq);
		tcp_send_data(c, seq, len, true);
		c->high_rxt = seq + len;
	}
}

/*
 * Whether to send a segment of `len` < MSS bytes of new data now: RFC 9293
 * 3.8.6.2.1 (sender SWS avoidance) and RFC 896 (Nagle).
 */
static bool tcp_small_segment_ok(const struct tcp_conn *c, uint32_t len, uint32_t data_end)
{
	bool last = c->snd_nxt + len == data_end;
	bool idle = c->snd_una == c->snd_max;
	if (last && (idle || (c->flags & (TCP_F_NODELAY | TCP_F_FIN_QUEUED))))
		return true;
	return c->max_snd_wnd > 0 && len >= c->max_snd_wnd / 2;
}

/*
 * Whether to hold back `len` bytes, all the data there is and less than a
 * full super-segment, until the end of the loop turn: a device that
 * segments (TX_TSO4) sends nothing before the turn's flush anyway, and by
 * then the application may have written more, so that one large frame
 * leaves instead of one per write. The timers' phase, just before the
 * flush, sends it (tso_at, tcp_output_deferred()). Retransmissions and
 * forced segments are never held.
 */
static bool tcp_tso_defer(struct tcp_conn *c, uint32_t len, uint32_t avail)
{
	if (len != avail || len >= tcp_send_max(c) || tcp_send_max(c) == tcp_seg_size(c))
		return false;
	if (c->tso_at == 0)
		c->tso_at = mist_now();
	return true;
}

static void tcp_output_data(struct tcp_conn *c, bool force, bool may_defer)
{
	uint32_t seg = tcp_seg_size(c);
	uint32_t data_end = c->snd_una + c->sndq_len;

	for (;;) {
		uint32_t flight = c->snd_nxt - c->snd_una;
		uint32_t cwnd = c->cc.cwnd;
		/* RFC 3042: one new segment for each of the first two duplicate ACKs. */
		if (!(c->flags & TCP_F_IN_RECOVERY) && c->dupacks > 0 &&
		    c->dupacks < TCP_DUPTHRESH && c->snd_nxt == c->snd_max)
			cwnd += c->dupacks * seg;
		uint32_t edge = c->snd_una + c->snd_wnd;
		uint32_t wnd = seq_gt(edge, c->snd_nxt) ? edge - c->snd_nxt : 0;
		uint32_t cw = cwnd > flight ? cwnd - flight : 0;
		uint32_t avail = data_end - c->snd_nxt;
		if (seq_gt(c->snd_nxt, data_end))
			avail = 0;
		uint32_t len = MIST_MIN(MIST_MIN(avail, tcp_send_max(c)), MIST_MIN(wnd, cw));
		bool retransmit = seq_lt(c->snd_nxt, c->snd_max);
		if (len > 0 && may_defer && !force && !retransmit && tcp_tso_defer(c, len, avail))
			return;
		/* A super-segment is whole segments; the rest is left to the rules for small ones. */
		if (len > seg)
			len -= len % seg;

		if (len == 0) {
			bool fin_due = (c->flags & TCP_F_FIN_QUEUED) && c->snd_nxt == data_end;
			if (fin_due && (cw > 0 || flight == 0)) {
				tcp_send_data(c, data_end, 0, c->flags & TCP_F_FIN_SENT);
				c->snd_nxt = data_end + 1;
			}
			return;
		}
		if (len < seg && !retransmit && !force && !tcp_small_segment_ok(c, len, data_end))
			return;
		force = false;
		tcp_send_data(c, c->snd_nxt, len, retransmit);
		c->snd_nxt += len;
		/* tcp_send_data() put the FIN on the segment that ends the data. */
		if ((c->flags & TCP_F_FIN_QUEUED) && c->snd_nxt == data_end)
			c->snd_nxt = data_end + 1;
	}
}

/*
 * Arms the persist timer when data waits on a window too small for anything
 * and nothing is outstanding. Outstanding is what lies below SND.NXT: after a
 * timeout took SND.NXT back to SND.UNA, data once sent beyond a window that
 * has since closed waits like unsent data, and the window must be probed
 * (RFC 9293 3.8.6.1), not retransmitted into.
 */
static void tcp_persist_check(struct tcp_conn *c)
{
	uint32_t data_end = c->snd_una + c->sndq_len;
	bool waiting = seq_lt(c->snd_nxt, data_end) ||
	               ((c->flags & TCP_F_FIN_QUEUED) && !(c->flags & TCP_F_FIN_SENT));
	if (waiting && c->snd_nxt == c->snd_una) {
		if (c->persist_at == 0)
			c->persist_at = mist_now() + MIST_MAX(tcp_rto_now(c), TCP_PERSIST_MIN);
	} else {
		c->persist_at = 0;
	}
}

static void tcp_output_ex(struct tcp_conn *c, bool force, bool may_defer)
{
	switch (c->state) {
	case TCP_ESTABLISHED:
	case TCP_CLOSE_WAIT:
	case TCP_FIN_WAIT_1:
	case TCP_CLOSING:
	case TCP_LAST_ACK:
		if ((c->flags & (TCP_F_IN_RECOVERY | TCP_F_SACK_OK)) ==
		    (TCP_F_IN_RECOVERY | TCP_F_SACK_OK))
			tcp_output_sack_recovery(c);
		else
			tcp_output_data(c, force, may_defer);
		tcp_persist_check(c);
		break;
	case TCP_SYN_RECEIVED: /* RFC 9293 3.10.7.4: an unacceptable segment is answered with an ACK */
	case TCP_FIN_WAIT_2:
	case TCP_TIME_WAIT:
		break;
	default:
		return;
	}
	/* Deferred data, later in this turn, will carry the ACK (or send it alone). */
	if ((c->flags & TCP_F_ACK_NOW) && c->tso_at == 0)
		tcp_send_control(c, c->snd_nxt, MIST_TCP_ACK);
	tcp_timer_update(c);
}

void tcp_output(struct tcp_conn *c)
{
	tcp_output_ex(c, false, true);
}

void tcp_output_force(struct tcp_conn *c)
{
	tcp_output_ex(c, true, false);
}

void tcp_output_deferred(struct tcp_conn *c)
{
	tcp_output_ex(c, false, false);
}

void tcp_sndq_ack(struct tcp_conn *c, uint32_t acked)
{
	uint32_t n = MIST_MIN(acked, c->sndq_len);
	uint32_t head_seq = c->snd_una;
	c->sndq_len -= n;
	while (n > 0) {
		struct mist_buf *b = c->sndq;
		if (b->len <= n) {
			n -= b->len;
			head_seq += b->len;
			c->sndq = b->next;
			b->next = NULL;
			if (c->snd_cursor == b)
				c->snd_cursor = NULL;
			mist_buf_free(b);
		} else {
			mist_buf_pull(b, n);
			head_seq += n;
			if (c->snd_cursor == b)
				c->snd_cursor_seq = head_seq;
			n = 0;
		}
	}
	if (c->sndq == NULL) {
		c->sndq_tail = NULL;
		c->sndq_tail_ours = false;
	}
}
