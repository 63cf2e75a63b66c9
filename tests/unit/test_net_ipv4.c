/*
 * Unit tests of the stack's input paths, frame in, frame out: a stack at
 * 10.0.0.1/24 on a fake device that keeps every transmitted frame, fed
 * frames built by hand. An ARP request for our address gets exactly the
 * ARP reply RFC 826 prescribes; an echo request gets exactly the echo reply
 * (same identifier, sequence and data, fresh IPv4 header); a datagram with a
 * bad header checksum is dropped, counted, and answered with nothing. Each
 * test ends with the stack destroyed and the heap back where it started.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/mem.h"
#include "core/netdev.h"
#include "core/sched.h"
#include "mist/buf.h"
#include "mist/mist.h"
#include "net/stack.h"
/* Tests build with -Iinclude -Isrc only; the sim platform's headers are found relative to here. */
#include "../../platform/sim/sim.h"

#define MTU       1500u
#define RX_COUNT  64u
#define MAX_FRAME 1600u
#define MAX_TX    8u

static const uint8_t our_mac[6] = {0x02, 0, 0, 0, 0, 0x0a};
static const uint8_t peer_mac[6] = {0x02, 0, 0, 0, 0, 0x0b};

/* --- a device that keeps what is sent ------------------------------------------ */

struct fake_dev {
	struct mist_netdev dev;
	uint8_t frames[MAX_TX][MAX_FRAME];
	size_t lens[MAX_TX];
	unsigned count;
};

static unsigned fake_rx_burst(struct mist_netdev *dev, struct mist_buf **bufs, unsigned max)
{
	return 0;
}

static int fake_tx(struct mist_netdev *dev, struct mist_buf *frame)
{
	struct fake_dev *f = (struct fake_dev *)dev;
	size_t len = mist_buf_chain_len(frame);
	if (f->count < MAX_TX && len <= MAX_FRAME) {
		mist_buf_copyout(frame, 0, f->frames[f->count], len);
		f->lens[f->count++] = len;
	}
	mist_buf_free_chain(frame);
	return 0;
}

static void fake_flush(struct mist_netdev *dev)
{
}

static void fake_close(struct mist_netdev *dev)
{
}

static const struct mist_netdev_ops fake_ops = {
        .rx_burst = fake_rx_burst, .tx = fake_tx, .flush = fake_flush, .close = fake_close};

struct fx {
	struct fake_dev fake;
	struct mist_sched *sched;
	struct mist_pool *rx;
	struct mist_stack *s;
	uint64_t heap_before;
};

static int fx_setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));
	assert_non_null(fx);
	sim_reset(1);
	struct mist_mem_stats ms;
	mist_mem_stats(&ms);
	fx->heap_before = ms.bytes_in_use;
	fx->sched = mist_sched_create();
	assert_non_null(fx->sched);
	fx->rx = mist_pool_create("rx", RX_COUNT, mist_stack_rx_buf_size(MTU), NET_RX_HEADROOM);
	assert_non_null(fx->rx);
	fx->fake.dev.ops = &fake_ops;
	strcpy(fx->fake.dev.name, "fake0");
	memcpy(fx->fake.dev.mac, our_mac, 6);
	fx->fake.dev.mtu = MTU;
	struct mist_stack_config c = {.dev = &fx->fake.dev,
	                              .rx_pool = fx->rx,
	                              .ip = MIST_IPV4(10, 0, 0, 1),
	                              .prefix = 24};
	assert_int_equal(mist_stack_create(&c, &fx->s), 0);
	assert_int_equal(fx->fake.count, 1); /* the gratuitous announcement */
	fx->fake.count = 0;
	*state = fx;
	return 0;
}

static int fx_teardown(void **state)
{
	struct fx *fx = *state;
	struct mist_pool_stats ps;
	mist_pool_stats(fx->rx, &ps);
	assert_int_equal(ps.in_use, 0);
	mist_stack_destroy(fx->s);
	assert_int_equal(mist_sched_destroy(fx->sched), 0);
	struct mist_mem_stats ms;
	mist_mem_stats(&ms);
	assert_int_equal(ms.bytes_in_use, fx->heap_before);
	free(fx);
	return 0;
}

static void feed(struct fx *fx, const uint8_t *frame, size_t len)
{
	struct mist_buf *b = mist_buf_alloc(fx->rx, (uint32_t)len);
	assert_non_null(b);
	memcpy(b->data, frame, len);
	mist_stack_input(fx->s, b);
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
	feed(fx, arp_request, sizeof(arp_request));
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
	feed(fx, arp_request, sizeof(arp_request)); /* so that the peer's MAC is known */
	fx->fake.count = 0;

	uint8_t req[ECHO_LEN], want[ECHO_LEN];
	build_echo_request(req);
	uint16_t ident = fx->s->ip_ident;
	feed(fx, req, sizeof(req));

	/* The reply: addresses swapped, our next identification, TTL 64, type 0. */
	memcpy(want, req, sizeof(want));
	memcpy(want, peer_mac, 6);
	memcpy(want + 6, our_mac, 6);
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
	feed(fx, arp_request, sizeof(arp_request));
	fx->fake.count = 0;
	uint8_t req[ECHO_LEN];
	build_echo_request(req);
	req[25] ^= 0x01;
	feed(fx, req, sizeof(req));
	assert_int_equal(fx->fake.count, 0);
	const struct net_stats *st = mist_stack_stats(fx->s);
	assert_int_equal(st->ipv4.drop_bad_checksum, 1);
	assert_int_equal(st->icmp.rx, 0);

	/* A bad ICMP checksum under a good IPv4 header: dropped by ICMP. */
	build_echo_request(req);
	req[ECHO_LEN - 1] ^= 0x80;
	feed(fx, req, sizeof(req));
	assert_int_equal(fx->fake.count, 0);
	assert_int_equal(st->icmp.drop_bad_checksum, 1);
	assert_int_equal(st->icmp.tx_echo_reply, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(arp_request_gets_exact_reply, fx_setup,
	                                        fx_teardown),
	        cmocka_unit_test_setup_teardown(echo_request_gets_exact_reply, fx_setup,
	                                        fx_teardown),
	        cmocka_unit_test_setup_teardown(bad_ipv4_checksum_is_dropped_and_counted, fx_setup,
	                                        fx_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
