/*
 * The TCP out-of-order queue (net/tcp_reasm.h): a list of held segments,
 * sorted by sequence number and disjoint, each a chain of views into the
 * buffers that arrived. A segment that overlaps held data is cut, by
 * narrowing and slicing views, into the pieces that fill gaps; each piece
 * becomes a node of its own, so nothing is ever copied or joined.
 *
 * Every node carries the arrival stamp of the segment it came from (or of
 * the latest duplicate of it), which orders the SACK blocks as RFC 2018 §4
 * asks. The list holds at most TCP_REASM_MAX_SEGS nodes; a walk of it is
 * O(held segments), which an attacker can raise to that bound only.
 */
#include "net/tcp_reasm.h"
#include "core/mem.h"
#include "mist/mist.h"
#include "net/tcp_seq.h"

struct tcp_reasm_seg {
	struct tcp_reasm_seg *next;
	uint32_t seq;         /* sequence number of the first byte */
	uint32_t len;         /* bytes in buf */
	uint32_t stamp;       /* q->arrivals when its data last arrived */
	struct mist_buf *buf; /* a chain of exactly len bytes */
};

/*
 * Stamps count modulo 2^32 like sequence numbers, and compare the same way:
 * the held ones are far less than 2^31 arrivals apart.
 */
static bool reasm_newer(uint32_t stamp_a, uint32_t stamp_b)
{
	return seq_gt(stamp_a, stamp_b);
}

static uint32_t reasm_seg_end(const struct tcp_reasm_seg *s)
{
	return s->seq + s->len;
}

void tcp_reasm_init(struct tcp_reasm *q)
{
	q->head = NULL;
	q->bytes = 0;
	q->recent_seq = 0;
	q->arrivals = 0;
	q->nsegs = 0;
}

/* Frees the first `n` bytes of *chain (at most its length): no allocation, so it cannot fail. */
static void reasm_chain_drop(struct mist_buf **chain, uint32_t n)
{
	while (n > 0) {
		struct mist_buf *b = *chain;
		if (n < b->len) {
			mist_buf_pull(b, n);
			return;
		}
		n -= b->len;
		*chain = b->next;
		mist_buf_free(b);
	}
}

/*
 * Detaches the first `n` bytes (1 <= n <= its length) of *chain and returns
 * them as a chain of their own; *chain keeps the rest, NULL when none is
 * left. A cut that falls inside a view takes one new view of the same
 * storage; when the pool has none left, returns NULL and changes nothing.
 */
static struct mist_buf *reasm_chain_split(struct mist_buf **chain, uint32_t n)
{
	struct mist_buf *head = *chain, *b = head;
	uint32_t before = 0; /* bytes in the views ahead of b */

	while (before + b->len < n) {
		before += b->len;
		b = b->next;
	}
	uint32_t keep = n - before;
	if (keep < b->len) {
		struct mist_buf *rest = mist_buf_slice(b, keep, b->len - keep);
		if (rest == NULL)
			return NULL;
		rest->next = b->next;
		mist_buf_trim(b, keep);
		*chain = rest;
	} else {
		*chain = b->next;
	}
	b->next = NULL;
	return head;
}

/*
 * Finds the next stretch of [*pos, end) that no held segment covers, looking
 * from *cursor on (segments below it are below *pos). Returns false when the
 * rest of [*pos, end) is all held. Otherwise moves *pos to the start of the
 * gap, sets *gap_len, leaves *cursor at the first segment above the gap and
 * returns true; the caller moves *pos past the gap before the next call.
 */
static bool reasm_next_gap(struct tcp_reasm_seg **cursor, uint32_t *pos, uint32_t end,
                           uint32_t *gap_len)
{
	struct tcp_reasm_seg *s = *cursor;

	while (s != NULL && seq_le(s->seq, *pos)) {
		*pos = seq_max(*pos, reasm_seg_end(s));
		s = s->next;
	}
	*cursor = s;
	if (!seq_lt(*pos, end))
		return false;
	uint32_t gap_end = s == NULL ? end : seq_min(s->seq, end);
	*gap_len = gap_end - *pos;
	return true;
}

/* Links the sorted list `fresh`, disjoint from what is held, into the queue in order. */
static void reasm_link(struct tcp_reasm *q, struct tcp_reasm_seg *fresh)
{
	struct tcp_reasm_seg **link = &q->head;

	while (fresh != NULL) {
		while (*link != NULL && seq_lt((*link)->seq, fresh->seq))
			link = &(*link)->next;
		struct tcp_reasm_seg *next = fresh->next;
		fresh->next = *link;
		*link = fresh;
		link = &fresh->next;
		fresh = next;
	}
}

static void reasm_free_list(struct tcp_reasm_seg *s)
{
	while (s != NULL) {
		struct tcp_reasm_seg *next = s->next;
		mist_buf_free_chain(s->buf);
		mist_free(s);
		s = next;
	}
}

/*
 * A segment whose every byte is held already: it still is the segment that
 * triggers the next ACK, so the block holding it is restamped to be reported
 * first (RFC 2018 §4).
 */
static void reasm_restamp(struct tcp_reasm *q, uint32_t seq)
{
	for (struct tcp_reasm_seg *s = q->head; s != NULL; s = s->next) {
		if (seq_ge(seq, s->seq) && seq_lt(seq, reasm_seg_end(s))) {
			s->stamp = ++q->arrivals;
			q->recent_seq = seq;
			return;
		}
	}
}

int tcp_reasm_insert(struct tcp_reasm *q, struct tcp_reasm_budget *budget, uint32_t max_bytes,
                     uint32_t seq, struct mist_buf *buf)
{
	uint32_t end = seq + (uint32_t)mist_buf_chain_len(buf);
	struct tcp_reasm_seg *cursor = q->head, *fresh = NULL, **tail = &fresh;
	uint32_t pos = seq, gap, new_bytes = 0;
	unsigned pieces = 0;

	/* First pass: what is new, to check the limits before anything changes. */
	while (reasm_next_gap(&cursor, &pos, end, &gap)) {
		new_bytes += gap;
		pieces++;
		pos += gap;
	}
	if (new_bytes == 0) {
		if (seq != end)
			reasm_restamp(q, seq);
		mist_buf_free_chain(buf);
		return 0;
	}
	if (q->nsegs + pieces > TCP_REASM_MAX_SEGS || (uint64_t)q->bytes + new_bytes > max_bytes ||
	    (uint64_t)budget->bytes + new_bytes > budget->limit)
		goto drop;

	/* Second pass: cut the chain into the gaps, each piece in a node of its own. */
	uint32_t stamp = q->arrivals + 1;
	uint32_t buf_seq = seq; /* sequence number of the first byte left in buf */
	cursor = q->head;
	pos = seq;
	while (reasm_next_gap(&cursor, &pos, end, &gap)) {
		struct tcp_reasm_seg *s = mist_alloc(sizeof(*s));
		if (s == NULL)
			goto drop;
		reasm_chain_drop(&buf, pos - buf_seq);
		s->buf = reasm_chain_split(&buf, gap);
		if (s->buf == NULL) {
			mist_free(s);
			goto drop;
		}
		s->next = NULL;
		s->seq = pos;
		s->len = gap;
		s->stamp = stamp;
		*tail = s;
		tail = &s->next;
		pos += gap;
		buf_seq = pos;
	}
	/* What is left lies above the last gap, and is held already. */
	mist_buf_free_chain(buf);

	reasm_link(q, fresh);
	q->bytes += new_bytes;
	q->nsegs = (uint16_t)(q->nsegs + pieces);
	q->arrivals = stamp;
	q->recent_seq = seq;
	budget->bytes += new_bytes;
	return 0;

drop:
	reasm_free_list(fresh);
	mist_buf_free_chain(buf);
	return MIST_ENOMEM;
}

/* Frees a node already unlinked from the list, and gives its bytes back. */
static void reasm_forget(struct tcp_reasm *q, struct tcp_reasm_budget *budget,
                         struct tcp_reasm_seg *s)
{
	q->bytes -= s->len;
	q->nsegs--;
	budget->bytes -= s->len;
	mist_free(s);
}

struct mist_buf *tcp_reasm_take(struct tcp_reasm *q, struct tcp_reasm_budget *budget,
                                uint32_t rcv_nxt, uint32_t *len)
{
	struct mist_buf *out = NULL, *out_last = NULL;
	uint32_t taken = 0;

	while (q->head != NULL && seq_le(q->head->seq, rcv_nxt)) {
		struct tcp_reasm_seg *s = q->head;
		q->head = s->next;
		if (seq_gt(reasm_seg_end(s), rcv_nxt)) {
			uint32_t below = rcv_nxt - s->seq;
			reasm_chain_drop(&s->buf, below);
			if (out == NULL)
				out = s->buf;
			else
				out_last->next = s->buf;
			for (out_last = s->buf; out_last->next != NULL; out_last = out_last->next)
				;
			taken += s->len - below;
			rcv_nxt = reasm_seg_end(s);
		} else {
			/* Data the core received in order meanwhile, over what was held. */
			mist_buf_free_chain(s->buf);
		}
		reasm_forget(q, budget, s);
	}
	*len = taken;
	return out;
}

/* A SACK block in the making: contiguous held segments, and the newest stamp among them. */
struct reasm_run {
	uint32_t start, end, stamp;
};

/* Returns the run that starts at *s, and moves *s to the segment after it. */
static struct reasm_run reasm_run_at(const struct tcp_reasm_seg **s)
{
	const struct tcp_reasm_seg *seg = *s;
	struct reasm_run run = {.start = seg->seq, .end = reasm_seg_end(seg), .stamp = seg->stamp};

	for (seg = seg->next; seg != NULL && seg->seq == run.end; seg = seg->next) {
		run.end = reasm_seg_end(seg);
		if (reasm_newer(seg->stamp, run.stamp))
			run.stamp = seg->stamp;
	}
	*s = seg;
	return run;
}

/* True when run `a` is reported after run `b`: older, or as old and higher. */
static bool reasm_run_after(const struct reasm_run *a, const struct reasm_run *b)
{
	if (a->stamp != b->stamp)
		return reasm_newer(b->stamp, a->stamp);
	return seq_gt(a->start, b->start);
}

unsigned tcp_reasm_sack_blocks(const struct tcp_reasm *q, struct tcp_sack_block *blocks,
                               unsigned max)
{
	struct reasm_run last = {0};
	unsigned n;

	/*
	 * Selection rather than a sort: max is at most 4 (the option space
	 * of RFC 2018 §3), so picking the next run in order max times costs
	 * less than keeping a list of every run.
	 */
	for (n = 0; n < max; n++) {
		struct reasm_run best = {0};
		bool found = false;
		for (const struct tcp_reasm_seg *s = q->head; s != NULL;) {
			struct reasm_run run = reasm_run_at(&s);
			if (n > 0 && !reasm_run_after(&run, &last))
				continue;
			if (!found || reasm_run_after(&best, &run)) {
				best = run;
				found = true;
			}
		}
		if (!found)
			break;
		blocks[n].start = best.start;
		blocks[n].end = best.end;
		last = best;
	}
	return n;
}

void tcp_reasm_clear(struct tcp_reasm *q, struct tcp_reasm_budget *budget)
{
	reasm_free_list(q->head);
	budget->bytes -= q->bytes;
	tcp_reasm_init(q);
}
