/*
 * Unit tests for the pcap capture wrapper (src/dev/pcap.h) and its posix
 * file sink (platform/posix/pcap_file.h): the exact bytes of the global
 * header and of the records, timestamps from the (virtual) wall clock,
 * chains gathered in order, frames refused by the device left out, long
 * frames cut at the snap length, a failing sink stopping the capture but not
 * the traffic, and a file that tcpdump reads back. The device under the
 * wrapper is a loopback written here: what it transmits it receives. Runs
 * on the sim platform, so time is virtual and starts at a known instant.
 * Every test ends with its pool empty.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "loopdev.h"

#include "base/endian.h"
#include "core/netdev.h"
#include "core/platform.h"
#include "dev/pcap.h"
#include "mist/mist.h"
/* Tests build with -Iinclude -Isrc only; platform headers are found relative to here. */
#include "../../platform/posix/pcap_file.h"
#include "../../platform/sim/sim.h"

#define POOL_BLOCKS   32
#define POOL_SIZE     2048
#define POOL_HEADROOM 64
#define MTU           1500

/* The sim wall clock at virtual time 0: 2026-01-01T00:00:00Z. */
#define SIM_EPOCH_SEC 1767225600u

/* --- a sink in memory ------------------------------------------------------ */

struct mem_sink {
	uint8_t *data;
	size_t len;
	unsigned writes;
	int writes_left; /* writes that succeed before every later one fails; -1: no limit */
	unsigned closes;
};

static int mem_sink_write(void *ctx, const void *data, size_t len)
{
	struct mem_sink *m = ctx;
	if (m->writes_left == 0)
		return MIST_EIO;
	if (m->writes_left > 0)
		m->writes_left--;
	m->writes++;
	m->data = realloc(m->data, m->len + len);
	assert_non_null(m->data);
	memcpy(m->data + m->len, data, len);
	m->len += len;
	return 0;
}

static void mem_sink_close(void *ctx)
{
	struct mem_sink *m = ctx;
	m->closes++;
}

static struct mist_pcap_sink mem_sink_of(struct mem_sink *m)
{
	return (struct mist_pcap_sink){.write = mem_sink_write, .close = mem_sink_close, .ctx = m};
}

/* --- helpers --------------------------------------------------------------- */

static struct mist_pool *pool_new(void)
{
	struct mist_pool *pool =
	        mist_pool_create("pcap-test", POOL_BLOCKS, POOL_SIZE, POOL_HEADROOM);
	assert_non_null(pool);
	return pool;
}

static void pool_end(struct mist_pool *pool)
{
	struct mist_pool_stats stats;
	mist_pool_stats(pool, &stats);
	assert_int_equal(stats.in_use, 0);
	assert_int_equal(stats.views_in_use, 0);
	assert_int_equal(mist_pool_destroy(pool), MIST_OK);
}

static uint32_t host32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, sizeof(v));
	return v;
}

static struct mist_buf *buf_of(struct mist_pool *pool, const void *bytes, uint32_t len)
{
	struct mist_buf *b = mist_buf_alloc(pool, len);
	assert_non_null(b);
	memcpy(b->data, bytes, len);
	return b;
}

/* An ARP request "who has 10.99.0.2, tell 10.99.0.1" from 02:00:00:00:00:01 (RFC 826). */
static const uint8_t arp_request[42] = {
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06,
        0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01,
        10,   99,   0,    1,    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 10,   99,   0,    2,
};

#define UDP_PAYLOAD_LEN 18
#define UDP_HEADERS_LEN (14 + 20 + 8)

/*
 * A UDP datagram 10.99.0.1:1234 > 10.99.0.2:5678 as a chain of two views:
 * the headers, then the payload "hello from mist!\r\n", the way the stack
 * prepends headers in front of an application's buffer.
 */
static struct mist_buf *udp_chain(struct mist_pool *pool)
{
	uint8_t h[UDP_HEADERS_LEN] = {
	        0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x08, 0x00,
	        /* IPv4: version 4, IHL 5, total length 46, TTL 64, protocol 17 (RFC 791) */
	        0x45, 0x00, 0x00, 20 + 8 + UDP_PAYLOAD_LEN, 0x00, 0x01, 0x00, 0x00, 64, 17, 0x00,
	        0x00, 10, 99, 0, 1, 10, 99, 0, 2,
	        /* UDP: ports 1234 and 5678, length 26, no checksum (RFC 768) */
	        0x04, 0xd2, 0x16, 0x2e, 0x00, 8 + UDP_PAYLOAD_LEN, 0x00, 0x00};
	uint32_t sum = 0;
	for (unsigned i = 14; i < 34; i += 2)
		sum += mist_load_be16(&h[i]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	mist_store_be16(&h[24], (uint16_t)~sum);
	struct mist_buf *head = buf_of(pool, h, sizeof(h));
	mist_buf_chain(head, buf_of(pool, "hello from mist!\r\n", UDP_PAYLOAD_LEN));
	return head;
}

/* Checks the record at `rec`: header fields, then the frame's bytes. */
static void assert_record(const uint8_t *rec, uint32_t sec, uint32_t usec, const void *frame,
                          uint32_t len)
{
	assert_int_equal(host32(rec + 0), sec);
	assert_int_equal(host32(rec + 4), usec);
	assert_int_equal(host32(rec + 8), len);
	assert_int_equal(host32(rec + 12), len);
	assert_memory_equal(rec + MIST_PCAP_RECORD_HDR_LEN, frame, len);
}

/* --- tests ----------------------------------------------------------------- */

static void pcap_global_header_has_exact_bytes(void **state)
{
	if (__BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__)
		skip();
	struct mist_pool *pool = pool_new();
	struct loop_dev loop;
	struct mem_sink m = {.writes_left = -1};
	struct mist_pcap_sink sink = mem_sink_of(&m);
	struct mist_netdev *dev;
	loop_init(&loop, pool, MTU);

	assert_int_equal(mist_pcap_wrap(&loop.netdev, &sink, &dev), 0);
	/* Magic, version 2.4, thiszone 0, sigfigs 0, snaplen 65535, LINKTYPE_ETHERNET. */
	static const uint8_t expected[MIST_PCAP_FILE_HDR_LEN] = {
	        0xd4, 0xc3, 0xb2, 0xa1, 0x02, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00,
	        0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00,
	};
	assert_int_equal(m.len, sizeof(expected));
	assert_memory_equal(m.data, expected, sizeof(expected));
	assert_memory_equal(dev->mac, loop.netdev.mac, sizeof(dev->mac));
	assert_int_equal(dev->mtu, MTU);
	assert_string_equal(dev->name, "loop0");

	dev->ops->close(dev);
	assert_int_equal(loop.closes, 1);
	assert_int_equal(m.closes, 1);
	free(m.data);
	pool_end(pool);
}

static void pcap_records_tx_then_rx_with_wall_clock(void **state)
{
	struct mist_pool *pool = pool_new();
	struct loop_dev loop;
	struct mem_sink m = {.writes_left = -1};
	struct mist_pcap_sink sink = mem_sink_of(&m);
	struct mist_netdev *dev;
	loop_init(&loop, pool, MTU);
	sim_reset(1);

	assert_int_equal(mist_pcap_wrap(&loop.netdev, &sink, &dev), 0);
	/* 2.345678999 s after the epoch: the record keeps whole microseconds. */
	mist_plat_yield(2 * MIST_SEC + 345678 * MIST_USEC + 999);
	assert_int_equal(dev->ops->tx(dev, buf_of(pool, arp_request, sizeof(arp_request))), 0);
	dev->ops->flush(dev);
	mist_plat_yield(3 * MIST_SEC);
	struct mist_buf *got[4];
	assert_int_equal(dev->ops->rx_burst(dev, got, 4), 1);
	assert_int_equal(got[0]->len, sizeof(arp_request));
	mist_buf_free(got[0]);

	size_t rec_len = MIST_PCAP_RECORD_HDR_LEN + sizeof(arp_request);
	assert_int_equal(m.len, MIST_PCAP_FILE_HDR_LEN + 2 * rec_len);
	const uint8_t *rec = m.data + MIST_PCAP_FILE_HDR_LEN;
	assert_record(rec, SIM_EPOCH_SEC + 2, 345678, arp_request, sizeof(arp_request));
	assert_record(rec + rec_len, SIM_EPOCH_SEC + 3, 0, arp_request, sizeof(arp_request));
	/* The wrapper reports what the device under it counted. */
	assert_int_equal(dev->stats.tx_frames, 1);
	assert_int_equal(dev->stats.rx_frames, 1);

	dev->ops->close(dev);
	free(m.data);
	pool_end(pool);
}

static void pcap_gathers_a_chain_in_order(void **state)
{
	struct mist_pool *pool = pool_new();
	struct loop_dev loop;
	struct mem_sink m = {.writes_left = -1};
	struct mist_pcap_sink sink = mem_sink_of(&m);
	struct mist_netdev *dev;
	loop_init(&loop, pool, MTU);
	sim_reset(1);

	assert_int_equal(mist_pcap_wrap(&loop.netdev, &sink, &dev), 0);
	struct mist_buf *frame = udp_chain(pool);
	uint8_t flat[UDP_HEADERS_LEN + UDP_PAYLOAD_LEN];
	assert_int_equal(mist_buf_copyout(frame, 0, flat, sizeof(flat)), 0);
	assert_int_equal(dev->ops->tx(dev, frame), 0);

	assert_int_equal(m.len, MIST_PCAP_FILE_HDR_LEN + MIST_PCAP_RECORD_HDR_LEN + sizeof(flat));
	assert_record(m.data + MIST_PCAP_FILE_HDR_LEN, SIM_EPOCH_SEC, 0, flat, sizeof(flat));
	assert_memory_equal(m.data + m.len - UDP_PAYLOAD_LEN, "hello from mist!\r\n",
	                    UDP_PAYLOAD_LEN);

	dev->ops->close(dev);
	free(m.data);
	pool_end(pool);
}

static void pcap_leaves_out_frames_the_device_refuses(void **state)
{
	struct mist_pool *pool = pool_new();
	struct loop_dev loop;
	struct mem_sink m = {.writes_left = -1};
	struct mist_pcap_sink sink = mem_sink_of(&m);
	struct mist_netdev *dev;
	loop_init(&loop, pool, MTU);

	assert_int_equal(mist_pcap_wrap(&loop.netdev, &sink, &dev), 0);
	loop.refuse = true;
	assert_int_equal(dev->ops->tx(dev, buf_of(pool, arp_request, sizeof(arp_request))),
	                 MIST_EAGAIN);
	assert_int_equal(m.len, MIST_PCAP_FILE_HDR_LEN);
	assert_int_equal(dev->stats.tx_dropped, 1);

	dev->ops->close(dev);
	free(m.data);
	pool_end(pool);
}

/* A frame longer than the snap length keeps its first 65535 bytes and its full length. */
static void pcap_cuts_long_frames_at_snaplen(void **state)
{
	enum { PART = 40000, PARTS = 2 };
	struct mist_pool *big = mist_pool_create("pcap-big", PARTS, PART, 0);
	assert_non_null(big);
	struct mist_pool *pool = pool_new();
	struct loop_dev loop;
	struct mem_sink m = {.writes_left = -1};
	struct mist_pcap_sink sink = mem_sink_of(&m);
	struct mist_netdev *dev;
	loop_init(&loop, pool, MTU);

	assert_int_equal(mist_pcap_wrap(&loop.netdev, &sink, &dev), 0);
	struct mist_buf *frame = mist_buf_alloc(big, PART);
	assert_non_null(frame);
	memset(frame->data, 0xaa, PART);
	struct mist_buf *tail = mist_buf_alloc(big, PART);
	assert_non_null(tail);
	memset(tail->data, 0xbb, PART);
	mist_buf_chain(frame, tail);
	/* The loopback could not carry it back; only the capture of tx() matters here. */
	assert_int_equal(dev->ops->tx(dev, frame), 0);

	const uint8_t *rec = m.data + MIST_PCAP_FILE_HDR_LEN;
	assert_int_equal(m.len,
	                 MIST_PCAP_FILE_HDR_LEN + MIST_PCAP_RECORD_HDR_LEN + MIST_PCAP_SNAPLEN);
	assert_int_equal(host32(rec + 8), MIST_PCAP_SNAPLEN);
	assert_int_equal(host32(rec + 12), PARTS * PART);
	assert_int_equal(rec[MIST_PCAP_RECORD_HDR_LEN + PART - 1], 0xaa);
	assert_int_equal(rec[MIST_PCAP_RECORD_HDR_LEN + PART], 0xbb);

	dev->ops->close(dev);
	free(m.data);
	pool_end(pool);
	pool_end(big);
}

static void pcap_sink_failure_stops_capture_not_traffic(void **state)
{
	struct mist_pool *pool = pool_new();
	struct loop_dev loop;
	struct mem_sink m = {.writes_left = 2}; /* the header and one record */
	struct mist_pcap_sink sink = mem_sink_of(&m);
	struct mist_netdev *dev;
	loop_init(&loop, pool, MTU);

	assert_int_equal(mist_pcap_wrap(&loop.netdev, &sink, &dev), 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(dev->ops->tx(dev, buf_of(pool, arp_request, sizeof(arp_request))),
		                 0);
	dev->ops->flush(dev);
	struct mist_buf *got[4];
	assert_int_equal(dev->ops->rx_burst(dev, got, 4), 3);
	for (int i = 0; i < 3; i++)
		mist_buf_free(got[i]);
	assert_int_equal(m.writes, 2);
	assert_int_equal(m.len,
	                 MIST_PCAP_FILE_HDR_LEN + MIST_PCAP_RECORD_HDR_LEN + sizeof(arp_request));

	dev->ops->close(dev);
	free(m.data);
	pool_end(pool);
}

static void pcap_wrap_fails_cleanly_when_the_header_cannot_be_written(void **state)
{
	struct mist_pool *pool = pool_new();
	struct loop_dev loop;
	struct mem_sink m = {.writes_left = 0};
	struct mist_pcap_sink sink = mem_sink_of(&m);
	struct mist_netdev *dev = NULL;
	loop_init(&loop, pool, MTU);

	assert_int_equal(mist_pcap_wrap(&loop.netdev, &sink, &dev), MIST_EIO);
	assert_null(dev);
	assert_int_equal(loop.closes, 0);
	assert_int_equal(m.closes, 0);
	pool_end(pool);
}

/* The hosted check: a file from posix_pcap_file_sink() that tcpdump itself reads. */
static void pcap_file_is_read_back_by_tcpdump(void **state)
{
	if (access("/usr/bin/tcpdump", X_OK) != 0 && access("/usr/sbin/tcpdump", X_OK) != 0) {
		print_message("tcpdump is not installed: skipping the read-back check\n");
		skip();
	}
	char path[] = "/tmp/mist-test-pcap-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);

	struct mist_pool *pool = pool_new();
	struct loop_dev loop;
	struct mist_pcap_sink sink;
	struct mist_netdev *dev;
	loop_init(&loop, pool, MTU);
	sim_reset(1);
	assert_int_equal(posix_pcap_file_sink(path, &sink), 0);
	assert_int_equal(mist_pcap_wrap(&loop.netdev, &sink, &dev), 0);
	assert_int_equal(dev->ops->tx(dev, buf_of(pool, arp_request, sizeof(arp_request))), 0);
	assert_int_equal(dev->ops->tx(dev, udp_chain(pool)), 0);
	dev->ops->flush(dev);
	struct mist_buf *got[4];
	assert_int_equal(dev->ops->rx_burst(dev, got, 4), 2);
	mist_buf_free(got[0]);
	mist_buf_free(got[1]);
	dev->ops->close(dev);
	pool_end(pool);

	char cmd[128];
	snprintf(cmd, sizeof(cmd), "tcpdump -r %s -nn -e 2>&1", path);
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	char out[4096];
	size_t n = fread(out, 1, sizeof(out) - 1, p);
	out[n] = '\0';
	int status = pclose(p);
	unlink(path);
	print_message("%s", out);
	assert_int_equal(status, 0);

	/* Each frame twice, transmitted then received, in that order. */
	const char *arp = "02:00:00:00:00:01 > ff:ff:ff:ff:ff:ff, ethertype ARP (0x0806), "
	                  "length 42: Request who-has 10.99.0.2 tell 10.99.0.1";
	const char *udp = "02:00:00:00:00:01 > 02:00:00:00:00:02, ethertype IPv4 (0x0800), "
	                  "length 60: 10.99.0.1.1234 > 10.99.0.2.5678: UDP, length 18";
	const char *a1 = strstr(out, arp);
	assert_non_null(a1);
	const char *u1 = strstr(a1, udp);
	assert_non_null(u1);
	const char *a2 = strstr(u1, arp);
	assert_non_null(a2);
	assert_non_null(strstr(a2, udp));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(pcap_global_header_has_exact_bytes),
	        cmocka_unit_test(pcap_records_tx_then_rx_with_wall_clock),
	        cmocka_unit_test(pcap_gathers_a_chain_in_order),
	        cmocka_unit_test(pcap_leaves_out_frames_the_device_refuses),
	        cmocka_unit_test(pcap_cuts_long_frames_at_snaplen),
	        cmocka_unit_test(pcap_sink_failure_stops_capture_not_traffic),
	        cmocka_unit_test(pcap_wrap_fails_cleanly_when_the_header_cannot_be_written),
	        cmocka_unit_test(pcap_file_is_read_back_by_tcpdump),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
