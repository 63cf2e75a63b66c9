/*
 * The virtio-net device (virtio_net.h): one receive and one transmit split
 * virtqueue, driven from the loop through the mist_netdev operations.
 *
 * Receive is zero-copy: each posted rx_pool buffer is one device-writable
 * descriptor starting VIRTIO_NET_HDR_LEN bytes into its headroom, so the
 * device writes the virtio-net header in the headroom and the frame exactly
 * where the buffer's view starts; the used buffer becomes the stack's frame
 * as it is. Buffers are reposted in batches. Transmit is zero-copy too: the
 * header is pushed into the first view's headroom (or, when that is shared
 * or full, kept beside the ring by the chain's head descriptor) and every
 * view of the chain is one device-readable descriptor. flush() publishes
 * the batch and notifies the device only when it asked to be
 * (VIRTIO_F_EVENT_IDX, or the rings' flags), then frees the chains the
 * device is done with.
 *
 * Offloads (core/netdev.h), each only when the device offers it: the device
 * completes TCP checksums (VIRTIO_NET_F_CSUM) and segments TCPv4
 * super-frames of up to 64 KiB (HOST_TSO4), as the header of each frame
 * says; it hands over frames whose checksum needs no check (GUEST_CSUM),
 * and TCPv4 super-frames the host never segmented (GUEST_TSO4). For those
 * without merged receive buffers (VIRTIO_NET_F_MRG_RXBUF, not negotiated:
 * it would copy every super-frame out of ~45 buffers), each receive chain
 * ends in a 64 KiB buffer of a pool of the driver's behind the small one,
 * and only a super-frame's head is copied (vnet_rx_fill()).
 *
 * Interrupts: the receive queue asks for one only when rx_burst() has found
 * it empty, so that the loop can sleep; while the loop is busy polling they
 * stay off. The transmit queue never asks: its used chains are taken at the
 * next flush or when tx() runs short of descriptors. There is no control
 * queue, one queue pair, no indirect descriptors (VIRTIO_F_INDIRECT_DESC),
 * and the link status is not read (§5.1.4.2: without VIRTIO_NET_F_STATUS
 * the link is up).
 */
#define MIST_LOG_TAG "virtio-net"

#include "virtio_net.h"
#include "base/compiler.h"
#include "base/str.h"
#include "core/mem.h"
#include "core/netdev.h"
#include "core/panic.h"
#include "dev/vnet_hdr.h"
#include "mist/args.h"
#include "mist/buf.h"
#include "mist/log.h"
#include "mist/mist.h"
#include "mist/rng.h"
#include "virtio.h"
#include "virtio_ring.h"
#include "wire/ether.h"
#include "wire/ipv4.h"
#include "wire/tcp.h"

/* Network device feature bits (§5.1.3). */
#define VIRTIO_NET_F_CSUM       (1ull << 0)  /* the device completes partial checksums */
#define VIRTIO_NET_F_GUEST_CSUM (1ull << 1)  /* the driver takes partial or checked checksums */
#define VIRTIO_NET_F_MTU        (1ull << 3)  /* the configuration holds the device's maximum MTU */
#define VIRTIO_NET_F_MAC        (1ull << 5)  /* the configuration holds the device's MAC */
#define VIRTIO_NET_F_GUEST_TSO4 (1ull << 7)  /* the driver takes TCPv4 super-frames */
#define VIRTIO_NET_F_HOST_TSO4  (1ull << 11) /* the device segments TCPv4 (needs CSUM) */

/* Fields of struct virtio_net_config (§5.1.4). */
#define VIRTIO_NET_CFG_MAC 0u
#define VIRTIO_NET_CFG_MTU 10u

/* Queue numbers (§5.1.2). */
#define VNET_RXQ 0u /* receiveq1 */
#define VNET_TXQ 1u /* transmitq1 */

/*
 * struct virtio_net_hdr with VIRTIO_F_VERSION_1 and without hash reports:
 * 12 bytes, the common part (dev/vnet_hdr.h) and num_buffers (§5.1.6). A
 * frame without offloads has every field zero (§5.1.6.2.1); num_buffers is
 * always zero on transmit.
 */
struct virtio_net_hdr {
	struct mist_vnet_hdr common;
	uint16_t num_buffers; /* buffers of a merged receive; unused here */
};

#define VIRTIO_NET_HDR_LEN 12u
_Static_assert(sizeof(struct virtio_net_hdr) == VIRTIO_NET_HDR_LEN, "§5.1.6 layout");

/*
 * Entries per queue at most (fewer if the device has fewer). 256 is QEMU's
 * default and more than a loop turn takes: the scheduler polls 64 frames.
 */
#define VNET_QUEUE_SIZE 256u

/*
 * The pool of super-frame buffers (GUEST_TSO4), each of which ends a receive
 * chain: 128 x 64 KiB = 8.4 MiB of the guest's memory, for at most half of
 * them posted, so that the stack can hold the other half (receive windows,
 * echoes awaiting their ACK) before it finds the pool scarce. The headroom
 * is the stack's, for a reply built in place.
 */
#define VNET_LARGE_BUFFERS  128u
#define VNET_LARGE_HEADROOM 64u

/* Ethernet's MTU (RFC 894), when the device reports none. */
#define VNET_DEFAULT_MTU 1500u

/* IEEE 802 address bits in the first octet: group (I/G) and locally administered (U/L). */
#define VNET_MAC_GROUP_BIT 0x01u
#define VNET_MAC_LOCAL_BIT 0x02u

/* What the device dropped or met, beyond struct mist_netdev_stats; logged at close. */
#define VNET_STATS(X)                                                                          \
	X(rx_runts)           /* frames shorter than an Ethernet header, dropped */            \
	X(rx_too_long)        /* frames longer than the buffer they were given, dropped */     \
	X(rx_no_buffer)       /* refills cut short by an empty rx_pool */                      \
	X(rx_no_large)        /* chains posted without a super-frame buffer: pool empty */     \
	X(rx_large_copies)    /* super-frames whose head was copied to their buffer */         \
	X(rx_notifications)   /* notifications sent for new receive buffers */                 \
	X(tx_notifications)   /* notifications sent for new frames */                          \
	X(tx_queue_full)      /* frames tx() refused with MIST_EAGAIN */                       \
	X(tx_oversized)       /* frames tx() refused with MIST_EMSGSIZE */                     \
	X(tx_bad_offload)     /* frames tx() refused with MIST_EINVAL: offload not possible */ \
	X(tx_header_separate) /* frames whose header took a descriptor: no headroom */         \
	X(rx_csum_trusted)    /* frames marked MIST_BUF_F_CSUM_VALID (§5.1.6.4) */

#define VNET_STAT_FIELD(name) uint64_t name;
struct vnet_stats {
	VNET_STATS(VNET_STAT_FIELD)
};

struct vnet {
	struct mist_netdev netdev; /* first, so that ops can cast back */
	struct virtio_dev *vdev;
	struct mist_pool *rx_pool;
	struct virtq rxq, txq;
	unsigned rx_target;  /* buffers kept posted */
	unsigned rx_posted;  /* buffers the device holds */
	unsigned rx_batch;   /* refill once this many are missing */
	uint16_t device_mtu; /* the device's limit (VIRTIO_NET_F_MTU), 0 when it gave none */
	struct vnet_stats stats;
	struct virtq_seg segs[VNET_QUEUE_SIZE]; /* the chain tx() is building */
	/* The headers of frames without headroom, by the head descriptor of their chain. */
	struct virtio_net_hdr tx_hdrs[VNET_QUEUE_SIZE];
};

static struct vnet *vnet_of(struct mist_netdev *netdev)
{
	return mist_container_of(netdev, struct vnet, netdev);
}

static void vnet_notify(struct vnet *v, const struct virtq *vq, uint64_t *counter)
{
	v->vdev->ops->queue_notify(v->vdev, vq);
	(*counter)++;
}

/* Frees the chains the device has sent, and keeps its interrupts off. */
static void vnet_tx_reclaim(struct vnet *v)
{
	struct mist_buf *frame;
	uint32_t written;
	while ((frame = virtq_get_used(&v->txq, &written)) != NULL)
		mist_buf_free_chain(frame);
	virtq_disable_interrupts(&v->txq);
}

/* --- receive ------------------------------------------------------------------ */

/*
 * Posts rx_pool buffers until rx_target are posted or the pool is empty,
 * without publishing them. The first descriptor starts in the headroom,
 * where the header goes, and ends with the buffer. With super-frames
 * (GUEST_TSO4) a second one follows: a large buffer from the offset the
 * small one ends at, so that a frame longer than the small buffer goes on
 * there and needs only its head copied (vnet_rx_take_large()). It hangs on
 * the small buffer's `next` while posted. Without a large buffer the chain
 * is posted short, and the device drops the super-frames that reach it
 * rather than ordinary frames waiting too.
 */
static void vnet_rx_fill(struct vnet *v)
{
	struct mist_pool *large_pool = v->netdev.rx_large_pool;
	while (v->rx_posted < v->rx_target) {
		struct mist_buf *b = mist_buf_alloc(v->rx_pool, 0);
		if (b == NULL) {
			v->stats.rx_no_buffer++;
			return;
		}
		uint32_t cap = mist_buf_tailroom(b);
		struct virtq_seg segs[2] = {
		        {virtio_phys(b->data - VIRTIO_NET_HDR_LEN), VIRTIO_NET_HDR_LEN + cap}};
		unsigned n = 1;
		if (large_pool != NULL) {
			b->next = mist_buf_alloc(large_pool, 0);
			if (b->next != NULL)
				segs[n++] = (struct virtq_seg){virtio_phys(b->next->data + cap),
				                               mist_buf_tailroom(b->next) - cap};
			else
				v->stats.rx_no_large++;
		}
		int err = virtq_add(&v->rxq, segs, 0, n, b);
		MIST_ASSERT(err == 0); /* rx_target chains fit the queue */
		v->rx_posted++;
	}
}

static void vnet_rx_publish(struct vnet *v)
{
	if (virtq_publish(&v->rxq))
		vnet_notify(v, &v->rxq, &v->stats.rx_notifications);
}

/*
 * The offload flags of a received frame, from the header the device wrote
 * in front of it (§5.1.6.4). NEEDS_CSUM: the frame never crossed a wire
 * (it comes from the host's own stack) and its checksum field holds only
 * the pseudo-header sum; DATA_VALID: the device or the host checked it.
 * Either way the stack need not verify it. The device sets neither without
 * VIRTIO_NET_F_GUEST_CSUM (§5.1.6.4.1).
 */
static uint32_t vnet_rx_flags(struct vnet *v, const struct mist_buf *b)
{
	const struct virtio_net_hdr *h = (const void *)(b->data - VIRTIO_NET_HDR_LEN);
	if (!(v->netdev.offloads & MIST_NETDEV_OFF_RX_CSUM))
		return 0;
	uint32_t flags = mist_vnet_hdr_rx_flags(&h->common);
	if (flags & MIST_BUF_F_CSUM_VALID)
		v->stats.rx_csum_trusted++;
	return flags;
}

/*
 * Makes a super-frame whole: `small` holds its first `cap` bytes, `large`
 * the rest from offset `cap` on. The head is copied in front of the rest
 * (about 1.5 KiB of a frame up to 64 KiB), and `small` freed.
 */
static struct mist_buf *vnet_rx_take_large(struct vnet *v, struct mist_buf *small,
                                           struct mist_buf *large, uint32_t cap)
{
	mist_memcpy(large->data, small->data, cap);
	large->flags = small->flags;
	mist_buf_free(small);
	v->stats.rx_large_copies++;
	return large;
}

/*
 * Turns a used receive chain into a frame in *frame; false when it was
 * dropped (and freed). A frame that fitted the small buffer gives the large
 * one back to its pool.
 */
static bool vnet_rx_frame(struct vnet *v, struct mist_buf *b, uint32_t written,
                          struct mist_buf **frame)
{
	struct mist_buf *large = b->next;
	uint32_t cap = mist_buf_tailroom(b);
	uint32_t room = large != NULL ? mist_buf_tailroom(large) : cap;
	uint64_t *bad = NULL;

	b->next = NULL;
	if (written < VIRTIO_NET_HDR_LEN + MIST_ETHER_HDR_LEN)
		bad = &v->stats.rx_runts;
	else if (written - VIRTIO_NET_HDR_LEN > room)
		bad = &v->stats.rx_too_long;
	if (bad != NULL) {
		(*bad)++;
		v->netdev.stats.rx_dropped++;
		mist_buf_free(b);
		mist_buf_free(large);
		return false;
	}
	uint32_t len = written - VIRTIO_NET_HDR_LEN;
	const struct virtio_net_hdr *h = (const void *)(b->data - VIRTIO_NET_HDR_LEN);
	if (h->common.gso_type != MIST_VNET_GSO_NONE)
		v->netdev.stats.rx_gso++;
	b->flags = vnet_rx_flags(v, b);
	if (len > cap)
		b = vnet_rx_take_large(v, b, large, cap);
	else
		mist_buf_free(large);
	uint8_t *p = mist_buf_put(b, len);
	MIST_ASSERT(p != NULL);
	v->netdev.stats.rx_frames++;
	v->netdev.stats.rx_bytes += len;
	*frame = b;
	return true;
}

/*
 * Takes up to `max` frames. Interrupts stay off while frames keep coming;
 * once the queue is empty they are asked for again, and the queue is looked
 * at once more, since a frame used just before the request brings none
 * (§2.7.14). Refills after, in one batch.
 */
static unsigned vnet_rx_burst(struct mist_netdev *netdev, struct mist_buf **bufs, unsigned max)
{
	struct vnet *v = vnet_of(netdev);
	unsigned n = 0;

	virtq_disable_interrupts(&v->rxq);
	while (n < max) {
		uint32_t written;
		struct mist_buf *b = virtq_get_used(&v->rxq, &written);
		if (b == NULL) {
			if (!virtq_enable_interrupts(&v->rxq))
				break;
			virtq_disable_interrupts(&v->rxq);
			continue;
		}
		v->rx_posted--;
		if (vnet_rx_frame(v, b, written, &bufs[n]))
			n++;
	}
	if (v->rx_target - v->rx_posted >= v->rx_batch) {
		/* Frames sent may hold receive buffers (an echo sends what it received). */
		vnet_tx_reclaim(v);
		vnet_rx_fill(v);
		vnet_rx_publish(v);
	}
	return n;
}

/* --- transmit ----------------------------------------------------------------- */

/*
 * The longest frame the device may be given: the stack's MTU, within the
 * device's (§5.1.4.2), or for a frame it segments (TX_TSO4) the longest
 * IPv4 datagram.
 */
static size_t vnet_max_frame(const struct vnet *v, const struct mist_buf *frame)
{
	if ((frame->flags & MIST_BUF_F_GSO_TCP4) && (v->netdev.offloads & MIST_NETDEV_OFF_TX_TSO4))
		return MIST_NETDEV_GSO_MAX_FRAME;
	uint32_t mtu = v->netdev.mtu;
	if (v->device_mtu != 0)
		mtu = MIST_MIN(mtu, (uint32_t)v->device_mtu);
	return (size_t)mtu + MIST_ETHER_HDR_LEN;
}

/* Counts a refused frame, frees it and returns `err`. */
static int vnet_tx_drop(struct vnet *v, struct mist_buf *frame, uint64_t *counter, int err)
{
	(*counter)++;
	v->netdev.stats.tx_dropped++;
	mist_buf_free_chain(frame);
	return err;
}

/*
 * Fills *h for `frame` from its flags (core/netdev.h, dev/vnet_hdr.h);
 * false when it asks for an offload that was not negotiated or its headers
 * do not allow one.
 */
static bool vnet_tx_fill_hdr(const struct vnet *v, const struct mist_buf *frame,
                             struct virtio_net_hdr *h)
{
	if (!mist_vnet_offload_ok(frame, v->netdev.offloads))
		return false;
	*h = (struct virtio_net_hdr){0};
	mist_vnet_hdr_fill(&h->common, frame);
	return true;
}

/*
 * Queues `frame` as one chain: its header, then one descriptor per view. A
 * super-frame of 64 KiB spans some 35 views of the stack's 2 KiB buffers,
 * which a 256-entry queue holds several times over; a chain longer than the
 * queue is refused outright (§2.7.5.3.1 bounds a chain by the queue size),
 * and one that finds too few descriptors free, even after taking back those
 * the device has used, waits for none: it is refused like a full queue.
 */
static int vnet_tx(struct mist_netdev *netdev, struct mist_buf *frame)
{
	struct vnet *v = vnet_of(netdev);
	size_t len = mist_buf_chain_len(frame);
	struct virtio_net_hdr hdr;

	if (len > vnet_max_frame(v, frame))
		return vnet_tx_drop(v, frame, &v->stats.tx_oversized, MIST_EMSGSIZE);
	if (!vnet_tx_fill_hdr(v, frame, &hdr))
		return vnet_tx_drop(v, frame, &v->stats.tx_bad_offload, MIST_EINVAL);
	uint8_t *in_headroom = mist_buf_push(frame, VIRTIO_NET_HDR_LEN);
	if (in_headroom != NULL)
		mist_memcpy(in_headroom, &hdr, VIRTIO_NET_HDR_LEN);
	unsigned n = in_headroom != NULL ? 0 : 1; /* segs[0] is the header's, if separate */
	for (const struct mist_buf *b = frame; b != NULL; b = b->next) {
		if (b->len == 0)
			continue;
		if (n == v->txq.size)
			return vnet_tx_drop(v, frame, &v->stats.tx_oversized, MIST_EMSGSIZE);
		v->segs[n++] = (struct virtq_seg){virtio_phys(b->data), b->len};
	}
	if (virtq_free_descs(&v->txq) < n)
		vnet_tx_reclaim(v);
	if (virtq_free_descs(&v->txq) < n)
		return vnet_tx_drop(v, frame, &v->stats.tx_queue_full, MIST_EAGAIN);
	if (in_headroom == NULL) {
		/* Kept by the chain's head, which is busy until the device is done with it. */
		struct virtio_net_hdr *own = &v->tx_hdrs[virtq_next_head(&v->txq)];
		*own = hdr;
		v->segs[0] = (struct virtq_seg){virtio_phys(own), VIRTIO_NET_HDR_LEN};
		v->stats.tx_header_separate++;
	}
	int err = virtq_add(&v->txq, v->segs, n, 0, frame);
	MIST_ASSERT(err == 0); /* descriptors were counted above */
	netdev->stats.tx_frames++;
	netdev->stats.tx_bytes += len;
	if (frame->flags & MIST_BUF_F_GSO_TCP4)
		netdev->stats.tx_gso++;
	return 0;
}

static void vnet_flush(struct mist_netdev *netdev)
{
	struct vnet *v = vnet_of(netdev);
	if (virtq_publish(&v->txq))
		vnet_notify(v, &v->txq, &v->stats.tx_notifications);
	vnet_tx_reclaim(v);
}

/* --- life --------------------------------------------------------------------- */

/* One line per counter, "virtio_net.name=value", as the stack prints its own. */
#define VNET_LOG_STAT(st, name)                                          \
	mist_log_at(MIST_LOG_INFO, "stats", "virtio_net.%s=%llu", #name, \
	            (unsigned long long)(st)->name);
#define VNET_LOG_DEV_STAT(name) VNET_LOG_STAT(&v->netdev.stats, name)
#define VNET_LOG_OWN_STAT(name) VNET_LOG_STAT(&v->stats, name)

static void vnet_log_stats(const struct vnet *v)
{
	VNET_LOG_DEV_STAT(rx_frames)
	VNET_LOG_DEV_STAT(rx_bytes)
	VNET_LOG_DEV_STAT(rx_dropped)
	VNET_LOG_DEV_STAT(rx_gso)
	VNET_LOG_DEV_STAT(tx_frames)
	VNET_LOG_DEV_STAT(tx_bytes)
	VNET_LOG_DEV_STAT(tx_dropped)
	VNET_LOG_DEV_STAT(tx_gso)
	VNET_STATS(VNET_LOG_OWN_STAT)
}

/* Buffers an application still holds keep the pool; the program is ending anyway. */
static void vnet_destroy_large_pool(struct vnet *v)
{
	if (v->netdev.rx_large_pool != NULL && mist_pool_destroy(v->netdev.rx_large_pool) != 0)
		mist_warn("%s: super-frame buffers still in use at close; pool kept",
		          v->vdev->where);
}

static void vnet_close(struct mist_netdev *netdev)
{
	struct vnet *v = vnet_of(netdev);
	void *cookie;

	/* §2.4: a reset device holds no buffer any more; without one, none may be freed. */
	if (virtio_reset(v->vdev) != 0) {
		mist_error("%s: buffers left with the device", v->vdev->where);
		return;
	}
	while ((cookie = virtq_detach(&v->rxq)) != NULL)
		mist_buf_free_chain(cookie); /* the small buffer and its large one */
	while ((cookie = virtq_detach(&v->txq)) != NULL)
		mist_buf_free_chain(cookie);
	vnet_log_stats(v);
	virtq_fini(&v->rxq);
	virtq_fini(&v->txq);
	vnet_destroy_large_pool(v);
	v->vdev->ops->release(v->vdev);
	mist_free(v);
}

static const struct mist_netdev_ops vnet_ops = {
        .rx_burst = vnet_rx_burst,
        .tx = vnet_tx,
        .flush = vnet_flush,
        .close = vnet_close,
};

/*
 * Sets up queue `index` with as many entries as the device allows, up to
 * VNET_QUEUE_SIZE, a power of two.
 */
static int vnet_queue_init(struct vnet *v, struct virtq *vq, uint16_t index, bool event_idx)
{
	uint16_t max = v->vdev->ops->queue_max_size(v->vdev, index);
	if (max == 0) {
		mist_error("%s: the device has no queue %u", v->vdev->where, index);
		return MIST_EIO;
	}
	uint16_t size = VNET_QUEUE_SIZE;
	while (size > max)
		size >>= 1;
	return virtq_init(vq, index, size, event_idx);
}

/*
 * The features to accept of those `offered`. VIRTIO_NET_F_MTU only when a
 * frame of that MTU fits a receive buffer, since the driver must then be
 * able to receive one (§5.1.4.2); VIRTIO_NET_F_MAC only without --mac.
 * The checksum and segmentation offloads whenever offered; HOST_TSO4 is
 * offered only with CSUM, GUEST_TSO4 only with GUEST_CSUM (§5.1.3.1), and
 * vnet_offloads() checks it anyway. GUEST_TSO4 only with a pool of
 * super-frame buffers: without VIRTIO_NET_F_MRG_RXBUF, every receive chain
 * must then hold 65562 bytes (§5.1.6.3.1).
 */
static uint64_t vnet_choose_features(struct vnet *v, const struct mist_args *args, uint64_t offered,
                                     uint32_t frame_room)
{
	uint64_t wanted = VIRTIO_F_VERSION_1 | VIRTIO_F_EVENT_IDX | VIRTIO_NET_F_CSUM |
	                  VIRTIO_NET_F_HOST_TSO4 | VIRTIO_NET_F_GUEST_CSUM;
	if (v->netdev.rx_large_pool != NULL)
		wanted |= VIRTIO_NET_F_GUEST_TSO4;
	if (!args->has_mac)
		wanted |= VIRTIO_NET_F_MAC;
	if ((offered & VIRTIO_NET_F_MTU) != 0) {
		uint16_t mtu = v->vdev->ops->config_read16(v->vdev, VIRTIO_NET_CFG_MTU);
		if ((uint32_t)mtu + MIST_ETHER_HDR_LEN <= frame_room) {
			wanted |= VIRTIO_NET_F_MTU;
			v->device_mtu = mtu;
		} else {
			mist_warn("%s: the device's MTU %u does not fit the receive buffers; "
			          "longer frames are dropped",
			          v->vdev->where, mtu);
		}
	}
	return offered & wanted;
}

/* The stack's offloads (core/netdev.h) that the negotiated `features` give. */
static uint32_t vnet_offloads(uint64_t features)
{
	uint32_t offloads = 0;
	if (features & VIRTIO_NET_F_CSUM) {
		offloads |= MIST_NETDEV_OFF_TX_CSUM;
		if (features & VIRTIO_NET_F_HOST_TSO4)
			offloads |= MIST_NETDEV_OFF_TX_TSO4;
	}
	if (features & VIRTIO_NET_F_GUEST_CSUM) {
		offloads |= MIST_NETDEV_OFF_RX_CSUM;
		if (features & VIRTIO_NET_F_GUEST_TSO4)
			offloads |= MIST_NETDEV_OFF_RX_GSO;
	}
	return offloads;
}

static void vnet_choose_mac(struct vnet *v, const struct mist_args *args, uint64_t features)
{
	uint8_t *mac = v->netdev.mac;
	if (args->has_mac) {
		mist_memcpy(mac, args->mac, sizeof(v->netdev.mac));
	} else if ((features & VIRTIO_NET_F_MAC) != 0) {
		virtio_config_read_bytes(v->vdev, VIRTIO_NET_CFG_MAC, mac, sizeof(v->netdev.mac));
	} else {
		/* §5.1.4.2: a locally administered address otherwise. */
		mist_random_bytes(mac, sizeof(v->netdev.mac));
		mac[0] = (uint8_t)((mac[0] & ~VNET_MAC_GROUP_BIT) | VNET_MAC_LOCAL_BIT);
	}
}

/*
 * What one rx_pool buffer offers: headroom for the header and room for a
 * frame, measured on a buffer taken and given back.
 */
static int vnet_measure_rx_pool(struct vnet *v, uint32_t *frame_room)
{
	struct mist_buf *b = mist_buf_alloc(v->rx_pool, 0);
	if (b == NULL)
		return MIST_ENOMEM;
	uint32_t headroom = mist_buf_headroom(b);
	*frame_room = mist_buf_tailroom(b);
	mist_buf_free(b);
	if (headroom < VIRTIO_NET_HDR_LEN || *frame_room < MIST_ETHER_HDR_LEN) {
		mist_error("receive buffers need %u bytes of headroom (have %u) and room for a "
		           "frame",
		           VIRTIO_NET_HDR_LEN, headroom);
		return MIST_EINVAL;
	}
	return 0;
}

/*
 * Creates the pool of super-frame buffers when the device offers to send
 * super-frames (GUEST_TSO4, with the GUEST_CSUM it needs); without memory
 * for it, receive goes on without them.
 */
static void vnet_create_large_pool(struct vnet *v, uint64_t offered, uint32_t frame_room)
{
	uint64_t both = VIRTIO_NET_F_GUEST_TSO4 | VIRTIO_NET_F_GUEST_CSUM;
	if ((offered & both) != both || frame_room >= MIST_NETDEV_GSO_MAX_FRAME)
		return;
	v->netdev.rx_large_pool = mist_pool_create("virtio-net-large", VNET_LARGE_BUFFERS,
	                                           VNET_LARGE_HEADROOM + MIST_NETDEV_GSO_MAX_FRAME,
	                                           VNET_LARGE_HEADROOM);
	if (v->netdev.rx_large_pool == NULL)
		mist_warn("%s: no memory for super-frames; receiving without them", v->vdev->where);
}

/* §3.1.1 and §5.1.5, in order; on failure the caller marks the device FAILED. */
static int vnet_init(struct vnet *v, const struct mist_args *args)
{
	struct virtio_dev *vdev = v->vdev;
	uint32_t frame_room;
	uint64_t offered;

	int err = vnet_measure_rx_pool(v, &frame_room);
	if (err == 0)
		err = virtio_start(vdev, &offered);
	if (err != 0)
		return err;
	vnet_create_large_pool(v, offered, frame_room);
	uint64_t features = vnet_choose_features(v, args, offered, frame_room);
	err = virtio_accept_features(vdev, features);
	if (err != 0)
		return err;
	vnet_choose_mac(v, args, features);
	v->netdev.offloads = vnet_offloads(features);
	if (!(v->netdev.offloads & MIST_NETDEV_OFF_RX_GSO)) {
		vnet_destroy_large_pool(v);
		v->netdev.rx_large_pool = NULL;
	}
	uint32_t mtu = v->device_mtu != 0 ? v->device_mtu : VNET_DEFAULT_MTU;
	v->netdev.mtu = (uint16_t)MIST_MIN(mtu, frame_room - MIST_ETHER_HDR_LEN);

	bool event_idx = (features & VIRTIO_F_EVENT_IDX) != 0;
	err = vnet_queue_init(v, &v->rxq, VNET_RXQ, event_idx);
	if (err == 0)
		err = vnet_queue_init(v, &v->txq, VNET_TXQ, event_idx);
	if (err == 0)
		err = vdev->ops->irq_attach(vdev);
	if (err == 0)
		err = vdev->ops->queue_enable(vdev, &v->rxq);
	if (err == 0)
		err = vdev->ops->queue_enable(vdev, &v->txq);
	if (err != 0)
		return err;

	/*
	 * Half the pool at most, so that the stack keeps buffers for what it
	 * holds on to (reassembly, queues) while the device has the rest; the
	 * same for super-frame buffers, of which each chain takes one besides
	 * its first descriptor.
	 */
	struct mist_pool_stats pool;
	mist_pool_stats(v->rx_pool, &pool);
	unsigned chains = v->rxq.size;
	if (v->netdev.rx_large_pool != NULL)
		chains = MIST_MIN(chains / 2u, VNET_LARGE_BUFFERS / 2u);
	v->rx_target = MIST_MIN(chains, MIST_MAX(pool.capacity / 2u, 1u));
	v->rx_batch = MIST_MAX(v->rx_target / 8u, 1u);
	virtq_enable_interrupts(&v->rxq);
	virtq_disable_interrupts(&v->txq);
	vnet_rx_fill(v);
	virtio_driver_ok(vdev);
	/* §3.1.1: no notification before DRIVER_OK. */
	vnet_rx_publish(v);

	uint32_t off = v->netdev.offloads;
	mist_log("%s: MAC %pM, MTU %u, %u-entry queues, %s, offloads%s%s%s%s%s", vdev->where,
	         v->netdev.mac, v->netdev.mtu, v->rxq.size,
	         event_idx ? "event-index suppression" : "flag suppression",
	         off == 0 ? " none" : "", (off & MIST_NETDEV_OFF_TX_CSUM) ? " tx-csum" : "",
	         (off & MIST_NETDEV_OFF_TX_TSO4) ? " tx-tso4" : "",
	         (off & MIST_NETDEV_OFF_RX_CSUM) ? " rx-csum" : "",
	         (off & MIST_NETDEV_OFF_RX_GSO) ? " rx-gso" : "");
	return 0;
}

int pvh_virtio_net_open(const struct mist_args *args, struct mist_pool *rx_pool,
                        struct mist_netdev **out)
{
	struct virtio_dev *vdev;
	int err = virtio_mmio_find(VIRTIO_ID_NET, &vdev);
	if (err == MIST_ENOENT)
		err = virtio_pci_find(VIRTIO_ID_NET, &vdev);
	if (err != 0)
		return err;

	struct vnet *v = mist_calloc(1, sizeof(*v));
	if (v == NULL) {
		vdev->ops->release(vdev);
		return MIST_ENOMEM;
	}
	v->vdev = vdev;
	v->rx_pool = rx_pool;
	v->netdev.ops = &vnet_ops;
	mist_strlcpy(v->netdev.name, "virtio-net", sizeof(v->netdev.name));
	err = vnet_init(v, args);
	if (err != 0) {
		virtio_fail(vdev);
		if (v->rxq.cookies != NULL)
			virtq_fini(&v->rxq);
		if (v->txq.cookies != NULL)
			virtq_fini(&v->txq);
		vnet_destroy_large_pool(v);
		vdev->ops->release(vdev);
		mist_free(v);
		return err;
	}
	*out = &v->netdev;
	return 0;
}
