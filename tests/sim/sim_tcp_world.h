/*
 * What the TCP sim scenarios (sim_tcp.c, sim_tcp_conn.c) share besides the
 * world of world.h (two stacks over a simulated link): the "ok NAME" /
 * "FAIL NAME: why" lines; deterministic byte streams hashed with SHA-256 on both ends; and the small
 * flow helpers the scenarios share. Every scenario ends with the link
 * drained, every pool empty, the scheduler destroyed and the heap back where
 * it started. SIM_TCP_SEED=N in the environment adds N to every seed, to
 * explore others; a scenario's name as the first argument runs it alone.
 * Header-only: each of the two programs includes it once.
 */
#ifndef MIST_TESTS_SIM_TCP_WORLD_H
#define MIST_TESTS_SIM_TCP_WORLD_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log_internal.h"
#include "core/mem.h"
#include "core/platform.h"
#include "core/rng_seed.h"
#include "core/sched.h"
#include "mist/buf.h"
#include "mist/fiber.h"
#include "mist/flow.h"
#include "mist/mist.h"
#include "mist/net.h"
#include "mist/sha256.h"
#include "net/stack.h"
#include "net/tcp.h"
#include "net/tcp_cc.h"
/* Tests build with -Iinclude -Isrc only; the sim platform's headers are found relative to here. */
#include "../../platform/sim/link.h"
#include "../../platform/sim/sim.h"
#include "../check.h"
#include "world.h"

#define PORT 8081
#define MIB  (1024u * 1024)
/* The payload of a full segment on these links: MTU less IPv4, TCP and the timestamp option. */
#define SEG       (MTU - 20 - 20 - 12)
#define LAN_BW    1000000000ull /* 1 Gbit/s */
#define LAN_DELAY (1 * MIST_MSEC)
#define LAN_RTT   (2 * LAN_DELAY)

/* A link of `bandwidth_bps` and `delay_ns` each way, nothing else. */
static inline struct world_config clean_config(uint64_t bandwidth_bps, uint64_t delay_ns)
{
	return (struct world_config){
	        .link = {.delay_ns = delay_ns, .bandwidth_bps = bandwidth_bps, .mtu = MTU},
	        .rx_count = 4096,
	        .cc = TCP_CC_CUBIC,
	};
}

/* --- figures ---------------------------------------------------------------------- */

static inline const struct net_tcp_stats *tcp_a(void)
{
	return &mist_stack_stats(W.a)->tcp;
}

static inline const struct net_tcp_stats *tcp_b(void)
{
	return &mist_stack_stats(W.b)->tcp;
}

static inline double seconds(uint64_t ns)
{
	return (double)ns / (double)MIST_SEC;
}

/* One line of figures under the scenario's name, before its "ok" or "FAIL". */
static inline void figures(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static inline void figures(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	printf("  ");
	vprintf(fmt, ap);
	printf("\n");
	va_end(ap);
}

/* What the senders did to get the data through, and what the link did to it. */
static inline void figures_retransmits(void)
{
	const struct net_tcp_stats *a = tcp_a(), *b = tcp_b();
	struct sim_link_stats ls;
	sim_link_stats(W.link, 0, &ls);
	figures("A: %llu segments sent, %llu retransmitted (%llu timeouts, %llu fast retransmits, "
	        "%llu by SACK), %llu duplicate ACKs; B: %llu segments sent, %llu retransmitted, "
	        "%llu held out of order, %llu bad checksums",
	        (unsigned long long)a->tx, (unsigned long long)a->retransmits,
	        (unsigned long long)a->rto, (unsigned long long)a->fast_retransmits,
	        (unsigned long long)a->sack_recovery, (unsigned long long)a->dup_acks,
	        (unsigned long long)b->tx, (unsigned long long)b->retransmits,
	        (unsigned long long)b->ooo_segments, (unsigned long long)b->drop_bad_checksum);
	if (ls.lost + ls.duplicated + ls.reordered + ls.corrupted + ls.queue_dropped > 0)
		figures("link A->B: %llu frames, %llu lost, %llu duplicated, %llu reordered, "
		        "%llu corrupted, %llu dropped by the queue",
		        (unsigned long long)ls.sent, (unsigned long long)ls.lost,
		        (unsigned long long)ls.duplicated, (unsigned long long)ls.reordered,
		        (unsigned long long)ls.corrupted, (unsigned long long)ls.queue_dropped);
}

/* --- byte streams ------------------------------------------------------------------ */

/* A deterministic byte stream: the bytes of splitmix64 outputs from `state` on. */
struct stream {
	uint64_t state;
};

static inline void stream_fill(struct stream *s, uint8_t *p, size_t len)
{
	while (len >= 8) {
		uint64_t v = sim_rand_next(&s->state);
		memcpy(p, &v, 8);
		p += 8;
		len -= 8;
	}
	if (len > 0) {
		uint64_t v = sim_rand_next(&s->state);
		memcpy(p, &v, len);
	}
}

#define CHUNK (64u * 1024) /* bytes per mist_flow_write */

/*
 * Writes `bytes` of the stream seeded with `seed` to the flow and hashes
 * them into `digest`. Returns 0 or the first error of mist_flow_write().
 */
static inline int stream_write(struct mist_flow *f, uint64_t seed, uint64_t bytes,
                               uint8_t digest[MIST_SHA256_DIGEST_LEN])
{
	struct mist_sha256 h;
	mist_sha256_init(&h);
	struct stream st = {.state = seed};
	uint8_t *chunk = malloc(CHUNK);
	int err = 0;
	for (uint64_t sent = 0; sent < bytes && err == 0;) {
		size_t n = (size_t)(bytes - sent < CHUNK ? bytes - sent : CHUNK);
		stream_fill(&st, chunk, n);
		mist_sha256_update(&h, chunk, n);
		err = mist_flow_write(f, chunk, n);
		sent += n;
	}
	free(chunk);
	mist_sha256_final(&h, digest);
	return err;
}

/* The SHA-256 of `bytes` of the stream seeded with `seed`, without sending it. */
static inline void stream_digest(uint64_t seed, uint64_t bytes,
                                 uint8_t digest[MIST_SHA256_DIGEST_LEN])
{
	struct mist_sha256 h;
	mist_sha256_init(&h);
	struct stream st = {.state = seed};
	uint8_t *chunk = malloc(CHUNK);
	for (uint64_t done = 0; done < bytes;) {
		size_t n = (size_t)(bytes - done < CHUNK ? bytes - done : CHUNK);
		stream_fill(&st, chunk, n);
		mist_sha256_update(&h, chunk, n);
		done += n;
	}
	free(chunk);
	mist_sha256_final(&h, digest);
}

/* What a reader saw: how many bytes, their digest, and when the first `half` were in. */
struct sink {
	uint64_t bytes;
	uint64_t half;   /* bytes after which t_half is taken */
	uint64_t t_half; /* when `half` bytes had arrived */
	uint8_t digest[MIST_SHA256_DIGEST_LEN];
	int error; /* what the flow ended with */
};

/* Reads the flow to its end, hashing everything into k. */
static inline void sink_read(struct mist_flow *f, struct sink *k)
{
	struct mist_sha256 h;
	mist_sha256_init(&h);
	struct mist_buf *b;
	while ((b = mist_flow_read(f)) != NULL) {
		for (struct mist_buf *v = b; v != NULL; v = v->next) {
			mist_sha256_update(&h, v->data, v->len);
			k->bytes += v->len;
		}
		if (k->t_half == 0 && k->half != 0 && k->bytes >= k->half)
			k->t_half = mist_now();
		mist_buf_free_chain(b);
	}
	k->error = mist_flow_error(f);
	mist_sha256_final(&h, k->digest);
}

/* --- flows ------------------------------------------------------------------------- */

/* An echo server: sends back what it reads, until the end of the stream. */
static inline void echo_handler(struct mist_flow *f, void *arg)
{
	(void)arg;
	struct mist_buf *b;
	while ((b = mist_flow_read(f)) != NULL)
		if (mist_flow_write_buf(f, b) != 0)
			break;
}

/* Connects A to B's `port`, waiting at most a minute; NULL (and a failure) when that fails. */
static inline struct mist_flow *connect_b(uint16_t port)
{
	struct mist_flow *f = NULL;
	struct mist_addr to = {.ip = IP_B, .port = port};
	int err = mist_tcp_connect(W.a, &to, mist_now() + 60 * MIST_SEC, &f);
	CHECK(err == 0, "connect to port %u: %d", port, err);
	return err == 0 ? f : NULL;
}

/* A connection refused: ARP has resolved both ways once it returns. */
static inline void resolve_arp(void)
{
	struct mist_flow *f = NULL;
	struct mist_addr closed = {.ip = IP_B, .port = 9};
	CHECK(mist_tcp_connect(W.a, &closed, mist_now() + MIST_SEC, &f) == MIST_ECONNREFUSED,
	      "a connect to a closed port was not refused");
}

/* Waits on `q` until *flag is set or `deadline`; returns *flag. */
static inline bool wait_flag(struct mist_waitq *q, const bool *flag, uint64_t deadline)
{
	while (!*flag && mist_now() < deadline)
		mist_wait(q, deadline);
	return *flag;
}

/* Takes both directions of the link down (loss 100%) or up again. */
static inline void link_cut(bool down)
{
	struct sim_link_params p = W.cfg.link;
	if (down)
		p.loss_ppm = SIM_PPM_ALWAYS;
	CHECK(sim_link_set_params(W.link, 0, &p) == 0 && sim_link_set_params(W.link, 1, &p) == 0,
	      "sim_link_set_params");
}

/* --- running the scenarios ---------------------------------------------------------- */

struct scenario {
	const char *name;
	void (*fn)(void);
};

/* Runs every scenario of list[0..n), or only the one argv[1] names; 0 when all passed. */
static inline int run_scenarios(const struct scenario *list, size_t n, int argc, char **argv)
{
	static const char quiet[] = "warn";
	mist_log_start();
	mist_log_configure(quiet, sizeof(quiet) - 1);
	int status = 0;
	if (getenv("SIM_TCP_SEED") != NULL)
		seed_offset = strtoull(getenv("SIM_TCP_SEED"), NULL, 0);
	for (size_t i = 0; i < n; i++) {
		if (argc > 1 && strcmp(argv[1], list[i].name) != 0)
			continue;
		failed = false;
		failure[0] = '\0';
		struct timespec t0, t1;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		list[i].fn();
		clock_gettime(CLOCK_MONOTONIC, &t1);
		double wall =
		        (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
		if (failed) {
			printf("FAIL %s: %s (%.1f s wall)\n", list[i].name, failure, wall);
			status = 1;
		} else {
			printf("ok %s (%.1f s wall)\n", list[i].name, wall);
		}
		fflush(stdout);
	}
	return status;
}

#endif
