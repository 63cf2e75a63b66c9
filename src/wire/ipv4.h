/*
 * IPv4 headers (RFC 791): a view over the bytes of a datagram, with the
 * address helpers the net layer needs to classify destinations. It is not the
 * IP layer: no routing, no fragment reassembly, no state. Options are
 * validated and skipped, never interpreted. Freestanding: base/endian.h,
 * base/str.h, mist/net.h (the address type), wire/checksum.h and the MIST_E*
 * codes of mist/mist.h.
 *
 * Addresses are struct mist_ipv4_addr of mist/net.h, built with MIST_IPV4():
 * four bytes in network order, as on the wire and as mist_parse_ipv4() and
 * the %pI4 format produce and print. Arithmetic on prefixes goes through
 * mist_ipv4_addr_to_u32(), which gives host order.
 *
 * Use: mist_ipv4_check() once on the received bytes; after it returns 0 the
 * getters may be used, every byte of the header and of the datagram's
 * total length lies within the checked length, and mist_ipv4_verify_checksum()
 * may be called. Setters need MIST_IPV4_HDR_MIN (or the header length)
 * writable bytes.
 */
#ifndef MIST_WIRE_IPV4_H
#define MIST_WIRE_IPV4_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/endian.h"
#include "base/str.h"
#include "mist/net.h"

#define MIST_IPV4_ADDR_LEN 4

/* Field offsets in the header (RFC 791 section 3.1). */
#define MIST_IPV4_OFF_VER_IHL    0 /* version (high nibble), header length in words */
#define MIST_IPV4_OFF_TOS        1 /* DSCP (high 6 bits) and ECN (low 2), RFC 2474, 3168 */
#define MIST_IPV4_OFF_TOTAL_LEN  2
#define MIST_IPV4_OFF_IDENT      4
#define MIST_IPV4_OFF_FLAGS_FRAG 6 /* flags (high 3 bits), fragment offset in 8-byte units */
#define MIST_IPV4_OFF_TTL        8
#define MIST_IPV4_OFF_PROTOCOL   9
#define MIST_IPV4_OFF_CHECKSUM   10
#define MIST_IPV4_OFF_SRC        12
#define MIST_IPV4_OFF_DST        16
#define MIST_IPV4_OFF_OPTIONS    20

#define MIST_IPV4_HDR_MIN 20
#define MIST_IPV4_HDR_MAX 60
#define MIST_IPV4_MAX_LEN 65535 /* total length is a 16-bit field */

#define MIST_IPV4_VERSION    4
#define MIST_IPV4_IHL_MASK   0x0f
#define MIST_IPV4_WORD       4 /* IHL counts 32-bit words */
#define MIST_IPV4_ECN_MASK   0x03
#define MIST_IPV4_DSCP_SHIFT 2

#define MIST_IPV4_FLAG_RESERVED 0x8000 /* must be zero; not checked, as hosts ignore it */
#define MIST_IPV4_FLAG_DF       0x4000 /* don't fragment */
#define MIST_IPV4_FLAG_MF       0x2000 /* more fragments */
#define MIST_IPV4_FRAG_MASK     0x1fff
#define MIST_IPV4_FRAG_UNIT     8 /* the fragment offset counts 8-byte units */

/* Option types with no length byte (RFC 791 section 3.1, "Options"). */
#define MIST_IPV4_OPT_EOL     0 /* end of option list */
#define MIST_IPV4_OPT_NOP     1 /* no operation */
#define MIST_IPV4_OPT_MIN_LEN 2 /* type and length bytes of every other option */

/* Protocol numbers (IANA "Assigned Internet Protocol Numbers"). */
#define MIST_IP_PROTO_ICMP 1
#define MIST_IP_PROTO_TCP  6
#define MIST_IP_PROTO_UDP  17

/* The recommended initial time to live (RFC 1700, "IP Time to Live"). */
#define MIST_IPV4_DEFAULT_TTL 64

/*
 * A header as values. Options are not represented: a parsed header may have
 * had some, and mist_ipv4_emit() writes a header without any.
 */
struct mist_ipv4_repr {
	struct mist_ipv4_addr src;
	struct mist_ipv4_addr dst;
	uint8_t protocol;
	uint8_t ttl;
	uint8_t tos; /* DSCP and ECN, as one byte */
	uint16_t ident;
	bool dont_frag;
	bool more_frags;
	uint16_t frag_offset; /* in bytes: a multiple of MIST_IPV4_FRAG_UNIT */
	uint16_t payload_len; /* bytes after the header, within the total length */
};

/*
 * Checks that `p[0..len)` holds an IPv4 datagram: len >= 20, version 4,
 * header length (IHL) >= 5 words, header and total length within len (len
 * may be longer: Ethernet pads short frames), total length >= header length,
 * options well formed (each inside the header, none shorter than 2 bytes
 * except EOL and NOP), and fragment offset plus payload within the 65535
 * bytes a datagram may have. The checksum is not verified here: see
 * mist_ipv4_verify_checksum(). Returns 0; MIST_ERANGE when something lies
 * past len; MIST_EINVAL for a bad field.
 */
int mist_ipv4_check(const uint8_t *p, size_t len);

/* Returns true when the header checksum of a checked header is correct. */
bool mist_ipv4_verify_checksum(const uint8_t *p);

/* Computes and stores the header checksum over the header length in the header. */
void mist_ipv4_fill_checksum(uint8_t *p);

/*
 * Decrements the TTL of a checked header and updates its checksum in place
 * (RFC 1624 eqn. 3). Requires a TTL above 0. Returns the new TTL.
 */
uint8_t mist_ipv4_decrement_ttl(uint8_t *p);

/*
 * Runs mist_ipv4_check(), then fills *r (the checksum is not verified).
 * Returns what the check returned.
 */
int mist_ipv4_parse(const uint8_t *p, size_t len, struct mist_ipv4_repr *r);

/*
 * Writes a 20-byte header without options for *r at `p`, with its checksum.
 * The payload is not touched and need not follow in the same buffer. Returns
 * 0; MIST_ERANGE when len < MIST_IPV4_HDR_MIN; MIST_EMSGSIZE when the
 * payload does not fit in a datagram; MIST_EINVAL when frag_offset is not a
 * multiple of 8 or too large.
 */
int mist_ipv4_emit(const struct mist_ipv4_repr *r, uint8_t *p, size_t len);

static inline uint8_t mist_ipv4_version(const uint8_t *p)
{
	return p[MIST_IPV4_OFF_VER_IHL] >> 4;
}

/* Returns the header length in bytes, options included. */
static inline size_t mist_ipv4_header_len(const uint8_t *p)
{
	return (size_t)(p[MIST_IPV4_OFF_VER_IHL] & MIST_IPV4_IHL_MASK) * MIST_IPV4_WORD;
}

static inline uint8_t mist_ipv4_tos(const uint8_t *p)
{
	return p[MIST_IPV4_OFF_TOS];
}

static inline uint8_t mist_ipv4_dscp(const uint8_t *p)
{
	return p[MIST_IPV4_OFF_TOS] >> MIST_IPV4_DSCP_SHIFT;
}

static inline uint8_t mist_ipv4_ecn(const uint8_t *p)
{
	return p[MIST_IPV4_OFF_TOS] & MIST_IPV4_ECN_MASK;
}

static inline uint16_t mist_ipv4_total_len(const uint8_t *p)
{
	return mist_load_be16(p + MIST_IPV4_OFF_TOTAL_LEN);
}

static inline uint16_t mist_ipv4_ident(const uint8_t *p)
{
	return mist_load_be16(p + MIST_IPV4_OFF_IDENT);
}

static inline bool mist_ipv4_dont_frag(const uint8_t *p)
{
	return (mist_load_be16(p + MIST_IPV4_OFF_FLAGS_FRAG) & MIST_IPV4_FLAG_DF) != 0;
}

static inline bool mist_ipv4_more_frags(const uint8_t *p)
{
	return (mist_load_be16(p + MIST_IPV4_OFF_FLAGS_FRAG) & MIST_IPV4_FLAG_MF) != 0;
}

/* Returns the fragment offset in bytes. */
static inline uint16_t mist_ipv4_frag_offset(const uint8_t *p)
{
	return (uint16_t)((mist_load_be16(p + MIST_IPV4_OFF_FLAGS_FRAG) & MIST_IPV4_FRAG_MASK) *
	                  MIST_IPV4_FRAG_UNIT);
}

/* True when the datagram is a fragment: MF set or a non-zero offset. */
static inline bool mist_ipv4_is_fragment(const uint8_t *p)
{
	return (mist_load_be16(p + MIST_IPV4_OFF_FLAGS_FRAG) &
	        (MIST_IPV4_FLAG_MF | MIST_IPV4_FRAG_MASK)) != 0;
}

static inline uint8_t mist_ipv4_ttl(const uint8_t *p)
{
	return p[MIST_IPV4_OFF_TTL];
}

static inline uint8_t mist_ipv4_protocol(const uint8_t *p)
{
	return p[MIST_IPV4_OFF_PROTOCOL];
}

static inline uint16_t mist_ipv4_checksum(const uint8_t *p)
{
	return mist_load_be16(p + MIST_IPV4_OFF_CHECKSUM);
}

static inline struct mist_ipv4_addr mist_ipv4_src(const uint8_t *p)
{
	struct mist_ipv4_addr a;

	mist_memcpy(a.b, p + MIST_IPV4_OFF_SRC, MIST_IPV4_ADDR_LEN);
	return a;
}

static inline struct mist_ipv4_addr mist_ipv4_dst(const uint8_t *p)
{
	struct mist_ipv4_addr a;

	mist_memcpy(a.b, p + MIST_IPV4_OFF_DST, MIST_IPV4_ADDR_LEN);
	return a;
}

/* Returns the options: the bytes between the fixed header and the header length. */
static inline const uint8_t *mist_ipv4_options(const uint8_t *p)
{
	return p + MIST_IPV4_OFF_OPTIONS;
}

static inline size_t mist_ipv4_options_len(const uint8_t *p)
{
	return mist_ipv4_header_len(p) - MIST_IPV4_HDR_MIN;
}

static inline const uint8_t *mist_ipv4_payload(const uint8_t *p)
{
	return p + mist_ipv4_header_len(p);
}

/* Returns the payload length: total length minus header length (checked header only). */
static inline size_t mist_ipv4_payload_len(const uint8_t *p)
{
	return mist_ipv4_total_len(p) - mist_ipv4_header_len(p);
}

/* Sets version 4 and the header length, `header_len` bytes (a multiple of 4, 20..60). */
static inline void mist_ipv4_set_version_header_len(uint8_t *p, size_t header_len)
{
	p[MIST_IPV4_OFF_VER_IHL] = (uint8_t)(MIST_IPV4_VERSION << 4 | header_len / MIST_IPV4_WORD);
}

static inline void mist_ipv4_set_tos(uint8_t *p, uint8_t tos)
{
	p[MIST_IPV4_OFF_TOS] = tos;
}

static inline void mist_ipv4_set_total_len(uint8_t *p, uint16_t total_len)
{
	mist_store_be16(p + MIST_IPV4_OFF_TOTAL_LEN, total_len);
}

static inline void mist_ipv4_set_ident(uint8_t *p, uint16_t ident)
{
	mist_store_be16(p + MIST_IPV4_OFF_IDENT, ident);
}

/* Sets DF, MF and the fragment offset (in bytes, a multiple of 8), and clears the reserved flag. */
static inline void mist_ipv4_set_frag(uint8_t *p, bool dont_frag, bool more_frags,
                                      uint16_t frag_offset)
{
	uint16_t v = (uint16_t)((frag_offset / MIST_IPV4_FRAG_UNIT) & MIST_IPV4_FRAG_MASK);

	if (dont_frag)
		v |= MIST_IPV4_FLAG_DF;
	if (more_frags)
		v |= MIST_IPV4_FLAG_MF;
	mist_store_be16(p + MIST_IPV4_OFF_FLAGS_FRAG, v);
}

static inline void mist_ipv4_set_ttl(uint8_t *p, uint8_t ttl)
{
	p[MIST_IPV4_OFF_TTL] = ttl;
}

static inline void mist_ipv4_set_protocol(uint8_t *p, uint8_t protocol)
{
	p[MIST_IPV4_OFF_PROTOCOL] = protocol;
}

static inline void mist_ipv4_set_checksum(uint8_t *p, uint16_t checksum)
{
	mist_store_be16(p + MIST_IPV4_OFF_CHECKSUM, checksum);
}

static inline void mist_ipv4_set_src(uint8_t *p, struct mist_ipv4_addr a)
{
	mist_memcpy(p + MIST_IPV4_OFF_SRC, a.b, MIST_IPV4_ADDR_LEN);
}

static inline void mist_ipv4_set_dst(uint8_t *p, struct mist_ipv4_addr a)
{
	mist_memcpy(p + MIST_IPV4_OFF_DST, a.b, MIST_IPV4_ADDR_LEN);
}

/* --- addresses ----------------------------------------------------------- */

#define MIST_IPV4_ANY       MIST_IPV4(0, 0, 0, 0)
#define MIST_IPV4_BROADCAST MIST_IPV4(255, 255, 255, 255)

#define MIST_IPV4_PREFIX_MAX 32

/* First-byte patterns of the special ranges (RFC 1122 section 3.2.1.3, RFC 5771). */
#define MIST_IPV4_LOOPBACK_NET   127  /* 127/8 */
#define MIST_IPV4_ZERO_NET       0    /* 0/8, "this network" */
#define MIST_IPV4_MULTICAST_MASK 0xf0 /* 224/4 */
#define MIST_IPV4_MULTICAST_NET  0xe0

static inline uint32_t mist_ipv4_addr_to_u32(struct mist_ipv4_addr a)
{
	return mist_load_be32(a.b);
}

static inline struct mist_ipv4_addr mist_ipv4_addr_from_u32(uint32_t v)
{
	struct mist_ipv4_addr a;

	mist_store_be32(a.b, v);
	return a;
}

static inline bool mist_ipv4_addr_eq(struct mist_ipv4_addr a, struct mist_ipv4_addr b)
{
	return mist_ipv4_addr_to_u32(a) == mist_ipv4_addr_to_u32(b);
}

/* Returns the netmask of a prefix of `prefix_len` bits (0..32), in host order. */
static inline uint32_t mist_ipv4_prefix_mask(unsigned prefix_len)
{
	return prefix_len == 0 ? 0 : UINT32_MAX << (MIST_IPV4_PREFIX_MAX - prefix_len);
}

/* True for 0.0.0.0, the unspecified address. */
static inline bool mist_ipv4_addr_is_unspecified(struct mist_ipv4_addr a)
{
	return mist_ipv4_addr_to_u32(a) == 0;
}

/* True for the limited broadcast address 255.255.255.255 (RFC 919 section 7). */
static inline bool mist_ipv4_addr_is_broadcast(struct mist_ipv4_addr a)
{
	return mist_ipv4_addr_to_u32(a) == UINT32_MAX;
}

/* True for 224/4, multicast (RFC 5771). */
static inline bool mist_ipv4_addr_is_multicast(struct mist_ipv4_addr a)
{
	return (a.b[0] & MIST_IPV4_MULTICAST_MASK) == MIST_IPV4_MULTICAST_NET;
}

/* True for 127/8 (RFC 1122 section 3.2.1.3(g): must not appear on the wire). */
static inline bool mist_ipv4_addr_is_loopback(struct mist_ipv4_addr a)
{
	return a.b[0] == MIST_IPV4_LOOPBACK_NET;
}

/*
 * True for 0/8, "this network" (RFC 1122 section 3.2.1.3(a) and (b)): valid
 * only as a source while a host learns its address, never as a destination.
 */
static inline bool mist_ipv4_addr_is_zero_net(struct mist_ipv4_addr a)
{
	return a.b[0] == MIST_IPV4_ZERO_NET;
}

/* True when `a` lies in the subnet of `net` with a prefix of `prefix_len` bits (0..32). */
static inline bool mist_ipv4_addr_in_subnet(struct mist_ipv4_addr a, struct mist_ipv4_addr net,
                                            unsigned prefix_len)
{
	uint32_t mask = mist_ipv4_prefix_mask(prefix_len);

	return (mist_ipv4_addr_to_u32(a) & mask) == (mist_ipv4_addr_to_u32(net) & mask);
}

/*
 * True when `a` is the directed broadcast address of the subnet of `net`
 * with a prefix of `prefix_len` bits (RFC 922; RFC 1122 section 3.3.6): the
 * subnet's address with every host bit set. Prefixes of 31 and 32 bits have
 * no broadcast address (RFC 3021), so the answer is false for them.
 */
static inline bool mist_ipv4_addr_is_subnet_broadcast(struct mist_ipv4_addr a,
                                                      struct mist_ipv4_addr net,
                                                      unsigned prefix_len)
{
	uint32_t mask = mist_ipv4_prefix_mask(prefix_len);

	if (prefix_len >= MIST_IPV4_PREFIX_MAX - 1)
		return false;
	return mist_ipv4_addr_in_subnet(a, net, prefix_len) &&
	       (mist_ipv4_addr_to_u32(a) | mask) == UINT32_MAX;
}

#endif
