/*
 * The TCP receiver's out-of-order queue: segments that arrived above
 * RCV.NXT, held until the hole below them fills (RFC 9293 §3.10.7.4: they
 * should be held for later processing), and the source of the SACK blocks
 * the receiver sends (RFC 2018 §4). It is not the receive queue that the
 * application reads, and it does not check segments against the window;
 * both belong to the TCP core.
 *
 * Held data stays in the buffers it arrived in: overlaps are trimmed by
 * narrowing views, never by copying. The queue is bounded three ways: bytes
 * per queue, TCP_REASM_MAX_SEGS segments per queue, and bytes across every
 * queue of a stack (struct tcp_reasm_budget), so a peer that opens holes on
 * purpose cannot hold more than those. Sequence numbers are compared modulo
 * 2^32 (net/tcp_seq.h). Freestanding: core/mem.h and mist/buf.h.
 */
#ifndef MIST_NET_TCP_REASM_H
#define MIST_NET_TCP_REASM_H

#include <stdint.h>

#include "mist/buf.h"
#include "net/tcp_sack.h"

/* Segments one queue holds at most: a 256 KiB window of full-sized segments and more. */
#define TCP_REASM_MAX_SEGS 256

/* One held segment, or the part of one that was new; defined in tcp_reasm.c. */
struct tcp_reasm_seg;

struct tcp_reasm {
	struct tcp_reasm_seg *head; /* sorted by seq, disjoint */
	uint32_t bytes;             /* payload bytes held */
	uint32_t recent_seq;        /* seq of the latest segment received, new or duplicate */
	uint32_t arrivals;          /* segments received: the clock that stamps held ones */
	uint16_t nsegs;
};

/* A shared budget: bytes held across every connection of a stack. */
struct tcp_reasm_budget {
	uint32_t bytes, limit;
};

/* Makes `q` an empty queue. */
void tcp_reasm_init(struct tcp_reasm *q);

/*
 * Takes ownership of the chain `buf` (mist_buf_chain_len(buf) bytes) whose
 * first byte has sequence number `seq`; the caller has checked that it lies
 * above RCV.NXT and within the window. Bytes already held are kept and the
 * new copies of them dropped: RFC 9293 leaves the choice open, and keeping
 * the old ones changes nothing already held. The rest is held as views into
 * `buf`, without copying.
 * Returns 0 when held, and also when every byte was held already (the chain
 * is then freed: an exact duplicate). Returns MIST_ENOMEM, having freed the
 * chain and changed nothing, when holding it would take the queue past
 * `max_bytes` or TCP_REASM_MAX_SEGS segments, or the stack past
 * budget->limit, or when the heap or the buffer pool is exhausted.
 */
int tcp_reasm_insert(struct tcp_reasm *q, struct tcp_reasm_budget *budget, uint32_t max_bytes,
                     uint32_t seq, struct mist_buf *buf);

/*
 * RCV.NXT reached `rcv_nxt`: removes the held data contiguous with it and
 * returns it as one chain in sequence order, its bytes below `rcv_nxt`
 * trimmed, with its length in *len. Held data entirely below `rcv_nxt` is
 * freed. Returns NULL with *len = 0 when nothing follows `rcv_nxt`.
 */
struct mist_buf *tcp_reasm_take(struct tcp_reasm *q, struct tcp_reasm_budget *budget,
                                uint32_t rcv_nxt, uint32_t *len);

/*
 * Fills blocks[0..max) with the ranges held, contiguous held segments as one
 * block, in RFC 2018 §4 order: first the block holding the most recently
 * received segment (recent_seq, while it is held), then the others by how
 * recently a segment of theirs arrived, which is the order in which each was
 * last reported first. Returns the number of blocks filled. Costs
 * O(max * segments held).
 */
unsigned tcp_reasm_sack_blocks(const struct tcp_reasm *q, struct tcp_sack_block *blocks,
                               unsigned max);

/* Frees everything held and returns its bytes to `budget`. */
void tcp_reasm_clear(struct tcp_reasm *q, struct tcp_reasm_budget *budget);

#endif
