/*
 * UDP check, checksum, parse and emit (see udp.h). No sockets and no port
 * table: those live in the net layer. Freestanding: wire/checksum.h.
 */
#include "wire/udp.h"

#include "mist/mist.h"
#include "wire/checksum.h"

int mist_udp_check(const uint8_t *p, size_t len)
{
	if (len < MIST_UDP_HDR_LEN)
		return MIST_ERANGE;
	uint16_t length = mist_udp_length(p);
	if (length < MIST_UDP_HDR_LEN)
		return MIST_EINVAL;
	if (length > len)
		return MIST_ERANGE;
	return 0;
}

/* Returns the partial sum of the pseudo-header and the 8-byte header at `p`. */
static uint32_t header_sum(const uint8_t *p, struct mist_ipv4_addr src, struct mist_ipv4_addr dst)
{
	uint32_t sum = mist_csum_pseudo_ipv4(src.b, dst.b, MIST_IP_PROTO_UDP, mist_udp_length(p));

	return mist_csum_partial(p, MIST_UDP_HDR_LEN, sum);
}

bool mist_udp_verify_checksum(const uint8_t *p, struct mist_ipv4_addr src,
                              struct mist_ipv4_addr dst)
{
	if (mist_udp_checksum(p) == MIST_UDP_CHECKSUM_NONE)
		return true;
	uint32_t sum = header_sum(p, src, dst);
	sum = mist_csum_partial(mist_udp_payload(p), mist_udp_payload_len(p), sum);
	return mist_csum_fold(sum) == 0;
}

void mist_udp_fill_checksum(uint8_t *p, struct mist_ipv4_addr src, struct mist_ipv4_addr dst,
                            uint32_t payload_sum)
{
	mist_udp_set_checksum(p, 0);
	uint16_t check = mist_csum_fold(mist_csum_add(header_sum(p, src, dst), payload_sum, 0));
	mist_udp_set_checksum(p, check == 0 ? MIST_UDP_CHECKSUM_ZERO : check);
}

int mist_udp_parse(const uint8_t *p, size_t len, struct mist_udp_repr *r)
{
	int err = mist_udp_check(p, len);

	if (err != 0)
		return err;
	r->src_port = mist_udp_src_port(p);
	r->dst_port = mist_udp_dst_port(p);
	r->payload_len = (uint16_t)mist_udp_payload_len(p);
	return 0;
}

int mist_udp_emit(const struct mist_udp_repr *r, uint8_t *p, size_t len)
{
	if (len < MIST_UDP_HDR_LEN)
		return MIST_ERANGE;
	if (r->payload_len > MIST_UDP_MAX_PAYLOAD)
		return MIST_EMSGSIZE;
	mist_udp_set_src_port(p, r->src_port);
	mist_udp_set_dst_port(p, r->dst_port);
	mist_udp_set_length(p, (uint16_t)(MIST_UDP_HDR_LEN + r->payload_len));
	mist_udp_set_checksum(p, MIST_UDP_CHECKSUM_NONE);
	return 0;
}
