/*
 * The flow API (mist/flow.h) over Mist's own TCP. Calls that wait block the
 * calling fiber on the connection's wait queues, which input and the timers
 * wake.
 */
#include "base/str.h"
#include "core/mem.h"
#include "core/panic.h"
#include "mist/flow.h"
#include "net/stack.h"
#include "net/tcp.h"

/* How long a writer waits before trying again when the transmit pool is empty. */
#define TCP_POOL_RETRY (5 * MIST_MSEC)

int mist_tcp_listen(struct mist_stack *net, uint16_t port, mist_flow_handler handler, void *arg)
{
	if (net == NULL || port == 0 || handler == NULL)
		return MIST_EINVAL;
	if (tcp_listener_find(net, port) != NULL)
		return MIST_EADDRINUSE;
	struct tcp_listener *l = mist_calloc(1, sizeof(*l));
	if (l == NULL)
		return MIST_ENOMEM;
	l->port = port;
	l->handler = handler;
	l->arg = arg;
	l->next = net->tcp.listeners;
	net->tcp.listeners = l;
	mist_sched_hold(mist_sched_current());
	return 0;
}

int mist_tcp_unlisten(struct mist_stack *net, uint16_t port)
{
	struct tcp_listener **p = &net->tcp.listeners;
	while (*p != NULL && (*p)->port != port)
		p = &(*p)->next;
	struct tcp_listener *l = *p;
	if (l == NULL)
		return MIST_ENOENT;
	*p = l->next;
	/* Handshakes still under way on it are reset: their handler is gone. */
	struct tcp_table *t = &net->tcp.conns;
	for (uint32_t b = 0; b < t->nbuckets && l->half_open > 0; b++) {
		struct tcp_table_node *n = t->buckets[b];
		while (n != NULL) {
			struct tcp_conn *c = mist_container_of(n, struct tcp_conn, node);
			n = n->next;
			if (c->listener == l) {
				tcp_send_control(c, c->snd_nxt, MIST_TCP_RST | MIST_TCP_ACK);
				tcp_conn_done(c, MIST_ECONNRESET);
			}
		}
	}
	mist_free(l);
	mist_sched_release(mist_sched_current());
	return 0;
}

/* RFC 6056 3.3.1: a random start in the ephemeral range, then the next free port. */
static int tcp_pick_port(struct mist_stack *s, struct tcp_tuple *t)
{
	uint32_t start = mist_random_below(TCP_EPHEMERAL_COUNT);
	for (uint32_t i = 0; i < TCP_EPHEMERAL_COUNT; i++) {
		t->lport = (uint16_t)(TCP_EPHEMERAL_FIRST + (start + i) % TCP_EPHEMERAL_COUNT);
		if (tcp_conn_find(s, t) == NULL && tcp_listener_find(s, t->lport) == NULL)
			return 0;
	}
	return MIST_EADDRINUSE;
}

/* The application lets go of a connection that ended before it was handed out. */
static int tcp_connect_fail(struct tcp_conn *c, int err)
{
	c->flags |= TCP_F_APP_GONE;
	if (c->state != TCP_CLOSED)
		tcp_conn_done(c, err);
	else
		tcp_conn_release(c);
	return err;
}

int mist_tcp_connect(struct mist_stack *net, const struct mist_addr *to, uint64_t deadline,
                     struct mist_flow **out)
{
	if (net == NULL || to == NULL || to->port == 0)
		return MIST_EINVAL;
	struct tcp_tuple t = {.local = net->ip, .remote = to->ip, .rport = to->port};
	int err = tcp_pick_port(net, &t);
	if (err != 0)
		return err;
	struct tcp_conn *c = tcp_conn_new(net, &t);
	if (c == NULL)
		return MIST_ENOMEM;
	uint64_t now = mist_now();
	c->state = TCP_SYN_SENT;
	c->iss = tcp_isn(&net->tcp.secret, t.local, t.lport, t.remote, t.rport, now);
	c->snd_una = c->iss;
	c->snd_nxt = c->snd_max = c->iss + 1;
	c->rcv_wscale = TCP_WSCALE;
	c->rtt_start = now;
	err = tcp_send_control(c, c->iss, MIST_TCP_SYN);
	if (err != 0)
		return tcp_connect_fail(c, err);
	tcp_rto_restart(c);
	while (c->state == TCP_SYN_SENT || c->state == TCP_SYN_RECEIVED) {
		if (mist_wait(&c->writers, deadline) == MIST_ETIMEDOUT &&
		    c->state != TCP_ESTABLISHED)
			return tcp_connect_fail(c, MIST_ETIMEDOUT);
	}
	if (c->state == TCP_CLOSED)
		return tcp_connect_fail(c, c->error != 0 ? c->error : MIST_ECONNRESET);
	*out = tcp_flow_of(c);
	return 0;
}

/* True when no more data can arrive: the peer's FIN came, or the connection ended. */
static bool tcp_read_done(const struct tcp_conn *c)
{
	switch (c->state) {
	case TCP_CLOSE_WAIT:
	case TCP_CLOSING:
	case TCP_LAST_ACK:
	case TCP_TIME_WAIT:
	case TCP_CLOSED:
		return true;
	default:
		return (c->flags & TCP_F_RD_SHUT) != 0;
	}
}

/* After the reader took data: tell the peer when the window opened enough (RFC 9293 3.8.6.2.2). */
static void tcp_window_update(struct tcp_conn *c)
{
	if (c->state == TCP_CLOSED)
		return;
	uint32_t offered = seq_gt(c->rcv_adv, c->rcv_nxt) ? c->rcv_adv - c->rcv_nxt : 0;
	uint32_t now = tcp_rcv_window(c);
	if (now > offered && now - offered >= MIST_MIN(c->rcvbuf / 2, 2u * c->mss)) {
		c->flags |= TCP_F_ACK_NOW;
		tcp_output(c);
	}
}

int mist_flow_read_deadline(struct mist_flow *flow, uint64_t deadline, struct mist_buf **out)
{
	struct tcp_conn *c = tcp_conn_of(flow);
	*out = NULL;
	for (;;) {
		if (c->rcvq != NULL) {
			struct mist_buf *b = c->rcvq;
			c->rcvq = b->next;
			if (c->rcvq == NULL)
				c->rcvq_tail = NULL;
			b->next = NULL;
			c->rcvq_len -= b->len;
			tcp_window_update(c);
			*out = b;
			return 0;
		}
		if (tcp_read_done(c))
			return c->error;
		int err = mist_wait(&c->readers, deadline);
		if (err != 0 && c->rcvq == NULL && !tcp_read_done(c))
			return err;
	}
}

struct mist_buf *mist_flow_read(struct mist_flow *flow)
{
	struct mist_buf *b;
	mist_flow_read_deadline(flow, MIST_FOREVER, &b);
	return b;
}

/* Why writing is impossible now, or 0. */
static int tcp_write_error(const struct tcp_conn *c)
{
	if (c->state == TCP_CLOSED)
		return c->error != 0 ? c->error : MIST_EPIPE;
	if (c->flags & TCP_F_FIN_QUEUED)
		return MIST_EPIPE;
	return 0;
}

/* Waits until the send buffer has room. Returns 0 or why writing is over. */
static int tcp_wait_room(struct tcp_conn *c)
{
	for (;;) {
		int err = tcp_write_error(c);
		if (err != 0)
			return err;
		if (c->sndq_len < c->sndbuf)
			return 0;
		tcp_output(c);
		mist_wait(&c->writers, MIST_FOREVER);
	}
}

static void tcp_sndq_append(struct tcp_conn *c, struct mist_buf *chain, bool ours)
{
	if (c->sndq_tail != NULL)
		c->sndq_tail->next = chain;
	else
		c->sndq = chain;
	for (struct mist_buf *b = chain; b != NULL; b = b->next) {
		c->sndq_len += b->len;
		c->sndq_tail = b;
	}
	c->sndq_tail_ours = ours;
}

/* Copies up to `len` bytes into the send queue; returns how many, 0 when no buffer is free. */
static size_t tcp_copy_in(struct tcp_conn *c, const uint8_t *data, size_t len)
{
	size_t room = c->sndbuf - c->sndq_len;
	size_t done = 0;
	if (c->sndq_tail_ours) {
		/*
		 * The tail's free space. A segment still holding a view of the
		 * tail (a frame in a device queue, or one waiting for ARP) shares
		 * its storage, which mist_buf_put() then refuses to grow: a new
		 * buffer is taken below instead.
		 */
		size_t n = MIST_MIN(MIST_MIN(len, room), (size_t)mist_buf_tailroom(c->sndq_tail));
		uint8_t *p = n > 0 ? mist_buf_put(c->sndq_tail, (uint32_t)n) : NULL;
		if (p != NULL) {
			mist_memcpy(p, data, n);
			c->sndq_len += (uint32_t)n;
			done = n;
		}
	}
	while (done < len && c->sndq_len < c->sndbuf) {
		uint32_t want = (uint32_t)MIST_MIN(len - done, (size_t)(c->sndbuf - c->sndq_len));
		want = MIST_MIN(want, (uint32_t)(NET_TX_BUF_SIZE - NET_TX_HEADROOM));
		struct mist_buf *b = mist_buf_alloc(c->stack->tx_pool, want);
		if (b == NULL)
			break;
		mist_memcpy(b->data, data + done, want);
		tcp_sndq_append(c, b, true);
		done += want;
	}
	return done;
}

static int tcp_write_copy(struct tcp_conn *c, const uint8_t *data, size_t len)
{
	while (len > 0) {
		int err = tcp_wait_room(c);
		if (err != 0)
			return err;
		size_t n = tcp_copy_in(c, data, len);
		if (n == 0) {
			/* The transmit pool is empty: what is in flight frees buffers as it is ACKed. */
			tcp_output(c);
			mist_wait(&c->writers, mist_now() + TCP_POOL_RETRY);
			continue;
		}
		data += n;
		len -= n;
	}
	return 0;
}

int mist_flow_write(struct mist_flow *flow, const void *data, size_t len)
{
	struct tcp_conn *c = tcp_conn_of(flow);
	int err = tcp_write_copy(c, data, len);
	tcp_output(c);
	return err;
}

int mist_flow_writev(struct mist_flow *flow, const struct mist_iovec *iov, unsigned count)
{
	struct tcp_conn *c = tcp_conn_of(flow);
	int err = 0;
	for (unsigned i = 0; i < count && err == 0; i++)
		err = tcp_write_copy(c, iov[i].base, iov[i].len);
	tcp_output(c);
	return err;
}

int mist_flow_write_buf(struct mist_flow *flow, struct mist_buf *buf)
{
	struct tcp_conn *c = tcp_conn_of(flow);
	int err = tcp_wait_room(c);
	if (err != 0) {
		mist_buf_free_chain(buf);
		return err;
	}
	if (net_rx_scarce(c->stack))
		buf = net_unpin_rx(c->stack, buf);
	tcp_sndq_append(c, buf, false);
	tcp_output(c);
	return 0;
}

/* RFC 9293 3.10.4 (CLOSE): a FIN after the queued data. */
static void tcp_shutdown_write(struct tcp_conn *c)
{
	if (c->flags & TCP_F_FIN_QUEUED)
		return;
	switch (c->state) {
	case TCP_SYN_RECEIVED:
	case TCP_ESTABLISHED:
		tcp_set_state(c, TCP_FIN_WAIT_1);
		break;
	case TCP_CLOSE_WAIT:
		tcp_set_state(c, TCP_LAST_ACK);
		break;
	default:
		return;
	}
	c->flags |= TCP_F_FIN_QUEUED;
	tcp_output(c);
}

int mist_flow_shutdown(struct mist_flow *flow, enum mist_shutdown how)
{
	struct tcp_conn *c = tcp_conn_of(flow);
	if (how < MIST_SHUT_RD || how > MIST_SHUT_RDWR)
		return MIST_EINVAL;
	if (c->state == TCP_CLOSED)
		return MIST_ENOTCONN;
	if (how & MIST_SHUT_RD) {
		c->flags |= TCP_F_RD_SHUT;
		mist_buf_free_chain(c->rcvq);
		c->rcvq = c->rcvq_tail = NULL;
		c->rcvq_len = 0;
		mist_wake_all(&c->readers);
	}
	if (how & MIST_SHUT_WR) {
		tcp_shutdown_write(c);
		mist_wake_all(&c->writers);
	}
	return 0;
}

void mist_flow_close(struct mist_flow *flow)
{
	struct tcp_conn *c = tcp_conn_of(flow);
	if (!mist_waitq_empty(&c->readers) || !mist_waitq_empty(&c->writers))
		MIST_MISUSE("mist_flow_close", "a fiber is still blocked on the flow");
	c->flags |= TCP_F_APP_GONE;
	/* RFC 2525 2.17: closing with unread data resets, so the peer knows it was lost. */
	if (c->rcvq_len > 0 && c->state != TCP_CLOSED) {
		tcp_send_control(c, c->snd_nxt, MIST_TCP_RST | MIST_TCP_ACK);
		tcp_conn_done(c, MIST_ECANCELED);
		return;
	}
	mist_buf_free_chain(c->rcvq);
	c->rcvq = c->rcvq_tail = NULL;
	c->rcvq_len = 0;
	tcp_shutdown_write(c);
	tcp_fin_wait_2_limit(c);
	tcp_conn_release(c);
}

void mist_flow_abort(struct mist_flow *flow)
{
	struct tcp_conn *c = tcp_conn_of(flow);
	if (!mist_waitq_empty(&c->readers) || !mist_waitq_empty(&c->writers))
		MIST_MISUSE("mist_flow_abort", "a fiber is still blocked on the flow");
	c->flags |= TCP_F_APP_GONE;
	if (c->state != TCP_CLOSED && c->state != TCP_TIME_WAIT)
		tcp_send_control(c, c->snd_nxt, MIST_TCP_RST | MIST_TCP_ACK);
	if (c->state != TCP_CLOSED)
		tcp_conn_done(c, MIST_ECANCELED);
	else
		tcp_conn_release(c);
}

int mist_flow_error(const struct mist_flow *flow)
{
	return tcp_conn_of(flow)->error;
}

struct mist_addr mist_flow_peer(const struct mist_flow *flow)
{
	const struct tcp_conn *c = tcp_conn_of(flow);
	return (struct mist_addr){.ip = c->node.tuple.remote, .port = c->node.tuple.rport};
}

struct mist_addr mist_flow_local(const struct mist_flow *flow)
{
	const struct tcp_conn *c = tcp_conn_of(flow);
	return (struct mist_addr){.ip = c->node.tuple.local, .port = c->node.tuple.lport};
}

int mist_flow_set_nodelay(struct mist_flow *flow, bool nodelay)
{
	struct tcp_conn *c = tcp_conn_of(flow);
	if (nodelay)
		c->flags |= TCP_F_NODELAY;
	else
		c->flags &= (uint16_t)~TCP_F_NODELAY;
	tcp_output(c);
	return 0;
}

int mist_flow_set_keepalive(struct mist_flow *flow, uint64_t idle, uint64_t interval,
                            unsigned probes)
{
	struct tcp_conn *c = tcp_conn_of(flow);
	if (idle != 0 && (interval == 0 || probes == 0 || probes > UINT8_MAX))
		return MIST_EINVAL;
	c->keep_idle = idle;
	c->keep_interval = interval;
	c->keep_probes = (uint8_t)probes;
	c->keep_at = 0;
	if (c->state != TCP_CLOSED) {
		tcp_keepalive_touch(c);
		tcp_timer_update(c);
	}
	return 0;
}

int mist_flow_set_buffers(struct mist_flow *flow, uint32_t send, uint32_t receive)
{
	struct tcp_conn *c = tcp_conn_of(flow);
	if (send > TCP_BUF_MAX || receive > TCP_BUF_MAX || (send != 0 && send < c->mss) ||
	    (receive != 0 && receive < c->mss))
		return MIST_EINVAL;
	if (send != 0) {
		c->sndbuf = send;
		mist_wake_all(&c->writers);
	}
	if (receive != 0) {
		c->rcvbuf = receive;
		tcp_window_update(c);
	}
	return 0;
}

int mist_flow_set_user_timeout(struct mist_flow *flow, uint64_t timeout)
{
	tcp_conn_of(flow)->user_timeout = timeout != 0 ? timeout : TCP_USER_TIMEOUT;
	return 0;
}
