/*
 * libFuzzer target for the Ethernet II view (src/wire/ether.h): any input
 * either fails the check, and then the parse too, or passes it, and then
 * every getter stays inside the input and emit reproduces the header byte for
 * byte. A broken invariant traps, which libFuzzer reports as a crash.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "mist/mist.h"
#include "wire/ether.h"

#define INVARIANT(x)                      \
	do {                              \
		if (!(x))                 \
			__builtin_trap(); \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mist_ether_repr r;
	uint8_t out[MIST_ETHER_HDR_LEN];
	int err = mist_ether_check(data, size);

	INVARIANT(err == 0 || err == MIST_ERANGE || err == MIST_EINVAL);
	INVARIANT(mist_ether_parse(data, size, &r) == err);
	if (err != 0)
		return 0;

	INVARIANT(size >= MIST_ETHER_HDR_LEN);
	INVARIANT(mist_ether_type(data) >= MIST_ETHERTYPE_MIN);
	INVARIANT(mist_ether_addr_eq(r.dst, mist_ether_dst(data)));
	INVARIANT(mist_ether_addr_eq(r.src, mist_ether_src(data)));
	INVARIANT(r.ethertype == mist_ether_type(data));
	INVARIANT(mist_ether_is_vlan(data) ==
	          (r.ethertype == MIST_ETHERTYPE_VLAN || r.ethertype == MIST_ETHERTYPE_QINQ));
	INVARIANT(mist_ether_addr_is_broadcast(r.dst) <= mist_ether_addr_is_group(r.dst));
	INVARIANT(mist_ether_payload(data) <= data + size);

	INVARIANT(mist_ether_emit(&r, out, sizeof(out)) == 0);
	INVARIANT(memcmp(out, data, sizeof(out)) == 0);
	return 0;
}
