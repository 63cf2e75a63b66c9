/*
 * Unit tests for the ICMPv4 view (src/wire/icmp.h): captured echo request,
 * port unreachable, fragmentation needed and time exceeded messages parse to
 * their exact fields; every truncation is rejected without a read past the
 * end (each prefix lives in a heap block of exactly its length, under
 * AddressSanitizer); error messages with a bad original header are refused;
 * bad checksums fail; emit reproduces the captures, builds an echo reply in
 * the request's buffer, and round-trips.
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
#include "wire/icmp.h"
#include "wire/ipv4.h"

/* Echo request, identifier 0x1234, sequence 1, data "a".."z" "0".."5". */
static const uint8_t echo_request[] = {
        0x08, 0x00, 0xc0, 0x95, 0x12, 0x34, 0x00, 0x01, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66,
        0x67, 0x68, 0x69, 0x6a, 0x6b, 0x6c, 0x6d, 0x6e, 0x6f, 0x70, 0x71, 0x72, 0x73, 0x74,
        0x75, 0x76, 0x77, 0x78, 0x79, 0x7a, 0x30, 0x31, 0x32, 0x33, 0x34, 0x35,
};

/*
 * The original datagram every error below carries: the IPv4 header of a UDP
 * datagram 10.0.0.2:40000 > 10.0.0.1:9 and its first 8 bytes, the UDP header.
 */
#define ORIG_LEN 28

/* Port unreachable. */
static const uint8_t port_unreachable[] = {
        0x03, 0x03, 0xef, 0x72, 0x00, 0x00, 0x00, 0x00, 0x45, 0x00, 0x00, 0x25,
        0x00, 0x07, 0x00, 0x00, 0x40, 0x11, 0x66, 0xbf, 0x0a, 0x00, 0x00, 0x02,
        0x0a, 0x00, 0x00, 0x01, 0x9c, 0x40, 0x00, 0x09, 0x00, 0x11, 0x71, 0x2f,
};

/* Fragmentation needed, next-hop MTU 1400 (RFC 1191). */
static const uint8_t frag_needed[] = {
        0x03, 0x04, 0xe9, 0xf9, 0x00, 0x00, 0x05, 0x78, 0x45, 0x00, 0x00, 0x25,
        0x00, 0x07, 0x00, 0x00, 0x40, 0x11, 0x66, 0xbf, 0x0a, 0x00, 0x00, 0x02,
        0x0a, 0x00, 0x00, 0x01, 0x9c, 0x40, 0x00, 0x09, 0x00, 0x11, 0x71, 0x2f,
};

/* Time to live exceeded in transit. */
static const uint8_t time_exceeded[] = {
        0x0b, 0x00, 0xe7, 0x75, 0x00, 0x00, 0x00, 0x00, 0x45, 0x00, 0x00, 0x25,
        0x00, 0x07, 0x00, 0x00, 0x40, 0x11, 0x66, 0xbf, 0x0a, 0x00, 0x00, 0x02,
        0x0a, 0x00, 0x00, 0x01, 0x9c, 0x40, 0x00, 0x09, 0x00, 0x11, 0x71, 0x2f,
};

/* Runs check and, when it passes, parse and every getter: what a receiver does. */
static int check_and_read(const uint8_t *p, size_t len)
{
	struct mist_icmp_repr r;
	int err = mist_icmp_check(p, len);

	if (err != 0)
		return err;
	(void)mist_icmp_verify_checksum(p, len);
	(void)mist_icmp_rest(p);
	err = mist_icmp_parse(p, len, &r);
	assert_true(err == 0 || err == MIST_ENOTSUP);
	if (err == 0)
		assert_int_equal(mist_icmp_repr_len(&r), len);
	if (mist_icmp_type_is_error(mist_icmp_type(p))) {
		const uint8_t *orig = mist_icmp_data(p);
		/* The original header and 8 bytes after it are readable. */
		(void)*(volatile const uint8_t *)(orig + mist_ipv4_header_len(orig) +
		                                  MIST_ICMP_ORIG_PAYLOAD - 1);
	}
	return 0;
}

static void echo_request_parses_to_its_fields(void **state)
{
	const uint8_t *p = echo_request;
	struct mist_icmp_repr r;

	assert_int_equal(mist_icmp_parse(p, sizeof(echo_request), &r), 0);
	assert_true(mist_icmp_verify_checksum(p, sizeof(echo_request)));
	assert_int_equal(mist_icmp_checksum(p), 0xc095);
	assert_int_equal(mist_icmp_rest(p), 0x12340001);
	assert_int_equal(r.type, MIST_ICMP_ECHO_REQUEST);
	assert_int_equal(r.code, 0);
	assert_int_equal(r.ident, 0x1234);
	assert_int_equal(r.seq, 1);
	assert_int_equal(r.next_hop_mtu, 0);
	assert_int_equal(r.data_len, 32);
	assert_memory_equal(mist_icmp_data(p), "abcdefghijklmnopqrstuvwxyz012345", 32);
}

static void errors_parse_with_their_original_datagram(void **state)
{
	struct mist_icmp_repr r;

	assert_int_equal(mist_icmp_parse(port_unreachable, sizeof(port_unreachable), &r), 0);
	assert_true(mist_icmp_verify_checksum(port_unreachable, sizeof(port_unreachable)));
	assert_int_equal(r.type, MIST_ICMP_DEST_UNREACH);
	assert_int_equal(r.code, MIST_ICMP_UNREACH_PORT);
	assert_int_equal(r.next_hop_mtu, 0);
	assert_int_equal(r.data_len, ORIG_LEN);
	const uint8_t *orig = mist_icmp_data(port_unreachable);
	assert_int_equal(mist_ipv4_protocol(orig), MIST_IP_PROTO_UDP);
	assert_true(mist_ipv4_addr_eq(mist_ipv4_src(orig), MIST_IPV4(10, 0, 0, 2)));

	assert_int_equal(mist_icmp_parse(frag_needed, sizeof(frag_needed), &r), 0);
	assert_true(mist_icmp_verify_checksum(frag_needed, sizeof(frag_needed)));
	assert_int_equal(r.code, MIST_ICMP_UNREACH_FRAG_NEEDED);
	assert_int_equal(r.next_hop_mtu, 1400);
	assert_int_equal(mist_icmp_next_hop_mtu(frag_needed), 1400);

	assert_int_equal(mist_icmp_parse(time_exceeded, sizeof(time_exceeded), &r), 0);
	assert_true(mist_icmp_verify_checksum(time_exceeded, sizeof(time_exceeded)));
	assert_int_equal(r.type, MIST_ICMP_TIME_EXCEEDED);
	assert_int_equal(r.code, MIST_ICMP_EXCEEDED_TTL);
	assert_int_equal(r.data_len, ORIG_LEN);
}

static void every_truncation_is_rejected(void **state)
{
	/* An echo carries any amount of data: only the header is required. */
	check_every_prefix(check_and_read, echo_request, sizeof(echo_request), MIST_ICMP_HDR_LEN);
	/* An error needs the original header and 8 bytes of what followed it. */
	check_every_prefix(check_and_read, port_unreachable, sizeof(port_unreachable),
	                   sizeof(port_unreachable));
	check_every_prefix(check_and_read, time_exceeded, sizeof(time_exceeded),
	                   sizeof(time_exceeded));
}

static void error_with_a_bad_original_header_is_rejected(void **state)
{
	uint8_t p[sizeof(port_unreachable)];
	uint8_t *orig = p + MIST_ICMP_OFF_DATA;

	memcpy(p, port_unreachable, sizeof(p));
	orig[MIST_IPV4_OFF_VER_IHL] = 0x65; /* version 6 */
	assert_int_equal(mist_icmp_check(p, sizeof(p)), MIST_EINVAL);
	orig[MIST_IPV4_OFF_VER_IHL] = 0x44; /* IHL 4 */
	assert_int_equal(mist_icmp_check(p, sizeof(p)), MIST_EINVAL);
	/* IHL 6: the header claims 24 bytes, so 32 must follow the ICMP header. */
	orig[MIST_IPV4_OFF_VER_IHL] = 0x46;
	assert_int_equal(mist_icmp_check(p, sizeof(p)), MIST_ERANGE);
	/* The original's total length may exceed what was quoted: that is normal. */
	orig[MIST_IPV4_OFF_VER_IHL] = 0x45;
	mist_ipv4_set_total_len(orig, 1500);
	assert_int_equal(mist_icmp_check(p, sizeof(p)), 0);
}

static void bad_checksum_fails(void **state)
{
	uint8_t p[sizeof(echo_request)];

	for (size_t i = 0; i < sizeof(p); i++) {
		memcpy(p, echo_request, sizeof(p));
		p[i] ^= 0x40;
		assert_false(mist_icmp_verify_checksum(p, sizeof(p)));
	}
	/* The checksum covers the whole message, so a short length fails too. */
	assert_false(mist_icmp_verify_checksum(echo_request, sizeof(echo_request) - 2));
}

static void other_types_pass_the_check_but_have_no_repr(void **state)
{
	uint8_t p[20] = {13}; /* timestamp request */
	struct mist_icmp_repr r;

	assert_int_equal(mist_icmp_check(p, sizeof(p)), 0);
	assert_int_equal(mist_icmp_parse(p, sizeof(p), &r), MIST_ENOTSUP);
	r.type = 13;
	r.code = 0;
	r.data_len = 12;
	assert_int_equal(mist_icmp_emit(&r, p, sizeof(p)), MIST_EINVAL);
}

static void emit_reproduces_the_captures(void **state)
{
	struct mist_icmp_repr r = {
	        .type = MIST_ICMP_ECHO_REQUEST,
	        .ident = 0x1234,
	        .seq = 1,
	        .data_len = 32,
	};
	uint8_t p[sizeof(echo_request)];

	memcpy(p, echo_request, sizeof(p));
	memset(p, 0xee, MIST_ICMP_HDR_LEN);
	assert_int_equal(mist_icmp_emit(&r, p, sizeof(p)), 0);
	assert_memory_equal(p, echo_request, sizeof(p));

	struct mist_icmp_repr e = {
	        .type = MIST_ICMP_DEST_UNREACH,
	        .code = MIST_ICMP_UNREACH_FRAG_NEEDED,
	        .next_hop_mtu = 1400,
	        .data_len = ORIG_LEN,
	};
	uint8_t q[sizeof(frag_needed)];
	memset(q, 0xee, MIST_ICMP_HDR_LEN);
	memcpy(q + MIST_ICMP_OFF_DATA, frag_needed + MIST_ICMP_OFF_DATA, ORIG_LEN);
	assert_int_equal(mist_icmp_emit(&e, q, sizeof(q)), 0);
	assert_memory_equal(q, frag_needed, sizeof(q));

	e.type = MIST_ICMP_TIME_EXCEEDED;
	e.code = MIST_ICMP_EXCEEDED_TTL;
	e.next_hop_mtu = 1400; /* ignored: the field is unused for this type */
	memset(q, 0xee, MIST_ICMP_HDR_LEN);
	assert_int_equal(mist_icmp_emit(&e, q, sizeof(q)), 0);
	assert_memory_equal(q, time_exceeded, sizeof(q));
}

static void echo_reply_is_built_in_the_request_buffer(void **state)
{
	uint8_t p[sizeof(echo_request)];
	struct mist_icmp_repr r;

	memcpy(p, echo_request, sizeof(p));
	assert_int_equal(mist_icmp_parse(p, sizeof(p), &r), 0);
	r.type = MIST_ICMP_ECHO_REPLY;
	assert_int_equal(mist_icmp_emit(&r, p, sizeof(p)), 0);
	assert_true(mist_icmp_verify_checksum(p, sizeof(p)));

	struct mist_icmp_repr back;
	assert_int_equal(mist_icmp_parse(p, sizeof(p), &back), 0);
	assert_int_equal(back.type, MIST_ICMP_ECHO_REPLY);
	assert_int_equal(back.ident, 0x1234);
	assert_int_equal(back.seq, 1);
	assert_int_equal(back.data_len, 32);
	assert_memory_equal(p + MIST_ICMP_OFF_DATA, echo_request + MIST_ICMP_OFF_DATA, 32);
	/* RFC 1624: only the type word changed, by 0x0800. */
	assert_int_equal(mist_icmp_checksum(p), 0xc095 + 0x0800);
}

static void emit_refuses_data_that_does_not_fit(void **state)
{
	struct mist_icmp_repr r = {.type = MIST_ICMP_ECHO_REQUEST, .data_len = 32};
	uint8_t p[MIST_ICMP_HDR_LEN + 32];

	memset(p, 0x5a, sizeof(p));
	assert_int_equal(mist_icmp_emit(&r, p, sizeof(p) - 1), MIST_ERANGE);
	assert_int_equal(mist_icmp_emit(&r, p, MIST_ICMP_HDR_LEN - 1), MIST_ERANGE);
	r.data_len = SIZE_MAX;
	assert_int_equal(mist_icmp_emit(&r, p, sizeof(p)), MIST_ERANGE);
	assert_int_equal(p[0], 0x5a);
}

static void setters_write_what_getters_read(void **state)
{
	uint8_t p[MIST_ICMP_HDR_LEN] = {0};

	mist_icmp_set_type(p, MIST_ICMP_PARAM_PROBLEM);
	mist_icmp_set_code(p, 2);
	mist_icmp_set_rest(p, 0x14000000);
	mist_icmp_set_checksum(p, 0xbeef);
	assert_int_equal(mist_icmp_type(p), MIST_ICMP_PARAM_PROBLEM);
	assert_true(mist_icmp_type_is_error(mist_icmp_type(p)));
	assert_int_equal(mist_icmp_code(p), 2);
	assert_int_equal(mist_icmp_rest(p), 0x14000000);
	assert_int_equal(mist_icmp_checksum(p), 0xbeef);
	mist_icmp_set_ident(p, 7);
	mist_icmp_set_seq(p, 9);
	assert_int_equal(mist_icmp_rest(p), 0x00070009);
	mist_icmp_set_next_hop_mtu(p, 576);
	assert_int_equal(mist_icmp_seq(p), 576);
	assert_false(mist_icmp_type_is_error(MIST_ICMP_ECHO_REPLY));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(echo_request_parses_to_its_fields),
	        cmocka_unit_test(errors_parse_with_their_original_datagram),
	        cmocka_unit_test(every_truncation_is_rejected),
	        cmocka_unit_test(error_with_a_bad_original_header_is_rejected),
	        cmocka_unit_test(bad_checksum_fails),
	        cmocka_unit_test(other_types_pass_the_check_but_have_no_repr),
	        cmocka_unit_test(emit_reproduces_the_captures),
	        cmocka_unit_test(echo_reply_is_built_in_the_request_buffer),
	        cmocka_unit_test(emit_refuses_data_that_does_not_fit),
	        cmocka_unit_test(setters_write_what_getters_read),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
