/*
 * The TAP device (tap.h): one non-blocking /dev/net/tun descriptor in TAP
 * mode without packet information, read frame by frame into buffers from the
 * receive pool, and written frame by frame with writev(2) straight from the
 * transmitted chains, so that neither direction copies. It is not a
 * multi-queue device and does not yet negotiate IFF_VNET_HDR offloads; when
 * it does, the virtio_net_hdr is stripped in tap_read_frame() and prepended
 * in tap_write_frame(), the only two places that touch the descriptor. It
 * depends on Linux's tun driver, the posix platform's epoll set (posix.h),
 * the buffer pools and the core heap.
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
#include "mist/buf.h"
#include "mist/log.h"
#include "mist/mist.h"
#include "posix.h"
#include "tap.h"

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

struct tap_dev {
	struct mist_netdev netdev; /* first, so that ops can cast back */
	int fd;
	bool error_logged; /* the first I/O error is logged, later ones only counted */
	struct mist_pool *rx_pool;
	struct posix_tap_stats tap_stats;
	struct mist_buf *txq[POSIX_TAP_TX_QUEUE_LEN];
	unsigned tx_head, tx_count;
	uint8_t spill[TAP_SPILL_LEN];
	struct iovec iov[POSIX_TAP_IOV_MAX]; /* the views of the frame being written */
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
 * Reads one frame into `data`, which has room for `cap` bytes (0 to drain
 * the frame). Returns the frame's length, more than `cap` when it did not
 * fit, or a negative enum tap_io.
 */
static ssize_t tap_read_frame(struct tap_dev *tap, uint8_t *data, size_t cap)
{
	struct iovec iov[2] = {
	        {.iov_base = data, .iov_len = cap},
	        {.iov_base = tap->spill, .iov_len = sizeof(tap->spill)},
	};
	for (;;) {
		ssize_t n = readv(tap->fd, iov, MIST_ARRAY_SIZE(iov));
		if (n >= 0)
			return n;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return TAP_IO_AGAIN;
		tap_io_error(tap, "read", errno);
		return TAP_IO_ERROR;
	}
}

/*
 * Writes the chain `frame` as one frame, gathering its views. Returns 0 or a
 * negative enum tap_io. The tun driver takes a frame whole or not at all.
 */
static int tap_write_frame(struct tap_dev *tap, const struct mist_buf *frame)
{
	int iovcnt = 0;
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
			if (tap_read_frame(tap, NULL, 0) < 0)
				break;
			tap->tap_stats.rx_no_buffer++;
			netdev->stats.rx_dropped++;
			continue;
		}
		uint32_t cap = mist_buf_tailroom(buf);
		ssize_t len = tap_read_frame(tap, buf->data, cap);
		if (len < 0) {
			mist_buf_free(buf);
			break;
		}
		/* A runt cannot hold an Ethernet header; a longer frame was cut short. */
		uint64_t *bad = len < MIST_ETHER_HDR_LEN ? &tap->tap_stats.rx_runts
		                : (size_t)len > cap      ? &tap->tap_stats.rx_too_long
		                                         : NULL;
		if (bad != NULL) {
			(*bad)++;
			netdev->stats.rx_dropped++;
			mist_buf_free(buf);
			continue;
		}
		uint8_t *p = mist_buf_put(buf, (uint32_t)len);
		MIST_ASSERT(p != NULL);
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
	if (len > (size_t)netdev->mtu + MIST_ETHER_HDR_LEN || views > POSIX_TAP_IOV_MAX) {
		tap->tap_stats.tx_oversized++;
		netdev->stats.tx_dropped++;
		mist_buf_free_chain(frame);
		return MIST_EMSGSIZE;
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
		} else {
			netdev->stats.tx_dropped++;
		}
		mist_buf_free_chain(frame);
	}
}

static void tap_close(struct mist_netdev *netdev)
{
	struct tap_dev *tap = tap_of(netdev);

	posix_poll_remove(tap->fd);
	close(tap->fd);
	while (tap->tx_count > 0) {
		mist_buf_free_chain(tap->txq[tap->tx_head]);
		tap->tx_head = (tap->tx_head + 1) % POSIX_TAP_TX_QUEUE_LEN;
		tap->tx_count--;
	}
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

/* Attaches `fd` to the TAP interface named in `ifr`, which the kernel completes. */
static int tap_attach(int fd, struct ifreq *ifr)
{
	ifr->ifr_flags = IFF_TAP | IFF_NO_PI;
	if (ioctl(fd, TUNSETIFF, ifr) != 0) {
		mist_error("%s: cannot attach: %s",
		           ifr->ifr_name[0] != '\0' ? ifr->ifr_name : "tap", strerror(errno));
		return MIST_EIO;
	}
	return 0;
}

int posix_tap_open(const char *name, struct mist_pool *rx_pool, struct mist_netdev **out)
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
	int err = tap_attach(tap->fd, &ifr);
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
