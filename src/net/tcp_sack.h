/*
 * The TCP sender's SACK scoreboard (RFC 2018, RFC 6675): which ranges above
 * SND.UNA the peer has selectively acknowledged, and the loss-recovery
 * questions RFC 6675 §4 asks of it (IsLost, SetPipe, NextSeg rule 1 and
 * rule 3). It is not the retransmission queue and holds no data, and it does
 * not decide when to enter or leave recovery: the TCP core does, and calls
 * these with its SND.UNA, SND.MAX, HighData (SND.NXT) and HighRxt.
 *
 * The board is a small sorted array of disjoint, non-touching ranges, so
 * every query costs O(TCP_SACK_RANGES) whatever the amount of data in
 * flight. All sequence numbers are compared modulo 2^32 (net/tcp_seq.h).
 * Freestanding; no allocation.
 */
#ifndef MIST_NET_TCP_SACK_H
#define MIST_NET_TCP_SACK_H

#include <stdbool.h>
#include <stdint.h>

/* Ranges the board remembers; a peer sends at most 4 blocks per ACK (RFC 2018 §3). */
#define TCP_SACK_RANGES 16

/*
 * One SACK block, [start, end): `end` is the sequence number following the
 * last byte (RFC 2018 §3). Same layout as wire/tcp.h's struct
 * mist_tcp_sack_block; the TCP core converts between the two.
 */
struct tcp_sack_block {
	uint32_t start, end;
};

/* r[0..count) are sorted, disjoint, not touching, each non-empty. */
struct tcp_sack_board {
	uint8_t count;
	struct tcp_sack_range {
		uint32_t start, end;
	} r[TCP_SACK_RANGES];
};

/* Forgets every range. */
void tcp_sack_clear(struct tcp_sack_board *b);

/*
 * Records the `n` SACK blocks of one ACK. A block is ignored when it is empty
 * or inverted, when it lies entirely at or below `snd_una`, or when it ends
 * beyond `snd_max` (it would acknowledge data never sent); one that straddles
 * `snd_una` is clipped to start there. Ranges that overlap or touch are
 * merged. When the board is full the highest range is forgotten.
 * Returns how many bytes are recorded as SACKed now that were not before.
 */
uint32_t tcp_sack_update(struct tcp_sack_board *b, uint32_t snd_una, uint32_t snd_max,
                         const struct tcp_sack_block *blocks, unsigned n);

/* SND.UNA advanced to `snd_una`: forgets every SACKed byte below it. */
void tcp_sack_advance(struct tcp_sack_board *b, uint32_t snd_una);

/* Returns true when the byte `seq` is SACKed. */
bool tcp_sack_is_sacked(const struct tcp_sack_board *b, uint32_t seq);

/* Returns the number of bytes SACKed. */
uint32_t tcp_sack_sacked_bytes(const struct tcp_sack_board *b);

/* Returns the sequence number after the highest SACKed byte, or `snd_una` when none is. */
uint32_t tcp_sack_highest(const struct tcp_sack_board *b, uint32_t snd_una);

/*
 * RFC 6675 §4 IsLost(seq): true when at least `dupthresh` discontiguous
 * SACKed ranges hold bytes above `seq`, or more than (dupthresh - 1) * smss
 * SACKed bytes lie above it. Requires dupthresh >= 1.
 */
bool tcp_sack_is_lost(const struct tcp_sack_board *b, uint32_t seq, uint32_t smss,
                      unsigned dupthresh);

/*
 * RFC 6675 §4 SetPipe(): the bytes estimated in flight among those from
 * `snd_una` to `high_data` (SND.NXT). Each byte not SACKed counts once when
 * it is not deemed lost (IsLost with `smss` and `dupthresh`), and once more
 * when it lies below `high_rxt` (the highest retransmitted byte + 1, or
 * `snd_una` when none). Costs O(TCP_SACK_RANGES), not O(bytes in flight).
 */
uint32_t tcp_sack_pipe(const struct tcp_sack_board *b, uint32_t snd_una, uint32_t high_data,
                       uint32_t high_rxt, uint32_t smss, unsigned dupthresh);

/*
 * RFC 6675 §4 NextSeg() rule 1: finds the lowest byte at or above
 * max(`snd_una`, `high_rxt`) that is not SACKed, lies below the highest
 * SACKed byte, and IsLost(). On success sets *seq to it and *len to the
 * bytes from there, at most `smss`, that stop before the next SACKed range
 * and before `high_data`, and returns true. Returns false when there is no
 * such byte (rule 2, new data, is the caller's). Requires smss >= 1.
 */
bool tcp_sack_next_lost(const struct tcp_sack_board *b, uint32_t snd_una, uint32_t high_data,
                        uint32_t high_rxt, uint32_t smss, unsigned dupthresh, uint32_t *seq,
                        uint32_t *len);

/*
 * RFC 6675 §4 NextSeg() rule 3: the same as tcp_sack_next_lost() without the
 * IsLost() condition, for when neither lost nor new data can be sent: the
 * lowest byte at or above max(`snd_una`, `high_rxt`), not SACKed and below
 * the highest SACKed byte, with *len as above.
 */
bool tcp_sack_next_unsacked(const struct tcp_sack_board *b, uint32_t snd_una, uint32_t high_data,
                            uint32_t high_rxt, uint32_t smss, uint32_t *seq, uint32_t *len);

#endif
