/*
 * SHA-256 (include/mist/sha256.h) as specified in FIPS 180-4: padding
 * (5.1.1), the message schedule and compression function (6.2.2), with the
 * constants of 4.2.2 and 5.3.3. A plain, portable implementation of the
 * rounds without unrolling or special instructions: ample for checking
 * transfers in tests.
 * Freestanding: depends on base/str.h and base/endian.h only.
 */
#include "mist/sha256.h"

#include "base/endian.h"
#include "base/str.h"

/*
 * FIPS 180-4 4.2.2: the first 32 bits of the fractional parts of the cube
 * roots of the first 64 primes.
 */
static const uint32_t K[64] = {
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
        0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
        0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
        0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
        0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
        0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
        0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
        0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
        0xc67178f2,
};

/*
 * FIPS 180-4 5.3.3: the first 32 bits of the fractional parts of the square
 * roots of the first 8 primes.
 */
static const uint32_t H0[8] = {
        0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
        0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
};

/* The length field closing the padding: the message length in bits (5.1.1). */
#define LENGTH_FIELD_LEN 8

static inline uint32_t rotr(uint32_t x, unsigned n)
{
	return x >> n | x << (32 - n);
}

/* FIPS 180-4 4.1.2: the six logical functions of SHA-256. */
#define CH(x, y, z)  (((x) & (y)) ^ (~(x) & (z)))
#define MAJ(x, y, z) (((x) & (y)) ^ ((x) & (z)) ^ ((y) & (z)))
#define BSIG0(x)     (rotr((x), 2) ^ rotr((x), 13) ^ rotr((x), 22))
#define BSIG1(x)     (rotr((x), 6) ^ rotr((x), 11) ^ rotr((x), 25))
#define SSIG0(x)     (rotr((x), 7) ^ rotr((x), 18) ^ ((x) >> 3))
#define SSIG1(x)     (rotr((x), 17) ^ rotr((x), 19) ^ ((x) >> 10))

/* FIPS 180-4 6.2.2: processes one 512-bit block. */
static void compress(uint32_t h[8], const uint8_t block[MIST_SHA256_BLOCK_LEN])
{
	uint32_t w[64];
	uint32_t a = h[0], b = h[1], c = h[2], d = h[3];
	uint32_t e = h[4], f = h[5], g = h[6], hh = h[7];

	for (int t = 0; t < 16; t++)
		w[t] = mist_load_be32(block + 4 * t);
	for (int t = 16; t < 64; t++)
		w[t] = SSIG1(w[t - 2]) + w[t - 7] + SSIG0(w[t - 15]) + w[t - 16];

	for (int t = 0; t < 64; t++) {
		uint32_t t1 = hh + BSIG1(e) + CH(e, f, g) + K[t] + w[t];
		uint32_t t2 = BSIG0(a) + MAJ(a, b, c);

		hh = g;
		g = f;
		f = e;
		e = d + t1;
		d = c;
		c = b;
		b = a;
		a = t1 + t2;
	}
	h[0] += a;
	h[1] += b;
	h[2] += c;
	h[3] += d;
	h[4] += e;
	h[5] += f;
	h[6] += g;
	h[7] += hh;
}

void mist_sha256_init(struct mist_sha256 *ctx)
{
	mist_memcpy(ctx->h, H0, sizeof(H0));
	ctx->total = 0;
}

void mist_sha256_update(struct mist_sha256 *ctx, const void *data, size_t len)
{
	const uint8_t *p = data;
	size_t fill = (size_t)(ctx->total % MIST_SHA256_BLOCK_LEN);

	if (len == 0)
		return;
	ctx->total += len;
	if (fill > 0) {
		size_t n = MIST_SHA256_BLOCK_LEN - fill;

		if (len < n) {
			mist_memcpy(ctx->block + fill, p, len);
			return;
		}
		mist_memcpy(ctx->block + fill, p, n);
		compress(ctx->h, ctx->block);
		p += n;
		len -= n;
	}
	for (; len >= MIST_SHA256_BLOCK_LEN;
	     p += MIST_SHA256_BLOCK_LEN, len -= MIST_SHA256_BLOCK_LEN)
		compress(ctx->h, p);
	if (len > 0)
		mist_memcpy(ctx->block, p, len);
}

/*
 * FIPS 180-4 5.1.1: a 1 bit, zeros up to 56 bytes modulo 64, then the
 * message length in bits as a 64-bit big-endian number.
 */
void mist_sha256_final(struct mist_sha256 *ctx, uint8_t digest[MIST_SHA256_DIGEST_LEN])
{
	size_t fill = (size_t)(ctx->total % MIST_SHA256_BLOCK_LEN);
	uint64_t bits = ctx->total * 8;

	ctx->block[fill++] = 0x80;
	if (fill > MIST_SHA256_BLOCK_LEN - LENGTH_FIELD_LEN) {
		mist_memset(ctx->block + fill, 0, MIST_SHA256_BLOCK_LEN - fill);
		compress(ctx->h, ctx->block);
		fill = 0;
	}
	mist_memset(ctx->block + fill, 0, MIST_SHA256_BLOCK_LEN - LENGTH_FIELD_LEN - fill);
	mist_store_be32(ctx->block + MIST_SHA256_BLOCK_LEN - 8, (uint32_t)(bits >> 32));
	mist_store_be32(ctx->block + MIST_SHA256_BLOCK_LEN - 4, (uint32_t)bits);
	compress(ctx->h, ctx->block);

	for (int i = 0; i < 8; i++)
		mist_store_be32(digest + 4 * i, ctx->h[i]);
	mist_explicit_bzero(ctx, sizeof(*ctx));
}

void mist_sha256_hex(const uint8_t digest[MIST_SHA256_DIGEST_LEN],
                     char out[MIST_SHA256_HEX_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";

	for (int i = 0; i < MIST_SHA256_DIGEST_LEN; i++) {
		out[2 * i] = hex[digest[i] >> 4];
		out[2 * i + 1] = hex[digest[i] & 0xf];
	}
	out[2 * MIST_SHA256_DIGEST_LEN] = '\0';
}
