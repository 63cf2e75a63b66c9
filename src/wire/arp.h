/*
 * ARP packets for IPv4 over Ethernet (RFC 826): a view over the 28 bytes
 * that follow the Ethernet header. Only this one combination of hardware and
 * protocol is accepted; RARP and InARP opcodes are not. It is not the ARP
 * cache or its timers, which live in the net layer. Freestanding:
 * wire/ether.h, wire/ipv4.h and the MIST_E* codes of mist/mist.h.
 *
 * Use: mist_arp_check() once; after it returns 0 the getters may be used.
 * Setters and mist_arp_emit() need MIST_ARP_LEN writable bytes.
 */
#ifndef MIST_WIRE_ARP_H
#define MIST_WIRE_ARP_H

#include <stddef.h>
#include <stdint.h>

#include "base/endian.h"
#include "base/str.h"
#include "wire/ether.h"
#include "wire/ipv4.h"

/* Field offsets for Ethernet and IPv4, where hlen is 6 and plen is 4. */
#define MIST_ARP_OFF_HTYPE 0 /* hardware address space */
#define MIST_ARP_OFF_PTYPE 2 /* protocol address space, an EtherType */
#define MIST_ARP_OFF_HLEN  4
#define MIST_ARP_OFF_PLEN  5
#define MIST_ARP_OFF_OPER  6
#define MIST_ARP_OFF_SHA   8  /* sender hardware address */
#define MIST_ARP_OFF_SPA   14 /* sender protocol address */
#define MIST_ARP_OFF_THA   18 /* target hardware address */
#define MIST_ARP_OFF_TPA   24 /* target protocol address */
#define MIST_ARP_LEN       28

#define MIST_ARP_HTYPE_ETHER 1 /* IANA "Hardware Types": Ethernet (10Mb) */

#define MIST_ARP_OP_REQUEST 1
#define MIST_ARP_OP_REPLY   2

/* A packet as values. */
struct mist_arp_repr {
	uint16_t op; /* MIST_ARP_OP_REQUEST or MIST_ARP_OP_REPLY */
	struct mist_ether_addr sha;
	struct mist_ipv4_addr spa;
	struct mist_ether_addr tha; /* zero in a request, by convention (RFC 5227 section 2.1.1) */
	struct mist_ipv4_addr tpa;
};

/*
 * Checks that `p[0..len)` holds an ARP packet for IPv4 over Ethernet.
 * Returns 0; MIST_ERANGE when len < MIST_ARP_LEN (longer is fine: Ethernet
 * pads to 60 bytes); MIST_EINVAL when hardware type, protocol type or address
 * lengths are not Ethernet/IPv4 or the opcode is neither request nor reply.
 */
int mist_arp_check(const uint8_t *p, size_t len);

/* Runs mist_arp_check(), then fills *r. Returns what the check returned. */
int mist_arp_parse(const uint8_t *p, size_t len, struct mist_arp_repr *r);

/*
 * Writes the packet for *r at `p`, with the Ethernet/IPv4 hardware and
 * protocol fields. Returns 0, or MIST_ERANGE when len < MIST_ARP_LEN.
 */
int mist_arp_emit(const struct mist_arp_repr *r, uint8_t *p, size_t len);

static inline uint16_t mist_arp_htype(const uint8_t *p)
{
	return mist_load_be16(p + MIST_ARP_OFF_HTYPE);
}

static inline uint16_t mist_arp_ptype(const uint8_t *p)
{
	return mist_load_be16(p + MIST_ARP_OFF_PTYPE);
}

static inline uint8_t mist_arp_hlen(const uint8_t *p)
{
	return p[MIST_ARP_OFF_HLEN];
}

static inline uint8_t mist_arp_plen(const uint8_t *p)
{
	return p[MIST_ARP_OFF_PLEN];
}

static inline uint16_t mist_arp_op(const uint8_t *p)
{
	return mist_load_be16(p + MIST_ARP_OFF_OPER);
}

static inline struct mist_ether_addr mist_arp_sha(const uint8_t *p)
{
	struct mist_ether_addr a;

	mist_memcpy(a.b, p + MIST_ARP_OFF_SHA, MIST_ETHER_ADDR_LEN);
	return a;
}

static inline struct mist_ipv4_addr mist_arp_spa(const uint8_t *p)
{
	struct mist_ipv4_addr a;

	mist_memcpy(a.b, p + MIST_ARP_OFF_SPA, MIST_IPV4_ADDR_LEN);
	return a;
}

static inline struct mist_ether_addr mist_arp_tha(const uint8_t *p)
{
	struct mist_ether_addr a;

	mist_memcpy(a.b, p + MIST_ARP_OFF_THA, MIST_ETHER_ADDR_LEN);
	return a;
}

static inline struct mist_ipv4_addr mist_arp_tpa(const uint8_t *p)
{
	struct mist_ipv4_addr a;

	mist_memcpy(a.b, p + MIST_ARP_OFF_TPA, MIST_IPV4_ADDR_LEN);
	return a;
}

/* Sets hardware type, protocol type and both address lengths for Ethernet and IPv4. */
static inline void mist_arp_set_ether_ipv4(uint8_t *p)
{
	mist_store_be16(p + MIST_ARP_OFF_HTYPE, MIST_ARP_HTYPE_ETHER);
	mist_store_be16(p + MIST_ARP_OFF_PTYPE, MIST_ETHERTYPE_IPV4);
	p[MIST_ARP_OFF_HLEN] = MIST_ETHER_ADDR_LEN;
	p[MIST_ARP_OFF_PLEN] = MIST_IPV4_ADDR_LEN;
}

static inline void mist_arp_set_op(uint8_t *p, uint16_t op)
{
	mist_store_be16(p + MIST_ARP_OFF_OPER, op);
}

static inline void mist_arp_set_sha(uint8_t *p, struct mist_ether_addr a)
{
	mist_memcpy(p + MIST_ARP_OFF_SHA, a.b, MIST_ETHER_ADDR_LEN);
}

static inline void mist_arp_set_spa(uint8_t *p, struct mist_ipv4_addr a)
{
	mist_memcpy(p + MIST_ARP_OFF_SPA, a.b, MIST_IPV4_ADDR_LEN);
}

static inline void mist_arp_set_tha(uint8_t *p, struct mist_ether_addr a)
{
	mist_memcpy(p + MIST_ARP_OFF_THA, a.b, MIST_ETHER_ADDR_LEN);
}

static inline void mist_arp_set_tpa(uint8_t *p, struct mist_ipv4_addr a)
{
	mist_memcpy(p + MIST_ARP_OFF_TPA, a.b, MIST_IPV4_ADDR_LEN);
}

#endif
