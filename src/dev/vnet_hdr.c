/*
 * The virtio-net header of offloaded frames; see dev/vnet_hdr.h.
 */
#include "dev/vnet_hdr.h"
#include "core/netdev.h"
#include "mist/buf.h"
#include "wire/ether.h"
#include "wire/ipv4.h"
#include "wire/tcp.h"

/* The offset of the TCP header of an IPv4 TCP frame in its first view, or 0. */
static uint32_t vnet_tcp_offset(const struct mist_buf *frame)
{
	const uint8_t *ip = frame->data + MIST_ETHER_HDR_LEN;
	if (frame->len < MIST_ETHER_HDR_LEN + MIST_IPV4_HDR_MIN ||
	    mist_ether_type(frame->data) != MIST_ETHERTYPE_IPV4 ||
	    mist_ipv4_version(ip) != MIST_IPV4_VERSION ||
	    mist_ipv4_header_len(ip) < MIST_IPV4_HDR_MIN ||
	    mist_ipv4_protocol(ip) != MIST_IP_PROTO_TCP)
		return 0;
	uint32_t tcp = MIST_ETHER_HDR_LEN + (uint32_t)mist_ipv4_header_len(ip);
	if (frame->len < tcp + MIST_TCP_HDR_MIN ||
	    mist_tcp_check(frame->data + tcp, frame->len - tcp) != 0)
		return 0;
	return tcp;
}

bool mist_vnet_offload_ok(const struct mist_buf *frame, uint32_t offloads)
{
	uint32_t flags = frame->flags;
	if (!(flags & (MIST_BUF_F_CSUM_PARTIAL | MIST_BUF_F_GSO_TCP4)))
		return true;
	/* 5.1.6.2.1: segmentation only with HOST_TSO4, and with NEEDS_CSUM too. */
	uint32_t need = MIST_NETDEV_OFF_TX_CSUM;
	if (flags & MIST_BUF_F_GSO_TCP4) {
		need |= MIST_NETDEV_OFF_TX_TSO4;
		if (mist_buf_gso_size(flags) == 0)
			return false;
	}
	return (offloads & need) == need && (flags & MIST_BUF_F_CSUM_PARTIAL) &&
	       vnet_tcp_offset(frame) != 0;
}

void mist_vnet_hdr_fill(struct mist_vnet_hdr *h, const struct mist_buf *frame)
{
	*h = (struct mist_vnet_hdr){0};
	if (!(frame->flags & MIST_BUF_F_CSUM_PARTIAL))
		return;
	/*
	 * 5.1.6.2: the device sums from csum_start to the end and stores the sum
	 * at csum_start + csum_offset, the field holding the pseudo-header sum;
	 * with GSO_TCPV4 it cuts the payload behind hdr_len header bytes into
	 * gso_size pieces.
	 */
	uint32_t tcp = vnet_tcp_offset(frame);
	h->flags = MIST_VNET_F_NEEDS_CSUM;
	h->csum_start = (uint16_t)tcp;
	h->csum_offset = MIST_TCP_OFF_CHECKSUM;
	if (frame->flags & MIST_BUF_F_GSO_TCP4) {
		h->gso_type = MIST_VNET_GSO_TCPV4;
		h->gso_size = mist_buf_gso_size(frame->flags);
		h->hdr_len = (uint16_t)(tcp + mist_tcp_data_offset(frame->data + tcp));
	}
}

uint32_t mist_vnet_hdr_rx_flags(const struct mist_vnet_hdr *h)
{
	return (h->flags & (MIST_VNET_F_NEEDS_CSUM | MIST_VNET_F_DATA_VALID))
	               ? MIST_BUF_F_CSUM_VALID
	               : 0;
}
