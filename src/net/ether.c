/*
 * Ethernet II: demultiplexing received frames by EtherType, and framing
 * outgoing packets. Frames not addressed to us (our MAC or broadcast) are
 * dropped and counted; so are 802.1Q-tagged frames, as VLANs are not
 * supported.
 */
#include "wire/ether.h"
#include "base/str.h"
#include "net/stack.h"

void net_ether_input(struct mist_stack *s, struct mist_buf *frame)
{
	struct net_ether_stats *st = &s->stats.ether;

	st->rx++;
	int err = mist_ether_check(frame->data, frame->len);
	if (err != 0) {
		/* Not short, then an 802.3 frame with a length where the type should be. */
		if (err == MIST_ERANGE)
			st->drop_short++;
		else
			st->drop_unknown_type++;
		goto drop;
	}
	struct mist_ether_addr dst = mist_ether_dst(frame->data);
	if (!mist_ether_addr_eq(dst, s->mac) && !mist_ether_addr_is_broadcast(dst)) {
		st->drop_not_for_us++;
		goto drop;
	}
	uint16_t type = mist_ether_type(frame->data);
	mist_buf_pull(frame, MIST_ETHER_HDR_LEN);
	switch (type) {
	case MIST_ETHERTYPE_ARP:
		net_arp_input(s, frame);
		return;
	case MIST_ETHERTYPE_IPV4:
		net_ipv4_input(s, frame);
		return;
	case MIST_ETHERTYPE_VLAN:
	case MIST_ETHERTYPE_QINQ:
		st->drop_vlan++;
		goto drop;
	default:
		st->drop_unknown_type++;
		goto drop;
	}
drop:
	mist_buf_free_chain(frame);
}

void net_ether_send(struct mist_stack *s, struct mist_ether_addr dst, uint16_t ethertype,
                    struct mist_buf *packet)
{
	uint8_t *h = net_prepend(s, &packet, MIST_ETHER_HDR_LEN);
	if (h == NULL) {
		s->stats.ether.drop_no_buffer++;
		mist_buf_free_chain(packet);
		return;
	}
	mist_ether_set_dst(h, dst);
	mist_ether_set_src(h, s->mac);
	mist_ether_set_type(h, ethertype);
	s->stats.ether.tx++;
	if (s->dev->ops->tx(s->dev, packet) != 0)
		s->stats.ether.drop_tx_device++;
}

void net_ether_output_ipv4(struct mist_stack *s, struct mist_ipv4_addr next_hop,
                           struct mist_buf *packet)
{
	struct mist_ether_addr mac;

	if (net_ipv4_is_broadcast(s, next_hop)) {
		net_ether_send(s, MIST_ETHER_BROADCAST, MIST_ETHERTYPE_IPV4, packet);
		return;
	}
	if (net_arp_lookup(s, next_hop, &mac)) {
		net_ether_send(s, mac, MIST_ETHERTYPE_IPV4, packet);
		return;
	}
	net_arp_resolve(s, next_hop, packet);
}
