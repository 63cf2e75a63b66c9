/*
 * TCP (RFC 9293) inside Mist's own stack: the connection block and the
 * functions the TCP files call on one another.
 *
 *   tcp_conn.c    connections: creation, the 4-tuple table, listeners,
 *                 ephemeral ports, teardown
 *   tcp_input.c   segment arrival (RFC 9293 3.10.7), SYN cookies, RFC 5961
 *   tcp_output.c  what to send and when: data, Nagle and SWS avoidance,
 *                 retransmission, SACK-based and NewReno loss recovery, ACKs
 *   tcp_timer.c   one timer per connection for RTO, delayed ACK, persist,
 *                 keepalive, TIME_WAIT and the user timeout
 *   tcp_flow.c    the flow API of mist/flow.h
 *   tcp_cc*.c     congestion control; tcp_sack.c the sender's scoreboard;
 *                 tcp_reasm.c out-of-order data; tcp_isn.c ISNs and cookies
 *
 * The connection is the flow: a struct mist_flow pointer is a struct
 * tcp_conn (tcp_flow_of/tcp_conn_of convert; mist_flow is never defined). It lives
 * until both the protocol is done with it (CLOSED) and the application has
 * let go of it (closed, aborted, or its handler returned).
 */
#ifndef MIST_NET_TCP_H
#define MIST_NET_TCP_H

#include <stdbool.h>
#include <stdint.h>

#include "mist/fiber.h"
#include "mist/flow.h"
#include "net/tcp_cc.h"
#include "net/tcp_isn.h"
#include "net/tcp_reasm.h"
#include "net/tcp_sack.h"
#include "net/tcp_seq.h"
#include "net/tcp_table.h"
#include "wire/tcp.h"

struct mist_stack;
struct net_ip_in;

enum tcp_state {
	TCP_CLOSED = 0,
	TCP_SYN_SENT,
	TCP_SYN_RECEIVED,
	TCP_ESTABLISHED,
	TCP_FIN_WAIT_1,
	TCP_FIN_WAIT_2,
	TCP_CLOSE_WAIT,
	TCP_CLOSING,
	TCP_LAST_ACK,
	TCP_TIME_WAIT,
};

/* Defaults; each can be changed per connection through mist/flow.h. */
#define TCP_SNDBUF_DEFAULT  (256u * 1024)
#define TCP_RCVBUF_DEFAULT  (256u * 1024)
#define TCP_BUF_MAX         (16u * 1024 * 1024)
#define TCP_WSCALE          8              /* offered in every SYN: windows up to TCP_BUF_MAX */
#define TCP_MSS_DEFAULT     536u           /* RFC 9293 3.7.1: when the peer sends no MSS option */
#define TCP_PMTU_MIN        576u           /* the least path MTU ICMP can set (tcp_input.c) */
#define TCP_DUPTHRESH       3u             /* RFC 5681 3.2, RFC 6675 */
#define TCP_RTO_INITIAL     (1 * MIST_SEC) /* RFC 6298 2.1 */
#define TCP_RTO_MIN_DEFAULT (200 * MIST_MSEC) /* RFC 6298 2.4 says 1 s; see tcp_timer.c */
#define TCP_RTO_MAX         (60 * MIST_SEC)   /* RFC 6298 2.5 */
#define TCP_DELACK          (40 * MIST_MSEC)  /* RFC 9293 3.8.6.3: well under 500 ms */
#define TCP_TIME_WAIT_LEN   (60 * MIST_SEC)   /* 2*MSL with MSL = 30 s */
#define TCP_FIN_WAIT_2_LEN  (60 * MIST_SEC)   /* after close, for a peer that never sends FIN */
#define TCP_USER_TIMEOUT    (120 * MIST_SEC)  /* give up on unacknowledged data */
#define TCP_SYN_RETRIES     6
#define TCP_SYNACK_RETRIES  5
#define TCP_BACKLOG         256 /* half-open connections per listener before SYN cookies */
#define TCP_OOO_MAX_STACK   (32u * 1024 * 1024) /* out-of-order bytes held by all connections */
#define TCP_PERSIST_MIN     (200 * MIST_MSEC)
#define TCP_CHALLENGE_ACKS  100    /* per second and stack, RFC 5961 7 */
#define TCP_RST_PER_SEC     200    /* RSTs for segments to closed ports, per second */
#define TCP_EPHEMERAL_FIRST 49152u /* RFC 6056 2.1 */
#define TCP_EPHEMERAL_COUNT 16384u

/* Connection flags. */
enum {
	TCP_F_SACK_OK = 1u << 0,     /* both sides sent SACK-permitted */
	TCP_F_TS_OK = 1u << 1,       /* both sides sent timestamps */
	TCP_F_WSCALE_OK = 1u << 2,   /* both sides sent window scale */
	TCP_F_NODELAY = 1u << 3,     /* Nagle off */
	TCP_F_FIN_QUEUED = 1u << 4,  /* send FIN after the queued data */
	TCP_F_FIN_SENT = 1u << 5,    /* FIN sent at snd_max - 1 */
	TCP_F_RD_SHUT = 1u << 6,     /* data arriving from now on is discarded */
	TCP_F_APP_GONE = 1u << 7,    /* the application let go (close, abort, handler end) */
	TCP_F_IN_RECOVERY = 1u << 8, /* fast recovery until snd_una passes `recover` */
	TCP_F_ACK_NOW = 1u << 9,     /* send an ACK at the next output */
	TCP_F_IN_TABLE = 1u << 10,   /* in the 4-tuple table */
	TCP_F_RTT_TIMING = 1u << 11, /* rtt_seq is being timed (no timestamps) */
	TCP_F_PASSIVE = 1u << 12,    /* accepted from a listener */
	TCP_F_HANDLER = 1u << 13,    /* a handler fiber runs for it */
	TCP_F_CONNECTING = 1u << 14, /* mist_tcp_connect() waits on it */
	TCP_F_BUSY = 1u << 15,       /* being processed: not to be freed yet */
};

struct tcp_listener {
	struct tcp_listener *next;
	uint16_t port;
	uint16_t half_open; /* connections in SYN_RECEIVED */
	mist_flow_handler handler;
	void *arg;
};

struct tcp_conn {
	struct tcp_table_node node; /* the 4-tuple */
	struct mist_stack *stack;
	struct tcp_listener *listener; /* while in SYN_RECEIVED; NULL after */
	mist_flow_handler handler;
	void *handler_arg;

	uint8_t state;
	uint8_t snd_wscale;  /* shift for the windows the peer sends */
	uint8_t rcv_wscale;  /* shift for the windows we send */
	uint8_t dupacks;     /* duplicate ACKs in a row */
	uint8_t backoff;     /* RTO doublings since the last new ACK */
	uint8_t retries;     /* SYN or SYN-ACK retransmissions */
	uint8_t keep_sent;   /* keepalive probes unanswered */
	uint8_t keep_probes; /* probes before giving up */
	uint16_t flags;
	uint16_t mss;      /* the largest segment we send */
	int8_t soft_error; /* the last ICMP error (RFC 5461), reported on timeout */
	int error;         /* what the connection ended with, MIST_E* or 0 */

	/* Send sequence space (RFC 9293 3.3.1). snd_max: highest sent + 1. */
	uint32_t iss, snd_una, snd_nxt, snd_max, snd_wnd, snd_wl1, snd_wl2;
	uint32_t max_snd_wnd; /* largest window the peer offered, for SWS avoidance */
	uint32_t recover;     /* RFC 6582 / RFC 6675 RecoveryPoint */
	uint32_t high_rxt;    /* RFC 6675 HighRxt */
	uint32_t rtt_seq;     /* the segment being timed without timestamps */
	/* Receive sequence space. rcv_adv: right edge of the window we offered. */
	uint32_t irs, rcv_nxt, rcv_adv;
	/* RFC 7323 timestamps: the value to echo and where it was last updated. */
	uint32_t ts_recent, last_ack_sent;
	uint64_t ts_recent_at;

	/* Data written and not yet acknowledged, from snd_una (SYN and FIN excluded). */
	struct mist_buf *sndq, *sndq_tail;
	uint32_t sndq_len, sndbuf;
	bool sndq_tail_ours; /* the tail was filled by a copy: its tailroom may take more */
	/* Where the last segment was cut: sends move forward, so the next starts from here. */
	struct mist_buf *snd_cursor;
	uint32_t snd_cursor_seq; /* sequence number of snd_cursor's first byte */
	/* Data received in order and not yet read; out-of-order data. */
	struct mist_buf *rcvq, *rcvq_tail;
	uint32_t rcvq_len, rcvbuf;
	struct tcp_reasm ooo;

	struct tcp_sack_board sack;
	struct tcp_cc cc;

	/* RFC 6298 state, in ns. */
	uint64_t srtt, rttvar, rto, rtt_start;
	uint64_t rto_min;

	/* Timers: each deadline, 0 when off; `timer` fires at the earliest. */
	struct mist_timer timer;
	uint64_t rto_at, delack_at, persist_at, keep_at, wait_at;
	uint64_t tso_at;        /* output deferred to the end of the loop turn (tcp_output.c) */
	uint64_t last_rx;       /* when a segment last arrived, for keepalive */
	uint64_t unacked_since; /* when the oldest unacknowledged data was sent */
	uint64_t keep_idle, keep_interval, user_timeout;

	struct mist_waitq readers; /* mist_flow_read */
	struct mist_waitq writers; /* mist_flow_write, mist_tcp_connect */
};

struct net_tcp {
	struct tcp_table conns;
	struct tcp_listener *listeners;
	struct tcp_secret secret;
	struct tcp_reasm_budget ooo_budget;
	enum tcp_cc_algo cc_algo;
	uint64_t rto_min;
	/* Rate limits: tokens refilled each second (RFC 5961 7, closed-port RSTs). */
	uint64_t limit_second;
	uint32_t challenge_acks, rsts;
};

static inline struct mist_flow *tcp_flow_of(struct tcp_conn *c)
{
	return (struct mist_flow *)(void *)c;
}

static inline struct tcp_conn *tcp_conn_of(const struct mist_flow *f)
{
	return (struct tcp_conn *)(void *)(uintptr_t)f;
}

/* --- tcp_conn.c ---------------------------------------------------------- */

int net_tcp_init(struct mist_stack *s);
void net_tcp_destroy(struct mist_stack *s);
struct tcp_conn *tcp_conn_find(struct mist_stack *s, const struct tcp_tuple *t);
struct tcp_listener *tcp_listener_find(struct mist_stack *s, uint16_t port);
/* A connection for `t` in state CLOSED, in the table. NULL when memory ran out. */
struct tcp_conn *tcp_conn_new(struct mist_stack *s, const struct tcp_tuple *t);
/* Moves to `state`, logging the transition at debug level. */
void tcp_set_state(struct tcp_conn *c, enum tcp_state state);
/*
 * Ends the connection with `error` (0 for a normal end): CLOSED, out of the
 * table, queues freed, waiters woken; freed now if the application is gone.
 */
void tcp_conn_done(struct tcp_conn *c, int error);
/* Frees the connection once it is CLOSED, the application let go and it is not busy. */
void tcp_conn_release(struct tcp_conn *c);
/* Starts the handler fiber of an accepted connection. */
void tcp_conn_accepted(struct tcp_conn *c);
/* The effective MSS for a peer's MSS option (0: none) and our MTU. */
uint16_t tcp_mss_for(const struct mist_stack *s, uint16_t peer_mss);

/* --- tcp_input.c --------------------------------------------------------- */

void net_tcp_input(struct mist_stack *s, const struct net_ip_in *ip, struct mist_buf *segment);
/*
 * An ICMP error about a segment we sent (RFC 9293 3.10.7, RFC 5461). `mtu`
 * is the path MTU a "fragmentation needed" message gives (RFC 1191 4-5),
 * 0 for any other error.
 */
void net_tcp_icmp_error(struct mist_stack *s, const uint8_t *quoted_ip, uint32_t quoted_len,
                        int error, uint16_t mtu);

/* --- tcp_output.c -------------------------------------------------------- */

/* Sends what the windows, Nagle and the state allow; ACKs if one is due. */
void tcp_output(struct tcp_conn *c);
/* As tcp_output(), sending one segment smaller than SWS avoidance allows (its override timer). */
void tcp_output_force(struct tcp_conn *c);
/* As tcp_output(), sending what it deferred for a device that segments (tso_at). */
void tcp_output_deferred(struct tcp_conn *c);
/* Data bytes per segment: the MSS less the options every segment carries (RFC 6691). */
uint32_t tcp_seg_size(const struct tcp_conn *c);
/* Sends a segment of the connection with `flags` and no data (SYN, ACK, RST, FIN ...). */
int tcp_send_control(struct tcp_conn *c, uint32_t seq, uint8_t flags);
/* Sends one segment carrying [seq, seq+len) of the send queue. */
int tcp_send_data(struct tcp_conn *c, uint32_t seq, uint32_t len, bool retransmit);
/*
 * A RST answering a segment that belongs to no connection (RFC 9293 3.10.7.1).
 */
void tcp_send_reset(struct mist_stack *s, const struct tcp_tuple *t, uint32_t seq, uint32_t ack,
                    uint8_t flags);
/* A SYN-ACK for a connection (or for a SYN cookie, when c is NULL). */
int tcp_send_synack(struct mist_stack *s, struct tcp_conn *c, const struct tcp_tuple *t,
                    uint32_t iss, uint32_t ack);
/* The receive window to advertise now, unscaled, in bytes. */
uint32_t tcp_rcv_window(const struct tcp_conn *c);
/* Frees acknowledged data from the send queue up to `ack`. */
void tcp_sndq_ack(struct tcp_conn *c, uint32_t acked);
/* RFC 6675 / RFC 6582 recovery. */
void tcp_enter_recovery(struct tcp_conn *c);

/* --- tcp_timer.c --------------------------------------------------------- */

void tcp_timer_init(struct tcp_conn *c);
/* Re-arms the connection's timer at the earliest deadline set. */
void tcp_timer_update(struct tcp_conn *c);
/* RFC 6298 2.2-2.3: a new RTT measurement of `rtt` ns. */
void tcp_rtt_sample(struct tcp_conn *c, uint64_t rtt);
/* (Re)starts the retransmission timer (RFC 6298 5.1, 5.3). */
void tcp_rto_restart(struct tcp_conn *c);
void tcp_rto_stop(struct tcp_conn *c);
/* The current RTO with backoff. */
uint64_t tcp_rto_now(const struct tcp_conn *c);
/* Pushes the keepalive deadline out after traffic. */
void tcp_keepalive_touch(struct tcp_conn *c);
/*
 * Bounds FIN-WAIT-2 once the application has closed: nothing can read what
 * the peer might still send, and a peer that never sends its FIN would
 * otherwise hold the connection for ever (RFC 9293 leaves this open; Linux
 * waits tcp_fin_timeout, 60 s).
 */
void tcp_fin_wait_2_limit(struct tcp_conn *c);
/* Enters TIME_WAIT (RFC 9293 3.10.7.4) for 2*MSL. */
void tcp_enter_time_wait(struct tcp_conn *c);
/* The timestamp clock: 1 ms per tick (RFC 7323 5.4). */
uint32_t tcp_ts_now(void);

#endif
