/*
 * ARP check, parse and emit for IPv4 over Ethernet (see arp.h). No cache and
 * no policy: which requests to answer and what to learn is the net layer's.
 * Freestanding.
 */
#include "wire/arp.h"

#include "mist/mist.h"

int mist_arp_check(const uint8_t *p, size_t len)
{
	if (len < MIST_ARP_LEN)
		return MIST_ERANGE;
	/*
	 * RFC 826 "Packet Reception": a packet for another hardware or protocol
	 * space is discarded. The lengths are checked too, because the field
	 * offsets in arp.h hold only for 6-byte and 4-byte addresses.
	 */
	if (mist_arp_htype(p) != MIST_ARP_HTYPE_ETHER || mist_arp_ptype(p) != MIST_ETHERTYPE_IPV4 ||
	    mist_arp_hlen(p) != MIST_ETHER_ADDR_LEN || mist_arp_plen(p) != MIST_IPV4_ADDR_LEN)
		return MIST_EINVAL;
	uint16_t op = mist_arp_op(p);
	if (op != MIST_ARP_OP_REQUEST && op != MIST_ARP_OP_REPLY)
		return MIST_EINVAL;
	return 0;
}

int mist_arp_parse(const uint8_t *p, size_t len, struct mist_arp_repr *r)
{
	int err = mist_arp_check(p, len);

	if (err != 0)
		return err;
	r->op = mist_arp_op(p);
	r->sha = mist_arp_sha(p);
	r->spa = mist_arp_spa(p);
	r->tha = mist_arp_tha(p);
	r->tpa = mist_arp_tpa(p);
	return 0;
}

int mist_arp_emit(const struct mist_arp_repr *r, uint8_t *p, size_t len)
{
	if (len < MIST_ARP_LEN)
		return MIST_ERANGE;
	mist_arp_set_ether_ipv4(p);
	mist_arp_set_op(p, r->op);
	mist_arp_set_sha(p, r->sha);
	mist_arp_set_spa(p, r->spa);
	mist_arp_set_tha(p, r->tha);
	mist_arp_set_tpa(p, r->tpa);
	return 0;
}
