/*
 * ICMP for IPv4 (RFC 792): a view over a message, which is the whole payload
 * of its IPv4 datagram. Echo request and reply, destination unreachable and
 * time exceeded have a repr; the other types can be checked and read through
 * the getters only. It is not the ICMP layer: which messages to answer, and
 * rate limits, live in the net layer. Freestanding: base/endian.h,
 * wire/checksum.h, wire/ipv4.h and the MIST_E* codes of mist/mist.h.
 *
 * Use: mist_icmp_check() once on the message; after it returns 0 the getters
 * may be used and, for an error message, the original datagram's header at
 * mist_icmp_data() is known to be complete and followed by 8 bytes.
 */
#ifndef MIST_WIRE_ICMP_H
#define MIST_WIRE_ICMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/endian.h"

/* Field offsets (RFC 792). The 4 bytes at REST depend on the type. */
#define MIST_ICMP_OFF_TYPE     0
#define MIST_ICMP_OFF_CODE     1
#define MIST_ICMP_OFF_CHECKSUM 2
#define MIST_ICMP_OFF_REST     4
#define MIST_ICMP_OFF_IDENT    4 /* echo: identifier */
#define MIST_ICMP_OFF_SEQ      6 /* echo: sequence number */
#define MIST_ICMP_OFF_MTU      6 /* fragmentation needed: next-hop MTU (RFC 1191 section 4) */
#define MIST_ICMP_OFF_DATA     8
#define MIST_ICMP_HDR_LEN      8

/* The data of an error message: the original IP header and 64 bits of its payload. */
#define MIST_ICMP_ORIG_PAYLOAD 8

#define MIST_ICMP_ECHO_REPLY    0
#define MIST_ICMP_DEST_UNREACH  3
#define MIST_ICMP_SOURCE_QUENCH 4 /* deprecated by RFC 6633; still checked as an error */
#define MIST_ICMP_REDIRECT      5
#define MIST_ICMP_ECHO_REQUEST  8
#define MIST_ICMP_TIME_EXCEEDED 11
#define MIST_ICMP_PARAM_PROBLEM 12

/* Destination unreachable codes (RFC 792, RFC 1122 section 3.2.2.1). */
#define MIST_ICMP_UNREACH_NET         0
#define MIST_ICMP_UNREACH_HOST        1
#define MIST_ICMP_UNREACH_PROTOCOL    2
#define MIST_ICMP_UNREACH_PORT        3
#define MIST_ICMP_UNREACH_FRAG_NEEDED 4

/* Time exceeded codes. */
#define MIST_ICMP_EXCEEDED_TTL        0
#define MIST_ICMP_EXCEEDED_REASSEMBLY 1

/* A message of one of the types with a repr, as values. */
struct mist_icmp_repr {
	uint8_t type;
	uint8_t code;
	uint16_t ident;        /* echo request and reply */
	uint16_t seq;          /* echo request and reply */
	uint16_t next_hop_mtu; /* destination unreachable, code 4; otherwise 0 */
	size_t data_len;       /* bytes after the header: echo data, or the original datagram */
};

/* True for the types whose data is an original datagram (RFC 792, RFC 1122 section 3.2.2). */
static inline bool mist_icmp_type_is_error(uint8_t type)
{
	return type == MIST_ICMP_DEST_UNREACH || type == MIST_ICMP_SOURCE_QUENCH ||
	       type == MIST_ICMP_REDIRECT || type == MIST_ICMP_TIME_EXCEEDED ||
	       type == MIST_ICMP_PARAM_PROBLEM;
}

/*
 * Checks that `p[0..len)` holds an ICMP message: at least the 8-byte header
 * and, for an error type, an original IPv4 header (version 4, IHL >= 5)
 * followed by at least 8 bytes (RFC 792; RFC 1122 section 3.2.2 lets the
 * transport layer find its ports there). The checksum is not verified: see
 * mist_icmp_verify_checksum(). Returns 0; MIST_ERANGE when something lies
 * past len; MIST_EINVAL when the original header's version or IHL is bad.
 */
int mist_icmp_check(const uint8_t *p, size_t len);

/* Returns true when the checksum over the `len` bytes of the message is correct. */
bool mist_icmp_verify_checksum(const uint8_t *p, size_t len);

/* Computes and stores the checksum over the `len` bytes of the message. */
void mist_icmp_fill_checksum(uint8_t *p, size_t len);

/*
 * Runs mist_icmp_check(), then fills *r for echo request and reply,
 * destination unreachable and time exceeded. Returns what the check
 * returned, or MIST_ENOTSUP for another type. The checksum is not verified.
 */
int mist_icmp_parse(const uint8_t *p, size_t len, struct mist_icmp_repr *r);

/*
 * Writes the header for *r at `p` and the checksum over it and the
 * r->data_len bytes that must already follow it (echo data, or the original
 * datagram: zero copy for an echo reply built in the request's buffer).
 * Returns 0; MIST_ERANGE when len < MIST_ICMP_HDR_LEN + r->data_len;
 * MIST_EINVAL for a type without a repr.
 */
int mist_icmp_emit(const struct mist_icmp_repr *r, uint8_t *p, size_t len);

/* Returns the length a message for *r has: header plus data. */
static inline size_t mist_icmp_repr_len(const struct mist_icmp_repr *r)
{
	return MIST_ICMP_HDR_LEN + r->data_len;
}

static inline uint8_t mist_icmp_type(const uint8_t *p)
{
	return p[MIST_ICMP_OFF_TYPE];
}

static inline uint8_t mist_icmp_code(const uint8_t *p)
{
	return p[MIST_ICMP_OFF_CODE];
}

static inline uint16_t mist_icmp_checksum(const uint8_t *p)
{
	return mist_load_be16(p + MIST_ICMP_OFF_CHECKSUM);
}

/* Returns the type-dependent 4 bytes after the checksum, as one big-endian word. */
static inline uint32_t mist_icmp_rest(const uint8_t *p)
{
	return mist_load_be32(p + MIST_ICMP_OFF_REST);
}

static inline uint16_t mist_icmp_ident(const uint8_t *p)
{
	return mist_load_be16(p + MIST_ICMP_OFF_IDENT);
}

static inline uint16_t mist_icmp_seq(const uint8_t *p)
{
	return mist_load_be16(p + MIST_ICMP_OFF_SEQ);
}

static inline uint16_t mist_icmp_next_hop_mtu(const uint8_t *p)
{
	return mist_load_be16(p + MIST_ICMP_OFF_MTU);
}

/* Returns the data after the header: echo data, or an error's original datagram. */
static inline const uint8_t *mist_icmp_data(const uint8_t *p)
{
	return p + MIST_ICMP_OFF_DATA;
}

static inline void mist_icmp_set_type(uint8_t *p, uint8_t type)
{
	p[MIST_ICMP_OFF_TYPE] = type;
}

static inline void mist_icmp_set_code(uint8_t *p, uint8_t code)
{
	p[MIST_ICMP_OFF_CODE] = code;
}

static inline void mist_icmp_set_checksum(uint8_t *p, uint16_t checksum)
{
	mist_store_be16(p + MIST_ICMP_OFF_CHECKSUM, checksum);
}

static inline void mist_icmp_set_rest(uint8_t *p, uint32_t rest)
{
	mist_store_be32(p + MIST_ICMP_OFF_REST, rest);
}

static inline void mist_icmp_set_ident(uint8_t *p, uint16_t ident)
{
	mist_store_be16(p + MIST_ICMP_OFF_IDENT, ident);
}

static inline void mist_icmp_set_seq(uint8_t *p, uint16_t seq)
{
	mist_store_be16(p + MIST_ICMP_OFF_SEQ, seq);
}

static inline void mist_icmp_set_next_hop_mtu(uint8_t *p, uint16_t mtu)
{
	mist_store_be16(p + MIST_ICMP_OFF_MTU, mtu);
}

#endif
