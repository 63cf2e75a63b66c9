/*
 * Unit tests of the stack's input paths, frame in, frame out: a stack at
 * 10.0.0.1/24 on a fake device that keeps every transmitted frame, fed
 * frames built by hand. An ARP request for our address gets exactly the
 * ARP reply RFC 826 prescribes; an echo request gets exactly the echo reply
 * (same identifier, sequence and data, fresh IPv4 header); a datagram with a
 * bad header checksum is dropped, counted, and answered with nothing. Each
 * test ends with the stack destroyed and the heap back where it started.
 */
#include "stackfx.h"

static const uint8_t peer_mac[6] = {0x02, 0, 0, 0, 0, 0x0b};

static int fx_setup(void **state)
{
	return stackfx_setup(state, 0);
}

/* The Internet checksum (RFC 1071), written out independently of src/wire. */
static uint16_t csum(const uint8_t *p, size_t len)
{
	uint32_t sum = 0;
	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len % 2)
		sum += (uint32_t)p[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static void put_csum(uint8_t *field, uint16_t c)
{
	field[0] = (uint8_t)(c >> 8);
	field[1] = (uint8_t)c;
}

static const uint8_t arp_request[42] = {
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0,    0, 0, 0, 0x0b, 0x08, 0x06, /* ether */
        0x00, 0x01, 0x08, 0x00, 6,    4,    0x00, 0x01,                            /* ARP request */
        0x02, 0,    0,    0,    0,    0x0b, 10,   0,    0, 2,                      /* sender */
        0,    0,    0,    0,    0,    0,    10,   0,    0, 1,                      /* target */
};

static const uint8_t arp_reply[42] = {
        0x02, 0,    0,    0,    0, 0x0b, 0x02, 0,    0, 0, 0, 0x0a, 0x08, 0x06, /* ether */
        0x00, 0x01, 0x08, 0x00, 6, 4,    0x00, 0x02,                            /* ARP reply */
        0x02, 0,    0,    0,    0, 0x0a, 10,   0,    0, 1,                      /* sender: us */
        0x02, 0,    0,    0,    0, 0x0b, 10,   0,    0, 2, /* target: the asker */
};

static void arp_request_gets_exact_reply(void **state)
{
	struct fx *fx = *state;
	stackfx_feed(fx, arp_request, sizeof(arp_request), 0);
	assert_int_equal(fx->fake.count, 1);
	assert_int_equal(fx->fake.lens[0], sizeof(arp_reply));
	assert_memory_equal(fx->fake.frames[0], arp_reply, sizeof(arp_reply));
	assert_int_equal(mist_stack_stats(fx->s)->arp.tx_reply, 1);
}

/* An echo request from 10.0.0.2 with identifier 0x4d49, sequence 7 and 24 bytes of data. */
#define ECHO_DATA 24
#define ECHO_LEN  (14 + 20 + 8 + ECHO_DATA)

static void build_echo_request(uint8_t *f)
{
	static const uint8_t head[34] = {
	        0x02, 0,    0,    0,
	        0,    0x0a, 0x02, 0,
	        0,    0,    0,    0x0b,
	        0x08, 0x00, /* ether */
	        0x45, 0x00, 0x00, 20 + 8 + ECHO_DATA,
	        0x12, 0x34, 0x00, 0x00,
	        64,   1,    0,    0,
	        10,   0,    0,    2,
	        10,   0,    0,    1,
	};
	memcpy(f, head, sizeof(head));
	put_csum(f + 24, csum(f + 14, 20));
	uint8_t *icmp = f + 34;
	icmp[0] = 8; /* echo request */
	icmp[1] = 0;
	icmp[2] = icmp[3] = 0;
	icmp[4] = 0x4d;
	icmp[5] = 0x49;
	icmp[6] = 0;
	icmp[7] = 7;
	for (unsigned i = 0; i < ECHO_DATA; i++)
		icmp[8 + i] = (uint8_t)(i * 11 + 3);
	put_csum(icmp + 2, csum(icmp, 8 + ECHO_DATA));
}

static void echo_request_gets_exact_reply(void **state)
{
	struct fx *fx = *state;
	stackfx_feed(fx, arp_request, sizeof(arp_request), 0); /* so that the peer's MAC is known */
	fx->fake.count = 0;

	uint8_t req[ECHO_LEN], want[ECHO_LEN];
	build_echo_request(req);
	uint16_t ident = fx->s->ip_ident;
	stackfx_feed(fx, req, sizeof(req), 0);

	/* The reply: addresses swapped, our next identification, TTL 64, type 0. */
	memcpy(want, req, sizeof(want));
	memcpy(want, peer_mac, 6);
	memcpy(want + 6, STACKFX_MAC, 6);
	want[18] = (uint8_t)(ident >> 8);
	want[19] = (uint8_t)ident;
	want[20] = want[21] = 0;
	want[22] = 64;
	memcpy(want + 26, (uint8_t[]){10, 0, 0, 1}, 4);
	memcpy(want + 30, (uint8_t[]){10, 0, 0, 2}, 4);
	want[24] = want[25] = 0;
	put_csum(want + 24, csum(want + 14, 20));
	want[34] = 0;
	want[36] = want[37] = 0;
	put_csum(want + 36, csum(want + 34, 8 + ECHO_DATA));

	assert_int_equal(fx->fake.count, 1);
	assert_int_equal(fx->fake.lens[0], sizeof(want));
	assert_memory_equal(fx->fake.frames[0], want, sizeof(want));
	assert_int_equal(mist_stack_stats(fx->s)->icmp.tx_echo_reply, 1);
}

static void bad_ipv4_checksum_is_dropped_and_counted(void **state)
{
	struct fx *fx = *state;
	stackfx_feed(fx, arp_request, sizeof(arp_request), 0);
	fx->fake.count = 0;
	uint8_t req[ECHO_LEN];
	build_echo_request(req);
	req[25] ^= 0x01;
	stackfx_feed(fx, req, sizeof(req), 0);
	assert_int_equal(fx->fake.count, 0);
	const struct net_stats *st = mist_stack_stats(fx->s);
	assert_int_equal(st->ipv4.drop_bad_checksum, 1);
	assert_int_equal(st->icmp.rx, 0);

	/* A bad ICMP checksum under a good IPv4 header: dropped by ICMP. */
	build_echo_request(req);
	req[ECHO_LEN - 1] ^= 0x80;
	stackfx_feed(fx, req, sizeof(req), 0);
	assert_int_equal(fx->fake.count, 0);
	assert_int_equal(st->icmp.drop_bad_checksum, 1);
	assert_int_equal(st->icmp.tx_echo_reply, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(arp_request_gets_exact_reply, fx_setup,
	                                        stackfx_teardown),
	        cmocka_unit_test_setup_teardown(echo_request_gets_exact_reply, fx_setup,
	                                        stackfx_teardown),
	        cmocka_unit_test_setup_teardown(bad_ipv4_checksum_is_dropped_and_counted, fx_setup,
	                                        stackfx_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
