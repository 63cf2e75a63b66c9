/*
 * SipHash-2-4 as section 2 of the paper specifies it: the four-word
 * state is initialised from the key and four constants, each 8-byte
 * little-endian message word is absorbed with c = 2 SipRounds, the last
 * word carries the leftover bytes and the message length mod 256 in its top
 * byte, and d = 4 SipRounds finalise. Plain portable code, loading bytes one
 * at a time so that any alignment works.
 * Freestanding: depends on nothing but stdint.h and stddef.h.
 */
#include "core/siphash.h"

#define SIPHASH_C_ROUNDS 2 /* SipRounds per message word */
#define SIPHASH_D_ROUNDS 4 /* SipRounds of finalisation */
#define SIPHASH_WORD_LEN 8

/* Paper section 2, initialisation: the ASCII of "somepseudorandomlygeneratedbytes". */
#define SIPHASH_INIT0 UINT64_C(0x736f6d6570736575)
#define SIPHASH_INIT1 UINT64_C(0x646f72616e646f6d)
#define SIPHASH_INIT2 UINT64_C(0x6c7967656e657261)
#define SIPHASH_INIT3 UINT64_C(0x7465646279746573)

/* Paper section 2, finalisation: the constant xored into v2 before the d rounds. */
#define SIPHASH_FINAL_XOR 0xff

struct siphash_state {
	uint64_t v0, v1, v2, v3;
};

static inline uint64_t rotl64(uint64_t x, unsigned n)
{
	return x << n | x >> (64 - n);
}

static inline uint64_t load_le64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = SIPHASH_WORD_LEN - 1; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/* Paper section 2: one SipRound, four additions, six rotations and four xors. */
static void sipround(struct siphash_state *s)
{
	s->v0 += s->v1;
	s->v1 = rotl64(s->v1, 13);
	s->v1 ^= s->v0;
	s->v0 = rotl64(s->v0, 32);
	s->v2 += s->v3;
	s->v3 = rotl64(s->v3, 16);
	s->v3 ^= s->v2;
	s->v0 += s->v3;
	s->v3 = rotl64(s->v3, 21);
	s->v3 ^= s->v0;
	s->v2 += s->v1;
	s->v1 = rotl64(s->v1, 17);
	s->v1 ^= s->v2;
	s->v2 = rotl64(s->v2, 32);
}

/* Paper section 2, compression: absorbs one message word m. */
static void absorb(struct siphash_state *s, uint64_t m)
{
	s->v3 ^= m;
	for (int i = 0; i < SIPHASH_C_ROUNDS; i++)
		sipround(s);
	s->v0 ^= m;
}

uint64_t mist_siphash(const struct mist_siphash_key *key, const void *data, size_t len)
{
	const uint8_t *p = data;
	struct siphash_state s = {
	        .v0 = key->k0 ^ SIPHASH_INIT0,
	        .v1 = key->k1 ^ SIPHASH_INIT1,
	        .v2 = key->k0 ^ SIPHASH_INIT2,
	        .v3 = key->k1 ^ SIPHASH_INIT3,
	};
	size_t whole = len - len % SIPHASH_WORD_LEN;
	/* The last word: the length mod 256 in its top byte, the leftover bytes below it. */
	uint64_t last = (uint64_t)(len & 0xff) << 56;

	for (size_t i = 0; i < whole; i += SIPHASH_WORD_LEN)
		absorb(&s, load_le64(p + i));
	for (size_t i = whole; i < len; i++)
		last |= (uint64_t)p[i] << (8 * (i - whole));
	absorb(&s, last);

	s.v2 ^= SIPHASH_FINAL_XOR;
	for (int i = 0; i < SIPHASH_D_ROUNDS; i++)
		sipround(&s);
	return s.v0 ^ s.v1 ^ s.v2 ^ s.v3;
}
