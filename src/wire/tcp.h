/*
 * TCP segments (RFC 9293 section 3.1) over IPv4: a view over the header, its
 * options (MSS, RFC 9293 section 3.2; window scale and timestamps, RFC 7323;
 * SACK-permitted and SACK, RFC 2018) and the payload behind it, with the
 * checksum over the IPv4 pseudo-header. It is not TCP: no connection state,
 * no sequence arithmetic, no decision about which options count on which
 * segment; those live in the net layer. Freestanding: base/endian.h,
 * wire/checksum.h, wire/ipv4.h and the MIST_E* codes of mist/mist.h.
 *
 * Use: mist_tcp_check() once on the IPv4 payload; after it returns 0 the
 * getters may be used and the whole header, options included, lies within
 * the checked length. mist_tcp_parse() also validates the options. To send,
 * mist_tcp_emit() then mist_tcp_fill_checksum().
 */
#ifndef MIST_WIRE_TCP_H
#define MIST_WIRE_TCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/endian.h"
#include "wire/ipv4.h"

/* Field offsets (RFC 9293 section 3.1). */
#define MIST_TCP_OFF_SRC_PORT   0
#define MIST_TCP_OFF_DST_PORT   2
#define MIST_TCP_OFF_SEQ        4
#define MIST_TCP_OFF_ACK        8
#define MIST_TCP_OFF_DATA_OFF   12 /* data offset in words (high nibble), reserved (low) */
#define MIST_TCP_OFF_FLAGS      13
#define MIST_TCP_OFF_WINDOW     14
#define MIST_TCP_OFF_CHECKSUM   16
#define MIST_TCP_OFF_URGENT     18
#define MIST_TCP_OFF_OPTIONS    20
#define MIST_TCP_DATA_OFF_SHIFT 4
#define MIST_TCP_WORD           4 /* the data offset counts 32-bit words */

#define MIST_TCP_HDR_MIN 20
#define MIST_TCP_HDR_MAX 60
#define MIST_TCP_OPT_MAX (MIST_TCP_HDR_MAX - MIST_TCP_HDR_MIN) /* option space: 40 bytes */

/* Control bits (RFC 9293 section 3.1; ECE and CWR from RFC 3168 section 6.1). */
#define MIST_TCP_FIN 0x01
#define MIST_TCP_SYN 0x02
#define MIST_TCP_RST 0x04
#define MIST_TCP_PSH 0x08
#define MIST_TCP_ACK 0x10
#define MIST_TCP_URG 0x20
#define MIST_TCP_ECE 0x40
#define MIST_TCP_CWR 0x80

/* Option kinds (RFC 9293 section 3.2, RFC 7323, RFC 2018). */
#define MIST_TCP_OPT_EOL        0 /* end of option list; no length byte */
#define MIST_TCP_OPT_NOP        1 /* no operation; no length byte */
#define MIST_TCP_OPT_MSS        2
#define MIST_TCP_OPT_WSCALE     3
#define MIST_TCP_OPT_SACK_PERM  4
#define MIST_TCP_OPT_SACK       5
#define MIST_TCP_OPT_TIMESTAMPS 8

/* Option lengths, kind and length bytes included. */
#define MIST_TCP_OPT_MIN_LEN        2 /* every option but EOL and NOP */
#define MIST_TCP_OPT_MSS_LEN        4
#define MIST_TCP_OPT_WSCALE_LEN     3
#define MIST_TCP_OPT_SACK_PERM_LEN  2
#define MIST_TCP_OPT_TIMESTAMPS_LEN 10
#define MIST_TCP_OPT_SACK_BASE_LEN  2 /* a SACK option is 2 + 8n bytes for n blocks */
#define MIST_TCP_SACK_BLOCK_LEN     8

/* SACK blocks one header can carry (RFC 2018 section 3: 4 at most, 3 with timestamps). */
#define MIST_TCP_SACK_MAX 4

/* The largest window scale shift a receiver may use (RFC 7323 section 2.3). */
#define MIST_TCP_WSCALE_MAX 14

struct mist_tcp_sack_block {
	uint32_t start, end; /* [start, end) sequence numbers */
};

/* A header as values, options included. */
struct mist_tcp_repr {
	uint16_t src_port, dst_port;
	uint32_t seq, ack;
	uint8_t flags;   /* MIST_TCP_* */
	uint16_t window; /* the raw field, unscaled */
	uint16_t urgent;
	/* MSS option; 0 when absent (a received MSS of 0 reads as absent too). */
	uint16_t mss;
	/* Window scale shift as received (caller clamps to 14, RFC 7323 section 2.3). */
	bool has_wscale;
	uint8_t wscale;
	bool sack_permitted;
	bool has_timestamps;
	uint32_t ts_val, ts_ecr;
	uint8_t sack_count; /* SACK blocks present */
	struct mist_tcp_sack_block sack[MIST_TCP_SACK_MAX];
	uint8_t header_len; /* parse: the data offset in bytes; emit: ignored (computed) */
};

/*
 * Checks that `p[0..len)` starts with a TCP header: len >= 20, data offset
 * >= 5 words and offset * 4 <= len. Neither the options nor the checksum are
 * looked at here. Returns 0; MIST_ERANGE when the header lies past len;
 * MIST_EINVAL when the data offset is below 5.
 */
int mist_tcp_check(const uint8_t *p, size_t len);

/*
 * Returns true when the checksum over the IPv4 pseudo-header (`src`, `dst`,
 * protocol 6, `len`) and `p[0..len)`, the whole segment, is correct. The
 * segment is contiguous here, as received frames and reassembled datagrams
 * are. A `len` above 65535 cannot be a TCP length over IPv4: false.
 */
bool mist_tcp_verify_checksum(const uint8_t *p, size_t len, struct mist_ipv4_addr src,
                              struct mist_ipv4_addr dst);

/*
 * Runs mist_tcp_check(), then fills *r, options included. In the options
 * (RFC 9293 section 3.1): EOL ends the list; NOP is skipped; every other
 * option needs a length byte of at least 2 that keeps it inside the header,
 * else MIST_EINVAL; MSS, window scale, SACK-permitted and timestamps with a
 * length other than their own, and SACK with a length not 2 + 8n (n = 0 too), are
 * MIST_EINVAL; unknown options are skipped by their length. MSS, window scale
 * and SACK-permitted are taken whatever the flags: the caller decides that
 * they count only on a SYN. When an option appears twice the last one wins,
 * except SACK, whose blocks add up; blocks beyond MIST_TCP_SACK_MAX are
 * ignored. *r may be partly written when an error is returned. Returns 0,
 * MIST_ERANGE or MIST_EINVAL.
 */
int mist_tcp_parse(const uint8_t *p, size_t len, struct mist_tcp_repr *r);

/*
 * Returns the bytes the header of *r takes with its options: 20 plus the
 * options, which are laid out to keep the 4-byte fields aligned (RFC 7323
 * Appendix A), each group a multiple of 4 so no padding is needed:
 * MSS (4) when mss != 0; then NOP,NOP,TS (12), SACKOK,TS (12) or
 * NOP,NOP,SACKOK (4), as timestamps and SACK-permitted ask; then
 * NOP,WSCALE (4); then NOP,NOP,SACK (4 + 8n) for n = sack_count > 0.
 * For a repr that mist_tcp_emit() refuses the result exceeds
 * MIST_TCP_HDR_MAX.
 */
size_t mist_tcp_header_len(const struct mist_tcp_repr *r);

/*
 * Writes the header for *r with its options (laid out as for
 * mist_tcp_header_len()), reserved bits 0 and checksum 0, at `p`. The
 * payload is not touched and need not follow in the same buffer. Returns
 * the header length written; MIST_EINVAL when sack_count > MIST_TCP_SACK_MAX
 * or the options do not fit in 40 bytes; MIST_ERANGE when len is below the
 * header length.
 */
int mist_tcp_emit(const struct mist_tcp_repr *r, uint8_t *p, size_t len);

/*
 * Computes and stores the checksum of the segment whose header is at `p`
 * (its data offset already set), with `segment_len` (at most 65535) the
 * header plus payload bytes and `payload_sum` the partial sum of the payload
 * (mist_csum_partial() over contiguous bytes, or pieces joined with
 * mist_csum_add()), so the payload need not follow the header in the same
 * buffer.
 */
void mist_tcp_fill_checksum(uint8_t *p, size_t segment_len, struct mist_ipv4_addr src,
                            struct mist_ipv4_addr dst, uint32_t payload_sum);

/*
 * Stores in the checksum field of the segment whose header is at `p` the
 * folded (not complemented) sum of the IPv4 pseudo-header for a segment of
 * `segment_len` (at most 65535) header plus payload bytes: what a device
 * that completes checksums expects (Virtio 1.2 5.1.6.2, "partial checksum";
 * Linux's CHECKSUM_PARTIAL). Summing the segment from its first header byte
 * to its end with this in the field, and storing the complement, gives the
 * checksum mist_tcp_fill_checksum() would have stored.
 */
void mist_tcp_fill_partial_checksum(uint8_t *p, size_t segment_len, struct mist_ipv4_addr src,
                                    struct mist_ipv4_addr dst);

static inline uint16_t mist_tcp_src_port(const uint8_t *p)
{
	return mist_load_be16(p + MIST_TCP_OFF_SRC_PORT);
}

static inline uint16_t mist_tcp_dst_port(const uint8_t *p)
{
	return mist_load_be16(p + MIST_TCP_OFF_DST_PORT);
}

static inline uint32_t mist_tcp_seq(const uint8_t *p)
{
	return mist_load_be32(p + MIST_TCP_OFF_SEQ);
}

static inline uint32_t mist_tcp_ack(const uint8_t *p)
{
	return mist_load_be32(p + MIST_TCP_OFF_ACK);
}

/* Returns the data offset in bytes: the header length, options included. */
static inline size_t mist_tcp_data_offset(const uint8_t *p)
{
	return (size_t)(p[MIST_TCP_OFF_DATA_OFF] >> MIST_TCP_DATA_OFF_SHIFT) * MIST_TCP_WORD;
}

/* Returns the control bits, MIST_TCP_*. */
static inline uint8_t mist_tcp_flags(const uint8_t *p)
{
	return p[MIST_TCP_OFF_FLAGS];
}

/* Returns the window field as sent, not scaled. */
static inline uint16_t mist_tcp_window(const uint8_t *p)
{
	return mist_load_be16(p + MIST_TCP_OFF_WINDOW);
}

static inline uint16_t mist_tcp_checksum(const uint8_t *p)
{
	return mist_load_be16(p + MIST_TCP_OFF_CHECKSUM);
}

static inline uint16_t mist_tcp_urgent(const uint8_t *p)
{
	return mist_load_be16(p + MIST_TCP_OFF_URGENT);
}

/* Returns the options: the bytes between the fixed header and the data offset. */
static inline const uint8_t *mist_tcp_options(const uint8_t *p)
{
	return p + MIST_TCP_OFF_OPTIONS;
}

static inline size_t mist_tcp_options_len(const uint8_t *p)
{
	return mist_tcp_data_offset(p) - MIST_TCP_HDR_MIN;
}

static inline const uint8_t *mist_tcp_payload(const uint8_t *p)
{
	return p + mist_tcp_data_offset(p);
}

/* Returns the payload length of a checked segment of `len` bytes. */
static inline size_t mist_tcp_payload_len(const uint8_t *p, size_t len)
{
	return len - mist_tcp_data_offset(p);
}

static inline void mist_tcp_set_src_port(uint8_t *p, uint16_t port)
{
	mist_store_be16(p + MIST_TCP_OFF_SRC_PORT, port);
}

static inline void mist_tcp_set_dst_port(uint8_t *p, uint16_t port)
{
	mist_store_be16(p + MIST_TCP_OFF_DST_PORT, port);
}

static inline void mist_tcp_set_seq(uint8_t *p, uint32_t seq)
{
	mist_store_be32(p + MIST_TCP_OFF_SEQ, seq);
}

static inline void mist_tcp_set_ack(uint8_t *p, uint32_t ack)
{
	mist_store_be32(p + MIST_TCP_OFF_ACK, ack);
}

/*
 * Sets the data offset to `header_len` bytes (a multiple of 4, 20..60) and
 * clears the reserved bits, which RFC 9293 section 3.1 requires to be zero
 * when sent.
 */
static inline void mist_tcp_set_data_offset(uint8_t *p, size_t header_len)
{
	p[MIST_TCP_OFF_DATA_OFF] = (uint8_t)(header_len / MIST_TCP_WORD << MIST_TCP_DATA_OFF_SHIFT);
}

static inline void mist_tcp_set_flags(uint8_t *p, uint8_t flags)
{
	p[MIST_TCP_OFF_FLAGS] = flags;
}

static inline void mist_tcp_set_window(uint8_t *p, uint16_t window)
{
	mist_store_be16(p + MIST_TCP_OFF_WINDOW, window);
}

static inline void mist_tcp_set_checksum(uint8_t *p, uint16_t checksum)
{
	mist_store_be16(p + MIST_TCP_OFF_CHECKSUM, checksum);
}

static inline void mist_tcp_set_urgent(uint8_t *p, uint16_t urgent)
{
	mist_store_be16(p + MIST_TCP_OFF_URGENT, urgent);
}

#endif
