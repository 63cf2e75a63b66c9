/*
 * The TAP network device of the posix-tap target: a struct mist_netdev
 * (core/netdev.h) over a Linux TAP interface opened through /dev/net/tun, so
 * that Mist's own stack exchanges Ethernet frames with the host kernel. It is
 * not a TUN (IP-only) device and does not configure the interface (bringing
 * it up, addresses, routes): that is the job of whoever created it. It
 * offers the checksum and segmentation offloads of core/netdev.h through
 * the tun driver's virtio_net_hdr. It depends on the posix platform's epoll
 * set (posix.h), the buffer pools (mist/buf.h) and the core heap.
 */
#ifndef MIST_PLATFORM_POSIX_TAP_H
#define MIST_PLATFORM_POSIX_TAP_H

#include <stdbool.h>
#include <stdint.h>

#include "core/netdev.h"

struct mist_pool;

/* Frames a device queues between two flushes; tx() beyond it returns MIST_EAGAIN. */
#define POSIX_TAP_TX_QUEUE_LEN 256u

/*
 * Views a transmitted chain may have: one writev(2) carries at most this
 * many pieces (UIO_MAXIOV in the Linux kernel), and a frame must go out in
 * one write to stay one frame. tx() refuses a chain of more views as it
 * refuses an oversized frame, with MIST_EMSGSIZE.
 */
#define POSIX_TAP_IOV_MAX 1024u

/* What the device dropped or met, beyond the counters of struct mist_netdev_stats. */
struct posix_tap_stats {
	uint64_t rx_runts;        /* frames shorter than an Ethernet header, dropped */
	uint64_t rx_too_long;     /* frames longer than an rx_pool buffer, dropped */
	uint64_t rx_no_buffer;    /* frames dropped because rx_pool, or for a super-frame the
	                             large pool, was empty */
	uint64_t rx_large_copies; /* super-frames whose head was copied to their buffer */
	uint64_t rx_csum_trusted; /* frames marked MIST_BUF_F_CSUM_VALID */
	uint64_t tx_queue_full;   /* frames tx() refused with MIST_EAGAIN */
	uint64_t tx_oversized;    /* frames tx() refused with MIST_EMSGSIZE */
	uint64_t tx_bad_offload;  /* frames marked for offload without an IPv4 TCP header in
	                             their first view, refused with MIST_EINVAL */
	uint64_t tx_write_again;  /* flushes cut short by EAGAIN; the rest stayed queued */
	uint64_t io_errors;       /* read(2)/writev(2) failures other than EAGAIN and EINTR */
};

/*
 * Attaches to the TAP interface `name` (created if it does not exist and the
 * process may create it; NULL or "" lets the kernel choose a name, which is
 * then in the device's `name`), without packet information headers, in
 * non-blocking mode, and makes mist_plat_yield() wake when a frame arrives.
 * Received frames are read into buffers from `rx_pool`, whose blocks must
 * hold the pool's headroom plus mtu + MIST_ETHER_HDR_LEN bytes; longer
 * frames are dropped (rx_too_long). The device's mtu is the interface's
 * (SIOCGIFMTU), or 1500 if it cannot be read. Its MAC is the stack's own,
 * not the interface's (the kernel side owns that one): a random locally
 * administered unicast address until posix_tap_set_mac() sets another.
 *
 * With `offloads`, frames carry a struct virtio_net_hdr (IFF_VNET_HDR) and
 * the device offers all of core/netdev.h's offloads: it takes TCP
 * super-frames and frames with checksums left to it, and has the kernel
 * hand over super-frames (TUNSETOFFLOAD: TUN_F_CSUM, TUN_F_TSO4), received
 * into a pool of its own, 64 buffers of 64 KiB (4 MiB), its `rx_large_pool`.
 * If that pool or TUNSETOFFLOAD fails, receive goes without offloads (logged).
 * Without `offloads`, the kernel is told to hand over none, as a persistent
 * interface may keep the setting of an earlier reader. Closing the device
 * clears the setting and logs its counters ("tap.name=value", tag "stats").
 *
 * On success stores the device in *out and returns 0. Returns MIST_EINVAL
 * for a name of IFNAMSIZ (16) bytes or more or a NULL pool or out, MIST_ENOMEM
 * when out of memory, and MIST_EIO when the kernel refuses (no /dev/net/tun,
 * no permission, the name is taken by another kind of interface); the
 * reason is logged under the tag "tap".
 */
int posix_tap_open(const char *name, bool offloads, struct mist_pool *rx_pool,
                   struct mist_netdev **out);

/*
 * Sets the MAC address the stack uses on `dev`, a device from
 * posix_tap_open() (the --mac boot argument). Returns 0, or MIST_EINVAL for
 * a group (multicast or broadcast) address, which no station may own (IEEE
 * 802: the I/G bit, the lowest bit of the first octet, marks a group).
 */
int posix_tap_set_mac(struct mist_netdev *dev, const uint8_t mac[6]);

/* Copies the device's extra counters into *stats; `dev` is from posix_tap_open(). */
void posix_tap_stats(const struct mist_netdev *dev, struct posix_tap_stats *stats);

#endif
