/*
 * TCP connections: their creation and end, the 4-tuple table, listeners and
 * the handler fiber of each accepted connection.
 */
#define MIST_LOG_TAG "tcp"

#include "base/str.h"
#include "core/mem.h"
#include "core/panic.h"
#include "mist/log.h"
#include "net/stack.h"
#include "net/tcp.h"

int net_tcp_init(struct mist_stack *s)
{
	struct net_tcp *t = &s->tcp;
	int err = tcp_table_init(&t->conns);
	if (err != 0)
		return err;
	tcp_secret_init(&t->secret);
	t->ooo_budget.limit = TCP_OOO_MAX_STACK;
	t->cc_algo = TCP_CC_CUBIC;
	t->rto_min = TCP_RTO_MIN_DEFAULT;
	/*
	 * No second yet, so that the first use fills the buckets (RFC 5961 7):
	 * with 0 they would stay empty until the clock's first second ended,
	 * and a stack started at time 0 would send no RST in its first second.
	 */
	t->limit_second = UINT64_MAX;
	return 0;
}

static void tcp_conn_free(struct tcp_conn *c)
{
	struct mist_stack *s = c->stack;
	mist_timer_cancel(&c->timer);
	if (c->flags & TCP_F_IN_TABLE)
		tcp_table_remove(&s->tcp.conns, &c->node);
	mist_buf_free_chain(c->sndq);
	mist_buf_free_chain(c->rcvq);
	tcp_reasm_clear(&c->ooo, &s->tcp.ooo_budget);
	mist_free(c);
}

/*
 * At teardown the loop has stopped: handler fibers blocked on a connection
 * will never run again, so every connection goes, whoever holds it.
 */
void net_tcp_destroy(struct mist_stack *s)
{
	struct net_tcp *t = &s->tcp;
	for (uint32_t b = 0; b < t->conns.nbuckets; b++)
		while (t->conns.buckets[b] != NULL)
			tcp_conn_free(
			        mist_container_of(t->conns.buckets[b], struct tcp_conn, node));
	tcp_table_destroy(&t->conns);
	while (t->listeners != NULL) {
		struct tcp_listener *l = t->listeners;
		t->listeners = l->next;
		mist_free(l);
	}
}

struct tcp_conn *tcp_conn_find(struct mist_stack *s, const struct tcp_tuple *t)
{
	struct tcp_table_node *n = tcp_table_find(&s->tcp.conns, t);
	return n == NULL ? NULL : mist_container_of(n, struct tcp_conn, node);
}

struct tcp_listener *tcp_listener_find(struct mist_stack *s, uint16_t port)
{
	for (struct tcp_listener *l = s->tcp.listeners; l != NULL; l = l->next)
		if (l->port == port)
			return l;
	return NULL;
}

struct tcp_conn *tcp_conn_new(struct mist_stack *s, const struct tcp_tuple *t)
{
	struct tcp_conn *c = mist_calloc(1, sizeof(*c));
	if (c == NULL)
		return NULL;
	c->node.tuple = *t;
	c->stack = s;
	c->sndbuf = TCP_SNDBUF_DEFAULT;
	c->rcvbuf = TCP_RCVBUF_DEFAULT;
	c->rto_min = s->tcp.rto_min;
	c->rto = TCP_RTO_INITIAL;
	c->user_timeout = TCP_USER_TIMEOUT;
	c->mss = TCP_MSS_DEFAULT;
	tcp_reasm_init(&c->ooo);
	tcp_sack_clear(&c->sack);
	mist_waitq_init(&c->readers);
	mist_waitq_init(&c->writers);
	tcp_timer_init(c);
	if (tcp_table_insert(&s->tcp.conns, &c->node) != 0) {
		mist_free(c);
		return NULL;
	}
	c->flags |= TCP_F_IN_TABLE;
	return c;
}

static const char *const tcp_state_names[] = {
        [TCP_CLOSED] = "CLOSED",
        [TCP_SYN_SENT] = "SYN-SENT",
        [TCP_SYN_RECEIVED] = "SYN-RECEIVED",
        [TCP_ESTABLISHED] = "ESTABLISHED",
        [TCP_FIN_WAIT_1] = "FIN-WAIT-1",
        [TCP_FIN_WAIT_2] = "FIN-WAIT-2",
        [TCP_CLOSE_WAIT] = "CLOSE-WAIT",
        [TCP_CLOSING] = "CLOSING",
        [TCP_LAST_ACK] = "LAST-ACK",
        [TCP_TIME_WAIT] = "TIME-WAIT",
};

void tcp_set_state(struct tcp_conn *c, enum tcp_state state)
{
	mist_debug("%pI4:%u -> %pI4:%u %s -> %s", c->node.tuple.local.b, c->node.tuple.lport,
	           c->node.tuple.remote.b, c->node.tuple.rport, tcp_state_names[c->state],
	           tcp_state_names[state]);
	if (c->state == TCP_SYN_RECEIVED && c->listener != NULL) {
		c->listener->half_open--;
		c->listener = NULL;
	}
	c->state = (uint8_t)state;
}

void tcp_conn_release(struct tcp_conn *c)
{
	if (c->state == TCP_CLOSED && (c->flags & TCP_F_APP_GONE) &&
	    !(c->flags & (TCP_F_HANDLER | TCP_F_BUSY)))
		tcp_conn_free(c);
}

void tcp_conn_done(struct tcp_conn *c, int error)
{
	struct net_tcp_stats *st = &c->stack->stats.tcp;
	if (c->state == TCP_CLOSED)
		return;
	if (error == MIST_ECONNRESET || error == MIST_ECONNREFUSED)
		st->reset_rx++;
	else if (error == MIST_ETIMEDOUT || (error != 0 && error == c->soft_error))
		st->timed_out++;
	else if (error == MIST_ECANCELED)
		st->aborted++;
	else if (error == 0)
		st->closed++;
	if (c->error == 0)
		c->error = error;
	tcp_set_state(c, TCP_CLOSED);
	c->rto_at = c->delack_at = c->persist_at = c->keep_at = c->wait_at = c->tso_at = 0;
	mist_timer_cancel(&c->timer);
	if (c->flags & TCP_F_IN_TABLE) {
		tcp_table_remove(&c->stack->tcp.conns, &c->node);
		c->flags &= (uint16_t)~TCP_F_IN_TABLE;
	}
	/* Unsent and unacknowledged data is lost; what was received stays readable. */
	mist_buf_free_chain(c->sndq);
	c->sndq = c->sndq_tail = c->snd_cursor = NULL;
	c->sndq_len = 0;
	tcp_reasm_clear(&c->ooo, &c->stack->tcp.ooo_budget);
	/* A passive connection that never reached its handler has no one to free it. */
	if ((c->flags & TCP_F_PASSIVE) && c->handler == NULL)
		c->flags |= TCP_F_APP_GONE;
	mist_wake_all(&c->readers);
	mist_wake_all(&c->writers);
	tcp_conn_release(c);
}

/*
 * The handler fiber: runs the listener's handler, then lets go of the flow.
 * While TCP_F_HANDLER is set the connection is not freed, so the handler may
 * close or abort the flow itself and this still finds it afterwards.
 */
static void tcp_handler_main(void *arg)
{
	struct tcp_conn *c = arg;
	c->handler(tcp_flow_of(c), c->handler_arg);
	if (!(c->flags & TCP_F_APP_GONE))
		mist_flow_close(tcp_flow_of(c));
	c->flags &= (uint16_t)~TCP_F_HANDLER;
	tcp_conn_release(c);
}

void tcp_conn_accepted(struct tcp_conn *c)
{
	c->stack->stats.tcp.accepted++;
	struct mist_fiber *f = mist_fiber_spawn("tcp-handler", tcp_handler_main, c, 0);
	if (f == NULL) {
		mist_warn("no memory for a handler fiber: connection from %pI4:%u reset",
		          c->node.tuple.remote.b, c->node.tuple.rport);
		c->flags |= TCP_F_APP_GONE; /* no handler will ever let go of it */
		tcp_send_control(c, c->snd_nxt, MIST_TCP_RST | MIST_TCP_ACK);
		tcp_conn_done(c, MIST_ECONNRESET);
		return;
	}
	c->flags |= TCP_F_HANDLER;
	mist_fiber_detach(f);
}

uint16_t tcp_mss_for(const struct mist_stack *s, uint16_t peer_mss)
{
	/* RFC 9293 3.7.1 and RFC 6691: the MTU less the fixed IPv4 and TCP headers. */
	uint32_t ours = (uint32_t)s->mtu - MIST_IPV4_HDR_MIN - MIST_TCP_HDR_MIN;
	uint32_t theirs = peer_mss != 0 ? peer_mss : TCP_MSS_DEFAULT;
	uint32_t mss = MIST_MIN(ours, theirs);
	/* A peer announcing a tiny MSS would make us send a segment per few bytes. */
	return (uint16_t)MIST_MAX(mss, 64u);
}
