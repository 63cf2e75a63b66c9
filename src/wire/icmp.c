/*
 * ICMPv4 check, checksum, parse and emit (see icmp.h). No policy: echo
 * replies, error generation and rate limiting belong to the net layer.
 * Freestanding: wire/checksum.h and wire/ipv4.h.
 */
#include "wire/icmp.h"

#include "mist/mist.h"
#include "wire/checksum.h"
#include "wire/ipv4.h"

/* True for the types that struct mist_icmp_repr describes. */
static bool type_has_repr(uint8_t type)
{
	return type == MIST_ICMP_ECHO_REQUEST || type == MIST_ICMP_ECHO_REPLY ||
	       type == MIST_ICMP_DEST_UNREACH || type == MIST_ICMP_TIME_EXCEEDED;
}

int mist_icmp_check(const uint8_t *p, size_t len)
{
	if (len < MIST_ICMP_HDR_LEN)
		return MIST_ERANGE;
	if (!mist_icmp_type_is_error(mist_icmp_type(p)))
		return 0;

	/*
	 * The original datagram may be cut short anywhere past its first 8
	 * payload bytes, so only its header is checked, not its total length.
	 */
	const uint8_t *orig = mist_icmp_data(p);
	size_t orig_len = len - MIST_ICMP_HDR_LEN;
	if (orig_len < MIST_IPV4_HDR_MIN)
		return MIST_ERANGE;
	size_t orig_header_len = mist_ipv4_header_len(orig);
	if (mist_ipv4_version(orig) != MIST_IPV4_VERSION || orig_header_len < MIST_IPV4_HDR_MIN)
		return MIST_EINVAL;
	if (orig_len < orig_header_len + MIST_ICMP_ORIG_PAYLOAD)
		return MIST_ERANGE;
	return 0;
}

bool mist_icmp_verify_checksum(const uint8_t *p, size_t len)
{
	return mist_csum(p, len) == 0;
}

void mist_icmp_fill_checksum(uint8_t *p, size_t len)
{
	mist_icmp_set_checksum(p, 0);
	mist_icmp_set_checksum(p, mist_csum(p, len));
}

int mist_icmp_parse(const uint8_t *p, size_t len, struct mist_icmp_repr *r)
{
	int err = mist_icmp_check(p, len);

	if (err != 0)
		return err;
	if (!type_has_repr(mist_icmp_type(p)))
		return MIST_ENOTSUP;
	r->type = mist_icmp_type(p);
	r->code = mist_icmp_code(p);
	r->ident = 0;
	r->seq = 0;
	r->next_hop_mtu = 0;
	r->data_len = len - MIST_ICMP_HDR_LEN;
	switch (r->type) {
	case MIST_ICMP_ECHO_REQUEST:
	case MIST_ICMP_ECHO_REPLY:
		r->ident = mist_icmp_ident(p);
		r->seq = mist_icmp_seq(p);
		break;
	case MIST_ICMP_DEST_UNREACH:
		if (r->code == MIST_ICMP_UNREACH_FRAG_NEEDED)
			r->next_hop_mtu = mist_icmp_next_hop_mtu(p);
		break;
	default:
		break;
	}
	return 0;
}

int mist_icmp_emit(const struct mist_icmp_repr *r, uint8_t *p, size_t len)
{
	if (len < MIST_ICMP_HDR_LEN || len - MIST_ICMP_HDR_LEN < r->data_len)
		return MIST_ERANGE;
	if (!type_has_repr(r->type))
		return MIST_EINVAL;
	/* The 4 bytes after the checksum are zero unless the type gives them a meaning. */
	mist_icmp_set_rest(p, 0);
	switch (r->type) {
	case MIST_ICMP_ECHO_REQUEST:
	case MIST_ICMP_ECHO_REPLY:
		mist_icmp_set_ident(p, r->ident);
		mist_icmp_set_seq(p, r->seq);
		break;
	case MIST_ICMP_DEST_UNREACH:
		if (r->code == MIST_ICMP_UNREACH_FRAG_NEEDED)
			mist_icmp_set_next_hop_mtu(p, r->next_hop_mtu);
		break;
	default:
		break;
	}
	mist_icmp_set_type(p, r->type);
	mist_icmp_set_code(p, r->code);
	mist_icmp_fill_checksum(p, mist_icmp_repr_len(r));
	return 0;
}
