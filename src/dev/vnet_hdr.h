/*
 * The virtio-net header (Virtio 1.2 5.1.6) that carries a frame's offloads
 * between Mist and a device that does them: the TAP with IFF_VNET_HDR
 * (platform/posix/tap.c) and virtio-net (platform/pvh/virtio_net.c). Both
 * fill it from the frame's offload flags (core/netdev.h) on transmit and
 * read the flags back from it on receive, here.
 *
 * This is the header's common part, 10 bytes, little-endian: what the TAP
 * takes (its size set with TUNSETVNETHDRSZ) and what virtio-net puts in
 * front of num_buffers.
 */
#ifndef MIST_DEV_VNET_HDR_H
#define MIST_DEV_VNET_HDR_H

#include <stdbool.h>
#include <stdint.h>

struct mist_buf;

struct mist_vnet_hdr {
	uint8_t flags;        /* MIST_VNET_F_* */
	uint8_t gso_type;     /* MIST_VNET_GSO_* */
	uint16_t hdr_len;     /* header bytes every segment repeats (Ethernet to TCP) */
	uint16_t gso_size;    /* payload bytes of each segment */
	uint16_t csum_start;  /* where the checksummed part starts, from the frame's first byte */
	uint16_t csum_offset; /* where the checksum goes, from csum_start */
};

#define MIST_VNET_HDR_LEN 10u
_Static_assert(sizeof(struct mist_vnet_hdr) == MIST_VNET_HDR_LEN, "Virtio 1.2 5.1.6 layout");

#define MIST_VNET_F_NEEDS_CSUM 1u /* the checksum is partial: csum_start, csum_offset */
#define MIST_VNET_F_DATA_VALID 2u /* the device checked the checksum (receive) */
#define MIST_VNET_GSO_NONE     0u
#define MIST_VNET_GSO_TCPV4    1u

/*
 * Whether a device offering `offloads` (MIST_NETDEV_OFF_*) can do what
 * `frame` asks for: nothing, or checksum completion (and segmentation) of an
 * IPv4 TCP packet whose headers lie in the first view, where the stack
 * builds them.
 */
bool mist_vnet_offload_ok(const struct mist_buf *frame, uint32_t offloads);

/* Fills *h for `frame`, which mist_vnet_offload_ok() accepted (5.1.6.2). */
void mist_vnet_hdr_fill(struct mist_vnet_hdr *h, const struct mist_buf *frame);

/*
 * The buffer flags for a frame received behind *h (5.1.6.4): CSUM_VALID
 * when the host left the checksum partial (the frame never crossed a wire)
 * or checked it.
 */
uint32_t mist_vnet_hdr_rx_flags(const struct mist_vnet_hdr *h);

#endif
