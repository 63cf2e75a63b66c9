/*
 * bulk: moves a stream of bytes over TCP as fast as the stack allows, for
 * tests and benchmarks, and reports for each connection the bytes, the
 * seconds, the throughput and the SHA-256 of the stream.
 *
 *   sink (default):  listens on --port (8082), receives until the peer
 *                    closes, and logs what came.
 *   source --peer=ADDR:PORT --bytes=N:
 *                    connects, sends N bytes of the pattern below, closes,
 *                    waits for the peer to close, logs, and exits 0.
 *   source --bytes=N (no --peer):
 *                    listens on --port and sends N bytes of the pattern to
 *                    every connection, then closes it: `nc HOST PORT`
 *                    downloads them; so does `curl http://HOST:PORT/`, as a
 *                    request that starts with "GET " gets a minimal
 *                    HTTP/1.0 answer in front of the bytes.
 *
 * The pattern is the sequence of 32-bit big-endian words 0, 1, 2, ...: any
 * byte can be checked from its offset alone, and no two stretches shorter
 * than 16 GiB are alike, so a segment delivered at the wrong offset changes
 * the digest. One log line per connection, whose key=value fields scripts
 * read:
 *
 *   sink: from 10.77.0.1:40312 bytes=52428800 secs=0.512345 mbps=818.63 sha256=<64 hex>
 *   source: to 10.77.0.1:8083 bytes=... secs=... mbps=... sha256=...
 *
 * --no-hash replaces the digest by "off" for benchmarks, where hashing
 * would cost time the reference programs do not spend.
 *
 * This header is what the files of the app share: the options, the
 * transfer record and the pattern.
 */
#ifndef BULK_H
#define BULK_H

#include <mist/mist.h>

#define BULK_PORT 8082

/* The options, set from the command line before mist_main() runs. */
struct bulk_options {
	const char *mode;    /* "sink" or "source" */
	const char *peer;    /* ADDR:PORT to connect to, or NULL to listen */
	uint64_t bytes;      /* source: how many bytes to send */
	bool no_hash;        /* skip the SHA-256 */
	struct mist_addr to; /* --peer, parsed */
};

extern struct bulk_options bulk_options;

enum bulk_role {
	BULK_SINK,   /* logs "sink: from PEER ..." */
	BULK_SOURCE, /* logs "source: to PEER ..." */
};

/* One connection's stream: its bytes, when it started, its digest so far. */
struct bulk_transfer {
	enum bulk_role role;
	struct mist_addr peer;
	uint64_t bytes;
	mist_time_t start;
	bool hash;
	struct mist_sha256 sha;
};

/* Starts the record of a transfer with `peer`, now. */
void bulk_transfer_start(struct bulk_transfer *t, enum bulk_role role, struct mist_addr peer);

/* Counts `len` bytes at `data` and adds them to the digest. */
void bulk_transfer_add(struct bulk_transfer *t, const void *data, size_t len);

/* Counts and hashes every view of the chain `buf`. */
void bulk_transfer_add_chain(struct bulk_transfer *t, const struct mist_buf *buf);

/*
 * Logs the transfer's line (above) when `err` is 0, or a warning with the
 * bytes moved and the error otherwise.
 */
void bulk_transfer_log(struct bulk_transfer *t, int err);

/* Writes the `len` bytes of the pattern that start `offset` bytes into it. */
void bulk_pattern_fill(uint8_t *dst, uint64_t offset, size_t len);

/*
 * Writes `n` in decimal and a NUL into `out` of `out_len` bytes; returns
 * the number of digits, or 0 when they do not fit.
 */
size_t bulk_format_u64(char *out, size_t out_len, uint64_t n);

/* The two halves of the app: each listens, or (source with --peer) connects. */
int bulk_sink_main(struct mist_env *env, uint16_t port);
int bulk_source_main(struct mist_env *env, uint16_t port);

#endif
