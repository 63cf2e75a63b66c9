/*
 * The CSPRNG behind include/mist/rng.h: the ChaCha20 block function of RFC
 * 8439 2.3 run as a generator with fast key erasure (D. J. Bernstein,
 * "Fast-key-erasure random-number generators", 2017). Each refill computes a
 * few keystream blocks under the current key; their first 32 bytes replace
 * the key at once and the rest is handed out, each byte wiped from the
 * buffer as it leaves. Whoever reads the generator's memory later learns
 * nothing about output already given. One generator serves the program; it
 * is not for concurrent use (one thread of control per instance).
 * Freestanding, integer only.
 */
#include "core/rng_seed.h"

#include "base/compiler.h"
#include "base/str.h"
#include "core/panic.h"
#include "mist/rng.h"
#include "mist/sha256.h"

#define CHACHA_BLOCK_LEN 64
#define CHACHA_KEY_WORDS 8
#define CHACHA_KEY_LEN   (CHACHA_KEY_WORDS * 4)

/*
 * Blocks per refill: four give 224 bytes of output for each 32-byte key
 * replacement, so rekeying costs an eighth of the work.
 */
#define REFILL_BLOCKS 4
#define POOL_LEN      (REFILL_BLOCKS * CHACHA_BLOCK_LEN)

static struct {
	uint32_t key[CHACHA_KEY_WORDS];
	uint8_t pool[POOL_LEN]; /* keystream; bytes before `pos` are wiped */
	size_t pos;             /* next byte to hand out; POOL_LEN when empty */
} rng = {.pos = POOL_LEN};

static inline uint32_t load_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline void store_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static inline uint32_t rotl(uint32_t x, unsigned n)
{
	return x << n | x >> (32 - n);
}

/* RFC 8439 2.1: the quarter round on words a, b, c, d of the state. */
static void quarter_round(uint32_t x[16], unsigned a, unsigned b, unsigned c, unsigned d)
{
	x[a] += x[b];
	x[d] = rotl(x[d] ^ x[a], 16);
	x[c] += x[d];
	x[b] = rotl(x[b] ^ x[c], 12);
	x[a] += x[b];
	x[d] = rotl(x[d] ^ x[a], 8);
	x[c] += x[d];
	x[b] = rotl(x[b] ^ x[c], 7);
}

/*
 * RFC 8439 2.3: the words of each quarter round of a double round, four
 * columns then four diagonals. Walking a table rather than writing the eight
 * calls out keeps the block function small (the unikernel image counts every
 * byte); the generator refills rarely, so the loop's cost does not show.
 */
static const uint8_t double_round[8][4] = {
        {0, 4, 8, 12},  {1, 5, 9, 13},  {2, 6, 10, 14}, {3, 7, 11, 15},
        {0, 5, 10, 15}, {1, 6, 11, 12}, {2, 7, 8, 13},  {3, 4, 9, 14},
};

void mist_chacha20_block(const uint32_t key[8], uint32_t counter, const uint32_t nonce[3],
                         uint8_t out[64])
{
	/* RFC 8439 2.3: constants "expand 32-byte k", key, counter, nonce. */
	uint32_t init[16] = {
	        0x61707865, 0x3320646e, 0x79622d32, 0x6b206574, key[0], key[1],
	        key[2],     key[3],     key[4],     key[5],     key[6], key[7],
	        counter,    nonce[0],   nonce[1],   nonce[2],
	};
	uint32_t x[16];

	mist_memcpy(x, init, sizeof(x));
	/* Twenty rounds: ten of a column round followed by a diagonal round. */
	for (int i = 0; i < 10; i++)
		for (size_t q = 0; q < MIST_ARRAY_SIZE(double_round); q++)
			quarter_round(x, double_round[q][0], double_round[q][1], double_round[q][2],
			              double_round[q][3]);
	/* The block is the working state plus the initial state, serialised little-endian. */
	for (int i = 0; i < 16; i++)
		store_le32(out + 4 * i, x[i] + init[i]);
	mist_explicit_bzero(init, sizeof(init));
	mist_explicit_bzero(x, sizeof(x));
}

/*
 * Fills the pool under the current key (the nonce is zero: each key is used
 * for one refill only, so block counters 0..REFILL_BLOCKS-1 never repeat
 * under a key), then takes the first 32 bytes as the next key.
 */
static void refill(void)
{
	static const uint32_t nonce[3] = {0, 0, 0};

	for (uint32_t b = 0; b < REFILL_BLOCKS; b++)
		mist_chacha20_block(rng.key, b, nonce, rng.pool + b * CHACHA_BLOCK_LEN);
	for (int i = 0; i < CHACHA_KEY_WORDS; i++)
		rng.key[i] = load_le32(rng.pool + 4 * i);
	mist_explicit_bzero(rng.pool, CHACHA_KEY_LEN);
	rng.pos = CHACHA_KEY_LEN;
}

void mist_rng_seed(const void *seed, size_t len)
{
	struct mist_sha256 h;
	uint8_t digest[MIST_SHA256_DIGEST_LEN];

	mist_sha256_init(&h);
	mist_sha256_update(&h, seed, len);
	mist_sha256_final(&h, digest);
	for (int i = 0; i < CHACHA_KEY_WORDS; i++)
		rng.key[i] = load_le32(digest + 4 * i);
	mist_explicit_bzero(digest, sizeof(digest));
	mist_explicit_bzero(rng.pool, sizeof(rng.pool));
	rng.pos = POOL_LEN;
}

void mist_random_bytes(void *buf, size_t len)
{
	uint8_t *p = buf;

	while (len > 0) {
		size_t n;

		if (rng.pos == POOL_LEN)
			refill();
		n = MIST_MIN(len, POOL_LEN - rng.pos);
		mist_memcpy(p, rng.pool + rng.pos, n);
		mist_explicit_bzero(rng.pool + rng.pos, n);
		rng.pos += n;
		p += n;
		len -= n;
	}
}

uint32_t mist_random_u32(void)
{
	uint8_t b[4];

	mist_random_bytes(b, sizeof(b));
	return load_le32(b);
}

uint64_t mist_random_u64(void)
{
	uint8_t b[8];

	mist_random_bytes(b, sizeof(b));
	return (uint64_t)load_le32(b + 4) << 32 | load_le32(b);
}

/*
 * D. Lemire, "Fast random integer generation in an interval" (2019): the
 * high half of a 32x32-bit product is in [0, bound); the low half tells when
 * the product fell in the (2^32 mod bound)-sized region that would make some
 * results more likely than others, and those draws are rejected. The
 * division runs only when a draw comes near that region.
 */
uint32_t mist_random_below(uint32_t bound)
{
	uint64_t m;

	if (bound == 0) {
		MIST_MISUSE("mist_random_below", "bound is 0");
		return 0;
	}
	m = (uint64_t)mist_random_u32() * bound;
	if ((uint32_t)m < bound) {
		uint32_t threshold = (0u - bound) % bound;

		while ((uint32_t)m < threshold)
			m = (uint64_t)mist_random_u32() * bound;
	}
	return (uint32_t)(m >> 32);
}
