/*
 * Unit tests of the stack's side of device offloads (core/netdev.h), frame
 * in, frame out: a stack at 10.0.0.1/24 on a fake device that offers every
 * offload and keeps each transmitted frame with its flags. A TCP segment
 * with a wrong checksum is dropped unless the device marked it
 * MIST_BUF_F_CSUM_VALID; the RST that answers it leaves with its checksum
 * for the device to complete (the folded pseudo-header sum, flag
 * CSUM_PARTIAL), and completing it gives a correct checksum; an IPv4 packet
 * marked as a TCP super-segment leaves whole, longer than the MTU, while an
 * unmarked one of the same size is refused with DF. Checksums are worked
 * out here independently of src/wire.
 */
#include "stackfx.h"

#define SUPER_LEN 10000u /* payload of the super-segment: longer than the MTU */
#define GSO_SIZE  1448u

static int fx_setup(void **state)
{
	return stackfx_setup(state, MIST_NETDEV_OFF_TX_CSUM | MIST_NETDEV_OFF_TX_TSO4 |
	                                    MIST_NETDEV_OFF_RX_CSUM);
}

/* The ones'-complement sum of `len` bytes (RFC 1071), folded to 16 bits, not complemented. */
static uint16_t sum16(uint32_t sum, const uint8_t *p, size_t len)
{
	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len % 2)
		sum += (uint32_t)p[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/* The folded sum of the TCP pseudo-header (RFC 9293 3.1) of the IPv4 header at `ip`. */
static uint16_t pseudo_sum(const uint8_t *ip, uint16_t tcp_len)
{
	uint8_t pseudo[12];
	memcpy(pseudo, ip + 12, 8);
	pseudo[8] = 0;
	pseudo[9] = 6;
	pseudo[10] = (uint8_t)(tcp_len >> 8);
	pseudo[11] = (uint8_t)tcp_len;
	return sum16(0, pseudo, sizeof(pseudo));
}

static void put16(uint8_t *field, uint16_t v)
{
	field[0] = (uint8_t)(v >> 8);
	field[1] = (uint8_t)v;
}

static uint16_t get16(const uint8_t *field)
{
	return (uint16_t)(field[0] << 8 | field[1]);
}

/* An ARP request from 10.0.0.2, so that its MAC is known and packets to it leave at once. */
static const uint8_t arp_request[42] = {
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0,    0, 0, 0, 0x0b, 0x08, 0x06, /* ether */
        0x00, 0x01, 0x08, 0x00, 6,    4,    0x00, 0x01,                            /* ARP request */
        0x02, 0,    0,    0,    0,    0x0b, 10,   0,    0, 2,                      /* sender */
        0,    0,    0,    0,    0,    0,    10,   0,    0, 1,                      /* target */
};

/* A SYN from 10.0.0.2:40000 to 10.0.0.1:80, where nothing listens, with seq 1000. */
#define SYN_LEN (14 + 20 + 20)

static void build_syn(uint8_t *f)
{
	static const uint8_t head[SYN_LEN] =
	        {
	                0x02, 0,    0,    0,    0,    0x0a, 0x02, 0,    0,  0,
	                0,    0x0b, 0x08, 0x00, /* ether */
	                0x45, 0x00, 0x00, 40,   0x12, 0x34, 0x40, 0x00, 64, 6,
	                0,    0,    10,   0,    0,    2,    10,   0,    0,  1, /* IPv4, DF */
	                0x9c, 0x40, 0x00, 80,   0,    0,    0x03, 0xe8, 0,  0,
	                0,    0,    0x50, 0x02, 0xff, 0xff, 0,    0,    0,  0, /* TCP SYN */
	        };
	memcpy(f, head, sizeof(head));
	put16(f + 24, (uint16_t)~sum16(0, f + 14, 20));
	put16(f + 34 + 16, (uint16_t)~sum16(pseudo_sum(f + 14, 20), f + 34, 20));
}

static void bad_tcp_checksum_is_dropped_without_device_mark(void **state)
{
	struct fx *fx = *state;
	uint8_t syn[SYN_LEN];
	build_syn(syn);
	syn[34 + 16] ^= 0x01;
	stackfx_feed(fx, syn, sizeof(syn), 0);
	assert_int_equal(fx->fake.count, 0);
	assert_int_equal(mist_stack_stats(fx->s)->tcp.drop_bad_checksum, 1);
}

static void device_mark_skips_checksum_and_reset_leaves_partial_checksum(void **state)
{
	struct fx *fx = *state;
	stackfx_feed(fx, arp_request, sizeof(arp_request), 0);
	fx->fake.count = 0;
	uint8_t syn[SYN_LEN];
	build_syn(syn);
	syn[34 + 16] ^= 0x01; /* as a host's partial checksum would be: not the real one */
	stackfx_feed(fx, syn, sizeof(syn), MIST_BUF_F_CSUM_VALID);
	assert_int_equal(mist_stack_stats(fx->s)->tcp.drop_bad_checksum, 0);

	/* RFC 9293 3.10.7.1: <SEQ=0><ACK=1001><CTL=RST,ACK>. */
	assert_int_equal(fx->fake.count, 1);
	const uint8_t *ip = fx->fake.frames[0] + 14, *tcp = ip + 20;
	assert_int_equal(fx->fake.flags[0], MIST_BUF_F_CSUM_PARTIAL);
	assert_int_equal(tcp[13], 0x14);
	assert_int_equal(get16(tcp + 8) << 16 | get16(tcp + 10), 1001);
	/* The field holds the folded pseudo-header sum, for the device to complete. */
	uint16_t tcp_len = (uint16_t)(fx->fake.lens[0] - 14 - 20);
	assert_int_equal(get16(tcp + 16), pseudo_sum(ip, tcp_len));
	/* Completing it as a device does: sum the segment, store the complement. */
	uint8_t seg[64];
	memcpy(seg, tcp, tcp_len);
	put16(seg + 16, (uint16_t)~sum16(0, seg, tcp_len));
	assert_int_equal(sum16(pseudo_sum(ip, tcp_len), seg, tcp_len), 0xffff);
}

/* A chain of `len` bytes of pattern from the stack's transmit pool. */
static struct mist_buf *payload_chain(struct fx *fx, uint32_t len)
{
	struct mist_buf *head = NULL;
	for (uint32_t off = 0; off < len;) {
		uint32_t n = len - off < 1000 ? len - off : 1000;
		struct mist_buf *b = mist_net_buf_alloc(fx->s, n);
		assert_non_null(b);
		for (uint32_t i = 0; i < n; i++)
			b->data[i] = (uint8_t)(off + i);
		if (head == NULL)
			head = b;
		else
			mist_buf_chain(head, b);
		off += n;
	}
	return head;
}

static void super_segment_leaves_whole_past_the_mtu(void **state)
{
	struct fx *fx = *state;
	stackfx_feed(fx, arp_request, sizeof(arp_request), 0);
	fx->fake.count = 0;

	/* Unmarked, a datagram longer than the MTU with DF is refused (RFC 791, RFC 1191). */
	struct mist_buf *plain = payload_chain(fx, SUPER_LEN);
	assert_int_equal(
	        net_ipv4_output(fx->s, MIST_IPV4(10, 0, 0, 2), MIST_IP_PROTO_TCP, plain, true),
	        MIST_EMSGSIZE);
	assert_int_equal(fx->fake.count, 0);
	assert_int_equal(mist_stack_stats(fx->s)->ipv4.drop_too_big_df, 1);

	struct mist_buf *super = payload_chain(fx, SUPER_LEN);
	super->flags = mist_buf_gso_flags(GSO_SIZE);
	assert_int_equal(
	        net_ipv4_output(fx->s, MIST_IPV4(10, 0, 0, 2), MIST_IP_PROTO_TCP, super, true), 0);
	assert_int_equal(fx->fake.count, 1);
	assert_int_equal(fx->fake.lens[0], 14 + 20 + SUPER_LEN);
	/* The flags travel with the first view as headers are prepended. */
	assert_int_equal(fx->fake.flags[0],
	                 MIST_BUF_F_CSUM_PARTIAL | MIST_BUF_F_GSO_TCP4 | GSO_SIZE << 16);
	assert_int_equal(mist_buf_gso_size(fx->fake.flags[0]), GSO_SIZE);
	const uint8_t *ip = fx->fake.frames[0] + 14;
	assert_int_equal(get16(ip + 2), 20 + SUPER_LEN); /* the total length of the whole */
	assert_int_equal(ip[6] & 0x40, 0x40);            /* DF */
	assert_int_equal(sum16(0, ip, 20), 0xffff);      /* a correct header checksum */
	assert_int_equal(ip[20 + 1234], (uint8_t)1234);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(bad_tcp_checksum_is_dropped_without_device_mark,
	                                        fx_setup, stackfx_teardown),
	        cmocka_unit_test_setup_teardown(
	                device_mark_skips_checksum_and_reset_leaves_partial_checksum, fx_setup,
	                stackfx_teardown),
	        cmocka_unit_test_setup_teardown(super_segment_leaves_whole_past_the_mtu, fx_setup,
	                                        stackfx_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
