/*
 * UDP datagrams (RFC 768) over IPv4: a view over the 8-byte header and the
 * payload behind it, with the checksum over the IPv4 pseudo-header. It is not
 * the UDP layer: no ports are bound here, and nothing is delivered.
 * Freestanding: base/endian.h, wire/checksum.h, wire/ipv4.h and the MIST_E*
 * codes of mist/mist.h.
 *
 * Use: mist_udp_check() once on the IPv4 payload; after it returns 0 the
 * getters may be used, the length field lies within the checked length, and
 * mist_udp_verify_checksum() may be called.
 */
#ifndef MIST_WIRE_UDP_H
#define MIST_WIRE_UDP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/endian.h"
#include "wire/ipv4.h"

/* Field offsets (RFC 768, "Format"). */
#define MIST_UDP_OFF_SRC_PORT 0
#define MIST_UDP_OFF_DST_PORT 2
#define MIST_UDP_OFF_LENGTH   4 /* header plus data, in bytes */
#define MIST_UDP_OFF_CHECKSUM 6
#define MIST_UDP_HDR_LEN      8

/* The largest payload whose length fits the 16-bit length field. */
#define MIST_UDP_MAX_PAYLOAD (UINT16_MAX - MIST_UDP_HDR_LEN)

/*
 * RFC 768: a transmitted checksum of 0 means that the sender computed none;
 * a computed 0 is sent as all ones, its other ones'-complement form.
 */
#define MIST_UDP_CHECKSUM_NONE 0x0000
#define MIST_UDP_CHECKSUM_ZERO 0xffff

/* A header as values. */
struct mist_udp_repr {
	uint16_t src_port;
	uint16_t dst_port;
	uint16_t payload_len; /* bytes after the header */
};

/*
 * Checks that `p[0..len)` starts with a UDP datagram: len >= 8 and a length
 * field of at least 8 and at most len (the IPv4 payload may be longer; the
 * length field wins). The checksum is not verified here. Returns 0;
 * MIST_ERANGE when the header or the length field lies past len;
 * MIST_EINVAL when the length field is below 8.
 */
int mist_udp_check(const uint8_t *p, size_t len);

/*
 * Returns true when the checksum of a checked datagram, over the pseudo-header
 * for `src` and `dst` and the length-field bytes at `p`, is correct or absent
 * (field 0, allowed over IPv4 by RFC 768).
 */
bool mist_udp_verify_checksum(const uint8_t *p, struct mist_ipv4_addr src,
                              struct mist_ipv4_addr dst);

/*
 * Computes and stores the checksum of the datagram whose header is at `p`
 * and whose length field is already set. `payload_sum` is the partial sum of
 * the payload (mist_csum_partial() over contiguous bytes, or several pieces
 * joined with mist_csum_add()), so the payload need not follow the header in
 * the same buffer. A computed 0 is stored as 0xffff.
 */
void mist_udp_fill_checksum(uint8_t *p, struct mist_ipv4_addr src, struct mist_ipv4_addr dst,
                            uint32_t payload_sum);

/* Runs mist_udp_check(), then fills *r. Returns what the check returned. */
int mist_udp_parse(const uint8_t *p, size_t len, struct mist_udp_repr *r);

/*
 * Writes the 8-byte header for *r at `p` with a checksum of 0; follow with
 * mist_udp_fill_checksum(). Returns 0; MIST_ERANGE when len < MIST_UDP_HDR_LEN;
 * MIST_EMSGSIZE when payload_len exceeds MIST_UDP_MAX_PAYLOAD.
 */
int mist_udp_emit(const struct mist_udp_repr *r, uint8_t *p, size_t len);

static inline uint16_t mist_udp_src_port(const uint8_t *p)
{
	return mist_load_be16(p + MIST_UDP_OFF_SRC_PORT);
}

static inline uint16_t mist_udp_dst_port(const uint8_t *p)
{
	return mist_load_be16(p + MIST_UDP_OFF_DST_PORT);
}

/* Returns the length field: header plus payload, in bytes. */
static inline uint16_t mist_udp_length(const uint8_t *p)
{
	return mist_load_be16(p + MIST_UDP_OFF_LENGTH);
}

static inline uint16_t mist_udp_checksum(const uint8_t *p)
{
	return mist_load_be16(p + MIST_UDP_OFF_CHECKSUM);
}

static inline const uint8_t *mist_udp_payload(const uint8_t *p)
{
	return p + MIST_UDP_HDR_LEN;
}

/* Returns the payload length of a checked datagram. */
static inline size_t mist_udp_payload_len(const uint8_t *p)
{
	return (size_t)mist_udp_length(p) - MIST_UDP_HDR_LEN;
}

static inline void mist_udp_set_src_port(uint8_t *p, uint16_t port)
{
	mist_store_be16(p + MIST_UDP_OFF_SRC_PORT, port);
}

static inline void mist_udp_set_dst_port(uint8_t *p, uint16_t port)
{
	mist_store_be16(p + MIST_UDP_OFF_DST_PORT, port);
}

static inline void mist_udp_set_length(uint8_t *p, uint16_t length)
{
	mist_store_be16(p + MIST_UDP_OFF_LENGTH, length);
}

static inline void mist_udp_set_checksum(uint8_t *p, uint16_t checksum)
{
	mist_store_be16(p + MIST_UDP_OFF_CHECKSUM, checksum);
}

#endif
