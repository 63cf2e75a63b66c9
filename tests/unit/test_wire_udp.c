/*
 * Unit tests for the UDP view (src/wire/udp.h): a captured datagram with an
 * odd-length payload parses to its exact fields and its checksum verifies
 * over the pseudo-header; every truncation is rejected without a read past
 * the end (each prefix lives in a heap block of exactly its length, under
 * AddressSanitizer); bad length fields are refused; damaged data, a wrong
 * address and a wrong checksum fail; a zero checksum means none and a
 * computed zero is sent as 0xffff; emit reproduces the capture from a
 * contiguous and from a scattered payload, and round-trips.
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
#include "wire/udp.h"

/* 192.168.1.10:5353 > 192.168.1.1:53, payload "hello mist!" (11 bytes). */
static const uint8_t datagram[] = {
        0x14, 0xe9, 0x00, 0x35, 0x00, 0x13, 0x21, 0x7e, 0x68, 0x65,
        0x6c, 0x6c, 0x6f, 0x20, 0x6d, 0x69, 0x73, 0x74, 0x21,
};

#define SRC MIST_IPV4(192, 168, 1, 10)
#define DST MIST_IPV4(192, 168, 1, 1)

/* Runs check and, when it passes, parse and every getter: what a receiver does. */
static int check_and_read(const uint8_t *p, size_t len)
{
	struct mist_udp_repr r;
	int err = mist_udp_check(p, len);

	if (err != 0)
		return err;
	assert_int_equal(mist_udp_parse(p, len, &r), 0);
	assert_true(mist_udp_length(p) <= len);
	assert_int_equal(r.payload_len, mist_udp_payload_len(p));
	(void)mist_udp_verify_checksum(p, SRC, DST);
	return 0;
}

static void datagram_parses_to_its_fields(void **state)
{
	struct mist_udp_repr r;

	assert_int_equal(mist_udp_parse(datagram, sizeof(datagram), &r), 0);
	assert_int_equal(r.src_port, 5353);
	assert_int_equal(r.dst_port, 53);
	assert_int_equal(r.payload_len, 11);
	assert_int_equal(mist_udp_length(datagram), 19);
	assert_int_equal(mist_udp_checksum(datagram), 0x217e);
	assert_ptr_equal(mist_udp_payload(datagram), datagram + MIST_UDP_HDR_LEN);
	assert_memory_equal(mist_udp_payload(datagram), "hello mist!", 11);
	assert_true(mist_udp_verify_checksum(datagram, SRC, DST));
}

static void every_truncation_is_rejected(void **state)
{
	check_every_prefix(check_and_read, datagram, sizeof(datagram), sizeof(datagram));
}

static void bad_length_fields_are_rejected(void **state)
{
	uint8_t p[sizeof(datagram) + 5] = {0};

	memcpy(p, datagram, sizeof(datagram));
	mist_udp_set_length(p, MIST_UDP_HDR_LEN - 1);
	assert_int_equal(mist_udp_check(p, sizeof(p)), MIST_EINVAL);
	mist_udp_set_length(p, 0);
	assert_int_equal(mist_udp_check(p, sizeof(p)), MIST_EINVAL);
	mist_udp_set_length(p, sizeof(p) + 1);
	assert_int_equal(mist_udp_check(p, sizeof(p)), MIST_ERANGE);
	/* Shorter than what IP delivered: the length field wins. */
	mist_udp_set_length(p, sizeof(datagram));
	assert_int_equal(mist_udp_check(p, sizeof(p)), 0);
	assert_int_equal(mist_udp_payload_len(p), 11);
	assert_true(mist_udp_verify_checksum(p, SRC, DST));
	mist_udp_set_length(p, MIST_UDP_HDR_LEN);
	assert_int_equal(mist_udp_check(p, sizeof(p)), 0);
	assert_int_equal(mist_udp_payload_len(p), 0);
}

static void damage_or_wrong_addresses_fail_the_checksum(void **state)
{
	uint8_t p[sizeof(datagram)];

	for (size_t i = 0; i < sizeof(p); i++) {
		memcpy(p, datagram, sizeof(p));
		p[i] ^= 0x08;
		/* A damaged length field is the check's to catch, not the checksum's. */
		if (mist_udp_check(p, sizeof(p)) == 0)
			assert_false(mist_udp_verify_checksum(p, SRC, DST));
	}
	assert_false(mist_udp_verify_checksum(datagram, SRC, MIST_IPV4(192, 168, 1, 2)));
	assert_false(mist_udp_verify_checksum(datagram, MIST_IPV4(10, 0, 0, 1), DST));
}

static void zero_checksum_means_none(void **state)
{
	uint8_t p[sizeof(datagram)];

	memcpy(p, datagram, sizeof(p));
	mist_udp_set_checksum(p, MIST_UDP_CHECKSUM_NONE);
	p[MIST_UDP_HDR_LEN] ^= 0xff;
	assert_true(mist_udp_verify_checksum(p, SRC, DST));
}

static void computed_zero_is_sent_as_all_ones(void **state)
{
	struct mist_udp_repr r = {.src_port = 1000, .dst_port = 2000, .payload_len = 2};
	uint8_t p[MIST_UDP_HDR_LEN + 2] = {0};

	assert_int_equal(mist_udp_emit(&r, p, sizeof(p)), 0);
	/*
	 * With a zero payload word the checksum is the complement of the other
	 * words' sum; as the payload word it brings the sum to 0xffff, whose
	 * complement is 0.
	 */
	mist_udp_fill_checksum(p, SRC, DST, 0);
	uint16_t word = mist_udp_checksum(p);
	mist_store_be16(p + MIST_UDP_HDR_LEN, word);
	mist_udp_fill_checksum(p, SRC, DST, mist_csum_partial(p + MIST_UDP_HDR_LEN, 2, 0));
	assert_int_equal(mist_udp_checksum(p), MIST_UDP_CHECKSUM_ZERO);
	assert_true(mist_udp_verify_checksum(p, SRC, DST));
}

static void emit_reproduces_the_capture(void **state)
{
	struct mist_udp_repr r = {.src_port = 5353, .dst_port = 53, .payload_len = 11};
	uint8_t p[sizeof(datagram)];

	memcpy(p, datagram, sizeof(p));
	memset(p, 0xee, MIST_UDP_HDR_LEN);
	assert_int_equal(mist_udp_emit(&r, p, sizeof(p)), 0);
	assert_int_equal(mist_udp_checksum(p), MIST_UDP_CHECKSUM_NONE);
	mist_udp_fill_checksum(p, SRC, DST, mist_csum_partial(mist_udp_payload(p), 11, 0));
	assert_memory_equal(p, datagram, sizeof(p));
}

static void emit_with_a_scattered_payload_matches(void **state)
{
	/* The header in one buffer; "hel" and "lo mist!" in two others. */
	struct mist_udp_repr r = {.src_port = 5353, .dst_port = 53, .payload_len = 11};
	uint8_t hdr[MIST_UDP_HDR_LEN];
	const uint8_t *payload = datagram + MIST_UDP_HDR_LEN;

	assert_int_equal(mist_udp_emit(&r, hdr, sizeof(hdr)), 0);
	uint32_t sum = mist_csum_partial(payload, 3, 0);
	sum = mist_csum_add(sum, mist_csum_partial(payload + 3, 8, 0), 3);
	mist_udp_fill_checksum(hdr, SRC, DST, sum);
	assert_memory_equal(hdr, datagram, sizeof(hdr));
}

static void emit_then_parse_round_trips(void **state)
{
	struct mist_udp_repr r = {.src_port = 65535, .dst_port = 1, .payload_len = 300};
	struct mist_udp_repr back;
	uint8_t p[MIST_UDP_HDR_LEN + 300];

	for (size_t i = MIST_UDP_HDR_LEN; i < sizeof(p); i++)
		p[i] = (uint8_t)(i * 7);
	assert_int_equal(mist_udp_emit(&r, p, sizeof(p)), 0);
	mist_udp_fill_checksum(p, SRC, DST, mist_csum_partial(p + MIST_UDP_HDR_LEN, 300, 0));
	assert_int_equal(mist_udp_parse(p, sizeof(p), &back), 0);
	assert_int_equal(back.src_port, r.src_port);
	assert_int_equal(back.dst_port, r.dst_port);
	assert_int_equal(back.payload_len, r.payload_len);
	assert_true(mist_udp_verify_checksum(p, SRC, DST));
}

static void emit_refuses_short_buffers_and_oversized_payloads(void **state)
{
	struct mist_udp_repr r = {.src_port = 1, .dst_port = 2, .payload_len = 0};
	uint8_t p[MIST_UDP_HDR_LEN];

	memset(p, 0x5a, sizeof(p));
	assert_int_equal(mist_udp_emit(&r, p, sizeof(p) - 1), MIST_ERANGE);
	r.payload_len = MIST_UDP_MAX_PAYLOAD + 1;
	assert_int_equal(mist_udp_emit(&r, p, sizeof(p)), MIST_EMSGSIZE);
	assert_int_equal(p[0], 0x5a);
	r.payload_len = MIST_UDP_MAX_PAYLOAD;
	assert_int_equal(mist_udp_emit(&r, p, sizeof(p)), 0);
	assert_int_equal(mist_udp_length(p), UINT16_MAX);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(datagram_parses_to_its_fields),
	        cmocka_unit_test(every_truncation_is_rejected),
	        cmocka_unit_test(bad_length_fields_are_rejected),
	        cmocka_unit_test(damage_or_wrong_addresses_fail_the_checksum),
	        cmocka_unit_test(zero_checksum_means_none),
	        cmocka_unit_test(computed_zero_is_sent_as_all_ones),
	        cmocka_unit_test(emit_reproduces_the_capture),
	        cmocka_unit_test(emit_with_a_scattered_payload_matches),
	        cmocka_unit_test(emit_then_parse_round_trips),
	        cmocka_unit_test(emit_refuses_short_buffers_and_oversized_payloads),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
