/*
 * The network device interface, between the platforms that implement devices
 * (TAP, virtio-net, sim links) and the stack that uses them. Middleware
 * (pcap capture, fault injection) wraps one device in another with the same
 * interface.
 *
 * Receive is polled in batches from the loop; each received frame is one
 * contiguous mist_buf holding an Ethernet frame without FCS, owned by the
 * caller from then on. Transmit takes a chain of bufs (headers prepended in
 * front of payload views) and owns it from then on; the device queues it
 * and pushes the queue out on flush(), called at the end of each loop turn.
 *
 * Offloads are negotiated through `offloads`: a device sets the
 * MIST_NETDEV_OFF_* bits it supports, the stack marks in the flags of a
 * frame's first view (MIST_BUF_F_*) what it left to the device, and the
 * device marks there what it did for a received frame. The flags are those
 * of virtio-net's header (Virtio 1.2, 5.1.6; Linux's struct
 * virtio_net_hdr), which both the TAP (IFF_VNET_HDR) and virtio-net devices
 * carry in front of every frame; the device works out csum_start,
 * csum_offset and hdr_len from the frame's own headers. A device without
 * offloads (sim links, virtio-net today) sets no bit, sees no flag and
 * behaves as before.
 */
#ifndef MIST_CORE_NETDEV_H
#define MIST_CORE_NETDEV_H

#include <stdint.h>

struct mist_buf;
struct mist_netdev;
struct mist_pool;

/* Length of an Ethernet II header, which frames carry in front of mtu bytes. */
#define MIST_ETHER_HDR_LEN 14

/* Counters kept by every device. */
struct mist_netdev_stats {
	uint64_t rx_frames, rx_bytes;
	uint64_t tx_frames, tx_bytes;
	uint64_t rx_dropped; /* frames lost on receive: no buffer, bad length */
	uint64_t tx_dropped; /* frames lost on transmit: queue full, too long, device error */
	uint64_t rx_gso;     /* received frames the sender coalesced beyond mtu (GSO/GRO) */
	uint64_t tx_gso;     /* transmitted frames the device segmented (MIST_BUF_F_GSO_TCP4) */
};

/*
 * Device offloads, in struct mist_netdev's `offloads`.
 *
 * TX_CSUM: the device completes the TCP checksum of a frame marked
 *   MIST_BUF_F_CSUM_PARTIAL, whose checksum field holds the folded IPv4
 *   pseudo-header sum (mist_tcp_fill_partial_checksum()): it sums from the
 *   TCP header to the end of the frame and stores the complement there.
 * TX_TSO4: the device takes IPv4 TCP frames marked MIST_BUF_F_GSO_TCP4 of up
 *   to MIST_NETDEV_GSO_MAX_FRAME bytes, and cuts them into segments of
 *   mist_buf_gso_size() payload bytes, each with the header copied and its
 *   sequence number, IPv4 length, identification and checksums fixed, FIN
 *   and PSH on the last only. Such a frame is also CSUM_PARTIAL. Implies
 *   TX_CSUM.
 * RX_CSUM: received frames whose TCP or UDP checksum needs no check are
 *   marked MIST_BUF_F_CSUM_VALID.
 * RX_GSO: received TCP frames may be longer than mtu (up to
 *   MIST_NETDEV_GSO_MAX_FRAME): the host coalesced segments that never
 *   crossed a wire. They come from the device's `rx_large_pool`.
 */
#define MIST_NETDEV_OFF_TX_CSUM (1u << 0)
#define MIST_NETDEV_OFF_TX_TSO4 (1u << 1)
#define MIST_NETDEV_OFF_RX_CSUM (1u << 2)
#define MIST_NETDEV_OFF_RX_GSO  (1u << 3)

/*
 * The longest frame a device segments or coalesces: the longest IPv4
 * datagram (RFC 791: a 16-bit total length) behind its Ethernet header.
 */
#define MIST_NETDEV_GSO_MAX_FRAME (MIST_ETHER_HDR_LEN + 65535u)

/*
 * Per-frame flags, in the `flags` of a frame's first view (mist/buf.h).
 * Bits 0-15 are flags; bits 16-31 hold the GSO segment size. Bufs come
 * without flags from their pools; layers that prepend a new first view
 * carry the flags over (net_prepend()).
 *
 * CSUM_PARTIAL (tx): the TCP checksum is left to the device (TX_CSUM).
 * GSO_TCP4 (tx): the frame is to be cut into segments of
 *   mist_buf_gso_size() payload bytes (TX_TSO4).
 * CSUM_VALID (rx): the TCP or UDP checksum need not be verified: the host
 *   checked it, or the frame never crossed a wire and its checksum field
 *   holds only the pseudo-header sum (virtio's DATA_VALID and NEEDS_CSUM).
 */
#define MIST_BUF_F_CSUM_PARTIAL (1u << 0)
#define MIST_BUF_F_GSO_TCP4     (1u << 1)
#define MIST_BUF_F_CSUM_VALID   (1u << 2)
#define MIST_BUF_GSO_SIZE_SHIFT 16

/* The flags of a GSO frame of `gso_size` payload bytes per segment. */
static inline uint32_t mist_buf_gso_flags(uint16_t gso_size)
{
	return MIST_BUF_F_CSUM_PARTIAL | MIST_BUF_F_GSO_TCP4 |
	       ((uint32_t)gso_size << MIST_BUF_GSO_SIZE_SHIFT);
}

/* The segment size of a frame marked MIST_BUF_F_GSO_TCP4, from its first view's flags. */
static inline uint16_t mist_buf_gso_size(uint32_t flags)
{
	return (uint16_t)(flags >> MIST_BUF_GSO_SIZE_SHIFT);
}

struct mist_netdev_ops {
	/* Moves up to `max` received frames into bufs[]; returns how many. */
	unsigned (*rx_burst)(struct mist_netdev *dev, struct mist_buf **bufs, unsigned max);
	/*
	 * Queues one frame. Takes ownership of the chain on every path.
	 * Returns 0, or MIST_EAGAIN when the queue is full, MIST_EMSGSIZE
	 * when the frame is longer than mtu + the Ethernet header (than
	 * MIST_NETDEV_GSO_MAX_FRAME for a GSO frame on a TX_TSO4 device), and
	 * MIST_EINVAL when it asks for an offload the device cannot do for it
	 * (all counted in tx_dropped).
	 */
	int (*tx)(struct mist_netdev *dev, struct mist_buf *frame);
	/* Pushes queued frames out. */
	void (*flush)(struct mist_netdev *dev);
	/* Releases the device and everything it holds. */
	void (*close)(struct mist_netdev *dev);
};

struct mist_netdev {
	const struct mist_netdev_ops *ops;
	char name[16];
	uint8_t mac[6];
	uint16_t mtu;      /* largest IP datagram, Ethernet header excluded */
	uint32_t offloads; /* MIST_NETDEV_OFF_* */
	/*
	 * With MIST_NETDEV_OFF_RX_GSO, the pool of the buffers that frames
	 * longer than mtu arrive in, owned by the device; NULL otherwise. The
	 * stack watches it as it watches its own receive pool (net_rx_scarce()).
	 */
	struct mist_pool *rx_large_pool;
	struct mist_netdev_stats stats;
};

#endif
