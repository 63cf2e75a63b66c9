/*
 * IPv4 header check, checksum, parse and emit (see ipv4.h). The check is the
 * one place where a received header's lengths are validated; everything
 * after it trusts them. It is not the IP input path: the net layer decides
 * about addresses, fragments and protocols. Freestanding: wire/checksum.h.
 */
#include "wire/ipv4.h"

#include "mist/mist.h"
#include "wire/checksum.h"

/*
 * Walks the options in `opt[0..len)` (RFC 791 section 3.1): EOL ends the
 * list and the rest is padding; NOP is one byte; every other option has a
 * length byte that counts the type and length bytes too, so it is at least 2,
 * and the option must end inside the header. Returns 0 or MIST_EINVAL.
 */
static int check_options(const uint8_t *opt, size_t len)
{
	size_t i = 0;

	while (i < len) {
		uint8_t type = opt[i];

		if (type == MIST_IPV4_OPT_EOL)
			return 0;
		if (type == MIST_IPV4_OPT_NOP) {
			i++;
			continue;
		}
		if (len - i < MIST_IPV4_OPT_MIN_LEN)
			return MIST_EINVAL;
		uint8_t opt_len = opt[i + 1];
		if (opt_len < MIST_IPV4_OPT_MIN_LEN || opt_len > len - i)
			return MIST_EINVAL;
		i += opt_len;
	}
	return 0;
}

int mist_ipv4_check(const uint8_t *p, size_t len)
{
	if (len < MIST_IPV4_HDR_MIN)
		return MIST_ERANGE;
	if (mist_ipv4_version(p) != MIST_IPV4_VERSION)
		return MIST_EINVAL;
	size_t header_len = mist_ipv4_header_len(p);
	if (header_len < MIST_IPV4_HDR_MIN)
		return MIST_EINVAL;
	if (header_len > len)
		return MIST_ERANGE;
	size_t total_len = mist_ipv4_total_len(p);
	if (total_len < header_len)
		return MIST_EINVAL;
	if (total_len > len)
		return MIST_ERANGE;
	/*
	 * RFC 791 section 3.2 bounds a datagram at 65535 bytes; a fragment that
	 * would end past that (the "ping of death") can never be reassembled.
	 */
	if ((size_t)mist_ipv4_frag_offset(p) + (total_len - header_len) > MIST_IPV4_MAX_LEN)
		return MIST_EINVAL;
	return check_options(mist_ipv4_options(p), header_len - MIST_IPV4_HDR_MIN);
}

bool mist_ipv4_verify_checksum(const uint8_t *p)
{
	return mist_csum(p, mist_ipv4_header_len(p)) == 0;
}

void mist_ipv4_fill_checksum(uint8_t *p)
{
	mist_ipv4_set_checksum(p, 0);
	mist_ipv4_set_checksum(p, mist_csum(p, mist_ipv4_header_len(p)));
}

uint8_t mist_ipv4_decrement_ttl(uint8_t *p)
{
	/* TTL and protocol share one 16-bit word of the checksum (RFC 1624 section 4). */
	uint16_t old_word = mist_load_be16(p + MIST_IPV4_OFF_TTL);
	uint8_t ttl = (uint8_t)(mist_ipv4_ttl(p) - 1);

	mist_ipv4_set_ttl(p, ttl);
	mist_ipv4_set_checksum(p, mist_csum_update16(mist_ipv4_checksum(p), old_word,
	                                             mist_load_be16(p + MIST_IPV4_OFF_TTL)));
	return ttl;
}

int mist_ipv4_parse(const uint8_t *p, size_t len, struct mist_ipv4_repr *r)
{
	int err = mist_ipv4_check(p, len);

	if (err != 0)
		return err;
	r->src = mist_ipv4_src(p);
	r->dst = mist_ipv4_dst(p);
	r->protocol = mist_ipv4_protocol(p);
	r->ttl = mist_ipv4_ttl(p);
	r->tos = mist_ipv4_tos(p);
	r->ident = mist_ipv4_ident(p);
	r->dont_frag = mist_ipv4_dont_frag(p);
	r->more_frags = mist_ipv4_more_frags(p);
	r->frag_offset = mist_ipv4_frag_offset(p);
	r->payload_len = (uint16_t)mist_ipv4_payload_len(p);
	return 0;
}

int mist_ipv4_emit(const struct mist_ipv4_repr *r, uint8_t *p, size_t len)
{
	if (len < MIST_IPV4_HDR_MIN)
		return MIST_ERANGE;
	if (r->payload_len > MIST_IPV4_MAX_LEN - MIST_IPV4_HDR_MIN)
		return MIST_EMSGSIZE;
	if (r->frag_offset % MIST_IPV4_FRAG_UNIT != 0 ||
	    (size_t)r->frag_offset + r->payload_len > MIST_IPV4_MAX_LEN)
		return MIST_EINVAL;
	mist_ipv4_set_version_header_len(p, MIST_IPV4_HDR_MIN);
	mist_ipv4_set_tos(p, r->tos);
	mist_ipv4_set_total_len(p, (uint16_t)(MIST_IPV4_HDR_MIN + r->payload_len));
	mist_ipv4_set_ident(p, r->ident);
	mist_ipv4_set_frag(p, r->dont_frag, r->more_frags, r->frag_offset);
	mist_ipv4_set_ttl(p, r->ttl);
	mist_ipv4_set_protocol(p, r->protocol);
	mist_ipv4_set_src(p, r->src);
	mist_ipv4_set_dst(p, r->dst);
	mist_ipv4_fill_checksum(p);
	return 0;
}
