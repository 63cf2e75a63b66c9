/*
 * TCP header check, checksum, option parsing and emit (see tcp.h). The
 * options are read into values and written back in one fixed layout; what
 * they mean for a connection (MSS and window scale only on a SYN, timestamps
 * and SACK only once agreed) is the net layer's business. Freestanding:
 * wire/checksum.h.
 */
#include "wire/tcp.h"

#include "mist/mist.h"
#include "wire/checksum.h"

/* Bytes of each option group that mist_tcp_emit() writes (see tcp.h). */
#define MSS_GROUP_LEN        MIST_TCP_OPT_MSS_LEN
#define TIMESTAMPS_GROUP_LEN (2 + MIST_TCP_OPT_TIMESTAMPS_LEN) /* NOP,NOP or SACKOK first */
#define SACK_PERM_GROUP_LEN  (2 + MIST_TCP_OPT_SACK_PERM_LEN)  /* NOP,NOP,SACKOK */
#define WSCALE_GROUP_LEN     (1 + MIST_TCP_OPT_WSCALE_LEN)     /* NOP,WSCALE */
#define SACK_GROUP_BASE_LEN  (2 + MIST_TCP_OPT_SACK_BASE_LEN)  /* NOP,NOP,SACK header */

/* A timestamp or a SACK block edge: 32 bits. */
#define U32_LEN 4

int mist_tcp_check(const uint8_t *p, size_t len)
{
	if (len < MIST_TCP_HDR_MIN)
		return MIST_ERANGE;
	size_t header_len = mist_tcp_data_offset(p);
	if (header_len < MIST_TCP_HDR_MIN)
		return MIST_EINVAL;
	if (header_len > len)
		return MIST_ERANGE;
	return 0;
}

bool mist_tcp_verify_checksum(const uint8_t *p, size_t len, struct mist_ipv4_addr src,
                              struct mist_ipv4_addr dst)
{
	if (len > UINT16_MAX)
		return false;
	uint32_t sum = mist_csum_pseudo_ipv4(src.b, dst.b, MIST_IP_PROTO_TCP, (uint16_t)len);
	return mist_csum_fold(mist_csum_partial(p, len, sum)) == 0;
}

void mist_tcp_fill_checksum(uint8_t *p, size_t segment_len, struct mist_ipv4_addr src,
                            struct mist_ipv4_addr dst, uint32_t payload_sum)
{
	size_t header_len = mist_tcp_data_offset(p);

	mist_tcp_set_checksum(p, 0);
	/* RFC 9293 section 3.1: the pseudo-header's TCP length counts header and payload. */
	uint32_t sum =
	        mist_csum_pseudo_ipv4(src.b, dst.b, MIST_IP_PROTO_TCP, (uint16_t)segment_len);
	sum = mist_csum_partial(p, header_len, sum);
	/* The header is whole words, so this offset is even; the join is told it all the same. */
	sum = mist_csum_add(sum, payload_sum, header_len);
	mist_tcp_set_checksum(p, mist_csum_fold(sum));
}

void mist_tcp_fill_partial_checksum(uint8_t *p, size_t segment_len, struct mist_ipv4_addr src,
                                    struct mist_ipv4_addr dst)
{
	uint32_t sum =
	        mist_csum_pseudo_ipv4(src.b, dst.b, MIST_IP_PROTO_TCP, (uint16_t)segment_len);
	/* mist_csum_fold() complements; the device wants the sum itself, folded. */
	mist_tcp_set_checksum(p, (uint16_t)~mist_csum_fold(sum));
}

/*
 * Reads one option of a known or unknown kind: `o[0..len)` holds its kind,
 * its length byte (already checked to be at least 2 and inside the header)
 * and its value. Returns 0 or MIST_EINVAL.
 */
static int parse_option(const uint8_t *o, uint8_t len, struct mist_tcp_repr *r)
{
	const uint8_t *value = o + MIST_TCP_OPT_MIN_LEN;

	switch (o[0]) {
	case MIST_TCP_OPT_MSS: /* RFC 9293 section 3.2 */
		if (len != MIST_TCP_OPT_MSS_LEN)
			return MIST_EINVAL;
		r->mss = mist_load_be16(value);
		return 0;
	case MIST_TCP_OPT_WSCALE: /* RFC 7323 section 2.2 */
		if (len != MIST_TCP_OPT_WSCALE_LEN)
			return MIST_EINVAL;
		r->has_wscale = true;
		r->wscale = value[0];
		return 0;
	case MIST_TCP_OPT_SACK_PERM: /* RFC 2018 section 2 */
		if (len != MIST_TCP_OPT_SACK_PERM_LEN)
			return MIST_EINVAL;
		r->sack_permitted = true;
		return 0;
	case MIST_TCP_OPT_TIMESTAMPS: /* RFC 7323 section 3.2 */
		if (len != MIST_TCP_OPT_TIMESTAMPS_LEN)
			return MIST_EINVAL;
		r->has_timestamps = true;
		r->ts_val = mist_load_be32(value);
		r->ts_ecr = mist_load_be32(value + U32_LEN);
		return 0;
	case MIST_TCP_OPT_SACK: /* RFC 2018 section 3: 2 + 8n bytes for n blocks */
		if ((len - MIST_TCP_OPT_SACK_BASE_LEN) % MIST_TCP_SACK_BLOCK_LEN != 0)
			return MIST_EINVAL;
		for (size_t i = MIST_TCP_OPT_SACK_BASE_LEN;
		     i < len && r->sack_count < MIST_TCP_SACK_MAX; i += MIST_TCP_SACK_BLOCK_LEN) {
			r->sack[r->sack_count].start = mist_load_be32(o + i);
			r->sack[r->sack_count].end = mist_load_be32(o + i + U32_LEN);
			r->sack_count++;
		}
		return 0;
	default:
		/* RFC 9293 section 3.1 (MUST-6): ignore an option we do not implement. */
		return 0;
	}
}

/*
 * Walks the options in `opt[0..len)` (RFC 9293 section 3.1): EOL ends the
 * list and the rest is padding; NOP is one byte; every other option has a
 * length byte (MUST-68) that counts the kind and length bytes too. A length
 * below 2 or running past the header is illegal (MUST-7): the segment is
 * refused, for the net layer to drop. Returns 0 or MIST_EINVAL.
 */
static int parse_options(const uint8_t *opt, size_t len, struct mist_tcp_repr *r)
{
	size_t i = 0;

	while (i < len) {
		uint8_t kind = opt[i];

		if (kind == MIST_TCP_OPT_EOL)
			return 0;
		if (kind == MIST_TCP_OPT_NOP) {
			i++;
			continue;
		}
		if (len - i < MIST_TCP_OPT_MIN_LEN)
			return MIST_EINVAL;
		uint8_t opt_len = opt[i + 1];
		if (opt_len < MIST_TCP_OPT_MIN_LEN || opt_len > len - i)
			return MIST_EINVAL;
		int err = parse_option(opt + i, opt_len, r);
		if (err != 0)
			return err;
		i += opt_len;
	}
	return 0;
}

int mist_tcp_parse(const uint8_t *p, size_t len, struct mist_tcp_repr *r)
{
	int err = mist_tcp_check(p, len);

	if (err != 0)
		return err;
	*r = (struct mist_tcp_repr){
	        .src_port = mist_tcp_src_port(p),
	        .dst_port = mist_tcp_dst_port(p),
	        .seq = mist_tcp_seq(p),
	        .ack = mist_tcp_ack(p),
	        .flags = mist_tcp_flags(p),
	        .window = mist_tcp_window(p),
	        .urgent = mist_tcp_urgent(p),
	        .header_len = (uint8_t)mist_tcp_data_offset(p),
	};
	return parse_options(mist_tcp_options(p), mist_tcp_options_len(p), r);
}

size_t mist_tcp_header_len(const struct mist_tcp_repr *r)
{
	size_t len = MIST_TCP_HDR_MIN;

	if (r->mss != 0)
		len += MSS_GROUP_LEN;
	if (r->has_timestamps)
		len += TIMESTAMPS_GROUP_LEN;
	else if (r->sack_permitted)
		len += SACK_PERM_GROUP_LEN;
	if (r->has_wscale)
		len += WSCALE_GROUP_LEN;
	if (r->sack_count > 0)
		len += SACK_GROUP_BASE_LEN + (size_t)r->sack_count * MIST_TCP_SACK_BLOCK_LEN;
	return len;
}

static uint8_t *put_nops(uint8_t *o, size_t count)
{
	for (size_t i = 0; i < count; i++)
		*o++ = MIST_TCP_OPT_NOP;
	return o;
}

/* Writes the kind and length bytes of an option and returns where its value goes. */
static uint8_t *put_kind_len(uint8_t *o, uint8_t kind, uint8_t len)
{
	o[0] = kind;
	o[1] = len;
	return o + MIST_TCP_OPT_MIN_LEN;
}

static uint8_t *put_u32(uint8_t *o, uint32_t v)
{
	mist_store_be32(o, v);
	return o + U32_LEN;
}

static uint8_t *put_sack_perm(uint8_t *o)
{
	return put_kind_len(o, MIST_TCP_OPT_SACK_PERM, MIST_TCP_OPT_SACK_PERM_LEN);
}

static uint8_t *put_timestamps(uint8_t *o, uint32_t ts_val, uint32_t ts_ecr)
{
	o = put_kind_len(o, MIST_TCP_OPT_TIMESTAMPS, MIST_TCP_OPT_TIMESTAMPS_LEN);
	o = put_u32(o, ts_val);
	return put_u32(o, ts_ecr);
}

/* Writes the options of *r in the order and groups that mist_tcp_header_len() counts. */
static void put_options(const struct mist_tcp_repr *r, uint8_t *o)
{
	if (r->mss != 0) {
		o = put_kind_len(o, MIST_TCP_OPT_MSS, MIST_TCP_OPT_MSS_LEN);
		mist_store_be16(o, r->mss);
		o += MIST_TCP_OPT_MSS_LEN - MIST_TCP_OPT_MIN_LEN;
	}
	if (r->has_timestamps) {
		/*
		 * RFC 7323 Appendix A: two bytes in front keep both timestamps
		 * on 4-byte boundaries; SACK-permitted fits there exactly.
		 */
		o = r->sack_permitted ? put_sack_perm(o) : put_nops(o, 2);
		o = put_timestamps(o, r->ts_val, r->ts_ecr);
	} else if (r->sack_permitted) {
		o = put_sack_perm(put_nops(o, 2));
	}
	if (r->has_wscale) {
		o = put_kind_len(put_nops(o, 1), MIST_TCP_OPT_WSCALE, MIST_TCP_OPT_WSCALE_LEN);
		*o++ = r->wscale;
	}
	if (r->sack_count > 0) {
		uint8_t len = (uint8_t)(MIST_TCP_OPT_SACK_BASE_LEN +
		                        r->sack_count * MIST_TCP_SACK_BLOCK_LEN);

		o = put_kind_len(put_nops(o, 2), MIST_TCP_OPT_SACK, len);
		for (size_t i = 0; i < r->sack_count; i++) {
			o = put_u32(o, r->sack[i].start);
			o = put_u32(o, r->sack[i].end);
		}
	}
}

int mist_tcp_emit(const struct mist_tcp_repr *r, uint8_t *p, size_t len)
{
	if (r->sack_count > MIST_TCP_SACK_MAX)
		return MIST_EINVAL;
	size_t header_len = mist_tcp_header_len(r);
	if (header_len > MIST_TCP_HDR_MAX)
		return MIST_EINVAL;
	if (len < header_len)
		return MIST_ERANGE;
	mist_tcp_set_src_port(p, r->src_port);
	mist_tcp_set_dst_port(p, r->dst_port);
	mist_tcp_set_seq(p, r->seq);
	mist_tcp_set_ack(p, r->ack);
	mist_tcp_set_data_offset(p, header_len);
	mist_tcp_set_flags(p, r->flags);
	mist_tcp_set_window(p, r->window);
	mist_tcp_set_checksum(p, 0);
	mist_tcp_set_urgent(p, r->urgent);
	put_options(r, p + MIST_TCP_OFF_OPTIONS);
	return (int)header_len;
}
