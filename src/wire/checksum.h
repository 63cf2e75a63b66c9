/*
 * The Internet checksum (RFC 1071): the 16-bit ones'-complement sum used by
 * IPv4, ICMP, UDP and TCP. This header is the arithmetic only; it does not
 * know where a checksum field sits in any header (each format's own header
 * does) and it keeps no state. Freestanding: compiler headers and base/ only.
 *
 * A partial sum is a uint32_t that still has to be folded: the ones'-complement
 * sum of the bytes read as big-endian 16-bit words, with any carries kept in
 * the upper half. Its value does not depend on the host's byte order, so a
 * header field read with mist_load_be16() can be added to it directly, and
 * mist_csum_fold() gives the value to store with mist_store_be16().
 */
#ifndef MIST_WIRE_CHECKSUM_H
#define MIST_WIRE_CHECKSUM_H

#include <stddef.h>
#include <stdint.h>

/*
 * Adds the sum of `len` bytes at `data` to the partial sum `sum` and returns
 * the new partial sum. The first byte at `data` is taken as the high byte of
 * a word, so `sum` must cover an even number of bytes (start a piece that
 * follows an odd-length piece with sum 0 and join it with mist_csum_add()).
 * Any alignment and any `len`, including 0 and odd lengths (the last byte is
 * padded with a zero, RFC 1071 section 4.1). Reads eight bytes per step.
 */
uint32_t mist_csum_partial(const void *data, size_t len, uint32_t sum);

/*
 * Joins partial sums for scatter-gather: returns `sum` plus `piece`, where
 * `piece` is the partial sum of bytes that start `offset` bytes into the data
 * covered by `sum` (usually the length summed so far). When `offset` is odd
 * the piece's bytes sit in the other half of each word, and its sum is byte
 * swapped before adding (RFC 1071 section 2(B), byte order independence).
 */
uint32_t mist_csum_add(uint32_t sum, uint32_t piece, size_t offset);

/*
 * Folds a partial sum to 16 bits and returns its ones' complement: the value
 * to store in a checksum field. Over data that includes a correct checksum
 * field, the result is 0.
 */
uint16_t mist_csum_fold(uint32_t sum);

/* Returns mist_csum_fold(mist_csum_partial(data, len, 0)): the checksum of one piece. */
uint16_t mist_csum(const void *data, size_t len);

/*
 * Returns the partial sum of the IPv4 pseudo-header that UDP (RFC 768) and
 * TCP (RFC 793 section 3.1) put in front of their checksum: `src` and `dst`
 * are 4-byte addresses in network byte order, `protocol` the IPv4 protocol
 * number and `len` the UDP or TCP length (header plus data) in bytes.
 */
uint32_t mist_csum_pseudo_ipv4(const uint8_t src[4], const uint8_t dst[4], uint8_t protocol,
                               uint16_t len);

/*
 * Returns the checksum field after one 16-bit word it covers changed from
 * `old_word` to `new_word`, without summing the rest again (RFC 1624 section 3,
 * eqn. 3: HC' = ~(~HC + ~m + m')). Unlike eqn. 2 of RFC 1141, the result is
 * the one a full recomputation gives, including when it is 0.
 */
uint16_t mist_csum_update16(uint16_t check, uint16_t old_word, uint16_t new_word);

#endif
