/*
 * libFuzzer target for the IPv4 view (src/wire/ipv4.h): any input either
 * fails the check, and then the parse too, or passes it, and then the header,
 * options and payload lie inside the input, the fragment ends within 64 KiB,
 * and the parsed values emit to a header that parses back to them (and, for
 * a header without options whose checksum verifies, to the same bytes). A
 * broken invariant traps.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "mist/mist.h"
#include "wire/ipv4.h"

#define INVARIANT(x)                      \
	do {                              \
		if (!(x))                 \
			__builtin_trap(); \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void same_repr(const struct mist_ipv4_repr *a, const struct mist_ipv4_repr *b)
{
	INVARIANT(mist_ipv4_addr_eq(a->src, b->src));
	INVARIANT(mist_ipv4_addr_eq(a->dst, b->dst));
	INVARIANT(a->protocol == b->protocol);
	INVARIANT(a->ttl == b->ttl);
	INVARIANT(a->tos == b->tos);
	INVARIANT(a->ident == b->ident);
	INVARIANT(a->dont_frag == b->dont_frag);
	INVARIANT(a->more_frags == b->more_frags);
	INVARIANT(a->frag_offset == b->frag_offset);
	INVARIANT(a->payload_len == b->payload_len);
}

/*
 * Walks the options of a checked header the way RFC 791 section 3.1 lays
 * them out, and traps if one does not end inside the header.
 */
static void options_inside_header(const uint8_t *opt, size_t len)
{
	size_t i = 0;

	while (i < len && opt[i] != MIST_IPV4_OPT_EOL) {
		if (opt[i] == MIST_IPV4_OPT_NOP) {
			i++;
			continue;
		}
		INVARIANT(i + 1 < len);
		INVARIANT(opt[i + 1] >= MIST_IPV4_OPT_MIN_LEN);
		i += opt[i + 1];
		INVARIANT(i <= len);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t out[MIST_IPV4_MAX_LEN];
	struct mist_ipv4_repr r, back;
	int err = mist_ipv4_check(data, size);

	INVARIANT(err == 0 || err == MIST_ERANGE || err == MIST_EINVAL);
	INVARIANT(mist_ipv4_parse(data, size, &r) == err);
	if (err != 0)
		return 0;

	size_t header_len = mist_ipv4_header_len(data);
	INVARIANT(mist_ipv4_version(data) == MIST_IPV4_VERSION);
	INVARIANT(header_len >= MIST_IPV4_HDR_MIN && header_len <= MIST_IPV4_HDR_MAX);
	INVARIANT(header_len <= size);
	INVARIANT(mist_ipv4_total_len(data) <= size);
	INVARIANT(mist_ipv4_total_len(data) >= header_len);
	INVARIANT(mist_ipv4_options(data) + mist_ipv4_options_len(data) == data + header_len);
	INVARIANT(mist_ipv4_payload(data) + mist_ipv4_payload_len(data) <= data + size);
	INVARIANT(r.payload_len == mist_ipv4_payload_len(data));
	INVARIANT((size_t)r.frag_offset + r.payload_len <= MIST_IPV4_MAX_LEN);
	INVARIANT(r.frag_offset % MIST_IPV4_FRAG_UNIT == 0);
	INVARIANT(mist_ipv4_is_fragment(data) == (r.more_frags || r.frag_offset != 0));
	INVARIANT((mist_ipv4_dscp(data) << MIST_IPV4_DSCP_SHIFT | mist_ipv4_ecn(data)) == r.tos);
	bool verified = mist_ipv4_verify_checksum(data);
	options_inside_header(mist_ipv4_options(data), mist_ipv4_options_len(data));

	/*
	 * The values emit to a header without options that verifies and parses
	 * back to them; the payload behind it is whatever `out` held.
	 */
	INVARIANT(mist_ipv4_emit(&r, out, sizeof(out)) == 0);
	INVARIANT(mist_ipv4_verify_checksum(out));
	INVARIANT(mist_ipv4_parse(out, MIST_IPV4_HDR_MIN + (size_t)r.payload_len, &back) == 0);
	same_repr(&r, &back);
	/*
	 * Without options the header comes back byte for byte, but for the
	 * checksum: when the other words sum to 0xffff, a field of 0x0000 and
	 * one of 0xffff both verify (RFC 1624 section 3), and emit writes 0.
	 */
	if (header_len == MIST_IPV4_HDR_MIN && verified &&
	    (mist_load_be16(data + MIST_IPV4_OFF_FLAGS_FRAG) & MIST_IPV4_FLAG_RESERVED) == 0) {
		INVARIANT(memcmp(out, data, MIST_IPV4_OFF_CHECKSUM) == 0);
		INVARIANT(memcmp(out + MIST_IPV4_OFF_SRC, data + MIST_IPV4_OFF_SRC,
		                 MIST_IPV4_HDR_MIN - MIST_IPV4_OFF_SRC) == 0);
	}
	return 0;
}
