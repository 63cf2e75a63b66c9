/*
 * The sender's SACK scoreboard (net/tcp_sack.h): a sorted array of at most
 * TCP_SACK_RANGES disjoint SACKed ranges above SND.UNA, and RFC 6675 §4's
 * IsLost, SetPipe and NextSeg computed from it.
 *
 * RFC 6675 defines SetPipe and NextSeg byte by byte (or segment by segment)
 * over everything from SND.UNA to HighData, which may be tens of megabytes.
 * They are computed here hole by hole instead, where a hole is a stretch of
 * bytes that are not SACKed between two SACKed ranges: every byte of a hole
 * has the same SACKed ranges and bytes above it, so IsLost() has one answer
 * for the whole hole, and a per-byte walk would only add the same answer up
 * hole-length times. There are at most TCP_SACK_RANGES + 1 holes, so each
 * query is O(TCP_SACK_RANGES) whatever the amount of data in flight. The
 * result is the octet-by-octet one of the RFC's text, and the same as a walk
 * by SMSS-sized segments whenever SACK edges fall on segment edges, as they
 * do when the peer SACKs whole segments.
 */
#include "net/tcp_sack.h"
#include "base/compiler.h"
#include "base/str.h"
#include "net/tcp_seq.h"

void tcp_sack_clear(struct tcp_sack_board *b)
{
	b->count = 0;
}

static uint32_t sack_range_len(const struct tcp_sack_range *r)
{
	return r->end - r->start;
}

uint32_t tcp_sack_sacked_bytes(const struct tcp_sack_board *b)
{
	uint32_t bytes = 0;
	for (unsigned i = 0; i < b->count; i++)
		bytes += sack_range_len(&b->r[i]);
	return bytes;
}

/*
 * Adds [start, end) to the board, merging it with every range it overlaps or
 * touches, so that the ranges stay disjoint and "discontiguous" (IsLost)
 * means a real hole between them.
 */
static void sack_insert(struct tcp_sack_board *b, uint32_t start, uint32_t end)
{
	unsigned lo = 0;
	while (lo < b->count && seq_lt(b->r[lo].end, start))
		lo++;
	/* r[lo..hi) overlap or touch [start, end); r[hi..) lie above it. */
	unsigned hi = lo;
	while (hi < b->count && seq_le(b->r[hi].start, end))
		hi++;

	if (hi > lo) {
		b->r[lo].start = seq_min(start, b->r[lo].start);
		b->r[lo].end = seq_max(end, b->r[hi - 1].end);
		mist_memmove(&b->r[lo + 1], &b->r[hi], (b->count - hi) * sizeof(b->r[0]));
		b->count = (uint8_t)(b->count - (hi - lo - 1));
		return;
	}
	/*
	 * A full board forgets its highest range. Recovery works from the
	 * bottom: the lowest holes are retransmitted first and decide IsLost
	 * for what lies below them, while the highest range is the one whose
	 * loss changes the fewest decisions. Forgetting it errs on the safe
	 * side: its bytes count as in flight (pipe grows, less is sent) and it
	 * weighs nothing in IsLost (less is deemed lost). The peer repeats its
	 * most recent blocks (RFC 2018 §4), so the range is likely to come back.
	 */
	if (b->count == TCP_SACK_RANGES) {
		if (lo == b->count)
			return;
		b->count--;
	}
	mist_memmove(&b->r[lo + 1], &b->r[lo], (b->count - lo) * sizeof(b->r[0]));
	b->r[lo].start = start;
	b->r[lo].end = end;
	b->count++;
}

/* Bytes SACKed on both boards: a merge walk over two sorted lists. */
static uint32_t sack_common_bytes(const struct tcp_sack_board *a, const struct tcp_sack_board *b)
{
	uint32_t bytes = 0;
	unsigned i = 0, j = 0;

	while (i < a->count && j < b->count) {
		uint32_t lo = seq_max(a->r[i].start, b->r[j].start);
		uint32_t hi = seq_min(a->r[i].end, b->r[j].end);
		if (seq_lt(lo, hi))
			bytes += hi - lo;
		if (seq_lt(a->r[i].end, b->r[j].end))
			i++;
		else
			j++;
	}
	return bytes;
}

uint32_t tcp_sack_update(struct tcp_sack_board *b, uint32_t snd_una, uint32_t snd_max,
                         const struct tcp_sack_block *blocks, unsigned n)
{
	/*
	 * The old board is kept to count what is new as a set difference:
	 * blocks of one ACK may overlap each other, and a full board may
	 * forget a range this very call added.
	 */
	struct tcp_sack_board before = *b;

	for (unsigned i = 0; i < n; i++) {
		uint32_t start = blocks[i].start, end = blocks[i].end;
		/* RFC 2018 §3: a block is [left edge, right edge); empty or inverted is malformed. */
		if (!seq_lt(start, end))
			continue;
		/*
		 * RFC 2018 §3: blocks report data queued above the cumulative ACK.
		 * One entirely at or below SND.UNA tells nothing new (at most a
		 * D-SACK of a duplicate, RFC 2883 §4, not used here).
		 */
		if (seq_le(end, snd_una))
			continue;
		/*
		 * A block ending beyond SND.MAX acknowledges data never sent, like
		 * an ACK of unsent data (RFC 9293 §3.10.7.4): it cannot be trusted.
		 */
		if (seq_gt(end, snd_max))
			continue;
		sack_insert(b, seq_max(start, snd_una), end);
	}
	return tcp_sack_sacked_bytes(b) - sack_common_bytes(&before, b);
}

void tcp_sack_advance(struct tcp_sack_board *b, uint32_t snd_una)
{
	unsigned gone = 0;
	while (gone < b->count && seq_le(b->r[gone].end, snd_una))
		gone++;
	mist_memmove(&b->r[0], &b->r[gone], (b->count - gone) * sizeof(b->r[0]));
	b->count = (uint8_t)(b->count - gone);
	if (b->count > 0 && seq_lt(b->r[0].start, snd_una))
		b->r[0].start = snd_una;
}

bool tcp_sack_is_sacked(const struct tcp_sack_board *b, uint32_t seq)
{
	for (unsigned i = 0; i < b->count; i++)
		if (seq_ge(seq, b->r[i].start) && seq_lt(seq, b->r[i].end))
			return true;
	return false;
}

uint32_t tcp_sack_highest(const struct tcp_sack_board *b, uint32_t snd_una)
{
	if (b->count == 0)
		return snd_una;
	return seq_max(b->r[b->count - 1].end, snd_una);
}

/*
 * RFC 6675 §4 IsLost(), given what lies above the byte in question:
 * `ranges_above` discontiguous SACKed ranges holding `bytes_above` bytes.
 */
static bool sack_lost(unsigned ranges_above, uint32_t bytes_above, uint32_t smss,
                      unsigned dupthresh)
{
	return ranges_above >= dupthresh || bytes_above > (uint64_t)(dupthresh - 1) * smss;
}

bool tcp_sack_is_lost(const struct tcp_sack_board *b, uint32_t seq, uint32_t smss,
                      unsigned dupthresh)
{
	unsigned ranges = 0;
	uint32_t bytes = 0;

	/* "Above seq" is from seq + 1: a range holding seq counts for its part above it. */
	for (unsigned i = 0; i < b->count; i++) {
		uint32_t from = seq_max(b->r[i].start, seq + 1);
		if (seq_lt(from, b->r[i].end)) {
			ranges++;
			bytes += b->r[i].end - from;
		}
	}
	return sack_lost(ranges, bytes, smss, dupthresh);
}

uint32_t tcp_sack_pipe(const struct tcp_sack_board *b, uint32_t snd_una, uint32_t high_data,
                       uint32_t high_rxt, uint32_t smss, unsigned dupthresh)
{
	uint32_t pipe = 0;
	uint32_t pos = snd_una;                          /* the start of the next hole */
	uint32_t bytes_above = tcp_sack_sacked_bytes(b); /* SACKed from r[i] on */

	/* Hole i lies below range i; hole `count` is the one above the last range. */
	for (unsigned i = 0; i <= b->count; i++) {
		uint32_t hole_end = high_data;
		if (i < b->count)
			hole_end = seq_min(b->r[i].start, high_data);
		if (seq_lt(pos, hole_end)) {
			/* (a) bytes not SACKed and not deemed lost are still in the network. */
			if (!sack_lost(b->count - i, bytes_above, smss, dupthresh))
				pipe += hole_end - pos;
			/* (b) bytes at or below HighRxt count once more, for their retransmission. */
			if (seq_gt(high_rxt, pos))
				pipe += seq_min(high_rxt, hole_end) - pos;
		}
		if (i < b->count) {
			pos = seq_max(pos, b->r[i].end);
			bytes_above -= sack_range_len(&b->r[i]);
		}
	}
	return pipe;
}

/*
 * NextSeg() rules 1 and 3: the lowest hole byte at or above HighRxt (1.a)
 * below the highest SACKed byte (1.b) and, when `must_be_lost`, IsLost()
 * (1.c). Only holes below a range are looked at, which is rule 1.b.
 */
static bool sack_next_hole(const struct tcp_sack_board *b, uint32_t snd_una, uint32_t high_data,
                           uint32_t high_rxt, uint32_t smss, unsigned dupthresh, bool must_be_lost,
                           uint32_t *seq, uint32_t *len)
{
	uint32_t pos = seq_max(snd_una, high_rxt);
	uint32_t bytes_above = tcp_sack_sacked_bytes(b);

	for (unsigned i = 0; i < b->count; i++) {
		uint32_t hole_end = seq_min(b->r[i].start, high_data);
		if (seq_lt(pos, hole_end) &&
		    (!must_be_lost || sack_lost(b->count - i, bytes_above, smss, dupthresh))) {
			*seq = pos;
			*len = MIST_MIN(smss, hole_end - pos);
			return true;
		}
		pos = seq_max(pos, b->r[i].end);
		bytes_above -= sack_range_len(&b->r[i]);
	}
	return false;
}

bool tcp_sack_next_lost(const struct tcp_sack_board *b, uint32_t snd_una, uint32_t high_data,
                        uint32_t high_rxt, uint32_t smss, unsigned dupthresh, uint32_t *seq,
                        uint32_t *len)
{
	return sack_next_hole(b, snd_una, high_data, high_rxt, smss, dupthresh, true, seq, len);
}

bool tcp_sack_next_unsacked(const struct tcp_sack_board *b, uint32_t snd_una, uint32_t high_data,
                            uint32_t high_rxt, uint32_t smss, uint32_t *seq, uint32_t *len)
{
	return sack_next_hole(b, snd_una, high_data, high_rxt, smss, 0, false, seq, len);
}
