/*
 * The Internet checksum (RFC 1071), see checksum.h. The sum is taken in the
 * host's byte order, eight bytes per step, and converted to the big-endian
 * convention of the header once at the end: RFC 1071 section 2(B) shows that
 * the ones'-complement sum of byte-swapped words is the byte-swapped sum.
 * This file is arithmetic only; it is not a CRC and knows no header layout.
 * Freestanding: base/endian.h and base/str.h.
 */
#include "wire/checksum.h"

#include "base/endian.h"
#include "base/str.h"

#define LOW32 0xffffffffu
#define LOW16 0xffffu

/* Returns a + b in 32-bit ones'-complement arithmetic (end-around carry). */
static uint32_t add_carry32(uint32_t a, uint32_t b)
{
	uint32_t s = a + b;

	return s + (s < b);
}

/*
 * Folds a 32-bit ones'-complement sum to 16 bits. Two rounds suffice: the
 * first leaves at most 0x1fffe, the second at most 0xffff.
 */
static uint16_t fold16(uint32_t sum)
{
	sum = (sum & LOW16) + (sum >> 16);
	sum = (sum & LOW16) + (sum >> 16);
	return (uint16_t)sum;
}

static uint16_t swap16(uint16_t v)
{
	return (uint16_t)(v << 8 | v >> 8);
}

/*
 * Adds the two 32-bit halves of the 64-bit word at `p` to `acc`. Each call
 * adds less than 2^33, so the 64-bit accumulator cannot overflow before
 * 2^31 calls, far beyond any packet.
 */
static uint64_t add_word64(uint64_t acc, const uint8_t *p)
{
	uint64_t w;

	mist_memcpy(&w, p, sizeof(w));
	return acc + (w & LOW32) + (w >> 32);
}

uint32_t mist_csum_partial(const void *data, size_t len, uint32_t sum)
{
	const uint8_t *p = data;
	uint64_t acc = 0;

	/* Four independent words per iteration keep the adder busy. */
	while (len >= 32) {
		acc = add_word64(acc, p);
		acc = add_word64(acc, p + 8);
		acc = add_word64(acc, p + 16);
		acc = add_word64(acc, p + 24);
		p += 32;
		len -= 32;
	}
	while (len >= 8) {
		acc = add_word64(acc, p);
		p += 8;
		len -= 8;
	}
	if (len >= 4) {
		uint32_t w;

		mist_memcpy(&w, p, sizeof(w));
		acc += w;
		p += 4;
		len -= 4;
	}
	if (len >= 2) {
		uint16_t w;

		mist_memcpy(&w, p, sizeof(w));
		acc += w;
		p += 2;
		len -= 2;
	}
	/*
	 * RFC 1071 section 4.1: an odd last byte is the high byte of a word whose
	 * low byte is zero. In memory order that byte comes first, which is the
	 * low half of a little-endian word.
	 */
	if (len == 1) {
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
		acc += p[0];
#else
		acc += (uint32_t)p[0] << 8;
#endif
	}

	/* 64 to 32 bits: the first round leaves at most 33 bits, the second 32. */
	acc = (acc & LOW32) + (acc >> 32);
	acc = (acc & LOW32) + (acc >> 32);
	uint16_t folded = fold16((uint32_t)acc);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	folded = swap16(folded);
#endif
	return add_carry32(sum, folded);
}

uint32_t mist_csum_add(uint32_t sum, uint32_t piece, size_t offset)
{
	if (offset & 1)
		piece = swap16(fold16(piece));
	return add_carry32(sum, piece);
}

uint16_t mist_csum_fold(uint32_t sum)
{
	return (uint16_t)~fold16(sum);
}

uint16_t mist_csum(const void *data, size_t len)
{
	return mist_csum_fold(mist_csum_partial(data, len, 0));
}

uint32_t mist_csum_pseudo_ipv4(const uint8_t src[4], const uint8_t dst[4], uint8_t protocol,
                               uint16_t len)
{
	/* Six 16-bit terms: no carry can leave 32 bits. */
	return (uint32_t)mist_load_be16(src) + mist_load_be16(src + 2) + mist_load_be16(dst) +
	       mist_load_be16(dst + 2) + protocol + len;
}

uint16_t mist_csum_update16(uint16_t check, uint16_t old_word, uint16_t new_word)
{
	uint32_t sum = (uint32_t)(uint16_t)~check + (uint16_t)~old_word + new_word;

	return (uint16_t)~fold16(sum);
}
