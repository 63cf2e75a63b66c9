/*
 * Ethernet II header check, parse and emit (see ether.h). No state, no
 * allocation; the net layer owns the decisions. Freestanding.
 */
#include "wire/ether.h"

#include "mist/mist.h"

int mist_ether_check(const uint8_t *p, size_t len)
{
	if (len < MIST_ETHER_HDR_LEN)
		return MIST_ERANGE;
	if (mist_ether_type(p) < MIST_ETHERTYPE_MIN)
		return MIST_EINVAL;
	return 0;
}

int mist_ether_parse(const uint8_t *p, size_t len, struct mist_ether_repr *r)
{
	int err = mist_ether_check(p, len);

	if (err != 0)
		return err;
	r->dst = mist_ether_dst(p);
	r->src = mist_ether_src(p);
	r->ethertype = mist_ether_type(p);
	return 0;
}

int mist_ether_emit(const struct mist_ether_repr *r, uint8_t *p, size_t len)
{
	if (len < MIST_ETHER_HDR_LEN)
		return MIST_ERANGE;
	mist_ether_set_dst(p, r->dst);
	mist_ether_set_src(p, r->src);
	mist_ether_set_type(p, r->ethertype);
	return 0;
}
