/*
 * TCP timers. Each connection has one mist_timer armed at the earliest of
 * its deadlines (retransmission, delayed ACK, persist, keepalive,
 * TIME_WAIT, output deferred for TSO), so an idle connection costs one
 * heap entry, and re-arming after every ACK is one O(log n) operation.
 *
 * The minimum RTO defaults to 200 ms rather than RFC 6298 2.4's 1 s, as in
 * Linux and most deployed stacks: with delayed ACKs bounded at 40 ms here a
 * spurious timeout needs an RTT change by a factor of several, and 1 s
 * would stall every loss on a LAN that fast retransmit cannot repair. It is
 * configurable per stack (net_tcp.rto_min).
 */
#include "core/panic.h"
#include "net/stack.h"
#include "net/tcp.h"

/* RFC 6298 2.4: the clock granularity G. */
#define TCP_CLOCK_G     MIST_MSEC
#define TCP_MAX_BACKOFF 15
#define TCP_PERSIST_MAX (60 * MIST_SEC)

uint32_t tcp_ts_now(void)
{
	return (uint32_t)(mist_now() / MIST_MSEC);
}

static void tcp_timer_fire(struct mist_timer *timer);

void tcp_timer_init(struct tcp_conn *c)
{
	mist_timer_init(&c->timer, tcp_timer_fire);
}

void tcp_timer_update(struct tcp_conn *c)
{
	uint64_t next = UINT64_MAX;
	const uint64_t deadlines[] = {c->rto_at,  c->delack_at, c->persist_at,
	                              c->keep_at, c->wait_at,   c->tso_at};
	for (unsigned i = 0; i < sizeof(deadlines) / sizeof(deadlines[0]); i++)
		if (deadlines[i] != 0 && deadlines[i] < next)
			next = deadlines[i];
	if (next == UINT64_MAX) {
		mist_timer_cancel(&c->timer);
		return;
	}
	if (mist_timer_armed(&c->timer) && c->timer.deadline == next)
		return;
	/* Out of heap space the connection goes without a timer until the next segment. */
	(void)mist_timer_arm(&c->timer, next);
}

void tcp_rtt_sample(struct tcp_conn *c, uint64_t rtt)
{
	if (rtt == 0)
		rtt = 1;
	if (c->srtt == 0) {
		/* RFC 6298 2.2: the first measurement. */
		c->srtt = rtt;
		c->rttvar = rtt / 2;
	} else {
		/* RFC 6298 2.3, alpha = 1/8 and beta = 1/4. */
		uint64_t delta = c->srtt > rtt ? c->srtt - rtt : rtt - c->srtt;
		c->rttvar = (3 * c->rttvar + delta) / 4;
		c->srtt = (7 * c->srtt + rtt) / 8;
	}
	uint64_t rto = c->srtt + MIST_MAX(TCP_CLOCK_G, 4 * c->rttvar);
	c->rto = MIST_MIN(MIST_MAX(rto, c->rto_min), TCP_RTO_MAX);
}

uint64_t tcp_rto_now(const struct tcp_conn *c)
{
	/* RFC 6298 5.5: back off by doubling, bounded by the maximum (2.5). */
	uint64_t rto = c->rto;
	for (unsigned i = 0; i < c->backoff && rto < TCP_RTO_MAX; i++)
		rto *= 2;
	return MIST_MIN(rto, TCP_RTO_MAX);
}

void tcp_rto_restart(struct tcp_conn *c)
{
	c->rto_at = mist_now() + tcp_rto_now(c);
	tcp_timer_update(c);
}

void tcp_rto_stop(struct tcp_conn *c)
{
	c->rto_at = 0;
	tcp_timer_update(c);
}

void tcp_keepalive_touch(struct tcp_conn *c)
{
	c->last_rx = mist_now();
	c->keep_sent = 0;
	if (c->keep_idle != 0 && c->state >= TCP_ESTABLISHED && c->state <= TCP_CLOSE_WAIT)
		c->keep_at = c->last_rx + c->keep_idle;
}

void tcp_enter_time_wait(struct tcp_conn *c)
{
	tcp_set_state(c, TCP_TIME_WAIT);
	c->rto_at = c->persist_at = c->keep_at = c->delack_at = 0;
	c->wait_at = mist_now() + TCP_TIME_WAIT_LEN;
	tcp_timer_update(c);
}

void tcp_fin_wait_2_limit(struct tcp_conn *c)
{
	if (c->state == TCP_FIN_WAIT_2 && (c->flags & TCP_F_APP_GONE) && c->wait_at == 0) {
		c->wait_at = mist_now() + TCP_FIN_WAIT_2_LEN;
		tcp_timer_update(c);
	}
}

/* RFC 6298 5.4-5.7 and RFC 5681 3.1: the oldest unacknowledged segment is resent. */
static void tcp_rto_expired(struct tcp_conn *c)
{
	struct net_tcp_stats *st = &c->stack->stats.tcp;
	uint64_t now = mist_now();

	st->rto++;
	if (c->state == TCP_SYN_SENT || c->state == TCP_SYN_RECEIVED) {
		unsigned limit = c->state == TCP_SYN_SENT ? TCP_SYN_RETRIES : TCP_SYNACK_RETRIES;
		if (c->retries >= limit) {
			tcp_conn_done(c, c->soft_error != 0 ? c->soft_error : MIST_ETIMEDOUT);
			return;
		}
		c->retries++;
		c->backoff++;
		st->retransmits++;
		if (c->state == TCP_SYN_SENT)
			tcp_send_control(c, c->iss, MIST_TCP_SYN);
		else
			tcp_send_synack(c->stack, c, &c->node.tuple, c->iss, c->rcv_nxt);
		tcp_rto_restart(c);
		return;
	}
	if (c->snd_una == c->snd_max) /* nothing outstanding any more */
		return;
	/* RFC 9293 3.8.3 and RFC 5482: give up when data stays unacknowledged too long. */
	if ((c->user_timeout != 0 && now - c->unacked_since >= c->user_timeout) ||
	    c->backoff >= TCP_MAX_BACKOFF) {
		tcp_send_control(c, c->snd_nxt, MIST_TCP_RST | MIST_TCP_ACK);
		tcp_conn_done(c, c->soft_error != 0 ? c->soft_error : MIST_ETIMEDOUT);
		return;
	}
	/*
	 * RFC 5681 3.1: ssthresh is cut once per lost segment, not again when
	 * the segment at SND.UNA was already resent by the timer (it lies below
	 * `recover`, SND.MAX when the timer last fired, and no RTT sample has
	 * reset the backoff since); cwnd is the loss window after every timeout.
	 */
	if (c->backoff == 0 || seq_ge(c->snd_una, c->recover))
		c->cc.ops->on_rto(&c->cc, c->snd_max - c->snd_una, now);
	else
		c->cc.cwnd = c->cc.mss;
	c->backoff++;
	/*
	 * Go back to SND.UNA. The scoreboard is dropped: RFC 2018 8 lets the
	 * receiver renege on SACKed data, so after a timeout the sender must not
	 * rely on it.
	 */
	c->recover = c->snd_max;
	c->snd_nxt = c->snd_una;
	c->high_rxt = c->snd_una;
	c->flags &= (uint16_t) ~(TCP_F_IN_RECOVERY | TCP_F_RTT_TIMING); /* Karn: no timing now */
	c->dupacks = 0;
	tcp_sack_clear(&c->sack);
	tcp_output(c);
	/*
	 * A window the peer closed lets nothing go: the persist timer, which
	 * tcp_output() armed, probes it instead, and the connection stays open
	 * for as long as the probes are answered (RFC 1122 4.2.2.17).
	 */
	if (c->snd_nxt == c->snd_una && c->snd_wnd == 0)
		tcp_rto_stop(c);
	else
		tcp_rto_restart(c);
}

/* RFC 9293 3.8.6.1: probe a zero window, backing off like the RTO. */
static void tcp_persist_expired(struct tcp_conn *c)
{
	if (c->snd_wnd != 0 || c->sndq_len == (c->snd_nxt - c->snd_una)) {
		/* Data waits on a window too small for SWS avoidance: the override timer. */
		c->backoff = 0;
		tcp_output_force(c);
		return;
	}
	c->stack->stats.tcp.persist_probes++;
	/*
	 * The probe is a segment with the sequence number just below SND.UNA
	 * and no data, which any receiver answers with an ACK carrying its
	 * current window (the form Linux and the BSDs use; RFC 9293 3.8.6.1
	 * allows a probe of one octet instead, which costs a retransmission
	 * path of its own).
	 */
	tcp_send_control(c, c->snd_una - 1, MIST_TCP_ACK);
	if (c->backoff < TCP_MAX_BACKOFF)
		c->backoff++;
	uint64_t interval = MIST_MIN(MIST_MAX(tcp_rto_now(c), TCP_PERSIST_MIN), TCP_PERSIST_MAX);
	c->persist_at = mist_now() + interval;
}

/* RFC 1122 4.2.3.6: probe an idle connection; give up after keep_probes. */
static void tcp_keepalive_expired(struct tcp_conn *c)
{
	if (c->keep_sent >= c->keep_probes) {
		tcp_send_control(c, c->snd_nxt, MIST_TCP_RST | MIST_TCP_ACK);
		tcp_conn_done(c, MIST_ETIMEDOUT);
		return;
	}
	c->stack->stats.tcp.keepalive_probes++;
	c->keep_sent++;
	tcp_send_control(c, c->snd_una - 1, MIST_TCP_ACK);
	c->keep_at = mist_now() + c->keep_interval;
}

static void tcp_timer_fire(struct mist_timer *timer)
{
	struct tcp_conn *c = mist_container_of(timer, struct tcp_conn, timer);
	uint64_t now = mist_now();

	c->flags |= TCP_F_BUSY;
	if (c->wait_at != 0 && now >= c->wait_at) {
		c->wait_at = 0;
		tcp_conn_done(c, 0);
	}
	if (c->rto_at != 0 && now >= c->rto_at) {
		c->rto_at = 0;
		tcp_rto_expired(c);
	}
	if (c->persist_at != 0 && now >= c->persist_at) {
		c->persist_at = 0;
		tcp_persist_expired(c);
	}
	if (c->keep_at != 0 && now >= c->keep_at) {
		c->keep_at = 0;
		tcp_keepalive_expired(c);
	}
	if (c->delack_at != 0 && now >= c->delack_at) {
		c->delack_at = 0;
		c->stack->stats.tcp.delayed_acks++;
		c->flags |= TCP_F_ACK_NOW;
		tcp_output(c);
	}
	if (c->tso_at != 0 && now >= c->tso_at) {
		c->tso_at = 0;
		tcp_output_deferred(c);
	}
	c->flags &= (uint16_t)~TCP_F_BUSY;
	if (c->state == TCP_CLOSED)
		tcp_conn_release(c);
	else
		tcp_timer_update(c);
}
