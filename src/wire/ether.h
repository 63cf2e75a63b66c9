/*
 * Ethernet II frames (IEEE 802.3 with an EtherType, RFC 894): a view over
 * the 14-byte header at the start of a frame, without the preamble and the
 * frame check sequence, which devices strip. It is not a device and keeps no
 * state: the net layer decides what to do with a frame. Freestanding:
 * base/endian.h, base/str.h and the MIST_E* codes of mist/mist.h.
 *
 * Use: mist_ether_check() once on the received bytes; after it returns 0 the
 * getters may be used on the same bytes. Setters and mist_ether_emit() need
 * MIST_ETHER_HDR_LEN writable bytes.
 */
#ifndef MIST_WIRE_ETHER_H
#define MIST_WIRE_ETHER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/endian.h"
#include "base/str.h"

#define MIST_ETHER_ADDR_LEN 6

/* Field offsets in the header. */
#define MIST_ETHER_OFF_DST  0
#define MIST_ETHER_OFF_SRC  6
#define MIST_ETHER_OFF_TYPE 12
#define MIST_ETHER_HDR_LEN  14

/*
 * A type field below this value is an IEEE 802.3 length, not an EtherType
 * (IEEE 802.3 clause 3.2.6); such frames carry LLC, which Mist does not speak.
 */
#define MIST_ETHERTYPE_MIN 0x0600

#define MIST_ETHERTYPE_IPV4 0x0800
#define MIST_ETHERTYPE_ARP  0x0806
#define MIST_ETHERTYPE_VLAN 0x8100 /* IEEE 802.1Q tag */
#define MIST_ETHERTYPE_QINQ 0x88a8 /* IEEE 802.1ad service tag */
#define MIST_ETHERTYPE_IPV6 0x86dd

/* The individual/group bit of the first address byte (IEEE 802 section 8.2). */
#define MIST_ETHER_GROUP_BIT 0x01

/* A MAC address, in the order it appears on the wire. */
struct mist_ether_addr {
	uint8_t b[MIST_ETHER_ADDR_LEN];
};

#define MIST_ETHER_BROADCAST ((struct mist_ether_addr){{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}})

/* A header as values. */
struct mist_ether_repr {
	struct mist_ether_addr dst;
	struct mist_ether_addr src;
	uint16_t ethertype;
};

/*
 * Checks that `p[0..len)` can be read as an Ethernet II header. Returns 0;
 * MIST_ERANGE when len < MIST_ETHER_HDR_LEN; MIST_EINVAL when the type field
 * is an 802.3 length (below MIST_ETHERTYPE_MIN). A VLAN-tagged frame passes:
 * see mist_ether_is_vlan().
 */
int mist_ether_check(const uint8_t *p, size_t len);

/* Runs mist_ether_check(), then fills *r. Returns what the check returned. */
int mist_ether_parse(const uint8_t *p, size_t len, struct mist_ether_repr *r);

/* Writes the header for *r at `p`. Returns 0, or MIST_ERANGE when len < MIST_ETHER_HDR_LEN. */
int mist_ether_emit(const struct mist_ether_repr *r, uint8_t *p, size_t len);

static inline struct mist_ether_addr mist_ether_dst(const uint8_t *p)
{
	struct mist_ether_addr a;

	mist_memcpy(a.b, p + MIST_ETHER_OFF_DST, MIST_ETHER_ADDR_LEN);
	return a;
}

static inline struct mist_ether_addr mist_ether_src(const uint8_t *p)
{
	struct mist_ether_addr a;

	mist_memcpy(a.b, p + MIST_ETHER_OFF_SRC, MIST_ETHER_ADDR_LEN);
	return a;
}

static inline uint16_t mist_ether_type(const uint8_t *p)
{
	return mist_load_be16(p + MIST_ETHER_OFF_TYPE);
}

/* Returns the first byte after the header: the payload. */
static inline const uint8_t *mist_ether_payload(const uint8_t *p)
{
	return p + MIST_ETHER_HDR_LEN;
}

/*
 * Returns true when the frame carries an 802.1Q or 802.1ad tag in place of
 * the EtherType. Mist does not join VLANs; the net layer drops and counts it.
 */
static inline bool mist_ether_is_vlan(const uint8_t *p)
{
	uint16_t type = mist_ether_type(p);

	return type == MIST_ETHERTYPE_VLAN || type == MIST_ETHERTYPE_QINQ;
}

static inline void mist_ether_set_dst(uint8_t *p, struct mist_ether_addr a)
{
	mist_memcpy(p + MIST_ETHER_OFF_DST, a.b, MIST_ETHER_ADDR_LEN);
}

static inline void mist_ether_set_src(uint8_t *p, struct mist_ether_addr a)
{
	mist_memcpy(p + MIST_ETHER_OFF_SRC, a.b, MIST_ETHER_ADDR_LEN);
}

static inline void mist_ether_set_type(uint8_t *p, uint16_t type)
{
	mist_store_be16(p + MIST_ETHER_OFF_TYPE, type);
}

static inline bool mist_ether_addr_eq(struct mist_ether_addr a, struct mist_ether_addr b)
{
	return mist_memcmp(a.b, b.b, MIST_ETHER_ADDR_LEN) == 0;
}

/* True for broadcast and multicast addresses: the group bit is set. */
static inline bool mist_ether_addr_is_group(struct mist_ether_addr a)
{
	return (a.b[0] & MIST_ETHER_GROUP_BIT) != 0;
}

static inline bool mist_ether_addr_is_broadcast(struct mist_ether_addr a)
{
	return mist_ether_addr_eq(a, MIST_ETHER_BROADCAST);
}

#endif
