/*
 * libFuzzer target for the TCP view (src/wire/tcp.h): any input either fails
 * the check, and then the parse too, or passes it, and then the header lies
 * inside the input and the parse either refuses the options or gives values
 * that match the getters. Parsed values that fit the emit layout emit (with
 * the input's payload behind them) to a segment whose checksum verifies, the
 * same whether the payload is summed in one piece or in two split at an odd
 * or even point, and which parses back to the same values. A broken
 * invariant traps.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mist/mist.h"
#include "wire/checksum.h"
#include "wire/tcp.h"

#define INVARIANT(x)                      \
	do {                              \
		if (!(x))                 \
			__builtin_trap(); \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool repr_equal(const struct mist_tcp_repr *a, const struct mist_tcp_repr *b)
{
	if (a->src_port != b->src_port || a->dst_port != b->dst_port || a->seq != b->seq ||
	    a->ack != b->ack || a->flags != b->flags || a->window != b->window ||
	    a->urgent != b->urgent || a->mss != b->mss || a->has_wscale != b->has_wscale ||
	    a->sack_permitted != b->sack_permitted || a->has_timestamps != b->has_timestamps ||
	    a->sack_count != b->sack_count)
		return false;
	if (a->has_wscale && a->wscale != b->wscale)
		return false;
	if (a->has_timestamps && (a->ts_val != b->ts_val || a->ts_ecr != b->ts_ecr))
		return false;
	for (size_t i = 0; i < a->sack_count; i++)
		if (a->sack[i].start != b->sack[i].start || a->sack[i].end != b->sack[i].end)
			return false;
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct mist_ipv4_addr src = MIST_IPV4(10, 0, 0, 1);
	const struct mist_ipv4_addr dst = MIST_IPV4(10, 0, 0, 2);
	struct mist_tcp_repr r, back;
	int err = mist_tcp_check(data, size);

	INVARIANT(err == 0 || err == MIST_ERANGE || err == MIST_EINVAL);
	int parsed = mist_tcp_parse(data, size, &r);
	if (err != 0) {
		INVARIANT(parsed == err);
		return 0;
	}
	INVARIANT(parsed == 0 || parsed == MIST_EINVAL);
	size_t data_offset = mist_tcp_data_offset(data);
	INVARIANT(data_offset >= MIST_TCP_HDR_MIN && data_offset <= MIST_TCP_HDR_MAX);
	INVARIANT(data_offset <= size);
	INVARIANT(mist_tcp_payload(data) + mist_tcp_payload_len(data, size) == data + size);
	(void)mist_tcp_verify_checksum(data, size, src, dst);
	if (parsed != 0)
		return 0;

	INVARIANT(r.header_len == data_offset);
	INVARIANT(r.src_port == mist_tcp_src_port(data) && r.dst_port == mist_tcp_dst_port(data));
	INVARIANT(r.seq == mist_tcp_seq(data) && r.ack == mist_tcp_ack(data));
	INVARIANT(r.flags == mist_tcp_flags(data) && r.window == mist_tcp_window(data));
	INVARIANT(r.urgent == mist_tcp_urgent(data));
	INVARIANT(r.sack_count <= MIST_TCP_SACK_MAX);

	/* Options packed tighter than the emit layout may not fit it: refused, not cut. */
	size_t header_len = mist_tcp_header_len(&r);
	size_t payload_len = mist_tcp_payload_len(data, size);
	uint8_t *copy = malloc(MIST_TCP_HDR_MAX + payload_len);
	INVARIANT(copy != NULL);
	int emitted = mist_tcp_emit(&r, copy, MIST_TCP_HDR_MAX + payload_len);
	if (header_len > MIST_TCP_HDR_MAX) {
		INVARIANT(emitted == MIST_EINVAL);
		free(copy);
		return 0;
	}
	INVARIANT(emitted == (int)header_len);
	INVARIANT(mist_tcp_emit(&r, copy, header_len - 1) == MIST_ERANGE);
	memcpy(copy + header_len, mist_tcp_payload(data), payload_len);

	const uint8_t *payload = copy + header_len;
	size_t split = payload_len == 0 ? 0 : data[size - 1] % payload_len;
	uint32_t split_sum =
	        mist_csum_add(mist_csum_partial(payload, split, 0),
	                      mist_csum_partial(payload + split, payload_len - split, 0), split);
	size_t len = header_len + payload_len;
	mist_tcp_fill_checksum(copy, len, src, dst, split_sum);
	uint16_t split_check = mist_tcp_checksum(copy);
	mist_tcp_fill_checksum(copy, len, src, dst, mist_csum_partial(payload, payload_len, 0));
	INVARIANT(mist_tcp_checksum(copy) == split_check);
	INVARIANT(mist_tcp_verify_checksum(copy, len, src, dst));

	INVARIANT(mist_tcp_parse(copy, len, &back) == 0);
	INVARIANT(back.header_len == header_len);
	INVARIANT(repr_equal(&back, &r));
	INVARIANT(memcmp(mist_tcp_payload(copy), mist_tcp_payload(data), payload_len) == 0);
	free(copy);
	return 0;
}
