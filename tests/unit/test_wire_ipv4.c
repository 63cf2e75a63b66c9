/*
 * Unit tests for the IPv4 view (src/wire/ipv4.h): two captured datagrams, one
 * with options, parse to their exact fields; every truncation is rejected
 * without a read past the end (each prefix lives in a heap block of exactly
 * its length, under AddressSanitizer); bad versions, header and total lengths,
 * malformed options and impossible fragments are refused; checksums verify
 * and a flipped bit fails; emit reproduces a capture and round-trips; the
 * TTL decrement keeps the checksum right; addresses are classified.
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
#include "wire/ipv4.h"

/* An ICMP echo request, 10.0.0.1 > 10.0.0.2, DF, TTL 64, 32 bytes of data. */
static const uint8_t echo_datagram[] = {
        0x45, 0x00, 0x00, 0x3c, 0x1c, 0x46, 0x40, 0x00, 0x40, 0x01, 0x0a, 0x79, 0x0a, 0x00, 0x00,
        0x01, 0x0a, 0x00, 0x00, 0x02, 0x08, 0x00, 0xc0, 0x95, 0x12, 0x34, 0x00, 0x01, 0x61, 0x62,
        0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x6b, 0x6c, 0x6d, 0x6e, 0x6f, 0x70, 0x71,
        0x72, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a, 0x30, 0x31, 0x32, 0x33, 0x34, 0x35,
};

/*
 * An IGMP message to 224.0.0.22 with TTL 1, TOS 0xc0 and 8 bytes of options:
 * NOP, Router Alert (type 148, length 4, RFC 2113), EOL, two bytes of padding.
 */
static const uint8_t options_datagram[] = {
        0x47, 0xc0, 0x00, 0x24, 0x00, 0x00, 0x00, 0x00, 0x01, 0x02, 0xc5, 0x6a,
        0x0a, 0x01, 0x02, 0x03, 0xe0, 0x00, 0x00, 0x16, 0x01, 0x94, 0x04, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x22, 0x00, 0xfa, 0x02, 0x00, 0x00, 0x00, 0x01,
};

#define OPTIONS_HDR_LEN 28

/* Runs check and, when it passes, parse and every getter: what a receiver does. */
static int check_and_read(const uint8_t *p, size_t len)
{
	struct mist_ipv4_repr r;
	int err = mist_ipv4_check(p, len);

	if (err != 0)
		return err;
	assert_int_equal(mist_ipv4_parse(p, len, &r), 0);
	assert_true(mist_ipv4_header_len(p) <= len);
	assert_true(mist_ipv4_total_len(p) <= len);
	assert_int_equal(r.payload_len, mist_ipv4_payload_len(p));
	(void)mist_ipv4_verify_checksum(p);
	const uint8_t *payload = mist_ipv4_payload(p);
	for (size_t i = 0; i < mist_ipv4_payload_len(p); i++)
		(void)*(volatile const uint8_t *)(payload + i);
	return 0;
}

static void echo_datagram_parses_to_its_fields(void **state)
{
	const uint8_t *p = echo_datagram;
	struct mist_ipv4_repr r;

	assert_int_equal(mist_ipv4_parse(p, sizeof(echo_datagram), &r), 0);
	assert_int_equal(mist_ipv4_version(p), 4);
	assert_int_equal(mist_ipv4_header_len(p), MIST_IPV4_HDR_MIN);
	assert_int_equal(mist_ipv4_options_len(p), 0);
	assert_int_equal(mist_ipv4_dscp(p), 0);
	assert_int_equal(mist_ipv4_ecn(p), 0);
	assert_int_equal(mist_ipv4_total_len(p), 60);
	assert_int_equal(mist_ipv4_checksum(p), 0x0a79);
	assert_false(mist_ipv4_is_fragment(p));
	assert_true(mist_ipv4_verify_checksum(p));
	assert_ptr_equal(mist_ipv4_payload(p), p + MIST_IPV4_HDR_MIN);

	assert_true(mist_ipv4_addr_eq(r.src, MIST_IPV4(10, 0, 0, 1)));
	assert_true(mist_ipv4_addr_eq(r.dst, MIST_IPV4(10, 0, 0, 2)));
	assert_int_equal(r.protocol, MIST_IP_PROTO_ICMP);
	assert_int_equal(r.ttl, 64);
	assert_int_equal(r.tos, 0);
	assert_int_equal(r.ident, 0x1c46);
	assert_true(r.dont_frag);
	assert_false(r.more_frags);
	assert_int_equal(r.frag_offset, 0);
	assert_int_equal(r.payload_len, 40);
}

static void options_datagram_parses_and_skips_its_options(void **state)
{
	const uint8_t *p = options_datagram;
	struct mist_ipv4_repr r;

	assert_int_equal(mist_ipv4_parse(p, sizeof(options_datagram), &r), 0);
	assert_int_equal(mist_ipv4_header_len(p), OPTIONS_HDR_LEN);
	assert_int_equal(mist_ipv4_options_len(p), 8);
	assert_ptr_equal(mist_ipv4_options(p), p + MIST_IPV4_HDR_MIN);
	assert_int_equal(mist_ipv4_options(p)[1], 148);
	assert_ptr_equal(mist_ipv4_payload(p), p + OPTIONS_HDR_LEN);
	assert_int_equal(mist_ipv4_payload_len(p), 8);
	assert_int_equal(mist_ipv4_dscp(p), 48); /* CS6, network control */
	assert_int_equal(mist_ipv4_ecn(p), 0);
	assert_int_equal(mist_ipv4_checksum(p), 0xc56a);
	assert_true(mist_ipv4_verify_checksum(p));

	assert_true(mist_ipv4_addr_eq(r.src, MIST_IPV4(10, 1, 2, 3)));
	assert_true(mist_ipv4_addr_eq(r.dst, MIST_IPV4(224, 0, 0, 22)));
	assert_int_equal(r.protocol, 2);
	assert_int_equal(r.ttl, 1);
	assert_int_equal(r.tos, 0xc0);
	assert_false(r.dont_frag);
	assert_int_equal(r.payload_len, 8);
}

static void every_truncation_is_rejected(void **state)
{
	check_every_prefix(check_and_read, echo_datagram, sizeof(echo_datagram),
	                   sizeof(echo_datagram));
	check_every_prefix(check_and_read, options_datagram, sizeof(options_datagram),
	                   sizeof(options_datagram));
}

static void link_padding_after_the_datagram_is_ignored(void **state)
{
	uint8_t padded[sizeof(echo_datagram) + 6] = {0};
	struct mist_ipv4_repr r;

	memcpy(padded, echo_datagram, sizeof(echo_datagram));
	assert_int_equal(mist_ipv4_parse(padded, sizeof(padded), &r), 0);
	assert_int_equal(r.payload_len, 40);
}

/* A copy of the echo datagram to damage, with its length. */
struct damaged {
	uint8_t p[sizeof(echo_datagram)];
	size_t len;
};

static struct damaged echo_copy(void)
{
	struct damaged d;

	memcpy(d.p, echo_datagram, sizeof(d.p));
	d.len = sizeof(d.p);
	return d;
}

static void bad_version_and_header_length_are_rejected(void **state)
{
	struct damaged d = echo_copy();

	d.p[MIST_IPV4_OFF_VER_IHL] = 0x65; /* version 6 */
	assert_int_equal(mist_ipv4_check(d.p, d.len), MIST_EINVAL);
	d.p[MIST_IPV4_OFF_VER_IHL] = 0x44; /* IHL 4: shorter than the fixed header */
	assert_int_equal(mist_ipv4_check(d.p, d.len), MIST_EINVAL);
	d.p[MIST_IPV4_OFF_VER_IHL] = 0x40;
	assert_int_equal(mist_ipv4_check(d.p, d.len), MIST_EINVAL);
	/* IHL 15 (60 bytes) in a 40-byte buffer: the header runs past it. */
	d.p[MIST_IPV4_OFF_VER_IHL] = 0x4f;
	assert_int_equal(mist_ipv4_check(d.p, 40), MIST_ERANGE);
}

static void bad_total_length_is_rejected(void **state)
{
	struct damaged d = echo_copy();

	mist_ipv4_set_total_len(d.p, MIST_IPV4_HDR_MIN - 1);
	assert_int_equal(mist_ipv4_check(d.p, d.len), MIST_EINVAL);
	mist_ipv4_set_total_len(d.p, 0);
	assert_int_equal(mist_ipv4_check(d.p, d.len), MIST_EINVAL);
	mist_ipv4_set_total_len(d.p, (uint16_t)(d.len + 1));
	assert_int_equal(mist_ipv4_check(d.p, d.len), MIST_ERANGE);
	mist_ipv4_set_total_len(d.p, UINT16_MAX);
	assert_int_equal(mist_ipv4_check(d.p, d.len), MIST_ERANGE);
	mist_ipv4_set_total_len(d.p, MIST_IPV4_HDR_MIN);
	assert_int_equal(mist_ipv4_check(d.p, d.len), 0);
	assert_int_equal(mist_ipv4_payload_len(d.p), 0);

	/* With options, the total length must cover them too. */
	uint8_t o[sizeof(options_datagram)];
	memcpy(o, options_datagram, sizeof(o));
	mist_ipv4_set_total_len(o, OPTIONS_HDR_LEN - 1);
	assert_int_equal(mist_ipv4_check(o, sizeof(o)), MIST_EINVAL);
}

/* Returns the check's verdict on the options datagram with these 8 bytes of options. */
static int check_options(const uint8_t opts[8])
{
	uint8_t o[sizeof(options_datagram)];

	memcpy(o, options_datagram, sizeof(o));
	memcpy(o + MIST_IPV4_OFF_OPTIONS, opts, 8);
	return mist_ipv4_check(o, sizeof(o));
}

static void malformed_options_are_rejected(void **state)
{
	/* Length 1 and 0: shorter than the type and length bytes. */
	assert_int_equal(check_options((const uint8_t[8]){0x94, 0x01, 0, 0, 0, 0, 0, 0}),
	                 MIST_EINVAL);
	assert_int_equal(check_options((const uint8_t[8]){0x94, 0x00, 0, 0, 0, 0, 0, 0}),
	                 MIST_EINVAL);
	/* Length 9 in an 8-byte option area; length 8 after a NOP. */
	assert_int_equal(check_options((const uint8_t[8]){0x07, 0x09, 0, 0, 0, 0, 0, 0}),
	                 MIST_EINVAL);
	assert_int_equal(check_options((const uint8_t[8]){0x01, 0x07, 0x08, 0, 0, 0, 0, 0}),
	                 MIST_EINVAL);
	/* A multi-byte option type in the last byte, with no room for its length. */
	assert_int_equal(check_options((const uint8_t[8]){1, 1, 1, 1, 1, 1, 1, 0x94}), MIST_EINVAL);
}

static void well_formed_options_pass(void **state)
{
	/* All NOPs; one option filling the area; EOL then anything (padding). */
	assert_int_equal(check_options((const uint8_t[8]){1, 1, 1, 1, 1, 1, 1, 1}), 0);
	assert_int_equal(check_options((const uint8_t[8]){0x07, 0x08, 0, 0, 0, 0, 0, 0}), 0);
	assert_int_equal(check_options((const uint8_t[8]){0x00, 0x94, 0x01, 0xff, 0, 0, 0, 0}), 0);
	assert_int_equal(
	        check_options((const uint8_t[8]){0x94, 0x02, 0x94, 0x02, 0x94, 0x04, 0, 0}), 0);
}

static void fragment_ending_past_64k_is_rejected(void **state)
{
	struct damaged d = echo_copy();

	/* Offset 65528 plus 40 bytes of payload: the "ping of death". */
	mist_ipv4_set_frag(d.p, false, false, 65528);
	assert_int_equal(mist_ipv4_check(d.p, d.len), MIST_EINVAL);
	/* Offset 65488 plus 40 bytes ends at 65528: legal. */
	mist_ipv4_set_frag(d.p, false, true, 65488);
	assert_int_equal(mist_ipv4_check(d.p, d.len), 0);
	assert_true(mist_ipv4_is_fragment(d.p));
	assert_int_equal(mist_ipv4_frag_offset(d.p), 65488);
	assert_true(mist_ipv4_more_frags(d.p));
	assert_false(mist_ipv4_dont_frag(d.p));
}

static void flipped_bit_fails_the_checksum(void **state)
{
	/*
	 * A flip in the first byte changes the version or the header length,
	 * which the check refuses before the checksum is looked at; one in any
	 * later byte changes the sum by a power of two, never a multiple of 0xffff.
	 */
	for (size_t bit = 8; bit < MIST_IPV4_HDR_MIN * 8; bit++) {
		struct damaged d = echo_copy();

		d.p[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		assert_false(mist_ipv4_verify_checksum(d.p));
	}
	/* The payload is not covered by the header checksum. */
	struct damaged d = echo_copy();
	d.p[MIST_IPV4_HDR_MIN + 10] ^= 1;
	assert_true(mist_ipv4_verify_checksum(d.p));
}

static void emit_reproduces_the_capture(void **state)
{
	struct mist_ipv4_repr r = {
	        .src = MIST_IPV4(10, 0, 0, 1),
	        .dst = MIST_IPV4(10, 0, 0, 2),
	        .protocol = MIST_IP_PROTO_ICMP,
	        .ttl = 64,
	        .ident = 0x1c46,
	        .dont_frag = true,
	        .payload_len = 40,
	};
	uint8_t h[MIST_IPV4_HDR_MIN];

	memset(h, 0xee, sizeof(h));
	assert_int_equal(mist_ipv4_emit(&r, h, sizeof(h)), 0);
	assert_memory_equal(h, echo_datagram, sizeof(h));
}

static void emit_then_parse_round_trips(void **state)
{
	struct mist_ipv4_repr r = {
	        .src = MIST_IPV4(192, 168, 7, 9),
	        .dst = MIST_IPV4(8, 8, 4, 4),
	        .protocol = MIST_IP_PROTO_UDP,
	        .ttl = 3,
	        .tos = 0xb9,
	        .ident = 0xfedc,
	        .more_frags = true,
	        .frag_offset = 1480,
	        .payload_len = 100,
	};
	uint8_t p[MIST_IPV4_HDR_MIN + 100] = {0};
	struct mist_ipv4_repr back;

	assert_int_equal(mist_ipv4_emit(&r, p, sizeof(p)), 0);
	assert_true(mist_ipv4_verify_checksum(p));
	assert_int_equal(mist_ipv4_parse(p, sizeof(p), &back), 0);
	assert_true(mist_ipv4_addr_eq(back.src, r.src));
	assert_true(mist_ipv4_addr_eq(back.dst, r.dst));
	assert_int_equal(back.protocol, r.protocol);
	assert_int_equal(back.ttl, r.ttl);
	assert_int_equal(back.tos, r.tos);
	assert_int_equal(back.ident, r.ident);
	assert_int_equal(back.dont_frag, r.dont_frag);
	assert_int_equal(back.more_frags, r.more_frags);
	assert_int_equal(back.frag_offset, r.frag_offset);
	assert_int_equal(back.payload_len, r.payload_len);
}

static void emit_refuses_what_cannot_be_a_header(void **state)
{
	struct mist_ipv4_repr r = {.ttl = 1};
	uint8_t h[MIST_IPV4_HDR_MIN];

	assert_int_equal(mist_ipv4_emit(&r, h, sizeof(h) - 1), MIST_ERANGE);
	r.payload_len = MIST_IPV4_MAX_LEN - MIST_IPV4_HDR_MIN + 1;
	assert_int_equal(mist_ipv4_emit(&r, h, sizeof(h)), MIST_EMSGSIZE);
	r.payload_len = MIST_IPV4_MAX_LEN - MIST_IPV4_HDR_MIN;
	assert_int_equal(mist_ipv4_emit(&r, h, sizeof(h)), 0);
	assert_int_equal(mist_ipv4_total_len(h), MIST_IPV4_MAX_LEN);
	r.payload_len = 8;
	r.frag_offset = 12;
	assert_int_equal(mist_ipv4_emit(&r, h, sizeof(h)), MIST_EINVAL);
	r.frag_offset = 65528;
	r.payload_len = 16;
	assert_int_equal(mist_ipv4_emit(&r, h, sizeof(h)), MIST_EINVAL);
}

static void ttl_decrement_keeps_the_checksum_right(void **state)
{
	struct damaged d = echo_copy();

	assert_int_equal(mist_ipv4_decrement_ttl(d.p), 63);
	assert_int_equal(mist_ipv4_ttl(d.p), 63);
	assert_true(mist_ipv4_verify_checksum(d.p));
	uint16_t incremental = mist_ipv4_checksum(d.p);
	mist_ipv4_fill_checksum(d.p);
	assert_int_equal(mist_ipv4_checksum(d.p), incremental);

	/* With options, the update is the same: the options are left alone. */
	uint8_t o[sizeof(options_datagram)];
	memcpy(o, options_datagram, sizeof(o));
	assert_int_equal(mist_ipv4_decrement_ttl(o), 0);
	assert_true(mist_ipv4_verify_checksum(o));
}

static void setters_write_what_getters_read(void **state)
{
	uint8_t h[MIST_IPV4_HDR_MIN] = {0};

	mist_ipv4_set_version_header_len(h, 24);
	assert_int_equal(mist_ipv4_version(h), 4);
	assert_int_equal(mist_ipv4_header_len(h), 24);
	mist_ipv4_set_tos(h, 0x2e << 2 | 0x1); /* EF, ECT(1) */
	assert_int_equal(mist_ipv4_dscp(h), 0x2e);
	assert_int_equal(mist_ipv4_ecn(h), 1);
	assert_int_equal(mist_ipv4_tos(h), 0xb9);
	mist_ipv4_set_frag(h, true, false, 0);
	assert_true(mist_ipv4_dont_frag(h));
	assert_false(mist_ipv4_is_fragment(h));
	mist_ipv4_set_ttl(h, 200);
	mist_ipv4_set_protocol(h, MIST_IP_PROTO_TCP);
	mist_ipv4_set_ident(h, 0xabcd);
	mist_ipv4_set_src(h, MIST_IPV4(1, 2, 3, 4));
	mist_ipv4_set_dst(h, MIST_IPV4(5, 6, 7, 8));
	assert_int_equal(mist_ipv4_ttl(h), 200);
	assert_int_equal(mist_ipv4_protocol(h), MIST_IP_PROTO_TCP);
	assert_int_equal(mist_ipv4_ident(h), 0xabcd);
	assert_true(mist_ipv4_addr_eq(mist_ipv4_src(h), MIST_IPV4(1, 2, 3, 4)));
	assert_true(mist_ipv4_addr_eq(mist_ipv4_dst(h), MIST_IPV4(5, 6, 7, 8)));
}

static void addresses_are_classified(void **state)
{
	struct mist_ipv4_addr net = MIST_IPV4(10, 0, 0, 1);

	assert_true(mist_ipv4_addr_is_broadcast(MIST_IPV4_BROADCAST));
	assert_false(mist_ipv4_addr_is_broadcast(MIST_IPV4(255, 255, 255, 254)));
	assert_true(mist_ipv4_addr_is_unspecified(MIST_IPV4_ANY));
	assert_true(mist_ipv4_addr_is_multicast(MIST_IPV4(224, 0, 0, 1)));
	assert_true(mist_ipv4_addr_is_multicast(MIST_IPV4(239, 255, 255, 255)));
	assert_false(mist_ipv4_addr_is_multicast(MIST_IPV4(223, 255, 255, 255)));
	assert_false(mist_ipv4_addr_is_multicast(MIST_IPV4(240, 0, 0, 0)));
	assert_true(mist_ipv4_addr_is_loopback(MIST_IPV4(127, 0, 0, 1)));
	assert_true(mist_ipv4_addr_is_loopback(MIST_IPV4(127, 255, 0, 9)));
	assert_false(mist_ipv4_addr_is_loopback(MIST_IPV4(128, 0, 0, 1)));
	assert_true(mist_ipv4_addr_is_zero_net(MIST_IPV4(0, 1, 2, 3)));
	assert_false(mist_ipv4_addr_is_zero_net(MIST_IPV4(1, 0, 0, 0)));

	assert_true(mist_ipv4_addr_in_subnet(MIST_IPV4(10, 0, 0, 200), net, 24));
	assert_false(mist_ipv4_addr_in_subnet(MIST_IPV4(10, 0, 1, 1), net, 24));
	assert_true(mist_ipv4_addr_in_subnet(MIST_IPV4(99, 1, 1, 1), net, 0));
	assert_false(mist_ipv4_addr_in_subnet(MIST_IPV4(10, 0, 0, 2), net, 32));

	assert_true(mist_ipv4_addr_is_subnet_broadcast(MIST_IPV4(10, 0, 0, 255), net, 24));
	assert_true(mist_ipv4_addr_is_subnet_broadcast(MIST_IPV4(10, 0, 255, 255), net, 16));
	assert_true(mist_ipv4_addr_is_subnet_broadcast(MIST_IPV4(10, 0, 0, 3), net, 30));
	assert_false(mist_ipv4_addr_is_subnet_broadcast(MIST_IPV4(10, 0, 0, 254), net, 24));
	assert_false(mist_ipv4_addr_is_subnet_broadcast(MIST_IPV4(10, 0, 1, 255), net, 24));
	/* RFC 3021: a /31 has two hosts and no broadcast; a /32 has neither. */
	assert_false(mist_ipv4_addr_is_subnet_broadcast(MIST_IPV4(10, 0, 0, 1), net, 31));
	assert_false(mist_ipv4_addr_is_subnet_broadcast(MIST_IPV4(10, 0, 0, 1), net, 32));

	assert_int_equal(mist_ipv4_prefix_mask(0), 0);
	assert_int_equal(mist_ipv4_prefix_mask(24), 0xffffff00u);
	assert_int_equal(mist_ipv4_prefix_mask(32), 0xffffffffu);
	assert_int_equal(mist_ipv4_addr_to_u32(net), 0x0a000001u);
	assert_true(mist_ipv4_addr_eq(mist_ipv4_addr_from_u32(0x0a000001u), net));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(echo_datagram_parses_to_its_fields),
	        cmocka_unit_test(options_datagram_parses_and_skips_its_options),
	        cmocka_unit_test(every_truncation_is_rejected),
	        cmocka_unit_test(link_padding_after_the_datagram_is_ignored),
	        cmocka_unit_test(bad_version_and_header_length_are_rejected),
	        cmocka_unit_test(bad_total_length_is_rejected),
	        cmocka_unit_test(malformed_options_are_rejected),
	        cmocka_unit_test(well_formed_options_pass),
	        cmocka_unit_test(fragment_ending_past_64k_is_rejected),
	        cmocka_unit_test(flipped_bit_fails_the_checksum),
	        cmocka_unit_test(emit_reproduces_the_capture),
	        cmocka_unit_test(emit_then_parse_round_trips),
	        cmocka_unit_test(emit_refuses_what_cannot_be_a_header),
	        cmocka_unit_test(ttl_decrement_keeps_the_checksum_right),
	        cmocka_unit_test(setters_write_what_getters_read),
	        cmocka_unit_test(addresses_are_classified),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
