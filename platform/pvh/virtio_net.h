/*
 * The pvh platform's network device: a virtio-net device (virtio 1.x, §5.1)
 * on the virtio-mmio or the modern virtio-pci transport, as a struct
 * mist_netdev (core/netdev.h). Received frames land directly in rx_pool
 * buffers, which become the stack's; transmitted chains are handed to the
 * device as they are. It negotiates the checksum and TCPv4 segmentation
 * offloads both ways when the device offers them (announced in the
 * netdev's `offloads`), no control queue and a single queue pair.
 */
#ifndef MIST_PLATFORM_PVH_VIRTIO_NET_H
#define MIST_PLATFORM_PVH_VIRTIO_NET_H

struct mist_args;
struct mist_netdev;
struct mist_pool;

/*
 * Finds the first virtio-net device (the virtio-mmio windows of the command
 * line first, then PCI bus 0), initialises it and stores in *out a
 * mist_netdev receiving into `rx_pool`, whose buffers need at least 12
 * bytes of headroom (the virtio-net header is received there) and should
 * hold a 1514-byte frame after it (§5.1.6.3.1); longer frames are dropped
 * by the device. TCP super-frames (GUEST_TSO4) arrive in buffers of a pool
 * of the driver's, netdev->rx_large_pool (8.4 MiB), when there is memory
 * for it.
 *
 * The MAC address is --mac when given: the device is then not asked for its
 * own (VIRTIO_NET_F_MAC is left unnegotiated, which §5.1.4.2 allows), and
 * it receives for any address since this driver enables no filtering.
 * Otherwise it is the device's (VIRTIO_NET_F_MAC), or a random locally
 * administered one. The MTU is the device's (VIRTIO_NET_F_MTU) or 1500,
 * never more than an rx_pool buffer holds.
 *
 * Returns 0; MIST_ENOENT when there is no virtio-net device, so the program
 * runs without a network; MIST_EINVAL when rx_pool's headroom is too small;
 * or MIST_ENOMEM, MIST_EIO, MIST_ENOTSUP after logging why.
 */
int pvh_virtio_net_open(const struct mist_args *args, struct mist_pool *rx_pool,
                        struct mist_netdev **out);

#endif
