/*
 * Unit tests for the Ethernet II view (src/wire/ether.h): a captured ARP
 * request frame parses to its exact fields; every truncation is rejected
 * without a read past the end (each prefix lives in a heap block of exactly
 * its length, under AddressSanitizer); 802.3 length fields are refused and
 * VLAN tags recognised; emit and parse round-trip; address helpers.
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
#include "wire/ether.h"

/* A broadcast ARP request from 52:54:00:12:34:56 (who has 10.0.0.2? tell 10.0.0.1). */
static const uint8_t arp_frame[] = {
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x52, 0x54, 0x00, 0x12, 0x34, 0x56, 0x08, 0x06,
        0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01, 0x52, 0x54, 0x00, 0x12, 0x34, 0x56,
        0x0a, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0a, 0x00, 0x00, 0x02,
};

static const struct mist_ether_addr host_mac = {{0x52, 0x54, 0x00, 0x12, 0x34, 0x56}};

/* Runs check and, when it passes, parse and every getter: what a receiver does. */
static int check_and_read(const uint8_t *p, size_t len)
{
	struct mist_ether_repr r;
	int err = mist_ether_check(p, len);

	if (err != 0)
		return err;
	assert_int_equal(mist_ether_parse(p, len, &r), 0);
	assert_true(mist_ether_addr_eq(r.dst, mist_ether_dst(p)));
	assert_true(mist_ether_addr_eq(r.src, mist_ether_src(p)));
	assert_int_equal(r.ethertype, mist_ether_type(p));
	(void)mist_ether_is_vlan(p);
	return 0;
}

static void arp_frame_parses_to_its_fields(void **state)
{
	struct mist_ether_repr r;

	assert_int_equal(mist_ether_parse(arp_frame, sizeof(arp_frame), &r), 0);
	assert_true(mist_ether_addr_eq(r.dst, MIST_ETHER_BROADCAST));
	assert_true(mist_ether_addr_eq(r.src, host_mac));
	assert_int_equal(r.ethertype, MIST_ETHERTYPE_ARP);
	assert_ptr_equal(mist_ether_payload(arp_frame), arp_frame + MIST_ETHER_HDR_LEN);
	assert_false(mist_ether_is_vlan(arp_frame));
}

static void every_truncation_below_the_header_is_rejected(void **state)
{
	check_every_prefix(check_and_read, arp_frame, sizeof(arp_frame), MIST_ETHER_HDR_LEN);
}

static void ieee8023_length_field_is_rejected(void **state)
{
	uint8_t f[sizeof(arp_frame)];

	memcpy(f, arp_frame, sizeof(f));
	mist_ether_set_type(f, 0x05dc); /* 1500: an 802.3 length */
	assert_int_equal(mist_ether_check(f, sizeof(f)), MIST_EINVAL);
	mist_ether_set_type(f, MIST_ETHERTYPE_MIN - 1);
	assert_int_equal(mist_ether_check(f, sizeof(f)), MIST_EINVAL);
	mist_ether_set_type(f, MIST_ETHERTYPE_MIN);
	assert_int_equal(mist_ether_check(f, sizeof(f)), 0);
}

static void vlan_tags_pass_the_check_and_are_recognised(void **state)
{
	uint8_t f[sizeof(arp_frame)];

	memcpy(f, arp_frame, sizeof(f));
	mist_ether_set_type(f, MIST_ETHERTYPE_VLAN);
	assert_int_equal(mist_ether_check(f, sizeof(f)), 0);
	assert_true(mist_ether_is_vlan(f));
	mist_ether_set_type(f, MIST_ETHERTYPE_QINQ);
	assert_true(mist_ether_is_vlan(f));
	mist_ether_set_type(f, MIST_ETHERTYPE_IPV4);
	assert_false(mist_ether_is_vlan(f));
}

static void emit_reproduces_the_capture_and_round_trips(void **state)
{
	struct mist_ether_repr r = {
	        .dst = MIST_ETHER_BROADCAST,
	        .src = host_mac,
	        .ethertype = MIST_ETHERTYPE_ARP,
	};
	struct mist_ether_repr back;
	uint8_t f[MIST_ETHER_HDR_LEN];

	assert_int_equal(mist_ether_emit(&r, f, sizeof(f)), 0);
	assert_memory_equal(f, arp_frame, MIST_ETHER_HDR_LEN);

	r.dst = host_mac;
	r.src = (struct mist_ether_addr){{0x02, 0, 0, 0, 0, 1}};
	r.ethertype = MIST_ETHERTYPE_IPV6;
	assert_int_equal(mist_ether_emit(&r, f, sizeof(f)), 0);
	assert_int_equal(mist_ether_parse(f, sizeof(f), &back), 0);
	assert_memory_equal(&back, &r, sizeof(r));
}

static void emit_refuses_a_short_buffer(void **state)
{
	struct mist_ether_repr r = {.ethertype = MIST_ETHERTYPE_IPV4};
	uint8_t f[MIST_ETHER_HDR_LEN];

	memset(f, 0x5a, sizeof(f));
	assert_int_equal(mist_ether_emit(&r, f, sizeof(f) - 1), MIST_ERANGE);
	assert_int_equal(f[0], 0x5a);
}

static void address_helpers_classify_group_and_broadcast(void **state)
{
	struct mist_ether_addr mcast = {{0x01, 0x00, 0x5e, 0x00, 0x00, 0x16}};

	assert_true(mist_ether_addr_is_group(MIST_ETHER_BROADCAST));
	assert_true(mist_ether_addr_is_broadcast(MIST_ETHER_BROADCAST));
	assert_true(mist_ether_addr_is_group(mcast));
	assert_false(mist_ether_addr_is_broadcast(mcast));
	assert_false(mist_ether_addr_is_group(host_mac));
	assert_false(mist_ether_addr_eq(host_mac, mcast));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(arp_frame_parses_to_its_fields),
	        cmocka_unit_test(every_truncation_below_the_header_is_rejected),
	        cmocka_unit_test(ieee8023_length_field_is_rejected),
	        cmocka_unit_test(vlan_tags_pass_the_check_and_are_recognised),
	        cmocka_unit_test(emit_reproduces_the_capture_and_round_trips),
	        cmocka_unit_test(emit_refuses_a_short_buffer),
	        cmocka_unit_test(address_helpers_classify_group_and_broadcast),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
