/*
 * The TAP device (tap.h): one non-blocking /dev/net/tun descriptor in TAP
 * mode without packet information, read frame by frame into buffers from the
 * receive pool, and written frame by frame with writev(2) straight from the
 * transmitted chains, so that neither direction copies the data path.
 *
 * With offloads (the default), every frame carries a virtio-net header
 * (dev/vnet_hdr.h) in front (IFF_VNET_HDR), read in tap_read_frame() and written in
 * tap_write_frame(), the only two places that touch the descriptor. The
 * kernel then hands over TCP super-frames of up to 64 KiB (its GSO output,
 * never segmented) with the checksum checked or not computed, and takes
 * super-frames that it segments itself (core/netdev.h). A super-frame is
 * read into a buffer of a second, large pool; since its length is known
 * only once it is read, the read scatters into the small receive buffer
 * first and the large one after, and the head is then copied over to the
 * large buffer (at most one small buffer's worth, ~1.5 KiB per 64 KiB):
 * ordinary frames stay zero-copy and small buffers are not wasted on 64 KiB.
 *
 * It is not a multi-queue device. It depends on Linux's tun driver, the
 * posix platform's epoll set (posix.h), the buffer pools, the core heap and
 * the IPv4 and TCP header accessors of src/wire.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#define MIST_LOG_TAG "tap"

#include "base/compiler.h"
#include "core/mem.h"
#include "core/netdev.h"
#include "core/panic.h"
#include "core/platform.h"
#include "dev/vnet_hdr.h"
#include "mist/buf.h"
#include "mist/log.h"
#include "mist/mist.h"
#include "posix.h"
#include "tap.h"
#include "wire/ether.h"
#include "wire/ipv4.h"
#include "wire/tcp.h"

#define TAP_CLONE_DEVICE "/dev/net/tun"

/* The mtu assumed when the interface's cannot be read: Ethernet's (RFC 894). */
#define TAP_DEFAULT_MTU 1500

/* The largest mtu struct mist_netdev can express; the tun driver allows no more. */
#define TAP_MAX_MTU UINT16_MAX

/* IEEE 802 address bits in the first octet: group (I/G) and locally administered (U/L). */
#define TAP_MAC_GROUP_BIT 0x01u
#define TAP_MAC_LOCAL_BIT 0x02u

/*
 * The tun driver consumes a whole frame on every read, whatever the buffer
 * size (drivers/net/tun.c, tun_do_read()). A few bytes of spill space behind
 * the receive buffer are therefore enough to drain a frame when there is no
 * buffer, and to make a frame that did not fit read as longer than the
 * buffer, rather than pass for one that exactly filled it.
 */
#define TAP_SPILL_LEN 64

/*
 * The pool of super-frames: enough for the receive windows of a few busy
 * connections (256 KiB each by default) and their echoes held for
 * retransmission, 64 x 64 KiB = 4 MiB; the stack copies data out of it when
 * it runs low, as it does for the small receive pool (net_rx_scarce()).
 * The headroom is the stack's, for a reply built in place.
 */
#define TAP_LARGE_BUFFERS  64u
#define TAP_LARGE_HEADROOM 64u

/* What the kernel may hand over with offloads (TUNSETOFFLOAD): checksums left or checked, TSO. */
#define TAP_KERNEL_OFFLOADS (TUN_F_CSUM | TUN_F_TSO4)

struct tap_dev {
	struct mist_netdev netdev; /* first, so that ops can cast back */
	int fd;
	bool error_logged; /* the first I/O error is logged, later ones only counted */
	bool vnet;         /* frames carry a struct virtio_net_hdr (IFF_VNET_HDR) */
	struct mist_pool *rx_pool;
	struct mist_buf *large_spare; /* a buffer of netdev.rx_large_pool for the next read */
	struct posix_tap_stats tap_stats;
	struct mist_buf *txq[POSIX_TAP_TX_QUEUE_LEN];
	unsigned tx_head, tx_count;
	uint8_t spill[TAP_SPILL_LEN];
	/*
	 * The headers of the frame being read and of the one being written,
	 * in the host's byte order: that of a legacy virtio device, which the
	 * tun driver is unless told otherwise (TUNSETVNETLE/BE).
	 */
	struct mist_vnet_hdr rx_hdr, tx_hdr;
	struct iovec iov[POSIX_TAP_IOV_MAX]; /* the header and views of the frame being written */
};

static struct tap_dev *tap_of(struct mist_netdev *netdev)
{
	return mist_container_of(netdev, struct tap_dev, netdev);
}

/* Counts an I/O error; logs the first, since a dead interface would fail on every frame. */
static void tap_io_error(struct tap_dev *tap, const char *op, int err)
{
	tap->tap_stats.io_errors++;
	if (tap->error_logged)
		return;
	tap->error_logged = true;
	mist_warn("%s: %s failed: %s (further errors are only counted)", tap->netdev.name, op,
	          strerror(err));
}

/* What reading or writing one frame came to, when it moved no frame. */
enum tap_io {
	TAP_IO_AGAIN = -1, /* the descriptor is not ready: nothing to read, or no room */
	TAP_IO_ERROR = -2, /* it failed; counted and logged */
};

/*
 * Reads one frame, its virtio_net_hdr (if any) into tap->rx_hdr and its
 * bytes into `data`, which has room for `cap` bytes (0 to drain the frame),
 * then on into `more`, which has room for `more_cap` (0 for none). Returns
 * the frame's length, more than cap + more_cap when it did not fit, or a
 * negative enum tap_io. A frame shorter than its header reads as empty.
 */
static ssize_t tap_read_frame(struct tap_dev *tap, uint8_t *data, size_t cap, uint8_t *more,
                              size_t more_cap)
{
	struct iovec iov[4];
	int iovcnt = 0;
	if (tap->vnet)
		iov[iovcnt++] =
		        (struct iovec){.iov_base = &tap->rx_hdr, .iov_len = sizeof(tap->rx_hdr)};
	iov[iovcnt++] = (struct iovec){.iov_base = data, .iov_len = cap};
	if (more_cap > 0)
		iov[iovcnt++] = (struct iovec){.iov_base = more, .iov_len = more_cap};
	iov[iovcnt++] = (struct iovec){.iov_base = tap->spill, .iov_len = sizeof(tap->spill)};
	for (;;) {
		ssize_t n = readv(tap->fd, iov, iovcnt);
		if (n >= 0) {
			size_t hdr = tap->vnet ? sizeof(tap->rx_hdr) : 0;
			return (size_t)n >= hdr ? n - (ssize_t)hdr : 0;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return TAP_IO_AGAIN;
		tap_io_error(tap, "read", errno);
		return TAP_IO_ERROR;
	}
}

/*
 * Writes the chain `frame` as one frame, gathering its views behind its
 * virtio_net_hdr (if any). Returns 0 or a negative enum tap_io. The tun
 * driver takes a frame whole or not at all.
 */
static int tap_write_frame(struct tap_dev *tap, const struct mist_buf *frame)
{
	int iovcnt = 0;
	if (tap->vnet) {
		mist_vnet_hdr_fill(&tap->tx_hdr, frame);
		tap->iov[iovcnt].iov_base = &tap->tx_hdr;
		tap->iov[iovcnt].iov_len = sizeof(tap->tx_hdr);
		iovcnt++;
	}
	for (const struct mist_buf *b = frame; b != NULL; b = b->next) {
		tap->iov[iovcnt].iov_base = b->data;
		tap->iov[iovcnt].iov_len = b->len;
		iovcnt++;
	}
	for (;;) {
		if (writev(tap->fd, tap->iov, iovcnt) >= 0)
			return 0;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return TAP_IO_AGAIN;
		tap_io_error(tap, "write", errno);
		return TAP_IO_ERROR;
	}
}

/* The large buffer the next read may spill into, or NULL without one. */
static struct mist_buf *tap_large_spare(struct tap_dev *tap)
{
	if (tap->large_spare == NULL && tap->netdev.rx_large_pool != NULL)
		tap->large_spare = mist_buf_alloc(tap->netdev.rx_large_pool, 0);
	return tap->large_spare;
}

/*
 * Makes a super-frame whole: `buf` holds its first `cap` bytes and the
 * spare large buffer the rest from offset `cap` on. The head is copied in
 * front of the rest, `buf` is released and the large buffer returned.
 */
static struct mist_buf *tap_take_large(struct tap_dev *tap, struct mist_buf *buf, uint32_t cap)
{
	struct mist_buf *large = tap->large_spare;
	tap->large_spare = NULL;
	memcpy(large->data, buf->data, cap);
	mist_buf_free(buf);
	tap->tap_stats.rx_large_copies++;
	return large;
}

/* The offload flags of a received frame, from its virtio_net_hdr, counted. */
static uint32_t tap_rx_flags(struct tap_dev *tap)
{
	if (!tap->vnet)
		return 0;
	if (tap->rx_hdr.gso_type != MIST_VNET_GSO_NONE)
		tap->netdev.stats.rx_gso++;
	uint32_t flags = mist_vnet_hdr_rx_flags(&tap->rx_hdr);
	if (flags & MIST_BUF_F_CSUM_VALID)
		tap->tap_stats.rx_csum_trusted++;
	return flags;
}

/*
 * Reads at most `max` frames, those dropped included, so that a flood of bad
 * frames cannot keep the loop here.
 */
static unsigned tap_rx_burst(struct mist_netdev *netdev, struct mist_buf **bufs, unsigned max)
{
	struct tap_dev *tap = tap_of(netdev);
	unsigned n = 0;

	for (unsigned reads = 0; reads < max; reads++) {
		struct mist_buf *buf = mist_buf_alloc(tap->rx_pool, 0);
		if (buf == NULL) {
			/* Drain the frame anyway, or it would wake the loop forever. */
			if (tap_read_frame(tap, NULL, 0, NULL, 0) < 0)
				break;
			tap->tap_stats.rx_no_buffer++;
			netdev->stats.rx_dropped++;
			continue;
		}
		uint32_t cap = mist_buf_tailroom(buf), more_cap = 0;
		struct mist_buf *large = tap_large_spare(tap);
		if (large != NULL && mist_buf_tailroom(large) > cap)
			more_cap = mist_buf_tailroom(large) - cap;
		ssize_t len = tap_read_frame(tap, buf->data, cap,
		                             more_cap > 0 ? large->data + cap : NULL, more_cap);
		if (len < 0) {
			mist_buf_free(buf);
			break;
		}
		/*
		 * A runt cannot hold an Ethernet header; a longer frame was cut
		 * short, for want of a large buffer if there should be one.
		 */
		uint64_t *bad = len < MIST_ETHER_HDR_LEN                ? &tap->tap_stats.rx_runts
		                : (size_t)len <= (size_t)cap + more_cap ? NULL
		                : netdev->rx_large_pool != NULL && large == NULL &&
		                                (size_t)len <= MIST_NETDEV_GSO_MAX_FRAME
		                        ? &tap->tap_stats.rx_no_buffer
		                        : &tap->tap_stats.rx_too_long;
		if (bad != NULL) {
			(*bad)++;
			netdev->stats.rx_dropped++;
			mist_buf_free(buf);
			continue;
		}
		if ((size_t)len > cap)
			buf = tap_take_large(tap, buf, cap);
		uint8_t *p = mist_buf_put(buf, (uint32_t)len);
		MIST_ASSERT(p != NULL);
		buf->flags = tap_rx_flags(tap);
		netdev->stats.rx_frames++;
		netdev->stats.rx_bytes += (uint64_t)len;
		bufs[n++] = buf;
	}
	return n;
}

static int tap_tx(struct mist_netdev *netdev, struct mist_buf *frame)
{
	struct tap_dev *tap = tap_of(netdev);
	size_t len = 0;
	unsigned views = 0;

	for (const struct mist_buf *b = frame; b != NULL; b = b->next) {
		len += b->len;
		views++;
	}
	bool gso = (frame->flags & MIST_BUF_F_GSO_TCP4) &&
	           (netdev->offloads & MIST_NETDEV_OFF_TX_TSO4);
	size_t max_len = gso ? MIST_NETDEV_GSO_MAX_FRAME : (size_t)netdev->mtu + MIST_ETHER_HDR_LEN;
	unsigned max_views = POSIX_TAP_IOV_MAX - (tap->vnet ? 1u : 0u);
	if (len > max_len || views > max_views) {
		tap->tap_stats.tx_oversized++;
		netdev->stats.tx_dropped++;
		mist_buf_free_chain(frame);
		return MIST_EMSGSIZE;
	}
	if (!mist_vnet_offload_ok(frame, netdev->offloads)) {
		tap->tap_stats.tx_bad_offload++;
		netdev->stats.tx_dropped++;
		mist_buf_free_chain(frame);
		return MIST_EINVAL;
	}
	if (tap->tx_count == POSIX_TAP_TX_QUEUE_LEN) {
		tap->tap_stats.tx_queue_full++;
		netdev->stats.tx_dropped++;
		mist_buf_free_chain(frame);
		return MIST_EAGAIN;
	}
	tap->txq[(tap->tx_head + tap->tx_count) % POSIX_TAP_TX_QUEUE_LEN] = frame;
	tap->tx_count++;
	return 0;
}

/*
 * Writes the queue out in order. When the kernel has no room (EAGAIN), the
 * rest waits for the next flush, at the next loop turn; the queue's bound
 * makes tx() refuse frames meanwhile. A frame that fails otherwise is
 * dropped and counted, so that one bad frame does not block the queue.
 */
static void tap_flush(struct mist_netdev *netdev)
{
	struct tap_dev *tap = tap_of(netdev);

	while (tap->tx_count > 0) {
		struct mist_buf *frame = tap->txq[tap->tx_head];
		int err = tap_write_frame(tap, frame);
		if (err == TAP_IO_AGAIN) {
			tap->tap_stats.tx_write_again++;
			return;
		}
		tap->tx_head = (tap->tx_head + 1) % POSIX_TAP_TX_QUEUE_LEN;
		tap->tx_count--;
		if (err == 0) {
			netdev->stats.tx_frames++;
			netdev->stats.tx_bytes += mist_buf_chain_len(frame);
			if (frame->flags & MIST_BUF_F_GSO_TCP4)
				netdev->stats.tx_gso++;
		} else {
			netdev->stats.tx_dropped++;
		}
		mist_buf_free_chain(frame);
	}
}

/* One line per counter, "tap.name=value", as the stack prints its own. */
#define TAP_LOG_STAT(st, name) \
	mist_log_at(MIST_LOG_INFO, "stats", "tap.%s=%llu", #name, (unsigned long long)(st)->name);

static void tap_log_stats(const struct tap_dev *tap)
{
	const struct mist_netdev_stats *dev = &tap->netdev.stats;
	const struct posix_tap_stats *own = &tap->tap_stats;

	TAP_LOG_STAT(dev, rx_frames)
	TAP_LOG_STAT(dev, rx_bytes)
	TAP_LOG_STAT(dev, rx_dropped)
	TAP_LOG_STAT(dev, rx_gso)
	TAP_LOG_STAT(dev, tx_frames)
	TAP_LOG_STAT(dev, tx_bytes)
	TAP_LOG_STAT(dev, tx_dropped)
	TAP_LOG_STAT(dev, tx_gso)
	TAP_LOG_STAT(own, rx_runts)
	TAP_LOG_STAT(own, rx_too_long)
	TAP_LOG_STAT(own, rx_no_buffer)
	TAP_LOG_STAT(own, rx_large_copies)
	TAP_LOG_STAT(own, rx_csum_trusted)
	TAP_LOG_STAT(own, tx_queue_full)
	TAP_LOG_STAT(own, tx_oversized)
	TAP_LOG_STAT(own, tx_bad_offload)
	TAP_LOG_STAT(own, tx_write_again)
	TAP_LOG_STAT(own, io_errors)
}

/*
 * Sets what the kernel may hand over. The setting outlives the descriptor
 * on a persistent interface, so it is made (or cleared) on every open and
 * cleared at close: a later reader without virtio_net_hdr would get
 * super-frames it cannot tell from ordinary ones.
 */
static int tap_set_kernel_offloads(int fd, unsigned int offloads)
{
	return ioctl(fd, TUNSETOFFLOAD, offloads) == 0 ? 0 : -errno;
}

static void tap_close(struct mist_netdev *netdev)
{
	struct tap_dev *tap = tap_of(netdev);

	tap_log_stats(tap);
	posix_poll_remove(tap->fd);
	tap_set_kernel_offloads(tap->fd, 0);
	close(tap->fd);
	while (tap->tx_count > 0) {
		mist_buf_free_chain(tap->txq[tap->tx_head]);
		tap->tx_head = (tap->tx_head + 1) % POSIX_TAP_TX_QUEUE_LEN;
		tap->tx_count--;
	}
	mist_buf_free(tap->large_spare);
	/* Buffers an application still holds keep the pool; the process is ending anyway. */
	if (netdev->rx_large_pool != NULL && mist_pool_destroy(netdev->rx_large_pool) != 0)
		mist_warn("%s: super-frame buffers still in use at close; pool kept", netdev->name);
	mist_free(tap);
}

static const struct mist_netdev_ops tap_ops = {
        .rx_burst = tap_rx_burst,
        .tx = tap_tx,
        .flush = tap_flush,
        .close = tap_close,
};

/*
 * The interface's mtu, asked through an ordinary socket: the tun descriptor
 * does not answer SIOCGIFMTU.
 */
static uint16_t tap_read_mtu(const char *ifname)
{
	struct ifreq ifr;
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return TAP_DEFAULT_MTU;
	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, ifname, IFNAMSIZ);
	int err = ioctl(s, SIOCGIFMTU, &ifr);
	close(s);
	if (err != 0 || ifr.ifr_mtu <= 0) {
		mist_warn("%s: cannot read the mtu, assuming %d", ifname, TAP_DEFAULT_MTU);
		return TAP_DEFAULT_MTU;
	}
	return (uint16_t)MIST_MIN(ifr.ifr_mtu, TAP_MAX_MTU);
}

/*
 * Attaches `fd` to the TAP interface named in `ifr`, which the kernel
 * completes; with `vnet`, every frame carries a struct virtio_net_hdr.
 */
static int tap_attach(int fd, struct ifreq *ifr, bool vnet)
{
	const char *what = ifr->ifr_name[0] != '\0' ? ifr->ifr_name : "tap";
	int hdr_len = sizeof(struct mist_vnet_hdr);

	ifr->ifr_flags = IFF_TAP | IFF_NO_PI | (vnet ? IFF_VNET_HDR : 0);
	if (ioctl(fd, TUNSETIFF, ifr) != 0) {
		mist_error("%s: cannot attach: %s", what, strerror(errno));
		return MIST_EIO;
	}
	if (vnet && ioctl(fd, TUNSETVNETHDRSZ, &hdr_len) != 0) {
		mist_error("%s: cannot set the virtio_net_hdr size: %s", what, strerror(errno));
		return MIST_EIO;
	}
	return 0;
}

/*
 * The offloads of a device whose frames carry a virtio_net_hdr. The kernel
 * takes our checksums and super-frames whatever it was told (it reads the
 * header of every frame written); what it may hand over is set with
 * TUNSETOFFLOAD and needs the pool of super-frames, without which receive
 * stays as without offloads.
 */
static void tap_enable_offloads(struct tap_dev *tap)
{
	tap->netdev.offloads = MIST_NETDEV_OFF_TX_CSUM | MIST_NETDEV_OFF_TX_TSO4;
	struct mist_pool *large = mist_pool_create("tap-rx-large", TAP_LARGE_BUFFERS,
	                                           TAP_LARGE_HEADROOM + MIST_NETDEV_GSO_MAX_FRAME,
	                                           TAP_LARGE_HEADROOM);
	if (large == NULL) {
		mist_warn("%s: no memory for super-frames; receiving without offloads",
		          tap->netdev.name);
		return;
	}
	int err = tap_set_kernel_offloads(tap->fd, TAP_KERNEL_OFFLOADS);
	if (err != 0) {
		mist_warn("%s: TUNSETOFFLOAD failed: %s; receiving without offloads",
		          tap->netdev.name, strerror(-err));
		mist_pool_destroy(large);
		return;
	}
	tap->netdev.rx_large_pool = large;
	tap->netdev.offloads |= MIST_NETDEV_OFF_RX_CSUM | MIST_NETDEV_OFF_RX_GSO;
}

int posix_tap_open(const char *name, bool offloads, struct mist_pool *rx_pool,
                   struct mist_netdev **out)
{
	struct ifreq ifr;

	if (rx_pool == NULL || out == NULL || (name != NULL && strlen(name) >= IFNAMSIZ))
		return MIST_EINVAL;
	memset(&ifr, 0, sizeof(ifr));
	if (name != NULL)
		memcpy(ifr.ifr_name, name, strlen(name));

	struct tap_dev *tap = mist_calloc(1, sizeof(*tap));
	if (tap == NULL)
		return MIST_ENOMEM;
	if (mist_plat_entropy(tap->netdev.mac, sizeof(tap->netdev.mac)) != 0) {
		mist_free(tap);
		return MIST_EIO;
	}
	tap->netdev.mac[0] =
	        (uint8_t)((tap->netdev.mac[0] & ~TAP_MAC_GROUP_BIT) | TAP_MAC_LOCAL_BIT);

	tap->fd = open(TAP_CLONE_DEVICE, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (tap->fd < 0) {
		mist_error("cannot open %s: %s", TAP_CLONE_DEVICE, strerror(errno));
		mist_free(tap);
		return MIST_EIO;
	}
	int err = tap_attach(tap->fd, &ifr, offloads);
	if (err == 0) {
		err = posix_poll_add(tap->fd);
		if (err != 0) {
			mist_error("%s: cannot watch the descriptor: %s", ifr.ifr_name,
			           strerror(-err));
			err = MIST_EIO;
		}
	}
	if (err != 0) {
		close(tap->fd);
		mist_free(tap);
		return err;
	}

	tap->netdev.ops = &tap_ops;
	_Static_assert(sizeof(tap->netdev.name) >= IFNAMSIZ, "interface names must fit");
	memcpy(tap->netdev.name, ifr.ifr_name, IFNAMSIZ);
	tap->netdev.mtu = tap_read_mtu(ifr.ifr_name);
	tap->rx_pool = rx_pool;
	tap->vnet = offloads;
	if (offloads)
		tap_enable_offloads(tap);
	else
		tap_set_kernel_offloads(tap->fd, 0);
	*out = &tap->netdev;
	return 0;
}

int posix_tap_set_mac(struct mist_netdev *dev, const uint8_t mac[6])
{
	if (dev->ops != &tap_ops) {
		MIST_MISUSE("posix_tap_set_mac", "not a TAP device");
		return MIST_EINVAL;
	}
	if ((mac[0] & TAP_MAC_GROUP_BIT) != 0)
		return MIST_EINVAL;
	memcpy(dev->mac, mac, sizeof(dev->mac));
	return 0;
}

void posix_tap_stats(const struct mist_netdev *dev, struct posix_tap_stats *stats)
{
	MIST_ASSERT(dev->ops == &tap_ops);
	*stats = mist_container_of(dev, const struct tap_dev, netdev)->tap_stats;
}
