/*
 * Unit tests for the TCP view (src/wire/tcp.h). Four segments that Linux
 * sent (captured on a TUN device, 10.9.0.1 > 10.9.0.2, checksums filled by
 * the kernel and checked with scapy): a SYN, a SYN-ACK, a data segment with
 * timestamps and an odd-length payload, and an ACK with three SACK blocks.
 * They parse to their exact fields and their checksums verify, while any
 * flipped bit or a wrong address fails; every truncation is rejected without
 * a read past the end (each prefix lives in a heap block of exactly its
 * length, under AddressSanitizer); malformed options are refused, unknown
 * ones skipped and EOL ends the list; emit reproduces each capture byte for
 * byte, also with a payload in pieces, lays out each option as documented,
 * round-trips every combination of options and refuses what cannot fit.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "wire_prefix.h"

#include "mist/mist.h"
#include "wire/checksum.h"
#include "wire/tcp.h"

#define SRC MIST_IPV4(10, 9, 0, 1)
#define DST MIST_IPV4(10, 9, 0, 2)

/*
 * 50220 > 9090 SYN, seq 719139063, win 64240, options MSS 1460, SACKOK,
 * TS val 1840447690 ecr 0, NOP, WS 10.
 */
static const uint8_t linux_syn[] = {
        0xc4, 0x2c, 0x23, 0x82, 0x2a, 0xdd, 0x30, 0xf7, 0x00, 0x00, 0x00, 0x00, 0xa0, 0x02,
        0xfa, 0xf0, 0x86, 0xf7, 0x00, 0x00, 0x02, 0x04, 0x05, 0xb4, 0x04, 0x02, 0x08, 0x0a,
        0x6d, 0xb3, 0x00, 0xca, 0x00, 0x00, 0x00, 0x00, 0x01, 0x03, 0x03, 0x0a,
};

/*
 * 8080 > 40000 SYN-ACK, seq 1644974717, ack 1000001, win 65160, options
 * MSS 1460, SACKOK, TS val 1118968717 ecr 5000, NOP, WS 10.
 */
static const uint8_t linux_syn_ack[] = {
        0x1f, 0x90, 0x9c, 0x40, 0x62, 0x0c, 0x52, 0x7d, 0x00, 0x0f, 0x42, 0x41, 0xa0, 0x12,
        0xfe, 0x88, 0x10, 0xde, 0x00, 0x00, 0x02, 0x04, 0x05, 0xb4, 0x04, 0x02, 0x08, 0x0a,
        0x42, 0xb2, 0x1b, 0x8d, 0x00, 0x00, 0x13, 0x88, 0x01, 0x03, 0x03, 0x0a,
};

/*
 * 8080 > 40000 PSH-ACK, seq 1644974718, ack 1000001, win 64, options NOP,
 * NOP, TS val 1118968918 ecr 5001, payload "hello mist!" (11 bytes).
 */
static const uint8_t linux_data[] = {
        0x1f, 0x90, 0x9c, 0x40, 0x62, 0x0c, 0x52, 0x7e, 0x00, 0x0f, 0x42, 0x41, 0x80, 0x18, 0x00,
        0x40, 0xf7, 0x48, 0x00, 0x00, 0x01, 0x01, 0x08, 0x0a, 0x42, 0xb2, 0x1c, 0x56, 0x00, 0x00,
        0x13, 0x89, 0x68, 0x65, 0x6c, 0x6c, 0x6f, 0x20, 0x6d, 0x69, 0x73, 0x74, 0x21,
};

#define DATA_HDR_LEN     32
#define DATA_PAYLOAD_LEN 11

/*
 * 8080 > 40000 ACK, seq 1644974729, ack 1000001, win 64, options NOP, NOP,
 * TS val 1118970137 ecr 5002, NOP, NOP, SACK 1000501-1000601
 * 1000301-1000401 1000101-1000201: the most recent block first (RFC 2018
 * section 4).
 */
static const uint8_t linux_sack[] = {
        0x1f, 0x90, 0x9c, 0x40, 0x62, 0x0c, 0x52, 0x89, 0x00, 0x0f, 0x42, 0x41, 0xf0, 0x10, 0x00,
        0x40, 0x2c, 0x10, 0x00, 0x00, 0x01, 0x01, 0x08, 0x0a, 0x42, 0xb2, 0x21, 0x19, 0x00, 0x00,
        0x13, 0x8a, 0x01, 0x01, 0x05, 0x1a, 0x00, 0x0f, 0x44, 0x35, 0x00, 0x0f, 0x44, 0x99, 0x00,
        0x0f, 0x43, 0x6d, 0x00, 0x0f, 0x43, 0xd1, 0x00, 0x0f, 0x42, 0xa5, 0x00, 0x0f, 0x43, 0x09,
};

struct capture {
	const uint8_t *p;
	size_t len;
};

static const struct capture captures[] = {
        {linux_syn, sizeof(linux_syn)},
        {linux_syn_ack, sizeof(linux_syn_ack)},
        {linux_data, sizeof(linux_data)},
        {linux_sack, sizeof(linux_sack)},
};

#define N_CAPTURES (sizeof(captures) / sizeof(captures[0]))

/* Runs check and, when it passes, parse and every getter: what a receiver does. */
static int check_and_read(const uint8_t *p, size_t len)
{
	struct mist_tcp_repr r;
	int err = mist_tcp_check(p, len);

	if (err != 0)
		return err;
	assert_int_equal(mist_tcp_parse(p, len, &r), 0);
	assert_true(mist_tcp_data_offset(p) <= len);
	assert_int_equal(r.header_len, mist_tcp_data_offset(p));
	assert_int_equal(r.src_port, mist_tcp_src_port(p));
	assert_int_equal(r.seq, mist_tcp_seq(p));
	(void)mist_tcp_verify_checksum(p, len, SRC, DST);
	const uint8_t *payload = mist_tcp_payload(p);
	for (size_t i = 0; i < mist_tcp_payload_len(p, len); i++)
		(void)*(volatile const uint8_t *)(payload + i);
	return 0;
}

static void assert_repr_equal(const struct mist_tcp_repr *a, const struct mist_tcp_repr *b)
{
	assert_int_equal(a->src_port, b->src_port);
	assert_int_equal(a->dst_port, b->dst_port);
	assert_int_equal(a->seq, b->seq);
	assert_int_equal(a->ack, b->ack);
	assert_int_equal(a->flags, b->flags);
	assert_int_equal(a->window, b->window);
	assert_int_equal(a->urgent, b->urgent);
	assert_int_equal(a->mss, b->mss);
	assert_int_equal(a->has_wscale, b->has_wscale);
	if (a->has_wscale)
		assert_int_equal(a->wscale, b->wscale);
	assert_int_equal(a->sack_permitted, b->sack_permitted);
	assert_int_equal(a->has_timestamps, b->has_timestamps);
	if (a->has_timestamps) {
		assert_int_equal(a->ts_val, b->ts_val);
		assert_int_equal(a->ts_ecr, b->ts_ecr);
	}
	assert_int_equal(a->sack_count, b->sack_count);
	for (size_t i = 0; i < a->sack_count; i++) {
		assert_int_equal(a->sack[i].start, b->sack[i].start);
		assert_int_equal(a->sack[i].end, b->sack[i].end);
	}
}

/* The Linux SYN as values, written out by hand from the capture's decoding above. */
static const struct mist_tcp_repr linux_syn_repr = {
        .src_port = 50220,
        .dst_port = 9090,
        .seq = 719139063,
        .flags = MIST_TCP_SYN,
        .window = 64240,
        .mss = 1460,
        .has_wscale = true,
        .wscale = 10,
        .sack_permitted = true,
        .has_timestamps = true,
        .ts_val = 1840447690,
};

static void linux_syn_parses_to_its_fields(void **state)
{
	struct mist_tcp_repr r;

	assert_int_equal(mist_tcp_parse(linux_syn, sizeof(linux_syn), &r), 0);
	assert_repr_equal(&r, &linux_syn_repr);
	assert_int_equal(r.ack, 0);
	assert_int_equal(r.ts_ecr, 0);
	assert_int_equal(r.header_len, 40);
	assert_int_equal(mist_tcp_data_offset(linux_syn), 40);
	assert_int_equal(mist_tcp_options_len(linux_syn), 20);
	assert_ptr_equal(mist_tcp_options(linux_syn), linux_syn + 20);
	assert_int_equal(mist_tcp_flags(linux_syn), MIST_TCP_SYN);
	assert_int_equal(mist_tcp_window(linux_syn), 64240);
	assert_int_equal(mist_tcp_checksum(linux_syn), 0x86f7);
	assert_int_equal(mist_tcp_urgent(linux_syn), 0);
	assert_int_equal(mist_tcp_payload_len(linux_syn, sizeof(linux_syn)), 0);
}

static void linux_syn_ack_parses_to_its_fields(void **state)
{
	struct mist_tcp_repr r;

	assert_int_equal(mist_tcp_parse(linux_syn_ack, sizeof(linux_syn_ack), &r), 0);
	assert_int_equal(r.src_port, 8080);
	assert_int_equal(r.dst_port, 40000);
	assert_int_equal(r.seq, 1644974717);
	assert_int_equal(r.ack, 1000001);
	assert_int_equal(r.flags, MIST_TCP_SYN | MIST_TCP_ACK);
	assert_int_equal(r.window, 65160);
	assert_int_equal(r.urgent, 0);
	assert_int_equal(r.mss, 1460);
	assert_true(r.sack_permitted);
	assert_true(r.has_timestamps);
	assert_int_equal(r.ts_val, 1118968717);
	assert_int_equal(r.ts_ecr, 5000);
	assert_true(r.has_wscale);
	assert_int_equal(r.wscale, 10);
	assert_int_equal(r.sack_count, 0);
	assert_int_equal(r.header_len, 40);
	assert_int_equal(mist_tcp_ack(linux_syn_ack), 1000001);
	assert_int_equal(mist_tcp_checksum(linux_syn_ack), 0x10de);
}

static void data_segment_parses_to_its_fields_and_payload(void **state)
{
	const uint8_t *p = linux_data;
	struct mist_tcp_repr r;

	assert_int_equal(mist_tcp_parse(p, sizeof(linux_data), &r), 0);
	assert_int_equal(r.src_port, 8080);
	assert_int_equal(r.dst_port, 40000);
	assert_int_equal(r.seq, 1644974718);
	assert_int_equal(r.ack, 1000001);
	assert_int_equal(r.flags, MIST_TCP_PSH | MIST_TCP_ACK);
	assert_int_equal(r.window, 64);
	assert_int_equal(r.mss, 0);
	assert_false(r.has_wscale);
	assert_false(r.sack_permitted);
	assert_true(r.has_timestamps);
	assert_int_equal(r.ts_val, 1118968918);
	assert_int_equal(r.ts_ecr, 5001);
	assert_int_equal(r.sack_count, 0);
	assert_int_equal(r.header_len, DATA_HDR_LEN);
	assert_ptr_equal(mist_tcp_payload(p), p + DATA_HDR_LEN);
	assert_int_equal(mist_tcp_payload_len(p, sizeof(linux_data)), DATA_PAYLOAD_LEN);
	assert_memory_equal(mist_tcp_payload(p), "hello mist!", DATA_PAYLOAD_LEN);
}

static void sack_segment_parses_its_three_blocks(void **state)
{
	struct mist_tcp_repr r;

	assert_int_equal(mist_tcp_parse(linux_sack, sizeof(linux_sack), &r), 0);
	assert_int_equal(r.seq, 1644974729);
	assert_int_equal(r.ack, 1000001);
	assert_int_equal(r.flags, MIST_TCP_ACK);
	assert_int_equal(r.header_len, MIST_TCP_HDR_MAX);
	assert_true(r.has_timestamps);
	assert_int_equal(r.ts_val, 1118970137);
	assert_int_equal(r.ts_ecr, 5002);
	assert_int_equal(r.sack_count, 3);
	assert_int_equal(r.sack[0].start, 1000501);
	assert_int_equal(r.sack[0].end, 1000601);
	assert_int_equal(r.sack[1].start, 1000301);
	assert_int_equal(r.sack[1].end, 1000401);
	assert_int_equal(r.sack[2].start, 1000101);
	assert_int_equal(r.sack[2].end, 1000201);
}

static void captured_checksums_verify(void **state)
{
	for (size_t i = 0; i < N_CAPTURES; i++) {
		assert_true(mist_tcp_verify_checksum(captures[i].p, captures[i].len, SRC, DST));
		/* The pseudo-header binds the segment to its addresses and length. */
		assert_false(mist_tcp_verify_checksum(captures[i].p, captures[i].len, SRC,
		                                      MIST_IPV4(10, 9, 0, 3)));
		assert_false(
		        mist_tcp_verify_checksum(captures[i].p, captures[i].len - 1, SRC, DST));
	}
}

static void flipped_bit_fails_the_checksum(void **state)
{
	/* A flipped bit changes the sum by a power of two, never a multiple of 0xffff. */
	for (size_t i = 0; i < N_CAPTURES; i++) {
		uint8_t p[MIST_TCP_HDR_MAX];

		for (size_t bit = 0; bit < captures[i].len * 8; bit++) {
			memcpy(p, captures[i].p, captures[i].len);
			p[bit / 8] ^= (uint8_t)(1u << (bit % 8));
			assert_false(mist_tcp_verify_checksum(p, captures[i].len, SRC, DST));
		}
	}
}

static void length_beyond_ipv4_fails_the_checksum(void **state)
{
	/*
	 * The SYN followed by 65536 zero bytes has the SYN's sum, and its length
	 * taken modulo 2^16 is the SYN's: only the length limit refuses it.
	 */
	size_t len = sizeof(linux_syn) + (size_t)UINT16_MAX + 1;
	uint8_t *p = calloc(1, len);

	assert_non_null(p);
	memcpy(p, linux_syn, sizeof(linux_syn));
	assert_false(mist_tcp_verify_checksum(p, len, SRC, DST));
	free(p);
}

static void every_truncation_is_rejected(void **state)
{
	for (size_t i = 0; i < N_CAPTURES; i++)
		check_every_prefix(check_and_read, captures[i].p, captures[i].len,
		                   mist_tcp_data_offset(captures[i].p));
}

static void data_offset_below_five_words_is_invalid(void **state)
{
	uint8_t p[sizeof(linux_data)];

	memcpy(p, linux_data, sizeof(p));
	for (size_t words = 0; words < 5; words++) {
		p[MIST_TCP_OFF_DATA_OFF] = (uint8_t)(words << 4);
		assert_int_equal(mist_tcp_check(p, sizeof(p)), MIST_EINVAL);
	}
	/* 11 words = 44 bytes, one more than the 43 at hand. */
	p[MIST_TCP_OFF_DATA_OFF] = 11 << 4;
	assert_int_equal(mist_tcp_check(p, sizeof(p)), MIST_ERANGE);
	p[MIST_TCP_OFF_DATA_OFF] = 10 << 4;
	assert_int_equal(mist_tcp_check(p, sizeof(p)), 0);
}

static void reserved_bits_are_ignored_on_receipt(void **state)
{
	uint8_t p[sizeof(linux_syn)];
	struct mist_tcp_repr r;

	memcpy(p, linux_syn, sizeof(p));
	p[MIST_TCP_OFF_DATA_OFF] |= 0x0f;
	assert_int_equal(mist_tcp_parse(p, sizeof(p), &r), 0);
	assert_int_equal(r.header_len, 40);
	assert_repr_equal(&r, &linux_syn_repr);
}

/*
 * Parses a segment whose options are `opts[0..n)` (n a multiple of 4),
 * followed by four payload bytes of 0x22 so that an option running past the
 * header would still lie inside the buffer.
 */
static int parse_options(const uint8_t *opts, size_t n, struct mist_tcp_repr *r)
{
	uint8_t p[MIST_TCP_HDR_MAX + 4];

	memcpy(p, linux_data, MIST_TCP_HDR_MIN);
	mist_tcp_set_data_offset(p, MIST_TCP_HDR_MIN + n);
	memcpy(p + MIST_TCP_HDR_MIN, opts, n);
	memset(p + MIST_TCP_HDR_MIN + n, 0x22, 4);
	return mist_tcp_parse(p, MIST_TCP_HDR_MIN + n + 4, r);
}

#define PARSE(r, ...) \
	parse_options((const uint8_t[]){__VA_ARGS__}, sizeof((const uint8_t[]){__VA_ARGS__}), r)

static void malformed_options_are_rejected(void **state)
{
	struct mist_tcp_repr r;

	/* Lengths 0 and 1 of an unknown kind: shorter than kind and length bytes. */
	assert_int_equal(PARSE(&r, 0x22, 0x00, 0, 0), MIST_EINVAL);
	assert_int_equal(PARSE(&r, 0x22, 0x01, 0, 0), MIST_EINVAL);
	/* Running past the header, into the payload: the header bounds the options. */
	assert_int_equal(PARSE(&r, 0x22, 0x05, 0, 0), MIST_EINVAL);
	assert_int_equal(PARSE(&r, 1, 1, 1, 0x22, 0x06, 0, 0, 0), MIST_EINVAL);
	/* A kind in the last byte, with no room for its length. */
	assert_int_equal(PARSE(&r, 1, 1, 1, 0x22), MIST_EINVAL);
	/* Known kinds with a length other than their own. */
	assert_int_equal(PARSE(&r, 2, 3, 0x05, 0), MIST_EINVAL);
	assert_int_equal(PARSE(&r, 2, 5, 0x05, 0xb4, 0, 1, 1, 1), MIST_EINVAL);
	assert_int_equal(PARSE(&r, 3, 2, 1, 1), MIST_EINVAL);
	assert_int_equal(PARSE(&r, 3, 4, 7, 1), MIST_EINVAL);
	assert_int_equal(PARSE(&r, 4, 3, 0, 1), MIST_EINVAL);
	assert_int_equal(PARSE(&r, 8, 8, 0, 0, 0, 1, 0, 0, 0, 2, 1, 1), MIST_EINVAL);
	assert_int_equal(PARSE(&r, 8, 11, 0, 0, 0, 1, 0, 0, 0, 2, 0, 1), MIST_EINVAL);
	/* SACK lengths that are not 2 + 8n: 9, 11 and 3. */
	assert_int_equal(PARSE(&r, 5, 9, 0, 0, 0, 1, 0, 0, 0, 2, 0, 1), MIST_EINVAL);
	assert_int_equal(PARSE(&r, 5, 11, 0, 0, 0, 1, 0, 0, 0, 2, 0, 1), MIST_EINVAL);
	assert_int_equal(PARSE(&r, 5, 3, 0, 1), MIST_EINVAL);
	/* A good MSS does not save a bad option after it. */
	assert_int_equal(PARSE(&r, 2, 4, 0x05, 0xb4, 0x22, 0x00, 0, 0), MIST_EINVAL);
}

static void unknown_options_are_skipped(void **state)
{
	struct mist_tcp_repr r;

	/* An experimental option (kind 254, RFC 6994) of 6 bytes, then MSS 536. */
	assert_int_equal(PARSE(&r, 254, 6, 0xf9, 0x89, 0xaa, 0xbb, 2, 4, 0x02, 0x18, 1, 1), 0);
	assert_int_equal(r.mss, 536);
	/* A two-byte unknown option, then window scale 14. */
	assert_int_equal(PARSE(&r, 0x22, 2, 3, 3, 14, 1, 1, 1), 0);
	assert_true(r.has_wscale);
	assert_int_equal(r.wscale, 14);
	assert_int_equal(r.mss, 0);
}

static void eol_ends_the_option_list(void **state)
{
	struct mist_tcp_repr r;

	/* What follows EOL is padding, even when it would be malformed or an MSS. */
	assert_int_equal(PARSE(&r, 0, 0x22, 0x00, 0xff), 0);
	assert_int_equal(PARSE(&r, 1, 0, 2, 4, 0x05, 0xb4, 0, 0), 0);
	assert_int_equal(r.mss, 0);
	assert_int_equal(PARSE(&r, 2, 4, 0x05, 0xb4, 0, 3, 3, 7), 0);
	assert_int_equal(r.mss, 1460);
	assert_false(r.has_wscale);
	/* Without EOL, an option may end exactly at the end of the header. */
	assert_int_equal(PARSE(&r, 2, 4, 0x02, 0x18), 0);
	assert_int_equal(r.mss, 536);
}

static void sack_blocks_of_several_options_add_up(void **state)
{
	struct mist_tcp_repr r;

	/* Two SACK options of two blocks each, then padding: 36 + 4 bytes. */
	assert_int_equal(PARSE(&r, 5, 18, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4, 5, 18, 0,
	                       0, 0, 5, 0, 0, 0, 6, 0, 0, 0, 7, 0, 0, 0, 8, 0, 0, 0, 0),
	                 0);
	assert_int_equal(r.sack_count, 4);
	for (uint32_t i = 0; i < 4; i++) {
		assert_int_equal(r.sack[i].start, 2 * i + 1);
		assert_int_equal(r.sack[i].end, 2 * i + 2);
	}
	/* A SACK option of no blocks (2 + 8 * 0) is well formed and adds nothing. */
	assert_int_equal(PARSE(&r, 1, 1, 5, 2), 0);
	assert_int_equal(r.sack_count, 0);
}

/* Emits *r with `payload` after it, fills the checksum and returns the header length. */
static size_t emit_segment(const struct mist_tcp_repr *r, const uint8_t *payload,
                           size_t payload_len, uint8_t *p, size_t len)
{
	int header_len = mist_tcp_emit(r, p, len);

	assert_true(header_len >= MIST_TCP_HDR_MIN);
	memcpy(p + header_len, payload, payload_len);
	mist_tcp_fill_checksum(p, (size_t)header_len + payload_len, SRC, DST,
	                       mist_csum_partial(payload, payload_len, 0));
	return (size_t)header_len;
}

static void emitted_syn_is_the_linux_syn(void **state)
{
	uint8_t p[sizeof(linux_syn)];

	memset(p, 0xee, sizeof(p));
	assert_int_equal(mist_tcp_header_len(&linux_syn_repr), sizeof(linux_syn));
	assert_int_equal(
	        emit_segment(&linux_syn_repr, linux_syn + sizeof(linux_syn), 0, p, sizeof(p)),
	        sizeof(linux_syn));
	assert_memory_equal(p, linux_syn, sizeof(linux_syn));
}

static void emit_reproduces_every_capture(void **state)
{
	for (size_t i = 0; i < N_CAPTURES; i++) {
		const uint8_t *c = captures[i].p;
		size_t header_len = mist_tcp_data_offset(c);
		uint8_t p[MIST_TCP_HDR_MAX + DATA_PAYLOAD_LEN];
		struct mist_tcp_repr r;

		memset(p, 0xee, sizeof(p));
		assert_int_equal(mist_tcp_parse(c, captures[i].len, &r), 0);
		assert_int_equal(emit_segment(&r, c + header_len, captures[i].len - header_len, p,
		                              sizeof(p)),
		                 header_len);
		assert_memory_equal(p, c, captures[i].len);
	}
}

static void checksum_over_a_payload_in_odd_pieces_matches(void **state)
{
	/* The header in one buffer; "hel" and "lo mist!" in two others. */
	const uint8_t *payload = linux_data + DATA_HDR_LEN;
	uint8_t hdr[DATA_HDR_LEN];
	struct mist_tcp_repr r;

	assert_int_equal(mist_tcp_parse(linux_data, sizeof(linux_data), &r), 0);
	assert_int_equal(mist_tcp_emit(&r, hdr, sizeof(hdr)), DATA_HDR_LEN);
	uint32_t sum = mist_csum_partial(payload, 3, 0);
	sum = mist_csum_add(sum, mist_csum_partial(payload + 3, 8, 0), 3);
	mist_tcp_fill_checksum(hdr, sizeof(linux_data), SRC, DST, sum);
	assert_int_equal(mist_tcp_checksum(hdr), 0xf748);
	assert_memory_equal(hdr, linux_data, sizeof(hdr));
}

static void partial_checksum_is_the_pseudo_header_sum_and_completes(void **state)
{
	uint8_t seg[sizeof(linux_data)];
	memcpy(seg, linux_data, sizeof(seg));

	/* 0x0a09 + 0x0001 + 0x0a09 + 0x0002 + 6 (TCP) + 43 (the length): 0x1446, not complemented. */
	mist_tcp_fill_partial_checksum(seg, sizeof(seg), SRC, DST);
	assert_int_equal(mist_tcp_checksum(seg), 0x1446);
	assert_memory_equal(seg, linux_data, MIST_TCP_OFF_CHECKSUM);

	/* What a device does with it (Virtio 1.2 5.1.6.2): sum the segment, store the complement. */
	mist_tcp_set_checksum(seg, mist_csum(seg, sizeof(seg)));
	assert_int_equal(mist_tcp_checksum(seg), 0xf748);
	assert_memory_equal(seg, linux_data, sizeof(seg));
}

/* Option bytes worked by hand from the layout in tcp.h, one repr each. */
static const struct {
	struct mist_tcp_repr r;
	uint8_t opts[MIST_TCP_OPT_MAX];
	size_t opts_len;
} option_bytes[] = {
        {{.mss = 1460}, {2, 4, 0x05, 0xb4}, 4},
        {{.sack_permitted = true}, {1, 1, 4, 2}, 4},
        {{.has_wscale = true, .wscale = 7}, {1, 3, 3, 7}, 4},
        {{.has_timestamps = true, .ts_val = 0x01020304, .ts_ecr = 5},
         {1, 1, 8, 10, 1, 2, 3, 4, 0, 0, 0, 5},
         12},
        {{.sack_permitted = true, .has_timestamps = true, .ts_val = 0xa0b0c0d0, .ts_ecr = ~0u},
         {4, 2, 8, 10, 0xa0, 0xb0, 0xc0, 0xd0, 0xff, 0xff, 0xff, 0xff},
         12},
        {{.sack_count = 2, .sack = {{0x01020304, 0x05060708}, {9, 10}}},
         {1, 1, 5, 18, 1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 9, 0, 0, 0, 10},
         20},
        /* Linux's SYN without timestamps: MSS, NOP, NOP, SACKOK, NOP, WS. */
        {{.mss = 1460, .sack_permitted = true, .has_wscale = true, .wscale = 7},
         {2, 4, 0x05, 0xb4, 1, 1, 4, 2, 1, 3, 3, 7},
         12},
};

static void emit_lays_out_each_option_as_documented(void **state)
{
	for (size_t i = 0; i < sizeof(option_bytes) / sizeof(option_bytes[0]); i++) {
		size_t header_len = MIST_TCP_HDR_MIN + option_bytes[i].opts_len;
		uint8_t p[MIST_TCP_HDR_MAX];

		assert_int_equal(mist_tcp_emit(&option_bytes[i].r, p, sizeof(p)), header_len);
		assert_int_equal(mist_tcp_data_offset(p), header_len);
		assert_memory_equal(p + MIST_TCP_HDR_MIN, option_bytes[i].opts,
		                    option_bytes[i].opts_len);
	}
}

/* Header lengths worked by hand from the layout in tcp.h. */
static const struct {
	struct mist_tcp_repr r;
	size_t header_len;
} layouts[] = {
        {{.flags = MIST_TCP_ACK}, 20},
        {{.mss = 1460}, 24},
        {{.sack_permitted = true}, 24},
        {{.has_timestamps = true}, 32},
        {{.has_timestamps = true, .sack_permitted = true}, 32},
        {{.has_wscale = true}, 24},
        {{.sack_count = 1}, 32},
        {{.sack_count = 4}, 56},
        {{.mss = 536, .sack_permitted = true, .has_wscale = true}, 32},
        {{.mss = 536, .sack_permitted = true, .has_timestamps = true, .has_wscale = true}, 40},
        {{.has_timestamps = true, .sack_count = 3}, 60},
        {{.mss = 1, .has_timestamps = true, .has_wscale = true, .sack_count = 1}, 52},
        {{.has_timestamps = true, .sack_count = 4}, 68},
        {{.mss = 1, .has_wscale = true, .sack_count = 4}, 64},
};

static void header_len_counts_each_combination(void **state)
{
	for (size_t i = 0; i < sizeof(layouts) / sizeof(layouts[0]); i++) {
		uint8_t p[MIST_TCP_HDR_MAX];
		size_t want = layouts[i].header_len;

		assert_int_equal(mist_tcp_header_len(&layouts[i].r), want);
		assert_int_equal(mist_tcp_emit(&layouts[i].r, p, sizeof(p)),
		                 want <= MIST_TCP_HDR_MAX ? (int)want : MIST_EINVAL);
	}
}

static void every_combination_of_options_round_trips(void **state)
{
	static const uint8_t payload[] = {'o', 'd', 'd'};

	for (unsigned mask = 0; mask < 16; mask++) {
		for (uint8_t sacks = 0; sacks <= MIST_TCP_SACK_MAX; sacks++) {
			struct mist_tcp_repr r = {
			        .src_port = 65535,
			        .dst_port = 1,
			        .seq = 0xfffffff0u + mask,
			        .ack = 0x80000000u | sacks,
			        .flags = (uint8_t)(0xff - mask),
			        .window = 0xabcd,
			        .urgent = 0x1234,
			        .mss = (mask & 1) ? 9000 : 0,
			        .sack_permitted = (mask & 2) != 0,
			        .has_timestamps = (mask & 4) != 0,
			        .ts_val = 0xdeadbeef,
			        .ts_ecr = 0x01020304,
			        .has_wscale = (mask & 8) != 0,
			        .wscale = (uint8_t)mask,
			        .sack_count = sacks,
			};
			uint8_t p[MIST_TCP_HDR_MAX + sizeof(payload)];
			struct mist_tcp_repr back;

			for (uint32_t i = 0; i < sacks; i++)
				r.sack[i] = (struct mist_tcp_sack_block){i * 1000, i * 1000 + 1};
			size_t header_len = mist_tcp_header_len(&r);
			if (header_len > MIST_TCP_HDR_MAX) {
				assert_int_equal(mist_tcp_emit(&r, p, sizeof(p)), MIST_EINVAL);
				continue;
			}
			assert_int_equal(emit_segment(&r, payload, sizeof(payload), p, sizeof(p)),
			                 header_len);
			size_t len = header_len + sizeof(payload);
			assert_int_equal(mist_tcp_parse(p, len, &back), 0);
			assert_repr_equal(&back, &r);
			assert_int_equal(back.header_len, header_len);
			assert_true(mist_tcp_verify_checksum(p, len, SRC, DST));
			assert_memory_equal(mist_tcp_payload(p), payload, sizeof(payload));
		}
	}
}

static void emit_refuses_what_cannot_be_a_header(void **state)
{
	struct mist_tcp_repr r = linux_syn_repr;
	uint8_t p[MIST_TCP_HDR_MAX];

	memset(p, 0x5a, sizeof(p));
	assert_int_equal(mist_tcp_emit(&r, p, sizeof(linux_syn) - 1), MIST_ERANGE);
	assert_int_equal(p[0], 0x5a);
	r.sack_count = MIST_TCP_SACK_MAX + 1;
	assert_int_equal(mist_tcp_emit(&r, p, sizeof(p)), MIST_EINVAL);
	/* Four blocks with timestamps: 12 + 36 bytes of options, more than 40. */
	r = (struct mist_tcp_repr){.has_timestamps = true, .sack_count = MIST_TCP_SACK_MAX};
	assert_int_equal(mist_tcp_emit(&r, p, sizeof(p)), MIST_EINVAL);
	assert_int_equal(p[0], 0x5a);
	r.has_timestamps = false;
	assert_int_equal(mist_tcp_emit(&r, p, MIST_TCP_HDR_MIN), MIST_ERANGE);
	assert_int_equal(mist_tcp_emit(&r, p, sizeof(p)), 56);
}

static void setters_write_what_getters_read(void **state)
{
	uint8_t h[MIST_TCP_HDR_MIN];

	memset(h, 0xff, sizeof(h));
	mist_tcp_set_src_port(h, 0x1234);
	mist_tcp_set_dst_port(h, 0x5678);
	mist_tcp_set_seq(h, 0x89abcdef);
	mist_tcp_set_ack(h, 0x01234567);
	mist_tcp_set_data_offset(h, 44);
	mist_tcp_set_flags(h, MIST_TCP_FIN | MIST_TCP_CWR);
	mist_tcp_set_window(h, 0xfedc);
	mist_tcp_set_checksum(h, 0xba98);
	mist_tcp_set_urgent(h, 0x7654);
	assert_int_equal(mist_tcp_src_port(h), 0x1234);
	assert_int_equal(mist_tcp_dst_port(h), 0x5678);
	assert_int_equal(mist_tcp_seq(h), 0x89abcdef);
	assert_int_equal(mist_tcp_ack(h), 0x01234567);
	assert_int_equal(mist_tcp_data_offset(h), 44);
	assert_int_equal(h[MIST_TCP_OFF_DATA_OFF], 0xb0); /* 11 words, reserved bits clear */
	assert_int_equal(mist_tcp_flags(h), 0x81);
	assert_int_equal(mist_tcp_window(h), 0xfedc);
	assert_int_equal(mist_tcp_checksum(h), 0xba98);
	assert_int_equal(mist_tcp_urgent(h), 0x7654);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(linux_syn_parses_to_its_fields),
	        cmocka_unit_test(linux_syn_ack_parses_to_its_fields),
	        cmocka_unit_test(data_segment_parses_to_its_fields_and_payload),
	        cmocka_unit_test(sack_segment_parses_its_three_blocks),
	        cmocka_unit_test(captured_checksums_verify),
	        cmocka_unit_test(flipped_bit_fails_the_checksum),
	        cmocka_unit_test(length_beyond_ipv4_fails_the_checksum),
	        cmocka_unit_test(every_truncation_is_rejected),
	        cmocka_unit_test(data_offset_below_five_words_is_invalid),
	        cmocka_unit_test(reserved_bits_are_ignored_on_receipt),
	        cmocka_unit_test(malformed_options_are_rejected),
	        cmocka_unit_test(unknown_options_are_skipped),
	        cmocka_unit_test(eol_ends_the_option_list),
	        cmocka_unit_test(sack_blocks_of_several_options_add_up),
	        cmocka_unit_test(emitted_syn_is_the_linux_syn),
	        cmocka_unit_test(partial_checksum_is_the_pseudo_header_sum_and_completes),
	        cmocka_unit_test(emit_reproduces_every_capture),
	        cmocka_unit_test(checksum_over_a_payload_in_odd_pieces_matches),
	        cmocka_unit_test(emit_lays_out_each_option_as_documented),
	        cmocka_unit_test(header_len_counts_each_combination),
	        cmocka_unit_test(every_combination_of_options_round_trips),
	        cmocka_unit_test(emit_refuses_what_cannot_be_a_header),
	        cmocka_unit_test(setters_write_what_getters_read),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
