/*
 * ARP for IPv4 over Ethernet (RFC 826), with the host behaviour of RFC 1122
 * 2.3.2 and the announcement and conflict detection of RFC 5227.
 *
 * The cache is a fixed array searched linearly: at 64 entries a lookup is a
 * few dozen compares, cheaper than hashing for the handful of neighbours a
 * host talks to (its gateway, mostly). When it is full, the resolved entry
 * nearest expiry is evicted. One timer per stack drives retries and expiry;
 * it scans the array when it fires, at most a few times a second.
 *
 * An entry lives ARP_REACHABLE_TIME after the last reply. Used within the
 * last ARP_REFRESH_WINDOW of that, it is refreshed with a unicast request
 * (RFC 1122 2.3.2.1), so a busy neighbour never drops out of the cache.
 * Resolution retries with exponential backoff; packets waiting for it are
 * held in a small per-entry queue and dropped, counted, if it fails.
 */
#define MIST_LOG_TAG "arp"

#include "wire/arp.h"
#include "base/str.h"
#include "net/stack.h"

#define ARP_REACHABLE_TIME        (60 * MIST_SEC)
#define ARP_REFRESH_WINDOW        (5 * MIST_SEC)
#define ARP_RETRY_FIRST           (250 * MIST_MSEC) /* doubled at each retry */
#define ARP_TRIES_MAX             4                 /* requests before giving up: ~3.75 s */
#define ARP_CONFLICT_LOG_INTERVAL (10 * MIST_SEC)

static void arp_send(struct mist_stack *s, uint16_t op, struct mist_ether_addr dst_mac,
                     struct mist_ether_addr tha, struct mist_ipv4_addr tpa)
{
	struct mist_buf *b = mist_buf_alloc(s->tx_pool, MIST_ARP_LEN);
	if (b == NULL) {
		s->stats.arp.drop_no_buffer++;
		return;
	}
	struct mist_arp_repr r = {.op = op, .sha = s->mac, .spa = s->ip, .tha = tha, .tpa = tpa};
	mist_arp_emit(&r, b->data, b->len);
	if (op == MIST_ARP_OP_REQUEST)
		s->stats.arp.tx_request++;
	else
		s->stats.arp.tx_reply++;
	net_ether_send(s, dst_mac, MIST_ETHERTYPE_ARP, b);
}

static void arp_request(struct mist_stack *s, struct arp_entry *e, bool unicast)
{
	static const struct mist_ether_addr zero = {{0}};
	arp_send(s, MIST_ARP_OP_REQUEST, unicast ? e->mac : MIST_ETHER_BROADCAST, zero, e->ip);
}

static void arp_arm_timer(struct mist_stack *s)
{
	uint64_t next = MIST_FOREVER;
	for (unsigned i = 0; i < ARP_CACHE_SIZE; i++) {
		const struct arp_entry *e = &s->arp.entries[i];
		if (e->state != ARP_FREE && e->deadline < next)
			next = e->deadline;
	}
	if (next == MIST_FOREVER)
		mist_timer_cancel(&s->arp.timer);
	else if (!mist_timer_armed(&s->arp.timer) || s->arp.timer.deadline != next)
		mist_timer_arm(&s->arp.timer, next);
}

/* Drops the packets waiting on `e`, counting them as unresolved. */
static void arp_drop_pending(struct mist_stack *s, struct arp_entry *e)
{
	for (unsigned i = 0; i < e->npending; i++) {
		mist_buf_free_chain(e->pending[i]);
		s->stats.arp.drop_unresolved++;
	}
	e->npending = 0;
}

static void arp_free_entry(struct mist_stack *s, struct arp_entry *e)
{
	arp_drop_pending(s, e);
	e->state = ARP_FREE;
}

static void arp_timer_fired(struct mist_timer *t)
{
	struct mist_stack *s = mist_container_of(t, struct mist_stack, arp.timer);
	uint64_t now = mist_now();

	for (unsigned i = 0; i < ARP_CACHE_SIZE; i++) {
		struct arp_entry *e = &s->arp.entries[i];
		if (e->state == ARP_FREE || e->deadline > now)
			continue;
		if (e->state == ARP_REACHABLE) {
			/* Expired: the next packet to it starts a fresh resolution. */
			arp_free_entry(s, e);
		} else if (e->tries >= ARP_TRIES_MAX) {
			mist_debug("%pI4 did not answer", e->ip.b);
			s->stats.arp.failed++;
			arp_free_entry(s, e);
		} else {
			arp_request(s, e, false);
			e->deadline = now + (ARP_RETRY_FIRST << e->tries);
			e->tries++;
		}
	}
	arp_arm_timer(s);
}

void net_arp_init(struct mist_stack *s)
{
	mist_timer_init(&s->arp.timer, arp_timer_fired);
}

void net_arp_destroy(struct mist_stack *s)
{
	mist_timer_cancel(&s->arp.timer);
	for (unsigned i = 0; i < ARP_CACHE_SIZE; i++)
		if (s->arp.entries[i].state != ARP_FREE)
			arp_free_entry(s, &s->arp.entries[i]);
}

static struct arp_entry *arp_find(struct mist_stack *s, struct mist_ipv4_addr ip)
{
	for (unsigned i = 0; i < ARP_CACHE_SIZE; i++) {
		struct arp_entry *e = &s->arp.entries[i];
		if (e->state != ARP_FREE && mist_ipv4_addr_eq(e->ip, ip))
			return e;
	}
	return NULL;
}

/*
 * A free entry for `ip`; when none is free, the reachable entry nearest
 * expiry is evicted, or failing that the oldest incomplete one.
 */
static struct arp_entry *arp_alloc(struct mist_stack *s, struct mist_ipv4_addr ip)
{
	struct arp_entry *victim = NULL;
	for (unsigned i = 0; i < ARP_CACHE_SIZE; i++) {
		struct arp_entry *e = &s->arp.entries[i];
		if (e->state == ARP_FREE) {
			victim = e;
			break;
		}
		if (victim == NULL ||
		    (e->state == ARP_REACHABLE && victim->state != ARP_REACHABLE) ||
		    (e->state == victim->state && e->deadline < victim->deadline))
			victim = e;
	}
	if (victim->state != ARP_FREE) {
		s->stats.arp.evicted++;
		arp_free_entry(s, victim);
	}
	mist_memset(victim, 0, sizeof(*victim));
	victim->ip = ip;
	return victim;
}

/* Records `mac` for `e` and sends what waited for it. */
static void arp_resolved(struct mist_stack *s, struct arp_entry *e, struct mist_ether_addr mac)
{
	if (e->state == ARP_INCOMPLETE)
		s->stats.arp.resolved++;
	e->mac = mac;
	e->state = ARP_REACHABLE;
	e->tries = 0;
	e->refreshing = false;
	e->deadline = mist_now() + ARP_REACHABLE_TIME;
	unsigned n = e->npending;
	e->npending = 0;
	for (unsigned i = 0; i < n; i++)
		net_ether_send(s, mac, MIST_ETHERTYPE_IPV4, e->pending[i]);
	arp_arm_timer(s);
}

bool net_arp_lookup(struct mist_stack *s, struct mist_ipv4_addr ip, struct mist_ether_addr *mac)
{
	struct arp_entry *e = arp_find(s, ip);
	if (e == NULL || e->state != ARP_REACHABLE)
		return false;
	uint64_t now = mist_now();
	if (!e->refreshing && e->deadline - now < ARP_REFRESH_WINDOW) {
		/* RFC 1122 2.3.2.1: revalidate an entry in use by unicast polling. */
		e->refreshing = true;
		arp_request(s, e, true);
	}
	*mac = e->mac;
	return true;
}

void net_arp_resolve(struct mist_stack *s, struct mist_ipv4_addr ip, struct mist_buf *packet)
{
	struct arp_entry *e = arp_find(s, ip);
	if (e == NULL) {
		e = arp_alloc(s, ip);
		e->state = ARP_INCOMPLETE;
		e->tries = 1;
		e->deadline = mist_now() + ARP_RETRY_FIRST;
		arp_request(s, e, false);
		arp_arm_timer(s);
	}
	if (e->npending == ARP_PENDING_MAX) {
		s->stats.arp.drop_queue_full++;
		mist_buf_free_chain(packet);
		return;
	}
	e->pending[e->npending++] = packet;
}

void net_arp_announce(struct mist_stack *s)
{
	/* RFC 5227 §3: an announcement is a request with our address as sender and target. */
	static const struct mist_ether_addr zero = {{0}};
	arp_send(s, MIST_ARP_OP_REQUEST, MIST_ETHER_BROADCAST, zero, s->ip);
}

void net_arp_input(struct mist_stack *s, struct mist_buf *packet)
{
	struct net_arp_stats *st = &s->stats.arp;
	struct mist_arp_repr r;

	st->rx++;
	if (mist_arp_parse(packet->data, packet->len, &r) != 0) {
		st->drop_malformed++;
		goto out;
	}
	if (mist_ether_addr_is_group(r.sha) || net_ipv4_is_broadcast(s, r.spa) ||
	    mist_ipv4_addr_is_multicast(r.spa)) {
		st->drop_bad_sender++;
		goto out;
	}
	if (mist_ipv4_addr_eq(r.spa, s->ip)) {
		if (!mist_ether_addr_eq(r.sha, s->mac)) {
			/* RFC 5227 §2.4: someone else uses our address. */
			st->conflict++;
			uint64_t now = mist_now();
			if (s->arp.conflict_logged == 0 ||
			    now - s->arp.conflict_logged >= ARP_CONFLICT_LOG_INTERVAL) {
				s->arp.conflict_logged = now;
				mist_warn("address conflict: %pM claims %pI4, our address", r.sha.b,
				          s->ip.b);
			}
		}
		goto out;
	}

	/* RFC 826 "Packet reception": update a known sender first... */
	bool for_us = mist_ipv4_addr_eq(r.tpa, s->ip);
	bool probe = r.spa.b[0] == 0 && r.spa.b[1] == 0 && r.spa.b[2] == 0 && r.spa.b[3] == 0;
	struct arp_entry *e = probe ? NULL : arp_find(s, r.spa);
	if (e != NULL)
		arp_resolved(s, e, r.sha);
	else if (for_us && !probe)
		/* ...and add the sender when the packet is for us. */
		arp_resolved(s, arp_alloc(s, r.spa), r.sha);
	else if (!for_us)
		st->drop_not_for_us++;

	if (for_us && r.op == MIST_ARP_OP_REQUEST)
		arp_send(s, MIST_ARP_OP_REPLY, r.sha, r.sha, r.spa);
out:
	mist_buf_free_chain(packet);
}
