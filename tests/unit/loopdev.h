/*
 * A loopback network device for tests of device middleware: frames
 * transmitted come back on receive after the next flush, each copied into one
 * contiguous buffer from the device's pool, as a receiving NIC would make it.
 * Tests can also inject received frames directly, and make tx() refuse every
 * frame as a full queue does. Header-only, for cmocka tests.
 */
#ifndef MIST_TESTS_UNIT_LOOPDEV_H
#define MIST_TESTS_UNIT_LOOPDEV_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/netdev.h"
#include "mist/mist.h"

#define LOOP_QUEUE 64

struct loop_dev {
	struct mist_netdev netdev;
	struct mist_pool *pool; /* where flush() puts the looped-back copies */
	struct mist_buf *txq[LOOP_QUEUE];
	unsigned ntx;
	struct mist_buf *rxq[LOOP_QUEUE];
	unsigned rx_head, nrx;
	bool refuse; /* tx() refuses every frame, as a full queue does */
	unsigned closes;
};

static inline struct loop_dev *loop_of(struct mist_netdev *netdev)
{
	return (struct loop_dev *)netdev;
}

/* Queues `frame` to be received. */
static inline void loop_inject(struct loop_dev *loop, struct mist_buf *frame)
{
	assert_true(loop->nrx < LOOP_QUEUE);
	loop->rxq[(loop->rx_head + loop->nrx) % LOOP_QUEUE] = frame;
	loop->nrx++;
}

static inline unsigned loop_rx_burst(struct mist_netdev *netdev, struct mist_buf **bufs,
                                     unsigned max)
{
	struct loop_dev *loop = loop_of(netdev);
	unsigned n = 0;
	while (n < max && loop->nrx > 0) {
		bufs[n++] = loop->rxq[loop->rx_head];
		loop->rx_head = (loop->rx_head + 1) % LOOP_QUEUE;
		loop->nrx--;
		netdev->stats.rx_frames++;
	}
	return n;
}

static inline int loop_tx(struct mist_netdev *netdev, struct mist_buf *frame)
{
	struct loop_dev *loop = loop_of(netdev);
	if (loop->refuse || loop->ntx == LOOP_QUEUE) {
		netdev->stats.tx_dropped++;
		mist_buf_free_chain(frame);
		return MIST_EAGAIN;
	}
	loop->txq[loop->ntx++] = frame;
	return 0;
}

static inline void loop_flush(struct mist_netdev *netdev)
{
	struct loop_dev *loop = loop_of(netdev);
	for (unsigned i = 0; i < loop->ntx; i++) {
		struct mist_buf *frame = loop->txq[i];
		size_t len = mist_buf_chain_len(frame);
		struct mist_buf *copy = mist_buf_alloc(loop->pool, (uint32_t)len);
		assert_non_null(copy);
		assert_int_equal(mist_buf_copyout(frame, 0, copy->data, len), 0);
		mist_buf_free_chain(frame);
		loop_inject(loop, copy);
		netdev->stats.tx_frames++;
	}
	loop->ntx = 0;
}

static inline void loop_close(struct mist_netdev *netdev)
{
	struct loop_dev *loop = loop_of(netdev);
	for (unsigned i = 0; i < loop->ntx; i++)
		mist_buf_free_chain(loop->txq[i]);
	while (loop->nrx > 0) {
		mist_buf_free(loop->rxq[loop->rx_head]);
		loop->rx_head = (loop->rx_head + 1) % LOOP_QUEUE;
		loop->nrx--;
	}
	loop->ntx = 0;
	loop->closes++;
}

static const struct mist_netdev_ops loop_ops = {
        .rx_burst = loop_rx_burst,
        .tx = loop_tx,
        .flush = loop_flush,
        .close = loop_close,
};

/* Makes `loop` a device "loop0" of `mtu` whose copies come from `pool`. */
static inline void loop_init(struct loop_dev *loop, struct mist_pool *pool, uint16_t mtu)
{
	static const uint8_t mac[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x01};
	memset(loop, 0, sizeof(*loop));
	loop->netdev.ops = &loop_ops;
	strcpy(loop->netdev.name, "loop0");
	memcpy(loop->netdev.mac, mac, sizeof(mac));
	loop->netdev.mtu = mtu;
	loop->pool = pool;
}

#endif
