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
 * Offloads are negotiated through `offloads`: a device sets the bits it
 * supports, the stack sets in each buf's flags what it left to the device.
 * None are defined yet; the field exists so that adding checksum and
 * segmentation offload later does not change this interface.
 */
#ifndef MIST_CORE_NETDEV_H
#define MIST_CORE_NETDEV_H

#include <stdint.h>

struct mist_buf;
struct mist_netdev;

/* Counters kept by every device. */
struct mist_netdev_stats {
	uint64_t rx_frames, rx_bytes;
	uint64_t tx_frames, tx_bytes;
	uint64_t rx_dropped; /* frames lost on receive: no buffer, bad length */
	uint64_t tx_dropped; /* frames lost on transmit: queue full, too long, device error */
};

struct mist_netdev_ops {
	/* Moves up to `max` received frames into bufs[]; returns how many. */
	unsigned (*rx_burst)(struct mist_netdev *dev, struct mist_buf **bufs, unsigned max);
	/*
	 * Queues one frame. Takes ownership of the chain on every path.
	 * Returns 0, or MIST_EAGAIN when the queue is full and MIST_EMSGSIZE
	 * when the frame is longer than mtu + the Ethernet header (both
	 * counted in tx_dropped).
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
	uint32_t offloads; /* none defined yet */
	struct mist_netdev_stats stats;
};

/* Length of an Ethernet II header, which frames carry in front of mtu bytes. */
#define MIST_ETHER_HDR_LEN 14

#endif
