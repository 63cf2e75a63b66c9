/*
 * libFuzzer target for the UDP view (src/wire/udp.h): any input either
 * fails the check, and then the parse too, or passes it, and then the length
 * field lies inside the input, and the parsed values emit (into a copy) to a
 * datagram whose checksum verifies and which parses back to them. A broken
 * invariant traps.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mist/mist.h"
#include "wire/checksum.h"
#include "wire/udp.h"

#define INVARIANT(x)                      \
	do {                              \
		if (!(x))                 \
			__builtin_trap(); \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct mist_ipv4_addr src = MIST_IPV4(10, 0, 0, 1);
	const struct mist_ipv4_addr dst = MIST_IPV4(10, 0, 0, 2);
	struct mist_udp_repr r, back;
	int err = mist_udp_check(data, size);

	INVARIANT(err == 0 || err == MIST_ERANGE || err == MIST_EINVAL);
	INVARIANT(mist_udp_parse(data, size, &r) == err);
	if (err != 0)
		return 0;

	INVARIANT(size >= MIST_UDP_HDR_LEN);
	INVARIANT(mist_udp_length(data) >= MIST_UDP_HDR_LEN);
	INVARIANT(mist_udp_length(data) <= size);
	INVARIANT(mist_udp_payload(data) + mist_udp_payload_len(data) <= data + size);
	INVARIANT(r.src_port == mist_udp_src_port(data));
	INVARIANT(r.dst_port == mist_udp_dst_port(data));
	INVARIANT(r.payload_len == mist_udp_payload_len(data));
	bool verified = mist_udp_verify_checksum(data, src, dst);
	INVARIANT(verified || mist_udp_checksum(data) != MIST_UDP_CHECKSUM_NONE);

	size_t len = mist_udp_length(data);
	uint8_t *copy = malloc(len);
	INVARIANT(copy != NULL);
	memcpy(copy, data, len);
	INVARIANT(mist_udp_emit(&r, copy, len) == 0);
	mist_udp_fill_checksum(copy, src, dst,
	                       mist_csum_partial(mist_udp_payload(copy), r.payload_len, 0));
	INVARIANT(mist_udp_checksum(copy) != MIST_UDP_CHECKSUM_NONE);
	INVARIANT(mist_udp_verify_checksum(copy, src, dst));
	INVARIANT(mist_udp_parse(copy, len, &back) == 0);
	INVARIANT(back.src_port == r.src_port && back.dst_port == r.dst_port &&
	          back.payload_len == r.payload_len);
	/*
	 * A datagram whose checksum was present and right is reproduced exactly:
	 * the only other form of a right checksum, 0, means "none".
	 */
	if (verified && mist_udp_checksum(data) != MIST_UDP_CHECKSUM_NONE)
		INVARIANT(memcmp(copy, data, MIST_UDP_HDR_LEN) == 0);
	free(copy);
	return 0;
}
