/*
 * TCP initial sequence numbers (RFC 6528 §3) and SYN cookies (RFC 4987
 * §3.6): keyed SipHash of the 4-tuple, plus a 4-microsecond clock for the
 * ISN and a 64-second slot, an MSS index and the peer's ISN for cookies.
 * The layouts and contracts are in tcp_isn.h. Freestanding.
 */
#include "net/tcp_isn.h"

#include "base/compiler.h"
#include "base/endian.h"
#include "base/str.h"
#include "mist/rng.h"

#define ADDR_LEN  4
#define TUPLE_LEN (2 * ADDR_LEN + 2 * 2) /* addresses and ports */

/* The cookie's fields (tcp_isn.h). */
#define COOKIE_SLOT_SHIFT 27
#define COOKIE_SLOT_BITS  5
#define COOKIE_MSS_SHIFT  24
#define COOKIE_MSS_BITS   3
#define COOKIE_HASH_MASK  ((UINT32_C(1) << COOKIE_MSS_SHIFT) - 1)
#define COOKIE_SLOT_MASK  ((UINT32_C(1) << COOKIE_SLOT_BITS) - 1)
#define COOKIE_MSS_MASK   ((UINT32_C(1) << COOKIE_MSS_BITS) - 1)

/* What the cookie hash covers after the tuple: peer ISN, slot, MSS index. */
#define COOKIE_INPUT_LEN (TUPLE_LEN + 4 + 8 + 1)

/* Ascending; tcp_isn.h says where each value comes from. */
static const uint16_t cookie_mss[] = {536, 1220, 1300, 1380, 1440, 1452, 1460, 8960};

/* Exactly eight, so that every value of the MSS field names an entry. */
_Static_assert(MIST_ARRAY_SIZE(cookie_mss) == COOKIE_MSS_MASK + 1,
               "one MSS entry per value of the cookie's MSS field");
/*
 * The accepted ages must fit the five slot bits short of 31, which is how a
 * cookie from one slot in the future reads.
 */
_Static_assert(TCP_COOKIE_MAX_AGE < COOKIE_SLOT_MASK, "the accepted ages fit the slot field");

static void put_tuple(uint8_t out[TUPLE_LEN], struct mist_ipv4_addr local, uint16_t lport,
                      struct mist_ipv4_addr remote, uint16_t rport)
{
	mist_memcpy(out, local.b, ADDR_LEN);
	mist_store_be16(out + ADDR_LEN, lport);
	mist_memcpy(out + ADDR_LEN + 2, remote.b, ADDR_LEN);
	mist_store_be16(out + 2 * ADDR_LEN + 2, rport);
}

void tcp_secret_init(struct tcp_secret *s)
{
	s->isn.k0 = mist_random_u64();
	s->isn.k1 = mist_random_u64();
	s->cookie.k0 = mist_random_u64();
	s->cookie.k1 = mist_random_u64();
}

uint32_t tcp_isn(const struct tcp_secret *s, struct mist_ipv4_addr local, uint16_t lport,
                 struct mist_ipv4_addr remote, uint16_t rport, uint64_t now)
{
	uint8_t in[TUPLE_LEN];
	uint32_t m = (uint32_t)(now / TCP_ISN_TICK_NS); /* RFC 6528 §3: M wraps with the ISN */

	put_tuple(in, local, lport, remote, rport);
	return m + (uint32_t)mist_siphash(&s->isn, in, sizeof(in));
}

static uint32_t cookie_hash(const struct tcp_secret *s, struct mist_ipv4_addr local, uint16_t lport,
                            struct mist_ipv4_addr remote, uint16_t rport, uint32_t peer_isn,
                            uint64_t slot, unsigned mss_index)
{
	uint8_t in[COOKIE_INPUT_LEN];

	put_tuple(in, local, lport, remote, rport);
	mist_store_be32(in + TUPLE_LEN, peer_isn);
	mist_store_be32(in + TUPLE_LEN + 4, (uint32_t)(slot >> 32));
	mist_store_be32(in + TUPLE_LEN + 8, (uint32_t)slot);
	in[TUPLE_LEN + 12] = (uint8_t)mss_index;
	return (uint32_t)mist_siphash(&s->cookie, in, sizeof(in)) & COOKIE_HASH_MASK;
}

/* The largest entry <= mss; the smallest entry (536) for anything below it. */
static unsigned cookie_mss_index(uint16_t mss)
{
	unsigned i = MIST_ARRAY_SIZE(cookie_mss) - 1;

	while (i > 0 && cookie_mss[i] > mss)
		i--;
	return i;
}

uint32_t tcp_cookie_make(const struct tcp_secret *s, struct mist_ipv4_addr local, uint16_t lport,
                         struct mist_ipv4_addr remote, uint16_t rport, uint32_t peer_isn,
                         uint16_t peer_mss, uint64_t now)
{
	uint64_t slot = now / TCP_COOKIE_SLOT_NS;
	unsigned mss_index = cookie_mss_index(peer_mss);

	return ((uint32_t)slot & COOKIE_SLOT_MASK) << COOKIE_SLOT_SHIFT |
	       (uint32_t)mss_index << COOKIE_MSS_SHIFT |
	       cookie_hash(s, local, lport, remote, rport, peer_isn, slot, mss_index);
}

bool tcp_cookie_check(const struct tcp_secret *s, struct mist_ipv4_addr local, uint16_t lport,
                      struct mist_ipv4_addr remote, uint16_t rport, uint32_t peer_isn,
                      uint32_t cookie, uint64_t now, uint16_t *mss)
{
	uint64_t now_slot = now / TCP_COOKIE_SLOT_NS;
	/* Slots since the cookie was made, from the five bits it keeps: mod 32. */
	uint32_t age = ((uint32_t)now_slot - (cookie >> COOKIE_SLOT_SHIFT)) & COOKIE_SLOT_MASK;
	unsigned mss_index = (cookie >> COOKIE_MSS_SHIFT) & COOKIE_MSS_MASK;

	/* Too old, from the future (which reads as 31 slots old), or from before time 0. */
	if (age > TCP_COOKIE_MAX_AGE || age > now_slot)
		return false;
	if ((cookie & COOKIE_HASH_MASK) !=
	    cookie_hash(s, local, lport, remote, rport, peer_isn, now_slot - age, mss_index))
		return false;
	*mss = cookie_mss[mss_index];
	return true;
}
