/*
 * IPv4 (RFC 791) as a host: the input checks of RFC 1122 3.2.1, delivery to
 * ICMP and UDP, routing (on-link or through the gateway) and fragmentation of
 * outgoing datagrams. Reassembly is in reass.c. Mist does not forward.
 */
#include "wire/ipv4.h"
#include "base/str.h"
#include "net/stack.h"
#include "wire/icmp.h"

bool net_ipv4_is_broadcast(const struct mist_stack *s, struct mist_ipv4_addr a)
{
	return mist_ipv4_addr_is_broadcast(a) ||
	       mist_ipv4_addr_is_subnet_broadcast(a, s->ip, s->prefix);
}

/*
 * Hands a whole datagram (header included, at packet->data, trimmed to its
 * total length) to its protocol.
 */
static void ipv4_deliver(struct mist_stack *s, struct mist_buf *packet)
{
	struct net_ip_in in;

	/* The header was checked before, or rebuilt by reassembly: this cannot fail. */
	mist_ipv4_parse(packet->data, packet->len, &in.repr);
	in.header = packet->data;
	in.header_len = (uint8_t)mist_ipv4_header_len(packet->data);
	in.to_broadcast = net_ipv4_is_broadcast(s, in.repr.dst);
	mist_buf_pull(packet, in.header_len);

	switch (in.repr.protocol) {
	case MIST_IP_PROTO_ICMP:
		s->stats.ipv4.delivered++;
		net_icmp_input(s, &in, packet);
		return;
	case MIST_IP_PROTO_UDP:
		s->stats.ipv4.delivered++;
		net_udp_input(s, &in, packet);
		return;
	case MIST_IP_PROTO_TCP:
		s->stats.ipv4.delivered++;
		net_tcp_input(s, &in, packet);
		return;
	default:
		/* RFC 1122 3.2.2.1: a host should report an unknown protocol. */
		s->stats.ipv4.drop_unknown_protocol++;
		net_icmp_error(s, &in, packet->data, packet->len, MIST_ICMP_DEST_UNREACH,
		               MIST_ICMP_UNREACH_PROTOCOL);
		mist_buf_free_chain(packet);
		return;
	}
}

void net_ipv4_input(struct mist_stack *s, struct mist_buf *packet)
{
	struct net_ipv4_stats *st = &s->stats.ipv4;
	const uint8_t *p = packet->data;

	st->rx++;
	if (packet->len >= 1 && mist_ipv4_version(p) != MIST_IPV4_VERSION) {
		st->drop_bad_version++;
		goto drop;
	}
	int err = mist_ipv4_check(p, packet->len);
	if (err == MIST_ERANGE) {
		st->drop_truncated++;
		goto drop;
	}
	if (err != 0) {
		st->drop_bad_header++;
		goto drop;
	}
	if (!mist_ipv4_verify_checksum(p)) {
		st->drop_bad_checksum++;
		goto drop;
	}
	struct mist_ipv4_addr src = mist_ipv4_src(p), dst = mist_ipv4_dst(p);
	/* RFC 1122 3.2.1.3: these can never be a datagram's source. */
	if (mist_ipv4_addr_is_broadcast(src) || mist_ipv4_addr_is_multicast(src) ||
	    mist_ipv4_addr_is_loopback(src) ||
	    (mist_ipv4_addr_is_zero_net(src) && !mist_ipv4_addr_is_unspecified(src)) ||
	    mist_ipv4_addr_is_subnet_broadcast(src, s->ip, s->prefix)) {
		st->drop_bad_source++;
		goto drop;
	}
	if (!mist_ipv4_addr_eq(dst, s->ip) && !net_ipv4_is_broadcast(s, dst)) {
		st->drop_not_for_us++;
		goto drop;
	}
	if (mist_ipv4_ttl(p) == 0) {
		st->drop_ttl_zero++;
		goto drop;
	}
	/* Ethernet pads short frames: the datagram ends where its total length says. */
	mist_buf_trim(packet, mist_ipv4_total_len(p));
	if (mist_ipv4_is_fragment(p)) {
		st->frag_rx++;
		packet = net_reass_input(s, packet);
		if (packet == NULL)
			return;
		st->reassembled++;
	}
	ipv4_deliver(s, packet);
	return;
drop:
	mist_buf_free_chain(packet);
}

struct mist_buf *net_chain_slice(struct mist_buf *chain, uint32_t off, uint32_t len)
{
	struct mist_buf *head = NULL, **tail = &head;
	for (struct mist_buf *b = chain; b != NULL && len > 0; b = b->next) {
		if (off >= b->len) {
			off -= b->len;
			continue;
		}
		uint32_t n = b->len - off < len ? b->len - off : len;
		struct mist_buf *v = mist_buf_slice(b, off, n);
		if (v == NULL) {
			mist_buf_free_chain(head);
			return NULL;
		}
		*tail = v;
		tail = &v->next;
		off = 0;
		len -= n;
	}
	return head;
}

static int ipv4_send_one(struct mist_stack *s, struct mist_ipv4_addr next_hop,
                         const struct mist_ipv4_repr *r, struct mist_buf *payload)
{
	uint8_t *h = net_prepend(s, &payload, MIST_IPV4_HDR_MIN);
	if (h == NULL) {
		s->stats.ipv4.drop_no_buffer++;
		mist_buf_free_chain(payload);
		return MIST_ENOMEM;
	}
	mist_ipv4_emit(r, h, MIST_IPV4_HDR_MIN);
	net_ether_output_ipv4(s, next_hop, payload);
	return 0;
}

int net_ipv4_output(struct mist_stack *s, struct mist_ipv4_addr dst, uint8_t protocol,
                    struct mist_buf *payload, bool dont_frag)
{
	struct net_ipv4_stats *st = &s->stats.ipv4;
	size_t len = mist_buf_chain_len(payload);
	int err = 0;

	/* Routing: on-link destinations directly, everything else through the gateway. */
	struct mist_ipv4_addr next_hop = dst;
	if (!mist_ipv4_addr_in_subnet(dst, s->ip, s->prefix) && !mist_ipv4_addr_is_broadcast(dst)) {
		if (!s->has_gateway) {
			st->drop_no_route++;
			err = MIST_EHOSTUNREACH;
			goto drop;
		}
		next_hop = s->gateway;
	}
	if (len > MIST_IPV4_MAX_LEN - MIST_IPV4_HDR_MIN) {
		err = MIST_EMSGSIZE;
		st->drop_too_big_df++;
		goto drop;
	}
	struct mist_ipv4_repr r = {
	        .src = s->ip,
	        .dst = dst,
	        .protocol = protocol,
	        .ttl = MIST_IPV4_DEFAULT_TTL,
	        .ident = s->ip_ident++,
	        .dont_frag = dont_frag,
	        .payload_len = (uint16_t)len,
	};
	st->tx++;
	/* A TCP super-segment goes whole: the device cuts it into segments that fit (core/netdev.h). */
	if (len + MIST_IPV4_HDR_MIN <= s->mtu || (payload->flags & MIST_BUF_F_GSO_TCP4))
		return ipv4_send_one(s, next_hop, &r, payload);
	if (dont_frag) {
		st->drop_too_big_df++;
		err = MIST_EMSGSIZE;
		goto drop;
	}

	/* RFC 791 "Fragmentation": every fragment but the last carries a multiple of 8 bytes. */
	uint32_t per_frag =
	        (uint32_t)(s->mtu - MIST_IPV4_HDR_MIN) & ~(uint32_t)(MIST_IPV4_FRAG_UNIT - 1);
	for (uint32_t off = 0; off < len; off += per_frag) {
		uint32_t n = len - off < per_frag ? (uint32_t)len - off : per_frag;
		struct mist_buf *frag = net_chain_slice(payload, off, n);
		if (frag == NULL) {
			st->drop_no_buffer++;
			err = MIST_ENOMEM;
			break;
		}
		r.frag_offset = (uint16_t)off;
		r.more_frags = off + n < len;
		r.payload_len = (uint16_t)n;
		st->frag_tx++;
		err = ipv4_send_one(s, next_hop, &r, frag);
		if (err != 0)
			break;
	}
drop:
	mist_buf_free_chain(payload);
	return err;
}
