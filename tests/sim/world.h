/*
 * The world of the sim programs (tests/sim/sim_*.c): two stacks, A =
 * 10.0.0.1/24 and B = 10.0.0.2/24, joined by one simulated link
 * (platform/sim/link.h), each with its own receive pool, driven by fibers in
 * virtual time. run_world() builds it, runs a scenario's body in a fiber and
 * tears it down, checking that the link drained, every pool is empty, the
 * scheduler went and the heap is back where it started. Header-only: each
 * program includes it once.
 */
#ifndef MIST_TESTS_SIM_WORLD_H
#define MIST_TESTS_SIM_WORLD_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "core/mem.h"
#include "core/platform.h"
#include "core/rng_seed.h"
#include "core/sched.h"
#include "mist/buf.h"
#include "mist/fiber.h"
#include "mist/mist.h"
#include "net/stack.h"
#include "net/tcp_cc.h"
/* Tests build with -Iinclude -Isrc only; the sim platform's headers are found relative to here. */
#include "../../platform/sim/link.h"
#include "../../platform/sim/sim.h"
#include "../check.h"

#define MTU         1500u
#define FIBER_STACK (256u * 1024)

static const uint8_t mac_a[6] = {0x02, 0, 0, 0, 0, 0x0a};
static const uint8_t mac_b[6] = {0x02, 0, 0, 0, 0, 0x0b};
#define IP_A MIST_IPV4(10, 0, 0, 1)
#define IP_B MIST_IPV4(10, 0, 0, 2)

static uint64_t seed_offset; /* added to every seed, from the environment, to explore others */

/* --- the world: scheduler, link, two stacks ----------------------------------- */

/* What a scenario's world is made of. */
struct world_config {
	struct sim_link_params link; /* both directions */
	uint32_t rx_count;           /* receive buffers per stack */
	uint32_t tx_count;           /* transmit buffers per stack (0: the stack's default) */
	enum tcp_cc_algo cc;         /* both stacks' congestion control */
};

struct world {
	struct world_config cfg;
	struct mist_sched *sched;
	struct mist_pool *rxa, *rxb;
	struct sim_link *link;
	struct mist_stack *a, *b;
	uint64_t mem_before;
	void (*body)(void);
};

static struct world W;

static inline uint32_t pool_in_use(struct mist_pool *pool)
{
	struct mist_pool_stats ps;
	mist_pool_stats(pool, &ps);
	return ps.in_use;
}

/*
 * Lets the link drain, then checks that no buffer of any pool is held: the
 * end of every scenario, run inside the controlling fiber.
 */
static inline void world_check_drained(void)
{
	mist_sleep(100 * MIST_MSEC + 4 * W.cfg.link.delay_ns);
	CHECK(sim_link_in_flight(W.link, 0) == 0 && sim_link_in_flight(W.link, 1) == 0,
	      "frames still in flight at the end");
	CHECK(pool_in_use(W.rxa) == 0, "A's rx pool: %u buffers in use at the end",
	      pool_in_use(W.rxa));
	CHECK(pool_in_use(W.rxb) == 0, "B's rx pool: %u buffers in use at the end",
	      pool_in_use(W.rxb));
	CHECK(pool_in_use(W.a->tx_pool) == 0, "A's tx pool: %u buffers in use at the end",
	      pool_in_use(W.a->tx_pool));
	CHECK(pool_in_use(W.b->tx_pool) == 0, "B's tx pool: %u buffers in use at the end",
	      pool_in_use(W.b->tx_pool));
}

static inline void controller(void *arg)
{
	(void)arg;
	W.body();
	world_check_drained();
	mist_sched_stop(W.sched);
}

/* Builds the world, runs `body` in a fiber until it returns, tears everything down. */
static inline void run_world(uint64_t seed, const struct world_config *cfg, void (*body)(void))
{
	memset(&W, 0, sizeof(W));
	seed += seed_offset;
	sim_reset(seed);
	uint8_t entropy[32];
	CHECK(mist_plat_entropy(entropy, sizeof(entropy)) == 0, "mist_plat_entropy");
	mist_rng_seed(entropy, sizeof(entropy));
	struct mist_mem_stats ms;
	mist_mem_stats(&ms);
	W.mem_before = ms.bytes_in_use;
	W.body = body;
	W.cfg = *cfg;

	W.sched = mist_sched_create();
	CHECK(W.sched != NULL, "mist_sched_create");
	uint32_t size = mist_stack_rx_buf_size(MTU);
	W.rxa = mist_pool_create("rx-a", cfg->rx_count, size, NET_RX_HEADROOM);
	W.rxb = mist_pool_create("rx-b", cfg->rx_count, size, NET_RX_HEADROOM);
	CHECK(W.rxa != NULL && W.rxb != NULL, "mist_pool_create");
	if (failed)
		return;
	struct sim_link_params lp = cfg->link;
	lp.seed = seed; /* the link's randomness follows the scenario's seed */
	W.link = sim_link_create(&lp, W.rxa, W.rxb, mac_a, mac_b);
	CHECK(W.link != NULL, "sim_link_create");
	if (failed)
		return;
	struct mist_stack_config ca = {.dev = sim_link_dev(W.link, 0),
	                               .rx_pool = W.rxa,
	                               .ip = IP_A,
	                               .prefix = 24,
	                               .tx_buffers = cfg->tx_count};
	struct mist_stack_config cb = {.dev = sim_link_dev(W.link, 1),
	                               .rx_pool = W.rxb,
	                               .ip = IP_B,
	                               .prefix = 24,
	                               .tx_buffers = cfg->tx_count};
	CHECK(mist_stack_create(&ca, &W.a) == 0, "mist_stack_create A");
	CHECK(mist_stack_create(&cb, &W.b) == 0, "mist_stack_create B");
	if (failed)
		return;
	W.a->tcp.cc_algo = cfg->cc;
	W.b->tcp.cc_algo = cfg->cc;

	struct mist_fiber *f = mist_fiber_spawn("ctl", controller, NULL, FIBER_STACK);
	CHECK(f != NULL, "mist_fiber_spawn");
	if (f != NULL) {
		mist_fiber_detach(f);
		mist_sched_run(W.sched);
	}

	mist_stack_destroy(W.a);
	mist_stack_destroy(W.b);
	sim_link_destroy(W.link);
	int err = mist_sched_destroy(W.sched);
	CHECK(err == 0, "mist_sched_destroy returned %d", err);
	mist_mem_stats(&ms);
	CHECK(ms.bytes_in_use == W.mem_before, "heap: %llu bytes in use, %llu before",
	      (unsigned long long)ms.bytes_in_use, (unsigned long long)W.mem_before);
}

#endif
