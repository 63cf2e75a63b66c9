/*
 * ICMP for IPv4 (RFC 792) as a host (RFC 1122 3.2.2): echo replies, errors
 * received passed to the transport they concern, and errors sent about
 * datagrams we cannot deliver, within the rules of RFC 1122 3.2.2 and a rate
 * limit (a token bucket, RFC 1812 4.3.2.8) so that a flood of bad traffic
 * cannot turn the stack into an amplifier.
 */
#include "wire/icmp.h"
#include "base/compiler.h"
#include "base/str.h"
#include "net/stack.h"
#include "wire/ipv4.h"
#include "wire/udp.h"

#define ICMP_ERRORS_PER_SEC 100

/* Replies in the request's own buffer: same data, type changed, checksum redone. */
static void icmp_echo_reply(struct mist_stack *s, const struct net_ip_in *ip, struct mist_buf *msg)
{
	if (ip->to_broadcast) {
		/* RFC 1122 3.2.2.6 allows silently ignoring these; doing so stops smurf attacks. */
		s->stats.icmp.drop_broadcast_echo++;
		mist_buf_free_chain(msg);
		return;
	}
	mist_icmp_set_type(msg->data, MIST_ICMP_ECHO_REPLY);
	mist_icmp_set_code(msg->data, 0);
	mist_icmp_fill_checksum(msg->data, msg->len);
	s->stats.icmp.tx_echo_reply++;
	net_ipv4_output(s, ip->repr.src, MIST_IP_PROTO_ICMP, msg, false);
}

/* RFC 1122 3.2.2.1 and 4.1.3.3: map an error to what the transport reports. */
static int icmp_error_code(uint8_t type, uint8_t code)
{
	if (type == MIST_ICMP_DEST_UNREACH) {
		if (code == MIST_ICMP_UNREACH_PORT || code == MIST_ICMP_UNREACH_PROTOCOL)
			return MIST_ECONNREFUSED;
		if (code == MIST_ICMP_UNREACH_FRAG_NEEDED)
			return MIST_EMSGSIZE;
	}
	return MIST_EHOSTUNREACH;
}

/*
 * RFC 1191 7, table 7-1: the MTU plateaus, largest first, from which a host
 * guesses when a router does not say (the first, 65535, is below no total
 * length and is left out).
 */
static const uint16_t icmp_mtu_plateaus[] = {32000, 17914, 8166, 4352, 2002,
                                             1492,  1006,  508,  296,  68};

/*
 * The path MTU a "fragmentation needed" message tells: RFC 1191 4, the
 * next hop's MTU in the low 16 bits of the second word; when that is 0, the
 * router predates RFC 1191 and RFC 1191 5 takes the largest plateau below
 * the quoted datagram's total length, 68 (RFC 791's minimum) at the least.
 */
static uint16_t icmp_frag_needed_mtu(const uint8_t *msg, const uint8_t *orig)
{
	uint16_t mtu = mist_icmp_next_hop_mtu(msg);
	if (mtu != 0)
		return mtu;
	uint16_t total = mist_ipv4_total_len(orig);
	for (size_t i = 0; i < MIST_ARRAY_SIZE(icmp_mtu_plateaus); i++)
		if (icmp_mtu_plateaus[i] < total)
			return icmp_mtu_plateaus[i];
	return 68;
}

/* Passes an error to the transport that sent the quoted datagram. */
static void icmp_error_input(struct mist_stack *s, const uint8_t *msg)
{
	const uint8_t *orig = mist_icmp_data(msg);
	size_t orig_header = mist_ipv4_header_len(orig);
	uint8_t type = mist_icmp_type(msg), code = mist_icmp_code(msg);

	/* Only datagrams we sent concern us. */
	if (!mist_ipv4_addr_eq(mist_ipv4_src(orig), s->ip)) {
		s->stats.icmp.drop_malformed++;
		return;
	}
	s->stats.icmp.rx_error++;
	if (mist_ipv4_protocol(orig) == MIST_IP_PROTO_UDP) {
		/* mist_icmp_check() guaranteed 8 bytes after the quoted header: both ports. */
		net_udp_icmp_error(s, mist_udp_src_port(orig + orig_header),
		                   icmp_error_code(type, code));
	} else if (mist_ipv4_protocol(orig) == MIST_IP_PROTO_TCP) {
		bool frag_needed =
		        type == MIST_ICMP_DEST_UNREACH && code == MIST_ICMP_UNREACH_FRAG_NEEDED;
		net_tcp_icmp_error(s, orig, (uint32_t)orig_header + MIST_ICMP_ORIG_PAYLOAD,
		                   icmp_error_code(type, code),
		                   frag_needed ? icmp_frag_needed_mtu(msg, orig) : 0);
	}
}

void net_icmp_input(struct mist_stack *s, const struct net_ip_in *ip, struct mist_buf *msg)
{
	struct net_icmp_stats *st = &s->stats.icmp;

	st->rx++;
	if (mist_icmp_check(msg->data, msg->len) != 0) {
		st->drop_malformed++;
		goto drop;
	}
	if (!mist_icmp_verify_checksum(msg->data, msg->len)) {
		st->drop_bad_checksum++;
		goto drop;
	}
	uint8_t type = mist_icmp_type(msg->data);
	if (type == MIST_ICMP_ECHO_REQUEST) {
		icmp_echo_reply(s, ip, msg);
		return;
	}
	if (type == MIST_ICMP_DEST_UNREACH || type == MIST_ICMP_TIME_EXCEEDED ||
	    type == MIST_ICMP_PARAM_PROBLEM) {
		icmp_error_input(s, msg->data);
		goto drop;
	}
	st->drop_unhandled++;
drop:
	mist_buf_free_chain(msg);
}

/* Takes a token from the bucket, refilled at ICMP_ERRORS_PER_SEC. */
static bool icmp_rate_allows(struct mist_stack *s)
{
	struct icmp_limiter *l = &s->icmp_limit;
	uint64_t now = mist_now();
	uint64_t refill = (now - l->last_refill) * ICMP_ERRORS_PER_SEC / MIST_SEC;
	if (refill > 0) {
		l->tokens = (uint32_t)MIST_MIN(l->tokens + refill, (uint64_t)NET_ICMP_ERROR_BURST);
		l->last_refill = now;
	}
	if (l->tokens == 0)
		return false;
	l->tokens--;
	return true;
}

void net_icmp_error(struct mist_stack *s, const struct net_ip_in *ip, const uint8_t *payload,
                    uint32_t payload_len, uint8_t type, uint8_t code)
{
	struct net_icmp_stats *st = &s->stats.icmp;
	struct mist_ipv4_addr src = ip->repr.src;

	/*
	 * RFC 1122 3.2.2: never about an ICMP error, a datagram sent to a
	 * broadcast or multicast address, a fragment other than the first, or
	 * one whose source is not a single host.
	 */
	bool about_error = ip->repr.protocol == MIST_IP_PROTO_ICMP &&
	                   (payload_len < 1 || mist_icmp_type_is_error(payload[0]));
	if (about_error || ip->to_broadcast || mist_ipv4_addr_is_multicast(ip->repr.dst) ||
	    ip->repr.frag_offset != 0 || mist_ipv4_addr_is_unspecified(src) ||
	    net_ipv4_is_broadcast(s, src) || mist_ipv4_addr_is_multicast(src)) {
		st->error_suppressed++;
		return;
	}
	if (!icmp_rate_allows(s)) {
		st->error_rate_limited++;
		return;
	}
	/* RFC 792: the original header and the first 64 bits of its data. */
	uint32_t quoted = MIST_MIN(payload_len, (uint32_t)MIST_ICMP_ORIG_PAYLOAD);
	uint32_t len = MIST_ICMP_HDR_LEN + ip->header_len + quoted;
	struct mist_buf *b = mist_buf_alloc(s->tx_pool, len);
	if (b == NULL) {
		s->stats.icmp.drop_no_buffer++;
		return;
	}
	mist_memcpy(b->data + MIST_ICMP_HDR_LEN, ip->header, ip->header_len);
	mist_memcpy(b->data + MIST_ICMP_HDR_LEN + ip->header_len, payload, quoted);
	struct mist_icmp_repr r = {.type = type, .code = code, .data_len = len - MIST_ICMP_HDR_LEN};
	mist_icmp_emit(&r, b->data, b->len);
	st->tx_error++;
	net_ipv4_output(s, src, MIST_IP_PROTO_ICMP, b, false);
}
