/*
 * Reassembly of IPv4 fragments (RFC 791 "Reassembly", RFC 815), with the
 * memory bounded so that a flood of fragments cannot exhaust the stack:
 * at most REASS_SLOTS datagrams at once, REASS_PER_SOURCE from one source,
 * REASS_FRAGS_MAX fragments in one datagram and REASS_BYTES_MAX bytes held
 * in all. A new datagram that finds its source at the limit, or every slot
 * taken, evicts the oldest one, so stale or forged partial datagrams cannot
 * lock out fresh ones.
 *
 * Overlapping fragments discard the datagram (as RFC 5722 requires for IPv6:
 * overlaps serve only to evade filters); an exact duplicate of a fragment
 * already held, which a network may produce, is dropped on its own. A
 * datagram not complete REASS_TIMEOUT after its first fragment arrived is
 * discarded, with an ICMP time exceeded when its first fragment had come
 * (RFC 1122 3.3.2, RFC 792).
 *
 * A complete datagram is copied into one contiguous buffer with its header
 * in front, so the protocols above see what an unfragmented datagram looks
 * like. That copy is the one place IPv4 input copies; fragments are rare.
 */
#include "base/str.h"
#include "core/mem.h"
#include "net/stack.h"
#include "wire/icmp.h"
#include "wire/ipv4.h"

#define REASS_TIMEOUT (30 * MIST_SEC)

static void reass_free_slot(struct mist_stack *s, struct reass_slot *slot)
{
	for (unsigned i = 0; i < slot->nfrags; i++)
		mist_buf_free(slot->frags[i].buf);
	s->reass.bytes -= slot->bytes;
	slot->used = false;
}

static void reass_arm_timer(struct mist_stack *s)
{
	uint64_t next = MIST_FOREVER;
	for (unsigned i = 0; i < REASS_SLOTS; i++)
		if (s->reass.slots[i].used && s->reass.slots[i].expires < next)
			next = s->reass.slots[i].expires;
	if (next == MIST_FOREVER)
		mist_timer_cancel(&s->reass.timer);
	else
		mist_timer_arm(&s->reass.timer, next);
}

static void reass_timer_fired(struct mist_timer *t)
{
	struct mist_stack *s = mist_container_of(t, struct mist_stack, reass.timer);
	uint64_t now = mist_now();

	for (unsigned i = 0; i < REASS_SLOTS; i++) {
		struct reass_slot *slot = &s->reass.slots[i];
		if (!slot->used || slot->expires > now)
			continue;
		s->stats.ipv4.reass_drop_timeout++;
		if (slot->header_len != 0 && slot->nfrags > 0 && slot->frags[0].offset == 0) {
			struct net_ip_in in = {.header = slot->header,
			                       .header_len = slot->header_len};
			mist_ipv4_parse(slot->header, slot->header_len, &in.repr);
			net_icmp_error(s, &in, slot->frags[0].buf->data, slot->frags[0].len,
			               MIST_ICMP_TIME_EXCEEDED, MIST_ICMP_EXCEEDED_REASSEMBLY);
		}
		reass_free_slot(s, slot);
	}
	reass_arm_timer(s);
}

void net_reass_init(struct mist_stack *s)
{
	mist_timer_init(&s->reass.timer, reass_timer_fired);
}

void net_reass_destroy(struct mist_stack *s)
{
	mist_timer_cancel(&s->reass.timer);
	for (unsigned i = 0; i < REASS_SLOTS; i++)
		if (s->reass.slots[i].used)
			reass_free_slot(s, &s->reass.slots[i]);
}

/* True when `a` was made before `b`: earlier expiry, or the same and created first. */
static bool reass_older(const struct reass_slot *a, const struct reass_slot *b)
{
	return a->expires < b->expires ||
	       (a->expires == b->expires && (int32_t)(a->seq - b->seq) < 0);
}

static struct reass_slot *reass_oldest(struct mist_stack *s, const struct reass_slot *except)
{
	struct reass_slot *oldest = NULL;
	for (unsigned i = 0; i < REASS_SLOTS; i++) {
		struct reass_slot *slot = &s->reass.slots[i];
		if (slot->used && slot != except && (oldest == NULL || reass_older(slot, oldest)))
			oldest = slot;
	}
	return oldest;
}

/*
 * The slot of the datagram `p` belongs to, or a new one, never NULL. A source at its
 * limit gives up its own oldest datagram, and a full table its oldest one:
 * evicting rather than refusing means that fragments forged in a real
 * peer's name delay its datagrams at most until they are pushed out, not for
 * the whole timeout.
 */
static struct reass_slot *reass_slot_for(struct mist_stack *s, const uint8_t *p)
{
	struct mist_ipv4_addr src = mist_ipv4_src(p), dst = mist_ipv4_dst(p);
	uint16_t ident = mist_ipv4_ident(p);
	uint8_t protocol = mist_ipv4_protocol(p);
	struct reass_slot *free_slot = NULL, *source_oldest = NULL;
	unsigned from_source = 0;

	for (unsigned i = 0; i < REASS_SLOTS; i++) {
		struct reass_slot *slot = &s->reass.slots[i];
		if (!slot->used) {
			if (free_slot == NULL)
				free_slot = slot;
			continue;
		}
		if (!mist_ipv4_addr_eq(slot->src, src))
			continue;
		if (mist_ipv4_addr_eq(slot->dst, dst) && slot->ident == ident &&
		    slot->protocol == protocol)
			return slot;
		from_source++;
		if (source_oldest == NULL || reass_older(slot, source_oldest))
			source_oldest = slot;
	}
	if (from_source >= REASS_PER_SOURCE) {
		free_slot = source_oldest;
		s->stats.ipv4.reass_drop_limit++;
		reass_free_slot(s, free_slot);
	} else if (free_slot == NULL) {
		free_slot = reass_oldest(s, NULL);
		s->stats.ipv4.reass_drop_limit++;
		reass_free_slot(s, free_slot);
	}
	mist_memset(free_slot, 0, sizeof(*free_slot) - sizeof(free_slot->frags));
	free_slot->used = true;
	free_slot->src = src;
	free_slot->dst = dst;
	free_slot->ident = ident;
	free_slot->protocol = protocol;
	free_slot->expires = mist_now() + REASS_TIMEOUT;
	free_slot->seq = s->reass.next_seq++;
	reass_arm_timer(s);
	return free_slot;
}

static void reass_release(void *data, void *arg)
{
	mist_free(data);
}

/* Copies a complete datagram into one buffer and frees the slot. */
static struct mist_buf *reass_complete(struct mist_stack *s, struct reass_slot *slot)
{
	uint32_t len = slot->header_len + slot->total_len;
	uint8_t *data = mist_alloc(len);
	struct mist_buf *b =
	        data == NULL ? NULL : mist_buf_wrap(s->rx_pool, data, len, reass_release, NULL);
	if (b == NULL) {
		mist_free(data);
		s->stats.ipv4.reass_drop_limit++;
		reass_free_slot(s, slot);
		return NULL;
	}
	mist_memcpy(data, slot->header, slot->header_len);
	for (unsigned i = 0; i < slot->nfrags; i++)
		mist_memcpy(data + slot->header_len + slot->frags[i].offset,
		            slot->frags[i].buf->data, slot->frags[i].len);
	/* The header now describes an unfragmented datagram. */
	mist_store_be16(data + MIST_IPV4_OFF_TOTAL_LEN, (uint16_t)len);
	mist_store_be16(data + MIST_IPV4_OFF_FLAGS_FRAG,
	                mist_load_be16(data + MIST_IPV4_OFF_FLAGS_FRAG) & MIST_IPV4_FLAG_DF);
	mist_ipv4_fill_checksum(data);
	reass_free_slot(s, slot);
	reass_arm_timer(s);
	return b;
}

struct mist_buf *net_reass_input(struct mist_stack *s, struct mist_buf *packet)
{
	struct net_ipv4_stats *st = &s->stats.ipv4;
	const uint8_t *p = packet->data;
	uint32_t header_len = (uint32_t)mist_ipv4_header_len(p);
	uint32_t offset = mist_ipv4_frag_offset(p);
	uint32_t len = packet->len - header_len;
	bool more = mist_ipv4_more_frags(p);

	/* RFC 791: every fragment but the last carries a multiple of 8 bytes. */
	if (len == 0 || (more && len % MIST_IPV4_FRAG_UNIT != 0) ||
	    offset + len > MIST_IPV4_MAX_LEN - header_len) {
		st->reass_drop_invalid++;
		goto drop;
	}
	struct reass_slot *slot = reass_slot_for(s, p);
	uint32_t end = offset + len;
	if ((!more && slot->total_len != 0 && slot->total_len != end) ||
	    (slot->total_len != 0 && end > slot->total_len)) {
		st->reass_drop_invalid++;
		goto discard;
	}
	unsigned at = 0;
	for (unsigned i = 0; i < slot->nfrags; i++) {
		const struct reass_frag *f = &slot->frags[i];
		if (f->offset == offset && f->len == len) {
			/* An exact duplicate: the network repeated a fragment. */
			goto drop;
		}
		if (offset < (uint32_t)f->offset + f->len && f->offset < end) {
			st->reass_drop_overlap++;
			goto discard;
		}
		if (!more && (uint32_t)f->offset + f->len > end) {
			st->reass_drop_invalid++;
			goto discard;
		}
		if (f->offset < offset)
			at = i + 1;
	}
	if (slot->nfrags == REASS_FRAGS_MAX) {
		st->reass_drop_limit++;
		goto discard;
	}
	/* Make room within the total, evicting other datagrams oldest first. */
	while (s->reass.bytes + len > REASS_BYTES_MAX) {
		struct reass_slot *victim = reass_oldest(s, slot);
		if (victim == NULL) {
			st->reass_drop_limit++;
			goto discard;
		}
		st->reass_drop_limit++;
		reass_free_slot(s, victim);
	}

	if (offset == 0) {
		mist_memcpy(slot->header, p, header_len);
		slot->header_len = (uint8_t)header_len;
	}
	if (!more)
		slot->total_len = end;
	mist_buf_pull(packet, header_len);
	mist_memmove(&slot->frags[at + 1], &slot->frags[at],
	             (slot->nfrags - at) * sizeof(slot->frags[0]));
	slot->frags[at] = (struct reass_frag){
	        .buf = packet, .offset = (uint16_t)offset, .len = (uint16_t)len};
	slot->nfrags++;
	slot->bytes += len;
	s->reass.bytes += len;

	if (slot->total_len != 0 && slot->header_len != 0 && slot->bytes == slot->total_len)
		return reass_complete(s, slot);
	return NULL;

discard:
	reass_free_slot(s, slot);
	reass_arm_timer(s);
drop:
	mist_buf_free_chain(packet);
	return NULL;
}
