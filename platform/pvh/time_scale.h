/*
 * Multiplying a 64-bit count by a ratio (TSC ticks to ns and back) without
 * floating point and without 128-bit arithmetic: the ratio is held as a
 * 32-bit multiplier and a power-of-two shift, the way KVM's pvclock does
 * (tsc_to_system_mul, tsc_shift), and applied as a shift, a 64 x 32-bit
 * multiplication in two halves, and a 32-bit shift. The relative error is
 * below 2^-31, a few parts per billion. Header-only and pure, so that unit
 * tests check it against exact arithmetic on the host.
 */
#ifndef MIST_PLATFORM_PVH_TIME_SCALE_H
#define MIST_PLATFORM_PVH_TIME_SCALE_H

#include <stdint.h>

/* x * ratio == ((x << shift, or >> -shift) * mul) >> 32. */
struct time_scale {
	uint32_t mul;
	int shift;
};

/* (x * mul) >> 32 for a 64-bit x: exact, and it cannot overflow. */
static inline uint64_t time_scale_mul_hi(uint64_t x, uint32_t mul)
{
	return (x >> 32) * mul + (((x & 0xffffffffu) * mul) >> 32);
}

/*
 * The scale for num / den (both nonzero). mul is normalised into
 * [2^31, 2^32) for precision.
 */
static inline struct time_scale time_scale_make(uint64_t num, uint64_t den)
{
	int shift = 0;

	/* Bring num / den into [1/2, 1), counting the factors of two in shift. */
	while (num >= den) {
		if (den <= UINT64_MAX / 2)
			den <<= 1;
		else
			num >>= 1;
		shift++;
	}
	while (num <= (den - 1) / 2) {
		num <<= 1;
		shift--;
	}
	/* Then make den fit in 32 bits, so that num << 32 cannot overflow. */
	while (den > UINT32_MAX) {
		den >>= 1;
		num >>= 1;
	}
	uint64_t mul = (num << 32) / den;
	return (struct time_scale){.mul = mul > UINT32_MAX ? UINT32_MAX : (uint32_t)mul,
	                           .shift = shift};
}

/* x * the scale's ratio, rounded down; UINT64_MAX if that does not fit. */
static inline uint64_t time_scale_apply(struct time_scale s, uint64_t x)
{
	if (s.shift >= 0) {
		if (x > UINT64_MAX >> s.shift)
			return UINT64_MAX;
		x <<= s.shift;
	} else {
		x >>= -s.shift;
	}
	return time_scale_mul_hi(x, s.mul);
}

#endif
