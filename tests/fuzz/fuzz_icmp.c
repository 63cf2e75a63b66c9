/*
 * libFuzzer target for the ICMPv4 view (src/wire/icmp.h): any input either
 * fails the check, and then the parse too, or passes it, and then an error
 * message's original header and 8 bytes after it lie inside the input, and a
 * message with a repr emits (into a copy) to one that verifies and parses
 * back to the same values. A broken invariant traps.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mist/mist.h"
#include "wire/icmp.h"
#include "wire/ipv4.h"

#define INVARIANT(x)                      \
	do {                              \
		if (!(x))                 \
			__builtin_trap(); \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mist_icmp_repr r, back;
	int err = mist_icmp_check(data, size);

	INVARIANT(err == 0 || err == MIST_ERANGE || err == MIST_EINVAL);
	if (err != 0) {
		INVARIANT(mist_icmp_parse(data, size, &r) == err);
		return 0;
	}

	INVARIANT(size >= MIST_ICMP_HDR_LEN);
	(void)mist_icmp_verify_checksum(data, size);
	(void)mist_icmp_code(data);
	(void)mist_icmp_checksum(data);
	(void)mist_icmp_rest(data);
	if (mist_icmp_type_is_error(mist_icmp_type(data))) {
		const uint8_t *orig = mist_icmp_data(data);
		size_t orig_header_len = mist_ipv4_header_len(orig);

		INVARIANT(mist_ipv4_version(orig) == MIST_IPV4_VERSION);
		INVARIANT(orig_header_len >= MIST_IPV4_HDR_MIN);
		INVARIANT(orig + orig_header_len + MIST_ICMP_ORIG_PAYLOAD <= data + size);
	}

	err = mist_icmp_parse(data, size, &r);
	INVARIANT(err == 0 || err == MIST_ENOTSUP);
	if (err != 0)
		return 0;
	INVARIANT(r.type == mist_icmp_type(data));
	INVARIANT(mist_icmp_repr_len(&r) == size);
	INVARIANT(mist_icmp_data(data) + r.data_len == data + size);

	uint8_t *copy = malloc(size);
	INVARIANT(copy != NULL);
	memcpy(copy, data, size);
	INVARIANT(mist_icmp_emit(&r, copy, size) == 0);
	INVARIANT(mist_icmp_verify_checksum(copy, size));
	INVARIANT(mist_icmp_parse(copy, size, &back) == 0);
	INVARIANT(back.type == r.type && back.code == r.code && back.ident == r.ident &&
	          back.seq == r.seq && back.next_hop_mtu == r.next_hop_mtu &&
	          back.data_len == r.data_len);
	INVARIANT(memcmp(copy + MIST_ICMP_OFF_DATA, data + MIST_ICMP_OFF_DATA, r.data_len) == 0);
	free(copy);
	return 0;
}
