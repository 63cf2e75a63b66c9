/*
 * TCP sequence number comparisons (RFC 9293 §3.4). Sequence numbers are
 * counted modulo 2^32, so `a < b` means "b lies less than 2^31 ahead of a",
 * the signed difference of the two. Every comparison of sequence numbers in
 * the stack goes through these; a plain `<` is wrong across the wraparound.
 * They only order numbers less than 2^31 apart, which every window is.
 * Freestanding; header only.
 */
#ifndef MIST_NET_TCP_SEQ_H
#define MIST_NET_TCP_SEQ_H

#include <stdbool.h>
#include <stdint.h>

static inline bool seq_lt(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) < 0;
}

static inline bool seq_le(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) <= 0;
}

static inline bool seq_gt(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) > 0;
}

static inline bool seq_ge(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) >= 0;
}

static inline uint32_t seq_max(uint32_t a, uint32_t b)
{
	return seq_gt(a, b) ? a : b;
}

static inline uint32_t seq_min(uint32_t a, uint32_t b)
{
	return seq_lt(a, b) ? a : b;
}

#endif
