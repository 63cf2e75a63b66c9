/*
 * Unit tests for the ARP view (src/wire/arp.h): a captured request parses to
 * its exact fields; every truncation is rejected without a read past the end
 * (each prefix lives in a heap block of exactly its length, under
 * AddressSanitizer); Ethernet padding is accepted; each field that makes a
 * packet something other than IPv4-over-Ethernet request or reply is refused;
 * emit reproduces the capture and round-trips.
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
#include "wire/arp.h"

/* Who has 10.0.0.2? Tell 10.0.0.1 (52:54:00:12:34:56): the ARP part of a frame. */
static const uint8_t arp_request[] = {
        0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01, 0x52, 0x54, 0x00, 0x12, 0x34, 0x56,
        0x0a, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0a, 0x00, 0x00, 0x02,
};

static const struct mist_ether_addr sender_mac = {{0x52, 0x54, 0x00, 0x12, 0x34, 0x56}};
static const struct mist_ether_addr zero_mac = {{0}};

/* Runs check and, when it passes, parse and every getter: what a receiver does. */
static int check_and_read(const uint8_t *p, size_t len)
{
	struct mist_arp_repr r;
	int err = mist_arp_check(p, len);

	if (err != 0)
		return err;
	assert_int_equal(mist_arp_parse(p, len, &r), 0);
	assert_int_equal(r.op, mist_arp_op(p));
	assert_true(mist_ether_addr_eq(r.sha, mist_arp_sha(p)));
	assert_true(mist_ipv4_addr_eq(r.spa, mist_arp_spa(p)));
	assert_true(mist_ether_addr_eq(r.tha, mist_arp_tha(p)));
	assert_true(mist_ipv4_addr_eq(r.tpa, mist_arp_tpa(p)));
	return 0;
}

static void request_parses_to_its_fields(void **state)
{
	struct mist_arp_repr r;

	assert_int_equal(mist_arp_parse(arp_request, sizeof(arp_request), &r), 0);
	assert_int_equal(mist_arp_htype(arp_request), MIST_ARP_HTYPE_ETHER);
	assert_int_equal(mist_arp_ptype(arp_request), MIST_ETHERTYPE_IPV4);
	assert_int_equal(mist_arp_hlen(arp_request), 6);
	assert_int_equal(mist_arp_plen(arp_request), 4);
	assert_int_equal(r.op, MIST_ARP_OP_REQUEST);
	assert_true(mist_ether_addr_eq(r.sha, sender_mac));
	assert_true(mist_ipv4_addr_eq(r.spa, MIST_IPV4(10, 0, 0, 1)));
	assert_true(mist_ether_addr_eq(r.tha, zero_mac));
	assert_true(mist_ipv4_addr_eq(r.tpa, MIST_IPV4(10, 0, 0, 2)));
}

static void every_truncation_is_rejected(void **state)
{
	check_every_prefix(check_and_read, arp_request, sizeof(arp_request), MIST_ARP_LEN);
}

static void ethernet_padding_is_accepted(void **state)
{
	/* 60-byte minimum frame minus the 14-byte header: 18 bytes of padding. */
	uint8_t padded[46] = {0};
	struct mist_arp_repr r;

	memcpy(padded, arp_request, sizeof(arp_request));
	assert_int_equal(mist_arp_parse(padded, sizeof(padded), &r), 0);
	assert_true(mist_ipv4_addr_eq(r.tpa, MIST_IPV4(10, 0, 0, 2)));
}

/* Returns the check's verdict on the request with the byte at `off` replaced by `value`. */
static int check_with_byte(size_t off, uint8_t value)
{
	uint8_t p[sizeof(arp_request)];

	memcpy(p, arp_request, sizeof(p));
	p[off] = value;
	return mist_arp_check(p, sizeof(p));
}

static void foreign_hardware_protocol_and_lengths_are_rejected(void **state)
{
	assert_int_equal(check_with_byte(MIST_ARP_OFF_HTYPE + 1, 6), MIST_EINVAL); /* IEEE 802 */
	assert_int_equal(check_with_byte(MIST_ARP_OFF_HTYPE, 1), MIST_EINVAL);
	assert_int_equal(check_with_byte(MIST_ARP_OFF_PTYPE, 0x86), MIST_EINVAL);
	assert_int_equal(check_with_byte(MIST_ARP_OFF_PTYPE + 1, 0x06), MIST_EINVAL);
	assert_int_equal(check_with_byte(MIST_ARP_OFF_HLEN, 8), MIST_EINVAL);
	assert_int_equal(check_with_byte(MIST_ARP_OFF_PLEN, 16), MIST_EINVAL);
}

static void only_request_and_reply_opcodes_pass(void **state)
{
	assert_int_equal(check_with_byte(MIST_ARP_OFF_OPER + 1, 0), MIST_EINVAL);
	assert_int_equal(check_with_byte(MIST_ARP_OFF_OPER + 1, MIST_ARP_OP_REQUEST), 0);
	assert_int_equal(check_with_byte(MIST_ARP_OFF_OPER + 1, MIST_ARP_OP_REPLY), 0);
	assert_int_equal(check_with_byte(MIST_ARP_OFF_OPER + 1, 3), MIST_EINVAL); /* RARP */
	assert_int_equal(check_with_byte(MIST_ARP_OFF_OPER + 1, 8), MIST_EINVAL); /* InARP */
	assert_int_equal(check_with_byte(MIST_ARP_OFF_OPER, 1), MIST_EINVAL);
}

static void emit_reproduces_the_capture(void **state)
{
	struct mist_arp_repr r = {
	        .op = MIST_ARP_OP_REQUEST,
	        .sha = sender_mac,
	        .spa = MIST_IPV4(10, 0, 0, 1),
	        .tha = zero_mac,
	        .tpa = MIST_IPV4(10, 0, 0, 2),
	};
	uint8_t p[MIST_ARP_LEN];

	memset(p, 0xee, sizeof(p));
	assert_int_equal(mist_arp_emit(&r, p, sizeof(p)), 0);
	assert_memory_equal(p, arp_request, sizeof(arp_request));
}

static void reply_emit_then_parse_round_trips(void **state)
{
	struct mist_arp_repr r = {
	        .op = MIST_ARP_OP_REPLY,
	        .sha = {{0x02, 0x00, 0x00, 0xaa, 0xbb, 0xcc}},
	        .spa = MIST_IPV4(10, 0, 0, 2),
	        .tha = sender_mac,
	        .tpa = MIST_IPV4(10, 0, 0, 1),
	};
	struct mist_arp_repr back;
	uint8_t p[MIST_ARP_LEN];

	assert_int_equal(mist_arp_emit(&r, p, sizeof(p)), 0);
	assert_int_equal(mist_arp_parse(p, sizeof(p), &back), 0);
	assert_int_equal(back.op, r.op);
	assert_true(mist_ether_addr_eq(back.sha, r.sha));
	assert_true(mist_ipv4_addr_eq(back.spa, r.spa));
	assert_true(mist_ether_addr_eq(back.tha, r.tha));
	assert_true(mist_ipv4_addr_eq(back.tpa, r.tpa));
}

static void emit_refuses_a_short_buffer(void **state)
{
	struct mist_arp_repr r = {.op = MIST_ARP_OP_REQUEST};
	uint8_t p[MIST_ARP_LEN];

	memset(p, 0x5a, sizeof(p));
	assert_int_equal(mist_arp_emit(&r, p, sizeof(p) - 1), MIST_ERANGE);
	assert_int_equal(p[0], 0x5a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(request_parses_to_its_fields),
	        cmocka_unit_test(every_truncation_is_rejected),
	        cmocka_unit_test(ethernet_padding_is_accepted),
	        cmocka_unit_test(foreign_hardware_protocol_and_lengths_are_rejected),
	        cmocka_unit_test(only_request_and_reply_opcodes_pass),
	        cmocka_unit_test(emit_reproduces_the_capture),
	        cmocka_unit_test(reply_emit_then_parse_round_trips),
	        cmocka_unit_test(emit_refuses_a_short_buffer),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
