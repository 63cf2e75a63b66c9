/*
 * libFuzzer target for the ARP view (src/wire/arp.h): any input either fails
 * the check, and then the parse too, or passes it, and then the fixed fields
 * are those of IPv4 over Ethernet, the getters stay inside the input, and
 * emit reproduces the packet byte for byte. A broken invariant traps.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "mist/mist.h"
#include "wire/arp.h"

#define INVARIANT(x)                      \
	do {                              \
		if (!(x))                 \
			__builtin_trap(); \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mist_arp_repr r;
	uint8_t out[MIST_ARP_LEN];
	int err = mist_arp_check(data, size);

	INVARIANT(err == 0 || err == MIST_ERANGE || err == MIST_EINVAL);
	INVARIANT(mist_arp_parse(data, size, &r) == err);
	if (err != 0)
		return 0;

	INVARIANT(size >= MIST_ARP_LEN);
	INVARIANT(mist_arp_htype(data) == MIST_ARP_HTYPE_ETHER);
	INVARIANT(mist_arp_ptype(data) == MIST_ETHERTYPE_IPV4);
	INVARIANT(mist_arp_hlen(data) == MIST_ETHER_ADDR_LEN);
	INVARIANT(mist_arp_plen(data) == MIST_IPV4_ADDR_LEN);
	INVARIANT(r.op == MIST_ARP_OP_REQUEST || r.op == MIST_ARP_OP_REPLY);
	INVARIANT(mist_ether_addr_eq(r.sha, mist_arp_sha(data)));
	INVARIANT(mist_ipv4_addr_eq(r.spa, mist_arp_spa(data)));
	INVARIANT(mist_ether_addr_eq(r.tha, mist_arp_tha(data)));
	INVARIANT(mist_ipv4_addr_eq(r.tpa, mist_arp_tpa(data)));

	INVARIANT(mist_arp_emit(&r, out, sizeof(out)) == 0);
	INVARIANT(memcmp(out, data, sizeof(out)) == 0);
	return 0;
}
