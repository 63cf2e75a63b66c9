/*
 * TCP input: segment arrival, following the order of RFC 9293 3.10.7 with
 * the stricter checks of RFC 5961 (challenge ACKs), RFC 7323 (PAWS), RFC
 * 6191 (a new SYN in TIME_WAIT), RFC 4987 (SYN cookies) and loss detection
 * by RFC 5681, RFC 6582 and RFC 6675.
 */
#define MIST_LOG_TAG "tcp"

#include "base/str.h"
#include "mist/log.h"
#include "net/stack.h"
#include "net/tcp.h"

/* RFC 7323 5.5: a ts_recent older than 24 days is no longer compared. */
#define TCP_PAWS_IDLE (24ull * 24 * 3600 * MIST_SEC)

/* What arrived: the parsed header and the payload (may be empty). */
struct tcp_seg {
	struct mist_tcp_repr r;
	struct mist_buf *data; /* the payload view; NULL once consumed */
	uint32_t len;          /* payload bytes */
};

static uint32_t tcp_seg_seqlen(const struct tcp_seg *g)
{
	return g->len + ((g->r.flags & MIST_TCP_SYN) ? 1 : 0) +
	       ((g->r.flags & MIST_TCP_FIN) ? 1 : 0);
}

/* Token buckets refilled each second: RFC 5961 7 and the closed-port RSTs. */
static void tcp_limits_refill(struct net_tcp *t)
{
	uint64_t second = mist_now() / MIST_SEC;
	if (second != t->limit_second) {
		t->limit_second = second;
		t->challenge_acks = TCP_CHALLENGE_ACKS;
		t->rsts = TCP_RST_PER_SEC;
	}
}

/* RFC 5961 3.2, 4.2, 5.2: an ACK that makes a blind attacker's guess useless. */
static void tcp_challenge_ack(struct tcp_conn *c)
{
	struct net_tcp *t = &c->stack->tcp;
	tcp_limits_refill(t);
	if (t->challenge_acks == 0) {
		c->stack->stats.tcp.challenge_limited++;
		return;
	}
	t->challenge_acks--;
	c->stack->stats.tcp.challenge_acks++;
	tcp_send_control(c, c->snd_nxt, MIST_TCP_ACK);
}

/* RFC 9293 3.10.7.1: a segment for no connection gets a RST unless it is one. */
static void tcp_reset_closed(struct mist_stack *s, const struct tcp_tuple *t,
                             const struct tcp_seg *g)
{
	if (g->r.flags & MIST_TCP_RST)
		return;
	tcp_limits_refill(&s->tcp);
	if (s->tcp.rsts == 0)
		return;
	s->tcp.rsts--;
	if (g->r.flags & MIST_TCP_ACK)
		tcp_send_reset(s, t, g->r.ack, 0, MIST_TCP_RST);
	else
		tcp_send_reset(s, t, 0, g->r.seq + tcp_seg_seqlen(g), MIST_TCP_RST | MIST_TCP_ACK);
}

/* Options agreed in the handshake (RFC 7323 1.3, 2.2, 3.2; RFC 2018 2). */
static void tcp_negotiate(struct tcp_conn *c, const struct mist_tcp_repr *r)
{
	c->mss = tcp_mss_for(c->stack, r->mss);
	if (r->has_wscale) {
		c->flags |= TCP_F_WSCALE_OK;
		c->snd_wscale = (uint8_t)MIST_MIN(r->wscale, 14); /* RFC 7323 2.3 */
	} else {
		c->snd_wscale = c->rcv_wscale = 0;
	}
	if (r->sack_permitted)
		c->flags |= TCP_F_SACK_OK;
	if (r->has_timestamps) {
		c->flags |= TCP_F_TS_OK;
		c->ts_recent = r->ts_val;
		c->ts_recent_at = mist_now();
	}
}

/* The connection is synchronized: windows, congestion control, keepalive. */
static void tcp_established(struct tcp_conn *c, const struct tcp_seg *g)
{
	tcp_set_state(c, TCP_ESTABLISHED);
	c->snd_wnd = g->r.window; /* RFC 7323 2.2: the window of a SYN is not scaled */
	if (!(g->r.flags & MIST_TCP_SYN))
		c->snd_wnd <<= c->snd_wscale;
	c->max_snd_wnd = c->snd_wnd;
	c->snd_wl1 = g->r.seq;
	c->snd_wl2 = g->r.ack;
	c->snd_una = g->r.ack;
	if (seq_lt(c->snd_nxt, c->snd_una))
		c->snd_nxt = c->snd_una;
	/* RFC 6298 2.1-2.2: the handshake's RTT, unless the SYN was retransmitted (Karn). */
	if (c->retries == 0 && c->rtt_start != 0)
		tcp_rtt_sample(c, mist_now() - c->rtt_start);
	c->retries = 0;
	c->backoff = 0;
	c->high_rxt = c->snd_una;
	c->recover = c->iss; /* RFC 6582 3.2: so that losing the first segment can be recovered */
	c->last_ack_sent = c->rcv_nxt;
	/*
	 * RFC 5681 2: SMSS counts data only, without the options every segment
	 * carries (RFC 6691); with c->mss the windows would hold a runt
	 * segment's worth more than whole segments.
	 */
	tcp_cc_init(&c->cc, c->stack->tcp.cc_algo, tcp_seg_size(c), mist_now());
	tcp_rto_stop(c);
	tcp_keepalive_touch(c);
}

/* --- LISTEN (RFC 9293 3.10.7.2) ---------------------------------------------- */

static void tcp_listen_syn(struct mist_stack *s, struct tcp_listener *l, const struct tcp_tuple *t,
                           const struct tcp_seg *g)
{
	struct net_tcp_stats *st = &s->stats.tcp;
	if (l->half_open >= TCP_BACKLOG) {
		/* RFC 4987 3.6: the backlog is full; answer statelessly. */
		uint32_t cookie = tcp_cookie_make(
		        &s->tcp.secret, t->local, t->lport, t->remote, t->rport, g->r.seq,
		        g->r.mss != 0 ? g->r.mss : TCP_MSS_DEFAULT, mist_now());
		st->syn_cookies_sent++;
		tcp_send_synack(s, NULL, t, cookie, g->r.seq + 1);
		return;
	}
	struct tcp_conn *c = tcp_conn_new(s, t);
	if (c == NULL) {
		st->drop_listen_overflow++;
		return;
	}
	c->flags |= TCP_F_PASSIVE;
	c->listener = l;
	l->half_open++;
	c->state = TCP_SYN_RECEIVED;
	c->irs = g->r.seq;
	c->rcv_nxt = g->r.seq + 1;
	c->rcv_wscale = TCP_WSCALE;
	tcp_negotiate(c, &g->r);
	c->iss = tcp_isn(&s->tcp.secret, t->local, t->lport, t->remote, t->rport, mist_now());
	c->snd_una = c->iss;
	c->snd_nxt = c->snd_max = c->iss + 1;
	c->rtt_start = mist_now();
	/* Data on the SYN is not kept: the peer sends it again once we ACK. */
	tcp_send_synack(s, c, t, c->iss, c->rcv_nxt);
	tcp_rto_restart(c);
}

/* An ACK to a listener: the third segment of a handshake answered with a cookie. */
static struct tcp_conn *tcp_listen_cookie_ack(struct mist_stack *s, struct tcp_listener *l,
                                              const struct tcp_tuple *t, const struct tcp_seg *g)
{
	uint16_t mss;
	if (!tcp_cookie_check(&s->tcp.secret, t->local, t->lport, t->remote, t->rport, g->r.seq - 1,
	                      g->r.ack - 1, mist_now(), &mss)) {
		s->stats.tcp.drop_bad_cookie++;
		return NULL;
	}
	struct tcp_conn *c = tcp_conn_new(s, t);
	if (c == NULL) {
		s->stats.tcp.drop_listen_overflow++;
		return NULL;
	}
	s->stats.tcp.syn_cookies_ok++;
	c->flags |= TCP_F_PASSIVE;
	c->iss = g->r.ack - 1;
	c->snd_nxt = c->snd_max = g->r.ack;
	c->irs = g->r.seq - 1;
	c->rcv_nxt = g->r.seq;
	c->rcv_adv = c->rcv_nxt + MIST_MIN(TCP_RCVBUF_DEFAULT, 0xffffu);
	c->mss = tcp_mss_for(s, mss);
	c->handler = l->handler;
	c->handler_arg = l->arg;
	tcp_established(c, g);
	tcp_conn_accepted(c);
	return c;
}

/* --- SYN-SENT (RFC 9293 3.10.7.3) --------------------------------------------- */

static void tcp_syn_sent_input(struct tcp_conn *c, struct tcp_seg *g)
{
	const struct mist_tcp_repr *r = &g->r;
	bool has_ack = r->flags & MIST_TCP_ACK;

	if (has_ack && (seq_le(r->ack, c->iss) || seq_gt(r->ack, c->snd_max))) {
		if (!(r->flags & MIST_TCP_RST))
			tcp_send_reset(c->stack, &c->node.tuple, r->ack, 0, MIST_TCP_RST);
		return;
	}
	if (r->flags & MIST_TCP_RST) {
		/* RFC 5961 3.2: in SYN-SENT a RST counts only with an acceptable ACK. */
		if (has_ack)
			tcp_conn_done(c, MIST_ECONNREFUSED);
		return;
	}
	if (!(r->flags & MIST_TCP_SYN))
		return;
	c->irs = r->seq;
	c->rcv_nxt = r->seq + 1;
	/* RFC 9293 3.8.6: the window our SYN offered (never scaled) is what we have advertised. */
	c->rcv_adv = c->rcv_nxt + MIST_MIN(c->rcvbuf, 0xffffu);
	tcp_negotiate(c, r);
	if (has_ack) {
		tcp_established(c, g);
		c->stack->stats.tcp.connected++;
		c->flags |= TCP_F_ACK_NOW;
		mist_wake_all(&c->writers);
		tcp_output(c);
		return;
	}
	/* Simultaneous open (RFC 9293 3.5, figure 7). */
	tcp_set_state(c, TCP_SYN_RECEIVED);
	c->snd_wnd = r->window;
	c->snd_wl1 = r->seq;
	tcp_send_synack(c->stack, c, &c->node.tuple, c->iss, c->rcv_nxt);
}

/* --- synchronized states (RFC 9293 3.10.7.4) ----------------------------------- */

/* First check: is the segment acceptable? Trims it to the window. */
static bool tcp_acceptable(struct tcp_conn *c, struct tcp_seg *g)
{
	uint32_t wnd = seq_gt(c->rcv_adv, c->rcv_nxt) ? c->rcv_adv - c->rcv_nxt : 0;
	uint32_t seq = g->r.seq, len = tcp_seg_seqlen(g);
	bool ok;
	if (len == 0)
		ok = wnd == 0 ? seq == c->rcv_nxt
		              : seq_ge(seq, c->rcv_nxt) && seq_lt(seq, c->rcv_nxt + wnd);
	else
		ok = wnd > 0 && ((seq_ge(seq, c->rcv_nxt) && seq_lt(seq, c->rcv_nxt + wnd)) ||
		                 (seq_ge(seq + len - 1, c->rcv_nxt) &&
		                  seq_lt(seq + len - 1, c->rcv_nxt + wnd)));
	if (!ok)
		return false;
	/* Trim what lies before RCV.NXT (a SYN first) and past the window. */
	if (seq_lt(seq, c->rcv_nxt)) {
		uint32_t skip = c->rcv_nxt - seq;
		if (g->r.flags & MIST_TCP_SYN) {
			g->r.flags &= (uint8_t)~MIST_TCP_SYN;
			skip--;
			g->r.seq++;
		}
		skip = MIST_MIN(skip, g->len);
		if (skip > 0) {
			mist_buf_pull(g->data, skip);
			g->len -= skip;
			g->r.seq += skip;
		}
	}
	uint32_t edge = c->rcv_nxt + wnd;
	if (g->len > 0 && seq_gt(g->r.seq + g->len, edge)) {
		uint32_t keep = seq_gt(edge, g->r.seq) ? edge - g->r.seq : 0;
		mist_buf_trim(g->data, keep);
		g->len = keep;
		g->r.flags &= (uint8_t)~MIST_TCP_FIN;
	}
	return true;
}

/* Received in-order data goes to the read queue; held data that now follows it too. */
static void tcp_deliver(struct tcp_conn *c, struct mist_buf *data, uint32_t len)
{
	while (data != NULL) {
		struct mist_buf *next = data->next;
		data->next = NULL;
		if (data->len == 0) {
			mist_buf_free(data);
		} else {
			if (c->rcvq_tail != NULL)
				c->rcvq_tail->next = data;
			else
				c->rcvq = data;
			c->rcvq_tail = data;
		}
		data = next;
	}
	c->rcvq_len += len;
	c->rcv_nxt += len;
	c->stack->stats.tcp.rx_bytes += len;
}

static void tcp_data_input(struct tcp_conn *c, struct tcp_seg *g)
{
	struct mist_stack *s = c->stack;
	if (g->len == 0)
		return;
	if (c->flags & (TCP_F_RD_SHUT | TCP_F_APP_GONE)) {
		if (c->flags & TCP_F_APP_GONE) {
			/* RFC 9293 3.10.7.4 / RFC 2525 2.17: nobody will read it: reset. */
			tcp_send_control(c, c->snd_nxt, MIST_TCP_RST | MIST_TCP_ACK);
			tcp_conn_done(c, MIST_ECONNRESET);
			return;
		}
		s->stats.tcp.drop_rcv_shut++;
		c->rcv_nxt += g->len;
		c->flags |= TCP_F_ACK_NOW;
		return;
	}
	if (net_rx_scarce(s))
		g->data = net_unpin_rx(s, g->data);
	if (g->r.seq == c->rcv_nxt) {
		bool had_holes = c->ooo.nsegs > 0;
		tcp_deliver(c, g->data, g->len);
		g->data = NULL;
		uint32_t more;
		struct mist_buf *held =
		        tcp_reasm_take(&c->ooo, &s->tcp.ooo_budget, c->rcv_nxt, &more);
		if (held != NULL)
			tcp_deliver(c, held, more);
		mist_wake_all(&c->readers);
		/*
		 * RFC 5681 4.2 and RFC 9293 3.8.6.3: an ACK for at least every second
		 * full-sized segment, at once when a hole was filled, else within
		 * the delayed-ACK time. A full-sized segment is the MSS less the
		 * timestamp option the peer puts in every segment (RFC 6691).
		 */
		if (had_holes || c->rcv_nxt - c->last_ack_sent >= 2u * tcp_seg_size(c))
			c->flags |= TCP_F_ACK_NOW;
		else if (c->delack_at == 0)
			c->delack_at = mist_now() + TCP_DELACK;
		return;
	}
	/* Out of order: held, and acknowledged at once with SACK blocks (RFC 5681 4.2). */
	s->stats.tcp.ooo_segments++;
	struct mist_buf *data = g->data;
	g->data = NULL;
	if (tcp_reasm_insert(&c->ooo, &s->tcp.ooo_budget, c->rcvbuf, g->r.seq, data) != 0)
		s->stats.tcp.drop_ooo_limit++;
	c->flags |= TCP_F_ACK_NOW;
}

/* RFC 9293 3.10.7.4, eighth: the peer's FIN. */
static void tcp_fin_input(struct tcp_conn *c)
{
	c->rcv_nxt++;
	c->flags |= TCP_F_ACK_NOW;
	mist_wake_all(&c->readers);
	switch (c->state) {
	case TCP_SYN_RECEIVED:
	case TCP_ESTABLISHED:
		tcp_set_state(c, TCP_CLOSE_WAIT);
		break;
	case TCP_FIN_WAIT_1:
		/* Our FIN not yet acknowledged (else we would be in FIN-WAIT-2). */
		tcp_set_state(c, TCP_CLOSING);
		break;
	case TCP_FIN_WAIT_2:
		tcp_enter_time_wait(c);
		break;
	case TCP_TIME_WAIT:
		tcp_enter_time_wait(c); /* restart the 2 MSL wait */
		break;
	default:
		break;
	}
}

/* Loss detection on a duplicate ACK (RFC 5681 3.2, RFC 6582 3.2, RFC 6675 5). */
static void tcp_dupack(struct tcp_conn *c, const struct tcp_seg *g)
{
	c->stack->stats.tcp.dup_acks++;
	if (c->dupacks < UINT8_MAX)
		c->dupacks++;
	if (c->flags & TCP_F_IN_RECOVERY) {
		if (!(c->flags & TCP_F_SACK_OK))
			c->cc.cwnd += tcp_seg_size(c); /* RFC 6582 3.2 step 4 */
		tcp_output(c);
		return;
	}
	bool lost;
	if (c->flags & TCP_F_SACK_OK)
		/*
		 * RFC 6675 5.1: after a timeout no new recovery starts until
		 * SND.UNA reaches the RecoveryPoint the timeout set; the
		 * duplicate ACKs of the resent data are not news of a loss.
		 */
		lost = seq_ge(c->snd_una, c->recover) &&
		       (c->dupacks >= TCP_DUPTHRESH ||
		        tcp_sack_is_lost(&c->sack, c->snd_una, tcp_seg_size(c), TCP_DUPTHRESH));
	else
		/*
		 * RFC 6582 3.2 step 1: not again for losses from before the last
		 * recovery: the ACK must cover more than `recover` (one past the
		 * highest byte sent when it was set, or the ISS at first).
		 */
		lost = c->dupacks == TCP_DUPTHRESH && seq_gt(g->r.ack, c->recover);
	if (lost)
		tcp_enter_recovery(c);
	else
		tcp_output(c); /* RFC 3042 limited transmit */
}

/* A new cumulative ACK (RFC 9293 3.10.7.4, fifth; RFC 6298 5.2-5.3). */
static void tcp_new_ack(struct tcp_conn *c, const struct tcp_seg *g)
{
	uint64_t now = mist_now();
	uint32_t acked = g->r.ack - c->snd_una;
	uint32_t flight = c->snd_max - c->snd_una;
	bool app_limited = c->snd_max - c->snd_una + tcp_seg_size(c) < c->cc.cwnd &&
	                   c->snd_una + c->sndq_len == c->snd_max;

	/* RTT: RFC 7323 4.1 from the echoed timestamp, else RFC 6298 3 with Karn's rule. */
	bool sampled = false;
	if ((c->flags & TCP_F_TS_OK) && g->r.has_timestamps && g->r.ts_ecr != 0) {
		uint32_t ms = tcp_ts_now() - g->r.ts_ecr;
		if (ms < 60 * 1000) {
			tcp_rtt_sample(c, (uint64_t)ms * MIST_MSEC + MIST_MSEC / 2);
			sampled = true;
		}
	} else if ((c->flags & TCP_F_RTT_TIMING) && seq_ge(g->r.ack, c->rtt_seq)) {
		c->flags &= (uint16_t)~TCP_F_RTT_TIMING;
		tcp_rtt_sample(c, now - c->rtt_start);
		sampled = true;
	}
	tcp_sndq_ack(c, acked);
	c->snd_una = g->r.ack;
	if (seq_lt(c->snd_nxt, c->snd_una))
		c->snd_nxt = c->snd_una;
	tcp_sack_advance(&c->sack, c->snd_una);
	/*
	 * RFC 6298 5 (after 5.7): a backed-off RTO collapses only with a new
	 * RTT measurement; the ACK of a retransmission gives none (Karn), so
	 * the backoff stays until a segment sent once is acknowledged.
	 */
	if (sampled)
		c->backoff = 0;
	c->unacked_since = now;

	if (c->flags & TCP_F_IN_RECOVERY) {
		if (seq_ge(c->snd_una, c->recover)) {
			/* Full ACK: RFC 6582 3.2 step 3, RFC 6675 5 (end of recovery). */
			c->flags &= (uint16_t)~TCP_F_IN_RECOVERY;
			c->cc.ops->on_recovery_end(&c->cc, now);
			c->dupacks = 0;
		} else if (!(c->flags & TCP_F_SACK_OK)) {
			/* Partial ACK: RFC 6582 3.2 step 5, resend the next hole and deflate. */
			uint32_t data_end = c->snd_una + c->sndq_len;
			uint32_t len = MIST_MIN(tcp_seg_size(c), data_end - c->snd_una);
			if (len > 0)
				tcp_send_data(c, c->snd_una, len, true);
			uint32_t smss = tcp_seg_size(c);
			c->cc.cwnd = c->cc.cwnd > acked ? c->cc.cwnd - acked : smss;
			if (acked >= smss)
				c->cc.cwnd += smss;
			tcp_rto_restart(c);
		}
	} else {
		c->dupacks = 0;
		c->cc.ops->on_ack(&c->cc, acked, flight, app_limited, c->srtt, now);
	}
	/* RFC 6298 5.2-5.3. */
	if (c->snd_una == c->snd_max)
		tcp_rto_stop(c);
	else
		tcp_rto_restart(c);
	mist_wake_all(&c->writers);
}

/* True once our FIN is acknowledged. */
static bool tcp_fin_acked(const struct tcp_conn *c)
{
	return (c->flags & TCP_F_FIN_SENT) && c->snd_una == c->snd_max;
}

/* RFC 9293 3.10.7.4, fifth: the ACK field. Returns false when the segment is dropped. */
static bool tcp_ack_input(struct tcp_conn *c, struct tcp_seg *g)
{
	struct net_tcp_stats *st = &c->stack->stats.tcp;
	const struct mist_tcp_repr *r = &g->r;

	if (c->state == TCP_SYN_RECEIVED) {
		if (seq_le(r->ack, c->snd_una) || seq_gt(r->ack, c->snd_max)) {
			tcp_send_reset(c->stack, &c->node.tuple, r->ack, 0, MIST_TCP_RST);
			return false;
		}
		struct tcp_listener *l = c->listener;
		tcp_established(c, g);
		if (c->flags & TCP_F_PASSIVE) {
			c->handler = l->handler;
			c->handler_arg = l->arg;
			tcp_conn_accepted(c);
			if (c->state == TCP_CLOSED)
				return false;
		} else {
			c->stack->stats.tcp.connected++;
			mist_wake_all(&c->writers);
		}
		return true;
	}
	/* RFC 5961 5.2: acceptable ACKs lie in [SND.UNA - MAX.SND.WND, SND.MAX]. */
	if (seq_gt(r->ack, c->snd_max)) {
		st->drop_bad_ack++;
		c->flags |= TCP_F_ACK_NOW;
		return false;
	}
	if (seq_lt(r->ack, c->snd_una - c->max_snd_wnd)) {
		st->drop_bad_ack++;
		tcp_challenge_ack(c);
		return false;
	}
	uint32_t newly_sacked = 0;
	if ((c->flags & TCP_F_SACK_OK) && r->sack_count > 0) {
		struct tcp_sack_block blocks[MIST_TCP_SACK_MAX];
		for (unsigned i = 0; i < r->sack_count; i++) {
			blocks[i].start = r->sack[i].start;
			blocks[i].end = r->sack[i].end;
		}
		uint32_t una = seq_gt(r->ack, c->snd_una) ? r->ack : c->snd_una;
		newly_sacked = tcp_sack_update(&c->sack, una, c->snd_max, blocks, r->sack_count);
	}
	/*
	 * RFC 5681 2 (with RFC 6675 for SACK): a duplicate ACK acknowledges
	 * nothing new, carries no data, and leaves the window alone while data
	 * is outstanding. Judged against SND.UNA as it was before this ACK,
	 * which tcp_new_ack() moves.
	 */
	bool duplicate = r->ack == c->snd_una && c->snd_una != c->snd_max && g->len == 0 &&
	                 !(r->flags & (MIST_TCP_SYN | MIST_TCP_FIN));
	uint32_t old_wnd = c->snd_wnd;
	if (seq_gt(r->ack, c->snd_una))
		tcp_new_ack(c, g);
	/* Window update, unless the segment is older than the last one used (SND.WL1/WL2). */
	if (seq_lt(c->snd_wl1, r->seq) || (c->snd_wl1 == r->seq && seq_le(c->snd_wl2, r->ack))) {
		c->snd_wnd = (uint32_t)r->window << c->snd_wscale;
		c->max_snd_wnd = MIST_MAX(c->max_snd_wnd, c->snd_wnd);
		c->snd_wl1 = r->seq;
		c->snd_wl2 = r->ack;
	}
	if (duplicate && (c->snd_wnd == old_wnd || newly_sacked > 0))
		tcp_dupack(c, g);
	if (c->state == TCP_CLOSED)
		return false;

	switch (c->state) {
	case TCP_FIN_WAIT_1:
		if (tcp_fin_acked(c)) {
			tcp_set_state(c, TCP_FIN_WAIT_2);
			tcp_fin_wait_2_limit(c);
		}
		break;
	case TCP_CLOSING:
		if (tcp_fin_acked(c))
			tcp_enter_time_wait(c);
		break;
	case TCP_LAST_ACK:
		if (tcp_fin_acked(c)) {
			tcp_conn_done(c, 0);
			return false;
		}
		break;
	case TCP_TIME_WAIT:
		if (r->flags & MIST_TCP_FIN) {
			c->flags |= TCP_F_ACK_NOW;
			tcp_enter_time_wait(c);
		}
		break;
	default:
		break;
	}
	return true;
}

/*
 * RFC 6191: a SYN for a connection in TIME_WAIT may start a new incarnation
 * when it is provably newer: a larger timestamp, or without timestamps a
 * larger sequence number.
 */
static bool tcp_time_wait_reusable(const struct tcp_conn *c, const struct tcp_seg *g)
{
	if ((g->r.flags & (MIST_TCP_SYN | MIST_TCP_ACK | MIST_TCP_RST)) != MIST_TCP_SYN)
		return false;
	if ((c->flags & TCP_F_TS_OK) && g->r.has_timestamps)
		return seq_gt(g->r.ts_val, c->ts_recent);
	return seq_gt(g->r.seq, c->rcv_nxt);
}

static void tcp_synchronized_input(struct tcp_conn *c, struct tcp_seg *g)
{
	struct net_tcp_stats *st = &c->stack->stats.tcp;
	struct mist_tcp_repr *r = &g->r;

	/* RFC 7323 5.3 (PAWS): a timestamp older than ts_recent marks an old duplicate. */
	if ((c->flags & TCP_F_TS_OK) && r->has_timestamps && !(r->flags & MIST_TCP_RST) &&
	    seq_lt(r->ts_val, c->ts_recent) && mist_now() - c->ts_recent_at < TCP_PAWS_IDLE) {
		st->drop_paws++;
		c->flags |= TCP_F_ACK_NOW;
		return;
	}
	/* A retransmitted SYN while our SYN-ACK is out: send it again. */
	if (c->state == TCP_SYN_RECEIVED && (r->flags & MIST_TCP_SYN) &&
	    !(r->flags & MIST_TCP_ACK) && r->seq == c->irs) {
		tcp_send_synack(c->stack, c, &c->node.tuple, c->iss, c->rcv_nxt);
		return;
	}
	/*
	 * RFC 9293 3.5 figure 8: in a simultaneous open the peer's SYN-ACK repeats
	 * the SYN already taken; its ACK completes the handshake, so it is
	 * processed as that ACK rather than refused as old.
	 */
	if (c->state == TCP_SYN_RECEIVED && (r->flags & MIST_TCP_SYN) &&
	    (r->flags & MIST_TCP_ACK) && r->seq == c->irs && g->len == 0) {
		r->flags &= (uint8_t)~MIST_TCP_SYN;
		r->seq++;
	}
	if (!tcp_acceptable(c, g)) {
		st->drop_out_of_window++;
		if (r->flags & MIST_TCP_RST)
			return;
		c->flags |= TCP_F_ACK_NOW;
		/* RFC 9293 3.10.7.4: in TIME-WAIT, a retransmitted FIN restarts the 2 MSL wait. */
		if (c->state == TCP_TIME_WAIT && (r->flags & MIST_TCP_FIN))
			tcp_enter_time_wait(c);
		/*
		 * RFC 9293 3.10.7.4: with a zero receive window nothing is
		 * acceptable, "but special allowance should be made to accept
		 * valid ACKs". A peer probing our zero window with data (Linux
		 * does) sends its ACKs from beyond the window; ignoring them would
		 * deadlock a connection whose reader waits for its own sends.
		 */
		bool zero_window = !seq_gt(c->rcv_adv, c->rcv_nxt);
		if (zero_window && (r->flags & MIST_TCP_ACK) && !(r->flags & MIST_TCP_SYN) &&
		    c->state != TCP_SYN_RECEIVED) {
			g->len = 0;
			r->flags &= (uint8_t)~MIST_TCP_FIN;
			tcp_ack_input(c, g);
		}
		return;
	}
	/* RFC 7323 4.3: remember the timestamp to echo, from segments at the left edge. */
	if ((c->flags & TCP_F_TS_OK) && r->has_timestamps && seq_le(r->seq, c->last_ack_sent)) {
		c->ts_recent = r->ts_val;
		c->ts_recent_at = mist_now();
	}
	if (r->flags & MIST_TCP_RST) {
		/* RFC 5961 3.2: only a RST at exactly RCV.NXT resets; others get a challenge. */
		if (r->seq != c->rcv_nxt) {
			tcp_challenge_ack(c);
			return;
		}
		bool quiet = c->state == TCP_CLOSING || c->state == TCP_LAST_ACK ||
		             c->state == TCP_TIME_WAIT;
		tcp_conn_done(c, quiet ? 0 : MIST_ECONNRESET);
		return;
	}
	if (r->flags & MIST_TCP_SYN) {
		/* RFC 5961 4.2: a SYN in a synchronized state is answered with a challenge ACK. */
		tcp_challenge_ack(c);
		return;
	}
	if (!(r->flags & MIST_TCP_ACK))
		return;
	if (!tcp_ack_input(c, g))
		return;
	/* Sixth and seventh: URG is not supported (RFC 6093); the text. */
	switch (c->state) {
	case TCP_ESTABLISHED:
	case TCP_FIN_WAIT_1:
	case TCP_FIN_WAIT_2:
		tcp_data_input(c, g);
		if (c->state == TCP_CLOSED)
			return;
		break;
	default:
		break;
	}
	/* A FIN counts once everything before it has arrived. */
	if ((r->flags & MIST_TCP_FIN) && r->seq + g->len == c->rcv_nxt && c->state != TCP_CLOSED)
		tcp_fin_input(c);
}

static void tcp_conn_input(struct tcp_conn *c, struct tcp_seg *g)
{
	c->flags |= TCP_F_BUSY;
	if (c->state == TCP_SYN_SENT)
		tcp_syn_sent_input(c, g);
	else
		tcp_synchronized_input(c, g);
	c->flags &= (uint16_t)~TCP_F_BUSY;
	if (c->state == TCP_CLOSED) {
		tcp_conn_release(c);
		return;
	}
	if (c->state >= TCP_ESTABLISHED)
		tcp_keepalive_touch(c);
	tcp_output(c);
}

void net_tcp_input(struct mist_stack *s, const struct net_ip_in *ip, struct mist_buf *segment)
{
	struct net_tcp_stats *st = &s->stats.tcp;
	struct tcp_seg g = {.data = segment};

	st->rx++;
	if (mist_tcp_check(segment->data, segment->len) != 0 ||
	    mist_tcp_parse(segment->data, segment->len, &g.r) != 0) {
		st->drop_malformed++;
		goto drop;
	}
	/* Unless the device vouches for it (core/netdev.h): checked, or never computed by the host. */
	if (!(segment->flags & MIST_BUF_F_CSUM_VALID) &&
	    !mist_tcp_verify_checksum(segment->data, segment->len, ip->repr.src, ip->repr.dst)) {
		st->drop_bad_checksum++;
		goto drop;
	}
	/* RFC 9293 3.9.1 / RFC 1122 4.2.3.10: no connections with broadcast or multicast. */
	if (ip->to_broadcast || mist_ipv4_addr_is_multicast(ip->repr.dst)) {
		st->drop_no_conn++;
		goto drop;
	}
	mist_buf_pull(segment, g.r.header_len);
	g.len = segment->len;
	struct tcp_tuple t = {
	        .local = ip->repr.dst,
	        .remote = ip->repr.src,
	        .lport = g.r.dst_port,
	        .rport = g.r.src_port,
	};
	struct tcp_conn *c = tcp_conn_find(s, &t);
	if (c != NULL && c->state == TCP_TIME_WAIT && tcp_time_wait_reusable(c, &g)) {
		tcp_conn_done(c, 0);
		c = NULL;
	}
	if (c != NULL) {
		tcp_conn_input(c, &g);
		goto drop;
	}
	struct tcp_listener *l = tcp_listener_find(s, t.lport);
	uint8_t ctl = g.r.flags & (MIST_TCP_SYN | MIST_TCP_ACK | MIST_TCP_RST);
	if (l != NULL && ctl == MIST_TCP_SYN) {
		tcp_listen_syn(s, l, &t, &g);
		goto drop;
	}
	if (l != NULL && ctl == MIST_TCP_ACK) {
		c = tcp_listen_cookie_ack(s, l, &t, &g);
		if (c != NULL) {
			tcp_conn_input(c, &g);
			goto drop;
		}
	}
	st->drop_no_conn++;
	tcp_reset_closed(s, &t, &g);
drop:
	mist_buf_free_chain(g.data);
}

/*
 * RFC 1191 6.4: the path carries datagrams of `mtu` bytes at most, so
 * segments shrink to fit (with SMSS in step, RFC 5681 2), and what is in
 * flight, which the router dropped for its size, goes again at once in the
 * new size rather than at the next timeout. It is not a congestion signal:
 * cwnd and ssthresh stay. RFC 1191 6.4 would resend one segment and wait
 * for ACKs; we resend what cwnd allows, as the dropped bytes no longer load
 * the path, which saves a round trip at each step down. Only a message that
 * lowers the MSS acts: the others about the same burst find nothing larger
 * to lower, so the burst is resent once, not once per message (the note of
 * RFC 1191 6.4).
 *
 * The MTU is taken no lower than TCP_PMTU_MIN, 576 (RFC 1191 3 allows 68):
 * the datagram every IPv4 host must accept (RFC 791, RFC 1122 3.3.2) and
 * RFC 9293's default MSS plus headers. Below it, a forged message quoting
 * a sequence number in flight could make a connection send 28 bytes per
 * 68-byte datagram (RFC 1191 8, RFC 5927 7); a real path that small, which
 * our DF segments cannot cross, is left to time out with EMSGSIZE as the
 * soft error. A connection whose MSS is already below the floor keeps it.
 *
 * Returns false when the path needs smaller segments than the floor allows.
 */
static bool tcp_pmtu_lower(struct tcp_conn *c, uint16_t mtu)
{
	uint32_t mss = MIST_MAX((uint32_t)mtu, TCP_PMTU_MIN) - MIST_IPV4_HDR_MIN - MIST_TCP_HDR_MIN;
	/* RFC 1191 3: a message never raises the estimate. */
	if (mss < c->mss) {
		c->mss = (uint16_t)mss;
		c->cc.mss = tcp_seg_size(c);
		c->snd_nxt = c->snd_una;
		c->high_rxt = c->snd_una;
		c->flags &= (uint16_t)~TCP_F_RTT_TIMING; /* Karn: these are retransmissions */
		tcp_output(c);
		/* The timer runs from these sends, not from the dropped ones. */
		if (c->snd_nxt != c->snd_una)
			tcp_rto_restart(c);
	}
	return mtu >= TCP_PMTU_MIN;
}

void net_tcp_icmp_error(struct mist_stack *s, const uint8_t *quoted_ip, uint32_t quoted_len,
                        int error, uint16_t mtu)
{
	uint32_t ihl = mist_ipv4_header_len(quoted_ip);
	if (quoted_len < ihl + 8)
		return;
	const uint8_t *th = quoted_ip + ihl;
	struct tcp_tuple t = {
	        .local = mist_ipv4_src(quoted_ip),
	        .remote = mist_ipv4_dst(quoted_ip),
	        .lport = mist_tcp_src_port(th),
	        .rport = mist_tcp_dst_port(th),
	};
	struct tcp_conn *c = tcp_conn_find(s, &t);
	uint32_t seq = mist_tcp_seq(th);
	/* RFC 5927 4.1: only about data in flight, so that a blind attacker must guess it. */
	if (c == NULL || seq_lt(seq, c->snd_una) || seq_ge(seq, c->snd_max))
		return;
	s->stats.tcp.icmp_errors++;
	if (c->state == TCP_SYN_SENT && error != MIST_EMSGSIZE) {
		/* RFC 1122 4.2.3.9: hard errors abort a connection being opened. */
		c->flags |= TCP_F_BUSY;
		tcp_conn_done(c,
		              error == MIST_ECONNREFUSED ? MIST_ECONNREFUSED : MIST_EHOSTUNREACH);
		c->flags &= (uint16_t)~TCP_F_BUSY;
		tcp_conn_release(c);
		return;
	}
	/* Before ESTABLISHED only a SYN or SYN-ACK is in flight: small, and resent by its timer. */
	if (mtu != 0 && c->state >= TCP_ESTABLISHED && tcp_pmtu_lower(c, mtu))
		return;
	/* RFC 5461: a soft error, reported if the connection later times out. */
	c->soft_error = (int8_t)error;
}
