/*
 * SHA-256 (FIPS 180-4), incremental: init, update any number of times with
 * pieces of any size, final. Applications use it to check that a transfer
 * arrived intact (apps/bulk); the core uses it to condition the random
 * generator's seed. Not constant-time with respect to the message length,
 * which is never secret here; not a MAC or a password hash.
 */
#ifndef MIST_SHA256_H
#define MIST_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define MIST_SHA256_DIGEST_LEN 32
#define MIST_SHA256_BLOCK_LEN  64
#define MIST_SHA256_HEX_LEN    64 /* digits of mist_sha256_hex(), without the NUL */

/* A hash in progress. Its fields are the implementation's; do not touch them. */
struct mist_sha256 {
	uint32_t h[8];                        /* the hash value H(i) (FIPS 180-4 6.2) */
	uint64_t total;                       /* bytes hashed so far */
	uint8_t block[MIST_SHA256_BLOCK_LEN]; /* a partial block, total % 64 bytes long */
};

/* Starts a hash in `ctx` with the initial value of FIPS 180-4 5.3.3. */
void mist_sha256_init(struct mist_sha256 *ctx);

/* Adds `len` bytes at `data` to the message; `data` may be NULL when len is 0. */
void mist_sha256_update(struct mist_sha256 *ctx, const void *data, size_t len);

/*
 * Pads the message, stores its digest in `digest` and wipes `ctx`, which
 * must be initialised again before reuse.
 */
void mist_sha256_final(struct mist_sha256 *ctx, uint8_t digest[MIST_SHA256_DIGEST_LEN]);

/* Writes `digest` as 64 lowercase hex digits and a NUL into `out`. */
void mist_sha256_hex(const uint8_t digest[MIST_SHA256_DIGEST_LEN],
                     char out[MIST_SHA256_HEX_LEN + 1]);

#endif
