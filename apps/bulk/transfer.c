/*
 * bulk: what both modes share: the record of one connection's stream (bytes,
 * time, digest) and its log line, and the pattern a source sends.
 */
#define MIST_LOG_TAG "bulk"

#include "bulk.h"

#define PATTERN_WORD   4u /* bytes per big-endian counter word */
#define NS_PER_USEC    1000u
#define USEC_PER_SEC   1000000u
#define BITS_PER_BYTE  8u
#define CENTI_MBPS_NUM (BITS_PER_BYTE * 100u * 1000u) /* bytes/ns -> 1/100 Mbit/s */

void bulk_transfer_start(struct bulk_transfer *t, enum bulk_role role, struct mist_addr peer)
{
	t->role = role;
	t->peer = peer;
	t->bytes = 0;
	t->hash = !bulk_options.no_hash;
	if (t->hash)
		mist_sha256_init(&t->sha);
	t->start = mist_now();
}

void bulk_transfer_add(struct bulk_transfer *t, const void *data, size_t len)
{
	t->bytes += len;
	if (t->hash)
		mist_sha256_update(&t->sha, data, len);
}

void bulk_transfer_add_chain(struct bulk_transfer *t, const struct mist_buf *buf)
{
	for (; buf != NULL; buf = buf->next)
		bulk_transfer_add(t, buf->data, buf->len);
}

void bulk_transfer_log(struct bulk_transfer *t, int err)
{
	const char *role = t->role == BULK_SINK ? "sink" : "source";
	const char *dir = t->role == BULK_SINK ? "from" : "to";
	uint64_t ns = mist_now() - t->start;
	char hex[MIST_SHA256_HEX_LEN + 1] = "off";

	if (err != 0) {
		mist_warn("%s: %s %pI4:%u failed after %llu bytes: %s", role, dir, t->peer.ip.b,
		          t->peer.port, (unsigned long long)t->bytes, mist_strerror(err));
		return;
	}
	if (t->hash) {
		uint8_t digest[MIST_SHA256_DIGEST_LEN];
		mist_sha256_final(&t->sha, digest);
		mist_sha256_hex(digest, hex);
	}
	if (ns == 0)
		ns = 1;
	/* Integer arithmetic, as below apps/; exact up to 2^64 / CENTI_MBPS_NUM bytes (23 TB). */
	uint64_t centi_mbps = t->bytes * CENTI_MBPS_NUM / ns;
	uint64_t usec = ns / NS_PER_USEC;
	mist_log("%s: %s %pI4:%u bytes=%llu secs=%llu.%06llu mbps=%llu.%02llu sha256=%s", role, dir,
	         t->peer.ip.b, t->peer.port, (unsigned long long)t->bytes,
	         (unsigned long long)(usec / USEC_PER_SEC),
	         (unsigned long long)(usec % USEC_PER_SEC), (unsigned long long)(centi_mbps / 100),
	         (unsigned long long)(centi_mbps % 100), hex);
}

/* Byte `offset` of the pattern: byte offset % 4 of the big-endian word offset / 4. */
static uint8_t pattern_byte(uint64_t offset)
{
	uint32_t word = (uint32_t)(offset / PATTERN_WORD);
	return (uint8_t)(word >> (BITS_PER_BYTE * (PATTERN_WORD - 1 - offset % PATTERN_WORD)));
}

void bulk_pattern_fill(uint8_t *dst, uint64_t offset, size_t len)
{
	size_t i = 0;

	for (; i < len && (offset + i) % PATTERN_WORD != 0; i++)
		dst[i] = pattern_byte(offset + i);
	for (; i + PATTERN_WORD <= len; i += PATTERN_WORD) {
		uint32_t word = (uint32_t)((offset + i) / PATTERN_WORD);
		dst[i] = (uint8_t)(word >> 24);
		dst[i + 1] = (uint8_t)(word >> 16);
		dst[i + 2] = (uint8_t)(word >> 8);
		dst[i + 3] = (uint8_t)word;
	}
	for (; i < len; i++)
		dst[i] = pattern_byte(offset + i);
}

size_t bulk_format_u64(char *out, size_t out_len, uint64_t n)
{
	char digits[20]; /* 2^64 - 1 has 20 */
	size_t len = 0;

	do {
		digits[len++] = (char)('0' + n % 10);
		n /= 10;
	} while (n != 0);
	if (len + 1 > out_len)
		return 0;
	for (size_t i = 0; i < len; i++)
		out[i] = digits[len - 1 - i];
	out[len] = '\0';
	return len;
}
