/*
 * A fixture for frame-in, frame-out tests of one stack: a stack at
 * 10.0.0.1/24 (MAC STACKFX_MAC) on a capture device that receives nothing
 * by itself and keeps every transmitted frame with its buffer flags; the
 * test feeds frames with stackfx_feed(). Setup discards the gratuitous ARP
 * announcement; teardown checks the receive pool is empty, the stack and
 * scheduler go and the heap is back where it started. Header-only, for
 * cmocka tests on the sim platform.
 */
#ifndef MIST_TESTS_UNIT_STACKFX_H
#define MIST_TESTS_UNIT_STACKFX_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/mem.h"
#include "core/netdev.h"
#include "core/sched.h"
#include "mist/buf.h"
#include "mist/mist.h"
#include "net/stack.h"
/* Tests build with -Iinclude -Isrc only; the sim platform's headers are found relative to here. */
#include "../../platform/sim/sim.h"

#define STACKFX_MTU       1500u
#define STACKFX_RX_COUNT  64u
#define STACKFX_MAX_FRAME (16u * 1024) /* large enough for a TCP super-segment under test */
#define STACKFX_MAX_TX    8u

static const uint8_t STACKFX_MAC[6] = {0x02, 0, 0, 0, 0, 0x0a};

/* The capture device: frames[i] (lens[i] bytes) was sent with buffer flags flags[i]. */
struct stackfx_dev {
	struct mist_netdev dev;
	uint8_t frames[STACKFX_MAX_TX][STACKFX_MAX_FRAME];
	size_t lens[STACKFX_MAX_TX];
	uint32_t flags[STACKFX_MAX_TX];
	unsigned count;
};

static unsigned stackfx_rx_burst(struct mist_netdev *dev, struct mist_buf **bufs, unsigned max)
{
	return 0;
}

static int stackfx_tx(struct mist_netdev *dev, struct mist_buf *frame)
{
	struct stackfx_dev *f = (struct stackfx_dev *)dev;
	size_t len = mist_buf_chain_len(frame);
	if (f->count < STACKFX_MAX_TX && len <= STACKFX_MAX_FRAME) {
		mist_buf_copyout(frame, 0, f->frames[f->count], len);
		f->flags[f->count] = frame->flags;
		f->lens[f->count++] = len;
	}
	mist_buf_free_chain(frame);
	return 0;
}

static void stackfx_flush(struct mist_netdev *dev)
{
}

static void stackfx_close(struct mist_netdev *dev)
{
}

static const struct mist_netdev_ops stackfx_ops = {.rx_burst = stackfx_rx_burst,
                                                   .tx = stackfx_tx,
                                                   .flush = stackfx_flush,
                                                   .close = stackfx_close};

struct fx {
	struct stackfx_dev fake;
	struct mist_sched *sched;
	struct mist_pool *rx;
	struct mist_stack *s;
	uint64_t heap_before;
};

/* Builds the world in *state; the device announces `offloads` (MIST_NETDEV_OFF_*). */
static int stackfx_setup(void **state, uint32_t offloads)
{
	struct fx *fx = calloc(1, sizeof(*fx));
	assert_non_null(fx);
	sim_reset(1);
	struct mist_mem_stats ms;
	mist_mem_stats(&ms);
	fx->heap_before = ms.bytes_in_use;
	fx->sched = mist_sched_create();
	assert_non_null(fx->sched);
	fx->rx = mist_pool_create("rx", STACKFX_RX_COUNT, mist_stack_rx_buf_size(STACKFX_MTU),
	                          NET_RX_HEADROOM);
	assert_non_null(fx->rx);
	fx->fake.dev.ops = &stackfx_ops;
	strcpy(fx->fake.dev.name, "fake0");
	memcpy(fx->fake.dev.mac, STACKFX_MAC, 6);
	fx->fake.dev.mtu = STACKFX_MTU;
	fx->fake.dev.offloads = offloads;
	struct mist_stack_config c = {.dev = &fx->fake.dev,
	                              .rx_pool = fx->rx,
	                              .ip = MIST_IPV4(10, 0, 0, 1),
	                              .prefix = 24};
	assert_int_equal(mist_stack_create(&c, &fx->s), 0);
	assert_int_equal(fx->fake.count, 1); /* the gratuitous announcement */
	fx->fake.count = 0;
	*state = fx;
	return 0;
}

static int stackfx_teardown(void **state)
{
	struct fx *fx = *state;
	struct mist_pool_stats ps;
	mist_pool_stats(fx->rx, &ps);
	assert_int_equal(ps.in_use, 0);
	mist_stack_destroy(fx->s);
	assert_int_equal(mist_sched_destroy(fx->sched), 0);
	struct mist_mem_stats ms;
	mist_mem_stats(&ms);
	assert_int_equal(ms.bytes_in_use, fx->heap_before);
	free(fx);
	return 0;
}

/* Hands the stack a received frame whose buffer carries `flags` (MIST_BUF_F_*). */
static void stackfx_feed(struct fx *fx, const uint8_t *frame, size_t len, uint32_t flags)
{
	struct mist_buf *b = mist_buf_alloc(fx->rx, (uint32_t)len);
	assert_non_null(b);
	memcpy(b->data, frame, len);
	b->flags = flags;
	mist_stack_input(fx->s, b);
}

#endif
