/*
 * TCP congestion control behind one small interface: the TCP core calls the
 * hooks of struct tcp_cc_ops on ACKs, losses, timeouts and the end of fast
 * recovery, and sends no more than cc->cwnd bytes in flight. Two algorithms:
 * NewReno (RFC 5681 with RFC 3465 byte counting, tcp_cc_newreno.c) and CUBIC
 * (RFC 9438 without HyStart++, tcp_cc_cubic.c). This module decides only how
 * cwnd grows and how far it is cut; fast recovery itself (RFC 6582 / RFC 6675:
 * retransmissions, pipe accounting, window inflation) belongs to the core.
 *
 * Every window is in bytes, every time in ns from the platform's monotonic
 * clock. Integer arithmetic only: this code runs where floating point is
 * forbidden. Freestanding; depends on base/ and core/panic.h.
 */
#ifndef MIST_NET_TCP_CC_H
#define MIST_NET_TCP_CC_H

#include <stdbool.h>
#include <stdint.h>

/*
 * The largest sender MSS: the MSS option is 16 bits (RFC 9293 §3.7.1). The
 * bound also keeps the window arithmetic of the algorithms within 64 bits.
 */
#define TCP_CC_MSS_MAX 65535u

struct tcp_cc;
enum tcp_cc_algo { TCP_CC_NEWRENO, TCP_CC_CUBIC };

struct tcp_cc_ops {
	const char *name;
	/* After the handshake: RFC 6928 initial window min(10*mss, max(2*mss, 14600)), ssthresh
	 * "arbitrarily high" (UINT32_MAX). `mss` is 1..TCP_CC_MSS_MAX; anything else stops the
	 * program (MIST_ASSERT). */
	void (*init)(struct tcp_cc *cc, uint32_t mss, uint64_t now);
	/* `acked` new bytes acknowledged, outside recovery. `flight` bytes in flight before the
	 * ACK, `srtt` the smoothed RTT in ns (0 when unknown), `now` in ns. Grows cwnd unless the
	 * connection is application-limited (`app_limited`: flight < cwnd before this ACK, RFC
	 * 7661 spirit: do not grow cwnd that is not used). */
	void (*on_ack)(struct tcp_cc *cc, uint32_t acked, uint32_t flight, bool app_limited,
	               uint64_t srtt, uint64_t now);
	/* Loss detected by duplicate ACKs / SACK (entering fast recovery): set ssthresh (and cwnd
	 * to it: the core then uses pipe accounting / NewReno inflation itself). */
	void (*on_loss)(struct tcp_cc *cc, uint32_t flight, uint64_t now);
	/* Retransmission timeout: ssthresh from flight, cwnd = 1 MSS (RFC 5681 §3.1 eq. 4 and
	 * "loss window"; CUBIC §4.8). RFC 5681 §3.1 lowers ssthresh only when the segment had not
	 * yet been retransmitted by the timer: the core calls this once per such segment, not
	 * again for the backed-off retransmissions of the same segment. */
	void (*on_rto)(struct tcp_cc *cc, uint32_t flight, uint64_t now);
	/* Fast recovery ended (full ACK): cwnd = ssthresh (RFC 6582 §3.2 step 3, the second
	 * option / RFC 6675 §5). */
	void (*on_recovery_end)(struct tcp_cc *cc, uint64_t now);
};

/* NewReno's state (tcp_cc_newreno.c). */
struct tcp_cc_newreno {
	uint32_t ca_bytes_acked; /* RFC 3465 §2.1 bytes_acked, counted in congestion avoidance */
	bool rto_slow_start;     /* in the slow start that follows an RTO (RFC 3465 §2.3) */
};

/* CUBIC's state (tcp_cc_cubic.c); names follow RFC 9438 §4.1.2, sizes are bytes. */
struct tcp_cc_cubic {
	uint64_t epoch_start; /* ns: when the current congestion avoidance stage began */
	uint64_t w_est_rem;   /* W_est growth not yet whole bytes, in 1/(17*cwnd) bytes */
	uint32_t w_max;       /* the window before the last reduction (§4.7); 0 after an RTO */
	uint32_t k_ms;        /* K, ms after epoch_start at which W_cubic reaches w_max */
	uint32_t w_est;       /* the Reno-friendly estimate (§4.3) */
	uint32_t cwnd_prior;  /* cwnd when ssthresh was last set (§4.6) */
	uint32_t grow_rem;    /* cwnd growth not yet whole bytes, in 1/cwnd bytes */
	bool in_epoch;        /* epoch_start, k_ms and w_est are valid */
	bool rto_slow_start;  /* in the slow start that follows an RTO (RFC 3465 §2.3) */
};

struct tcp_cc {
	const struct tcp_cc_ops *ops;
	uint32_t cwnd;     /* bytes */
	uint32_t ssthresh; /* bytes */
	uint32_t mss;      /* sender MSS (SMSS) in bytes */
	union {
		struct tcp_cc_newreno newreno;
		struct tcp_cc_cubic cubic;
	} u;
};

/* Sets cc->ops for `algo` and calls init. `algo` must be a tcp_cc_algo value. */
void tcp_cc_init(struct tcp_cc *cc, enum tcp_cc_algo algo, uint32_t mss, uint64_t now);

/* The algorithm's name ("newreno", "cubic"), and parsing one back (returns false when unknown,
 * leaving *out alone). Names are matched exactly, case included. */
const char *tcp_cc_name(enum tcp_cc_algo algo);
bool tcp_cc_parse(const char *name, enum tcp_cc_algo *out);

/* --- Shared by the algorithms (tcp_cc_newreno.c), not for the core ----------------------- */

extern const struct tcp_cc_ops tcp_cc_newreno_ops;
extern const struct tcp_cc_ops tcp_cc_cubic_ops;

/*
 * The state every algorithm starts from: records `mss` (1..TCP_CC_MSS_MAX, else MIST_ASSERT
 * stops the program), sets the RFC 6928 initial window and an unbounded ssthresh, and zeroes
 * the algorithm's state in cc->u.
 */
void tcp_cc_start(struct tcp_cc *cc, uint32_t mss);

/*
 * Slow start for an ACK of `acked` bytes while cwnd < ssthresh (RFC 5681 §3.1, RFC 3465
 * §2.2): cwnd grows by the bytes ACKed, at most L bytes and no further than ssthresh. L is
 * 1*SMSS when *after_rto, else 2*SMSS; *after_rto is cleared once cwnd reaches ssthresh.
 * Returns the ACKed bytes left over once cwnd reached ssthresh, for congestion avoidance;
 * 0 while still in slow start.
 */
uint32_t tcp_cc_slow_start(struct tcp_cc *cc, uint32_t acked, bool *after_rto);

/* max(flight * num / den, 2*SMSS): the reduced ssthresh (RFC 5681 §3.1 eq. 4; num/den < 1). */
uint32_t tcp_cc_reduced_ssthresh(const struct tcp_cc *cc, uint32_t flight, uint32_t num,
                                 uint32_t den);

/*
 * The integer cube root: the largest r with r*r*r <= x. Exact for every x; used by CUBIC for
 * K and visible here for its unit test.
 */
uint32_t tcp_cc_cbrt(uint64_t x);

#endif
