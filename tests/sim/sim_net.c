/*
 * Sim scenarios of the network stack below TCP: two stacks, A = 10.0.0.1/24
 * and B = 10.0.0.2/24, joined by one simulated link, each with its own
 * receive pool, driven by fibers in virtual time. The scenarios: ARP
 * resolution on first use (and the peer learning from the request), 1,000
 * UDP request/response exchanges over a lossy, duplicating, reordering and
 * corrupting link with every payload checked by SHA-256, fragmentation and
 * reassembly of datagrams up to the UDP maximum (in order, then reordered
 * and duplicated), the reassembly limits under a flood of never-completing
 * fragments, ICMP port unreachable reaching the sender as
 * MIST_ECONNREFUSED, and ARP failure dropping the packets held for it.
 * Every scenario ends with the pools empty, the scheduler destroyed and the
 * heap back where it started. One line per scenario, "ok NAME" or
 * "FAIL NAME: why"; the exit status is 1 when any failed.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log_internal.h"
#include "core/mem.h"
#include "core/platform.h"
#include "core/rng_seed.h"
#include "core/sched.h"
#include "mist/buf.h"
#include "mist/fiber.h"
#include "mist/mist.h"
#include "mist/net.h"
#include "mist/sha256.h"
#include "mist/udp.h"
#include "net/stack.h"
#include "wire/ether.h"
#include "wire/ipv4.h"
/* Tests build with -Iinclude -Isrc only; the sim platform's headers are found relative to here. */
#include "../../platform/sim/link.h"
#include "../../platform/sim/sim.h"
#include "../check.h"
#include "world.h"

#define RX_COUNT     2048u /* receive buffers per stack: more than reassembly may hold */
#define ECHO_PORT    7
#define MAX_DATAGRAM 65507u

/* --- failures --------------------------------------------------------------- */

static bool verbose; /* SIM_NET_VERBOSE set: print what each scenario saw */

/* --- the world: scheduler, link, two stacks ----------------------------------- */

static const struct net_stats *st_a(void)
{
	return mist_stack_stats(W.a);
}

static const struct net_stats *st_b(void)
{
	return mist_stack_stats(W.b);
}

static struct sim_link_params clean_params(uint64_t seed)
{
	return (struct sim_link_params){.delay_ns = 1 * MIST_MSEC, .mtu = MTU, .seed = seed};
}

/* Runs `body` in the world of world.h over a link with `params`. */
static void run_net_world(uint64_t seed, const struct sim_link_params *params, void (*body)(void))
{
	struct world_config cfg = {.link = *params, .rx_count = RX_COUNT, .cc = TCP_CC_CUBIC};
	run_world(seed, &cfg, body);
}

/* --- helpers for fibers --------------------------------------------------------- */

static struct mist_udp *open_udp(struct mist_stack *s, uint16_t port)
{
	struct mist_udp *u = NULL;
	int err = mist_udp_open(s, port, &u);
	CHECK(err == 0, "mist_udp_open(%u): %d", port, err);
	return u;
}

static struct mist_addr addr_b(uint16_t port)
{
	return (struct mist_addr){.ip = IP_B, .port = port};
}

static uint8_t rx_copy[MAX_DATAGRAM + 1];

/* Copies a received payload into rx_copy and frees it; returns its length. */
static size_t take_payload(struct mist_buf *p)
{
	size_t len = mist_buf_chain_len(p);
	if (len > MAX_DATAGRAM) {
		CHECK(false, "received a payload of %zu bytes", len);
		len = 0;
	} else {
		mist_buf_copyout(p, 0, rx_copy, len);
	}
	mist_buf_free_chain(p);
	return len;
}

static void fill_random(uint8_t *p, size_t len, uint64_t *state)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)sim_rand_next(state);
}

/* An echo server on B: sends every datagram back, until told to stop. */
struct echo {
	struct mist_udp *udp;
	bool stop;
	uint64_t echoed;
	void (*inspect)(const struct mist_buf *payload); /* optional */
	struct mist_fiber *fiber;
};

static void echo_fn(void *arg)
{
	struct echo *e = arg;
	while (!e->stop) {
		struct mist_buf *p;
		struct mist_addr from;
		int err = mist_udp_recv(e->udp, &p, &from, mist_now() + 10 * MIST_MSEC);
		if (err == MIST_ETIMEDOUT)
			continue;
		if (err != 0) {
			CHECK(false, "echo: mist_udp_recv: %d", err);
			break;
		}
		if (e->inspect != NULL)
			e->inspect(p);
		mist_udp_send(e->udp, &from, p); /* may fail for want of buffers: a loss */
		e->echoed++;
	}
}

static void echo_start(struct echo *e, void (*inspect)(const struct mist_buf *))
{
	memset(e, 0, sizeof(*e));
	e->udp = open_udp(W.b, ECHO_PORT);
	e->inspect = inspect;
	e->fiber = mist_fiber_spawn("echo", echo_fn, e, FIBER_STACK);
	CHECK(e->fiber != NULL, "spawn echo");
}

static void echo_stop(struct echo *e)
{
	e->stop = true;
	if (e->fiber != NULL)
		mist_fiber_join(e->fiber);
	if (e->udp != NULL)
		mist_udp_close(e->udp);
}

/* --- 1. arp_resolves ------------------------------------------------------------ */

static void arp_resolves_body(void)
{
	uint64_t b_requests = st_b()->arp.tx_request; /* its gratuitous announcement */
	struct mist_udp *ua = open_udp(W.a, 0), *ub = open_udp(W.b, ECHO_PORT);
	if (ua == NULL || ub == NULL)
		return;
	static const char hello[] = "hello, B";
	struct mist_addr to = addr_b(ECHO_PORT);
	CHECK(mist_udp_send_copy(ua, &to, hello, sizeof(hello)) == 0, "send to B");

	struct mist_buf *p;
	struct mist_addr from;
	int err = mist_udp_recv(ub, &p, &from, mist_now() + MIST_SEC);
	CHECK(err == 0, "B received nothing: %d", err);
	if (err == 0) {
		size_t len = take_payload(p);
		CHECK(len == sizeof(hello) && memcmp(rx_copy, hello, len) == 0,
		      "B received the wrong bytes");
		CHECK(memcmp(from.ip.b, IP_A.b, 4) == 0 && from.port == mist_udp_local(ua).port,
		      "B saw the wrong sender");
		static const char reply[] = "hello, A";
		CHECK(mist_udp_send_copy(ub, &from, reply, sizeof(reply)) == 0, "reply to A");
		err = mist_udp_recv(ua, &p, &from, mist_now() + MIST_SEC);
		CHECK(err == 0, "A received no reply: %d", err);
		if (err == 0) {
			len = take_payload(p);
			CHECK(len == sizeof(reply) && memcmp(rx_copy, reply, len) == 0,
			      "A received the wrong bytes");
		}
	}
	CHECK(st_a()->arp.resolved == 1, "A: arp.resolved=%llu, expected 1",
	      (unsigned long long)st_a()->arp.resolved);
	CHECK(st_b()->arp.tx_request == b_requests,
	      "B sent ARP requests (%llu, %llu before): it did not learn A from A's request",
	      (unsigned long long)st_b()->arp.tx_request, (unsigned long long)b_requests);
	CHECK(st_b()->arp.tx_reply >= 1, "B sent no ARP reply");
	CHECK(st_a()->udp.delivered == 1 && st_b()->udp.delivered == 1,
	      "udp.delivered A=%llu B=%llu, expected 1 each",
	      (unsigned long long)st_a()->udp.delivered, (unsigned long long)st_b()->udp.delivered);
	mist_udp_close(ua);
	mist_udp_close(ub);
}

static void scenario_arp_resolves(void)
{
	struct sim_link_params p = clean_params(1);
	run_net_world(1, &p, arp_resolves_body);
}

/* --- 2. udp_exchange_lossy -------------------------------------------------------- */

#define EXCHANGES    1000u
#define EXCHANGE_MAX 1400u
#define RETRY_AFTER  (30 * MIST_MSEC)
#define TRIES_MAX    100u

static uint8_t *ex_payload[EXCHANGES];
static uint32_t ex_len[EXCHANGES];
static uint8_t ex_digest[EXCHANGES][MIST_SHA256_DIGEST_LEN];
static uint32_t ex_sent; /* payloads 0..ex_sent-1 have been sent */
static uint64_t ex_bad_requests;

static void sha256_of(const void *p, size_t len, uint8_t out[MIST_SHA256_DIGEST_LEN])
{
	struct mist_sha256 h;
	mist_sha256_init(&h);
	mist_sha256_update(&h, p, len);
	mist_sha256_final(&h, out);
}

/* The exchange whose payload is bytes[0..len), or -1 when none was ever sent. */
static int ex_find(const uint8_t *bytes, size_t len)
{
	uint8_t d[MIST_SHA256_DIGEST_LEN];
	sha256_of(bytes, len, d);
	for (uint32_t i = ex_sent; i-- > 0;)
		if (ex_len[i] == len && memcmp(ex_digest[i], d, sizeof(d)) == 0)
			return (int)i;
	return -1;
}

/* The server checks every request it accepts against what the client sent. */
static void ex_inspect(const struct mist_buf *p)
{
	static uint8_t copy[EXCHANGE_MAX + 1];
	size_t len = mist_buf_chain_len(p);
	if (len == 0 || len > EXCHANGE_MAX || mist_buf_copyout(p, 0, copy, len) != 0 ||
	    ex_find(copy, len) < 0)
		ex_bad_requests++;
}

static void udp_exchange_body(void)
{
	uint64_t rng = 0x5eed0002;
	for (uint32_t i = 0; i < EXCHANGES; i++) {
		ex_len[i] = 1 + (uint32_t)(sim_rand_next(&rng) % EXCHANGE_MAX);
		ex_payload[i] = malloc(ex_len[i]);
		fill_random(ex_payload[i], ex_len[i], &rng);
		sha256_of(ex_payload[i], ex_len[i], ex_digest[i]);
	}
	ex_sent = 0;
	ex_bad_requests = 0;

	struct echo e;
	echo_start(&e, ex_inspect);
	struct mist_udp *ua = open_udp(W.a, 0);
	struct mist_addr to = addr_b(ECHO_PORT);
	uint64_t resends = 0, stale = 0, wrong = 0;
	uint32_t completed = 0;
	for (uint32_t i = 0; ua != NULL && i < EXCHANGES && !failed; i++) {
		bool done = false;
		ex_sent = i + 1;
		for (uint32_t tries = 0; !done && tries < TRIES_MAX; tries++) {
			if (tries > 0)
				resends++;
			int err = mist_udp_send_copy(ua, &to, ex_payload[i], ex_len[i]);
			CHECK(err == 0, "send %u: %d", i, err);
			uint64_t deadline = mist_now() + RETRY_AFTER;
			while (!done) {
				struct mist_buf *p;
				struct mist_addr from;
				if (mist_udp_recv(ua, &p, &from, deadline) != 0)
					break;
				size_t len = take_payload(p);
				if (len == ex_len[i] && memcmp(rx_copy, ex_payload[i], len) == 0)
					done = true;
				else if (ex_find(rx_copy, len) >= 0)
					stale++;
				else
					wrong++;
			}
		}
		CHECK(done, "exchange %u did not complete in %u tries", i, TRIES_MAX);
		completed += done;
	}
	echo_stop(&e);
	if (ua != NULL)
		mist_udp_close(ua);

	CHECK(completed == EXCHANGES, "%u of %u exchanges completed", completed, EXCHANGES);
	CHECK(wrong == 0, "A accepted %llu payloads that were never sent",
	      (unsigned long long)wrong);
	CHECK(ex_bad_requests == 0, "B accepted %llu requests that were never sent",
	      (unsigned long long)ex_bad_requests);
	struct sim_link_stats ls0, ls1;
	sim_link_stats(W.link, 0, &ls0);
	sim_link_stats(W.link, 1, &ls1);
	CHECK(ls0.lost > 0 && ls0.duplicated > 0 && ls0.reordered > 0 && ls0.corrupted > 0,
	      "the link did not impair A->B (lost %llu dup %llu reordered %llu corrupted %llu)",
	      (unsigned long long)ls0.lost, (unsigned long long)ls0.duplicated,
	      (unsigned long long)ls0.reordered, (unsigned long long)ls0.corrupted);
	CHECK(resends > 0, "no request was ever resent");
	const struct net_stats *b = st_b(), *a = st_a();
	uint64_t drops_b = b->udp.drop_bad_checksum + b->ipv4.drop_bad_checksum +
	                   b->ether.drop_not_for_us + b->ether.drop_unknown_type +
	                   b->ether.drop_vlan + b->ipv4.drop_bad_header + b->ipv4.drop_bad_version +
	                   b->ipv4.drop_truncated + b->ipv4.drop_not_for_us +
	                   b->ipv4.drop_bad_source + b->udp.drop_malformed + b->udp.drop_no_port +
	                   b->arp.drop_malformed + b->arp.drop_not_for_us + b->arp.drop_bad_sender;
	CHECK(drops_b > 0, "B dropped no corrupted frame");
	CHECK(b->udp.drop_bad_checksum + b->ipv4.drop_bad_checksum + a->udp.drop_bad_checksum +
	                      a->ipv4.drop_bad_checksum >
	              0,
	      "no checksum ever caught a corrupted frame");
	if (verbose)
		printf("  exchanges %u resends %llu stale %llu wrong %llu; link A->B lost %llu "
		       "dup %llu reordered %llu corrupted %llu; B drops %llu (udp csum %llu, ipv4 "
		       "csum %llu); virtual time %llu ms\n",
		       completed, (unsigned long long)resends, (unsigned long long)stale,
		       (unsigned long long)wrong, (unsigned long long)ls0.lost,
		       (unsigned long long)ls0.duplicated, (unsigned long long)ls0.reordered,
		       (unsigned long long)ls0.corrupted, (unsigned long long)drops_b,
		       (unsigned long long)b->udp.drop_bad_checksum,
		       (unsigned long long)b->ipv4.drop_bad_checksum,
		       (unsigned long long)(mist_now() / MIST_MSEC));
	for (uint32_t i = 0; i < EXCHANGES; i++) {
		free(ex_payload[i]);
		ex_payload[i] = NULL;
	}
}

static void scenario_udp_exchange_lossy(void)
{
	struct sim_link_params p = clean_params(2);
	p.loss_ppm = 50000;
	p.dup_ppm = 20000;
	p.reorder_ppm = 50000;
	p.corrupt_ppm = 10000;
	run_net_world(2, &p, udp_exchange_body);
}

/* --- 3. fragments_reassemble --------------------------------------------------- */

static const uint32_t frag_sizes[] = {1473, 8000, 30000, MAX_DATAGRAM};
#define NSIZES (sizeof(frag_sizes) / sizeof(frag_sizes[0]))

/* Fragments IPv4 makes of a UDP payload of `len` bytes at the MTU. */
static uint32_t frags_of(uint32_t len)
{
	uint32_t per = (MTU - MIST_IPV4_HDR_MIN) & ~7u;
	return (len + 8 + per - 1) / per;
}

static bool frag_exact; /* the link is clean: counters are exact */

static void fragments_body(void)
{
	struct echo e;
	echo_start(&e, NULL);
	struct mist_udp *ua = open_udp(W.a, 0);
	struct mist_addr to = addr_b(ECHO_PORT);
	uint8_t *data = malloc(MAX_DATAGRAM + 1);
	uint64_t rng = 0x5eed0003;
	uint32_t expected_frags = 0, ok = 0;

	for (size_t k = 0; ua != NULL && k < NSIZES && !failed; k++) {
		uint32_t len = frag_sizes[k];
		fill_random(data, len, &rng);
		expected_frags += frags_of(len);
		int err = mist_udp_send_copy(ua, &to, data, len);
		CHECK(err == 0, "send %u bytes: %d", len, err);
		uint64_t deadline = mist_now() + 2 * MIST_SEC;
		for (;;) {
			struct mist_buf *p;
			struct mist_addr from;
			err = mist_udp_recv(ua, &p, &from, deadline);
			CHECK(err == 0, "no echo of the %u-byte datagram: %d", len, err);
			if (err != 0)
				break;
			size_t got = take_payload(p);
			if (got != len) /* a duplicated echo of an earlier datagram */
				continue;
			CHECK(memcmp(rx_copy, data, len) == 0, "the %u-byte echo differs", len);
			ok++;
			break;
		}
	}
	if (ua != NULL) {
		int err = mist_udp_send_copy(ua, &to, data, MAX_DATAGRAM + 1);
		CHECK(err == MIST_EMSGSIZE, "sending %u bytes returned %d", MAX_DATAGRAM + 1, err);
	}
	echo_stop(&e);
	if (ua != NULL)
		mist_udp_close(ua);
	free(data);

	if (verbose)
		printf("  frag_tx A %llu B %llu, reassembled A %llu B %llu, expected frags %u\n",
		       (unsigned long long)st_a()->ipv4.frag_tx,
		       (unsigned long long)st_b()->ipv4.frag_tx,
		       (unsigned long long)st_a()->ipv4.reassembled,
		       (unsigned long long)st_b()->ipv4.reassembled, expected_frags);
	CHECK(ok == NSIZES, "%u of %zu datagrams came back", ok, NSIZES);
	const struct net_stats *a = st_a(), *b = st_b();
	if (frag_exact) {
		CHECK(a->ipv4.frag_tx == expected_frags && b->ipv4.frag_tx == expected_frags,
		      "frag_tx A=%llu B=%llu, expected %u", (unsigned long long)a->ipv4.frag_tx,
		      (unsigned long long)b->ipv4.frag_tx, expected_frags);
		CHECK(a->ipv4.reassembled == NSIZES && b->ipv4.reassembled == NSIZES,
		      "reassembled A=%llu B=%llu, expected %zu",
		      (unsigned long long)a->ipv4.reassembled,
		      (unsigned long long)b->ipv4.reassembled, NSIZES);
	} else {
		CHECK(a->ipv4.frag_tx >= expected_frags && b->ipv4.reassembled >= NSIZES &&
		              a->ipv4.reassembled >= NSIZES,
		      "frag_tx A=%llu reassembled A=%llu B=%llu",
		      (unsigned long long)a->ipv4.frag_tx, (unsigned long long)a->ipv4.reassembled,
		      (unsigned long long)b->ipv4.reassembled);
		struct sim_link_stats ls;
		sim_link_stats(W.link, 0, &ls);
		CHECK(ls.reordered > 0 && ls.duplicated > 0,
		      "the link neither reordered nor duplicated (%llu, %llu)",
		      (unsigned long long)ls.reordered, (unsigned long long)ls.duplicated);
		/* Late duplicates may have opened slots; let them expire before the final check. */
		mist_sleep(31 * MIST_SEC);
	}
	CHECK(a->ipv4.reass_drop_overlap == 0 && b->ipv4.reass_drop_overlap == 0 &&
	              a->ipv4.reass_drop_invalid == 0 && b->ipv4.reass_drop_invalid == 0,
	      "fragments of honest datagrams were taken for overlapping or invalid");
}

static void scenario_fragments_reassemble(void)
{
	struct sim_link_params p = clean_params(3);
	frag_exact = true;
	run_net_world(3, &p, fragments_body);
	if (failed)
		return;
	p.reorder_ppm = 200000;
	p.dup_ppm = 100000;
	frag_exact = false;
	run_net_world(4, &p, fragments_body);
}

/* --- 4. reassembly_limits_hold ---------------------------------------------------- */

#define ATTACK_FRAGS 10000u

/* Hands B a fragment (MF set, never the first) built by hand in a buffer of B's pool. */
static bool inject_fragment(struct mist_ipv4_addr src, uint16_t ident, uint16_t offset,
                            uint16_t len)
{
	uint32_t frame_len = MIST_ETHER_HDR_LEN + MIST_IPV4_HDR_MIN + len;
	struct mist_buf *f = mist_buf_alloc(W.rxb, frame_len);
	CHECK(f != NULL, "B's rx pool ran out while injecting (%u in use)", pool_in_use(W.rxb));
	if (f == NULL)
		return false;
	struct mist_ether_repr er = {.ethertype = MIST_ETHERTYPE_IPV4};
	memcpy(er.dst.b, mac_b, 6);
	memcpy(er.src.b, (uint8_t[6]){0x02, 0, 0, 0, 0, 0x66}, 6);
	mist_ether_emit(&er, f->data, f->len);
	struct mist_ipv4_repr ir = {.src = src,
	                            .dst = IP_B,
	                            .protocol = MIST_IP_PROTO_UDP,
	                            .ttl = 64,
	                            .ident = ident,
	                            .more_frags = true,
	                            .frag_offset = offset,
	                            .payload_len = len};
	int err = mist_ipv4_emit(&ir, f->data + MIST_ETHER_HDR_LEN, MIST_IPV4_HDR_MIN);
	CHECK(err == 0, "mist_ipv4_emit: %d", err);
	memset(f->data + MIST_ETHER_HDR_LEN + MIST_IPV4_HDR_MIN, 0xa5, len);
	mist_stack_input(W.b, f);
	return true;
}

static void reass_limits_body(void)
{
	struct mist_udp *ub = open_udp(W.b, ECHO_PORT);
	struct mist_udp *ua = open_udp(W.a, 0);
	if (ua == NULL || ub == NULL)
		return;
	/* Resolve A <-> B first so that the legitimate datagram later needs nothing else. */
	CHECK(mist_udp_send_copy(ua, &(struct mist_addr){.ip = IP_B, .port = ECHO_PORT}, "x", 1) ==
	              0,
	      "send");
	struct mist_buf *p;
	struct mist_addr from;
	CHECK(mist_udp_recv(ub, &p, &from, mist_now() + MIST_SEC) == 0, "first datagram lost");
	if (failed)
		return;
	mist_buf_free_chain(p);

	uint32_t base_in_use = pool_in_use(W.rxb), max_in_use = base_in_use;
	uint32_t max_bytes = 0;
	struct mist_mem_stats ms;
	mist_mem_stats(&ms);
	uint64_t mem_base = ms.bytes_in_use, mem_max = ms.bytes_in_use;
	uint64_t rng = 0x5eed0004;

	for (uint32_t i = 0; i < ATTACK_FRAGS && !failed; i++) {
		struct mist_ipv4_addr src;
		uint16_t ident;
		/*
		 * Time moves between phases so that each phase's slots are younger
		 * than the last's: eviction picks the oldest, ties by slot order.
		 */
		if (i == 4000 || i == 4960 || i == 5060)
			mist_sleep(MIST_MSEC);
		/* Offsets 512 apart and at most 512 bytes: fragments never overlap. */
		uint16_t offset = (uint16_t)(512 * (1 + sim_rand_next(&rng) % 120));
		uint16_t len = (uint16_t)(8 * (1 + sim_rand_next(&rng) % 64));
		if (i < 4000) {
			/* A few sources, many idents: the per-source limit. */
			src = MIST_IPV4(10, 0, 0, (uint8_t)(50 + i % 3));
			ident = (uint16_t)sim_rand_next(&rng);
		} else if (i < 4960) {
			/* 16 sources, 60 full fragments each: the byte limit. */
			uint32_t j = i - 4000;
			src = MIST_IPV4(10, 0, 0, (uint8_t)(60 + j % 16));
			ident = 1000;
			offset = (uint16_t)(512 * (1 + j / 16));
			len = 512;
		} else if (i < 5060) {
			/* One datagram of 100 small fragments: the fragment count limit. */
			src = MIST_IPV4(10, 0, 0, 80);
			ident = 7;
			offset = (uint16_t)(8 * (1 + i - 4960));
			len = 8;
		} else {
			/* Many sources, two fragments each: the slot limit. */
			uint32_t n = (i - 5060) / 2;
			src = MIST_IPV4(172, 16, (uint8_t)(n / 250), (uint8_t)(1 + n % 250));
			ident = (uint16_t)sim_rand_next(&rng);
		}
		if (!inject_fragment(src, ident, offset, len))
			break;
		uint32_t in_use = pool_in_use(W.rxb);
		if (in_use > max_in_use)
			max_in_use = in_use;
		if (W.b->reass.bytes > max_bytes)
			max_bytes = W.b->reass.bytes;
		mist_mem_stats(&ms);
		if (ms.bytes_in_use > mem_max)
			mem_max = ms.bytes_in_use;
		if (i % 500 == 499)
			mist_fiber_yield();
	}
	const struct net_stats *b = st_b();
	CHECK(b->ipv4.frag_rx >= ATTACK_FRAGS, "B counted %llu fragments, %u injected",
	      (unsigned long long)b->ipv4.frag_rx, ATTACK_FRAGS);
	CHECK(max_in_use - base_in_use <= REASS_SLOTS * REASS_FRAGS_MAX,
	      "reassembly held %u buffers, more than %u", max_in_use - base_in_use,
	      REASS_SLOTS * REASS_FRAGS_MAX);
	CHECK(max_bytes <= REASS_BYTES_MAX, "reassembly held %u bytes", max_bytes);
	CHECK(mem_max - mem_base < 1024 * 1024, "the heap grew by %llu bytes",
	      (unsigned long long)(mem_max - mem_base));
	CHECK(b->ipv4.reass_drop_limit > 0, "no reass_drop_limit");
	if (verbose)
		printf("  frag_rx %llu drop_limit %llu overlap %llu invalid %llu; max held %u "
		       "buffers, %u bytes; heap growth %llu\n",
		       (unsigned long long)b->ipv4.frag_rx,
		       (unsigned long long)b->ipv4.reass_drop_limit,
		       (unsigned long long)b->ipv4.reass_drop_overlap,
		       (unsigned long long)b->ipv4.reass_drop_invalid, max_in_use - base_in_use,
		       max_bytes, (unsigned long long)(mem_max - mem_base));
	CHECK(b->ipv4.reassembled == 0, "B reassembled %llu attack datagrams",
	      (unsigned long long)b->ipv4.reassembled);

	/* A legitimate datagram still gets through. */
	static uint8_t legit[8000];
	uint64_t r2 = 0x1e617;
	fill_random(legit, sizeof(legit), &r2);
	CHECK(mist_udp_send_copy(ua, &(struct mist_addr){.ip = IP_B, .port = ECHO_PORT}, legit,
	                         sizeof(legit)) == 0,
	      "send 8000");
	int err = mist_udp_recv(ub, &p, &from, mist_now() + MIST_SEC);
	CHECK(err == 0,
	      "the legitimate 8000-byte datagram did not arrive: %d "
	      "(reassembled=%llu drop_limit=%llu)",
	      err, (unsigned long long)b->ipv4.reassembled,
	      (unsigned long long)b->ipv4.reass_drop_limit);
	if (err == 0) {
		size_t len = take_payload(p);
		CHECK(len == sizeof(legit) && memcmp(rx_copy, legit, len) == 0,
		      "the 8000-byte datagram arrived changed");
	}
	CHECK(b->ipv4.reassembled == 1, "reassembled=%llu, expected 1",
	      (unsigned long long)b->ipv4.reassembled);

	/* After the reassembly timeout nothing is held. */
	mist_sleep(31 * MIST_SEC);
	CHECK(pool_in_use(W.rxb) == base_in_use,
	      "B's rx pool: %u in use after the timeout, %u before", pool_in_use(W.rxb),
	      base_in_use);
	unsigned used = 0;
	for (unsigned i = 0; i < REASS_SLOTS; i++)
		used += W.b->reass.slots[i].used;
	CHECK(used == 0 && W.b->reass.bytes == 0, "%u slots, %u bytes still held", used,
	      W.b->reass.bytes);
	CHECK(b->ipv4.reass_drop_timeout > 0, "no reass_drop_timeout");
	mist_udp_close(ua);
	mist_udp_close(ub);
}

static void scenario_reassembly_limits_hold(void)
{
	struct sim_link_params p = clean_params(5);
	run_net_world(5, &p, reass_limits_body);
}

/* --- 5. icmp_port_unreachable ----------------------------------------------------- */

static void port_unreachable_body(void)
{
	struct mist_udp *ua = open_udp(W.a, 0);
	if (ua == NULL)
		return;
	CHECK(mist_udp_take_error(ua) == 0, "an error before anything was sent");
	CHECK(mist_udp_send_copy(ua, &(struct mist_addr){.ip = IP_B, .port = 9}, "knock", 5) == 0,
	      "send");
	mist_sleep(50 * MIST_MSEC);
	CHECK(st_b()->udp.drop_no_port == 1, "B: udp.drop_no_port=%llu",
	      (unsigned long long)st_b()->udp.drop_no_port);
	CHECK(st_b()->icmp.tx_error == 1, "B: icmp.tx_error=%llu",
	      (unsigned long long)st_b()->icmp.tx_error);
	CHECK(st_a()->icmp.rx_error == 1, "A: icmp.rx_error=%llu",
	      (unsigned long long)st_a()->icmp.rx_error);
	int err = mist_udp_take_error(ua);
	CHECK(err == MIST_ECONNREFUSED, "take_error returned %d, expected %d", err,
	      MIST_ECONNREFUSED);
	CHECK(mist_udp_take_error(ua) == 0, "take_error did not clear the error");
	mist_udp_close(ua);
}

static void scenario_icmp_port_unreachable(void)
{
	struct sim_link_params p = clean_params(6);
	run_net_world(6, &p, port_unreachable_body);
}

/* --- 6. arp_failure_drops_pending ------------------------------------------------- */

#define ARP_SENT 12u

static void arp_failure_body(void)
{
	struct mist_udp *ua = open_udp(W.a, 0);
	if (ua == NULL)
		return;
	struct mist_addr nobody = {.ip = MIST_IPV4(10, 0, 0, 99), .port = 9};
	for (uint32_t i = 0; i < ARP_SENT; i++)
		mist_udp_send_copy(ua, &nobody, "anyone?", 7);
	const struct net_arp_stats *a = &st_a()->arp;
	uint32_t queued = ARP_SENT < ARP_PENDING_MAX ? ARP_SENT : ARP_PENDING_MAX;
	CHECK(a->drop_queue_full == ARP_SENT - queued, "arp.drop_queue_full=%llu, expected %u",
	      (unsigned long long)a->drop_queue_full, ARP_SENT - queued);
	mist_sleep(4 * MIST_SEC);
	CHECK(a->failed == 1, "arp.failed=%llu", (unsigned long long)a->failed);
	CHECK(a->drop_unresolved == queued, "arp.drop_unresolved=%llu, expected %u",
	      (unsigned long long)a->drop_unresolved, queued);
	CHECK(a->resolved == 0, "arp.resolved=%llu", (unsigned long long)a->resolved);
	mist_udp_close(ua);
}

static void scenario_arp_failure_drops_pending(void)
{
	struct sim_link_params p = clean_params(7);
	run_net_world(7, &p, arp_failure_body);
}

/* --- main ---------------------------------------------------------------------- */

static const struct {
	const char *name;
	void (*fn)(void);
} scenarios[] = {
        {"arp_resolves", scenario_arp_resolves},
        {"udp_exchange_lossy", scenario_udp_exchange_lossy},
        {"fragments_reassemble", scenario_fragments_reassemble},
        {"reassembly_limits_hold", scenario_reassembly_limits_hold},
        {"icmp_port_unreachable", scenario_icmp_port_unreachable},
        {"arp_failure_drops_pending", scenario_arp_failure_drops_pending},
};

int main(void)
{
	static const char quiet[] = "warn";
	mist_log_start();
	mist_log_configure(quiet, sizeof(quiet) - 1);
	int status = 0;
	verbose = getenv("SIM_NET_VERBOSE") != NULL;
	if (getenv("SIM_NET_SEED") != NULL)
		seed_offset = strtoull(getenv("SIM_NET_SEED"), NULL, 0);
	for (size_t i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++) {
		failed = false;
		failure[0] = '\0';
		scenarios[i].fn();
		if (failed) {
			printf("FAIL %s: %s\n", scenarios[i].name, failure);
			status = 1;
		} else {
			printf("ok %s\n", scenarios[i].name);
		}
		fflush(stdout);
	}
	return status;
}
