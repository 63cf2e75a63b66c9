/*
 * TCP initial sequence numbers (RFC 6528) and SYN cookies (RFC 4987 §3.6):
 * the two ways a TCP endpoint picks its ISN. Both are keyed SipHash-2-4
 * (core/siphash.h) of the connection's 4-tuple under secrets drawn once from
 * the CSPRNG, so an off-path attacker can neither predict our ISN nor forge
 * the ACK of a cookie. Pure functions of their arguments and the secret:
 * time comes from the caller, nothing is stored, nothing is sent.
 *
 * Hashed inputs are serialised field by field in network byte order (local
 * address, local port, remote address, remote port, then any further field
 * named below), never as struct bytes.
 */
#ifndef MIST_NET_TCP_ISN_H
#define MIST_NET_TCP_ISN_H

#include <stdbool.h>
#include <stdint.h>

#include "core/siphash.h"
#include "mist/mist.h"

/* The secrets of one stack: one key for ISNs, another for SYN cookies. */
struct tcp_secret {
	struct mist_siphash_key isn, cookie;
};

/* Fills both keys of `s` from the CSPRNG (mist/rng.h). */
void tcp_secret_init(struct tcp_secret *s);

/* RFC 6528 §3: the ISN timer M ticks every 4 microseconds. */
#define TCP_ISN_TICK_NS (4 * MIST_USEC)

/*
 * RFC 6528 §3: returns ISN = M + F(localip, localport, remoteip, remoteport,
 * secretkey) mod 2^32, where M is `now` (monotonic ns) / TCP_ISN_TICK_NS
 * and F is the low 32 bits of SipHash-2-4 under s->isn over the 4-tuple.
 * Successive connections of one tuple thus get ISNs that advance with the
 * clock, while the ISNs of other tuples are unrelated to them.
 */
uint32_t tcp_isn(const struct tcp_secret *s, struct mist_ipv4_addr local, uint16_t lport,
                 struct mist_ipv4_addr remote, uint16_t rport, uint64_t now);

/*
 * SYN cookies. When a listener's backlog is full it answers a SYN with a
 * SYN-ACK whose ISN is a cookie and keeps no state; the connection is
 * created when an ACK returns the cookie. D. J. Bernstein's layout:
 *
 *   bits 31..27  the cookie's time slot (now / TCP_COOKIE_SLOT_NS) mod 32
 *   bits 26..24  the index of the MSS in the table below
 *   bits 23..0   the low 24 bits of SipHash-2-4 under s->cookie over the
 *                4-tuple, the peer's ISN (4 bytes), the whole time slot
 *                (8 bytes) and the MSS index (1 byte)
 *
 * The slot in the top bits makes our cookies advance with time as ISNs
 * should. The hash covers every field of the cookie and the whole slot, so
 * changing any bit of a cookie, or replaying one 32 slots later when its
 * five time bits come round again, fails the check.
 *
 * The MSS table, each entry a path MTU less the 40 bytes of IPv4 and TCP
 * headers unless said otherwise: 536 (the IPv4 default, RFC 9293 §3.7.1),
 * 1220 (what hosts that size segments for IPv6's 1280-byte minimum MTU
 * announce: 1280 less 60 bytes of IPv6 and TCP headers), 1300 (a common MSS clamp of VPNs),
 * 1380 (WireGuard's default MTU of 1420), 1440 (1500 less a 20-byte IP-in-IP
 * header), 1452 (PPPoE's 1492, RFC 2516 §7), 1460 (Ethernet's 1500) and
 * 8960 (9000-byte jumbo frames).
 */
#define TCP_COOKIE_SLOT_NS (64 * MIST_SEC)
#define TCP_COOKIE_MAX_AGE 2 /* slots before the current one */

/*
 * Returns the cookie for a SYN from `remote`:`rport` with sequence number
 * `peer_isn` and MSS option `peer_mss` (536 when the SYN had none) to
 * `local`:`lport`, at time `now`. The encoded MSS is the largest table
 * entry <= peer_mss, or 536 for a peer_mss below it: every IPv4 host must
 * take 576-byte datagrams (RFC 1122 §3.3.3).
 */
uint32_t tcp_cookie_make(const struct tcp_secret *s, struct mist_ipv4_addr local, uint16_t lport,
                         struct mist_ipv4_addr remote, uint16_t rport, uint32_t peer_isn,
                         uint16_t peer_mss, uint64_t now);

/*
 * Checks the ACK that completes a cookie handshake: `cookie` is the ACK's
 * acknowledgment number - 1 and `peer_isn` its sequence number - 1. Returns
 * true, with the MSS the cookie encodes in *mss, when the cookie was made
 * for this tuple and peer ISN in the current time slot or in one of the
 * TCP_COOKIE_MAX_AGE before it: a cookie stays valid between 128 and 192
 * seconds. Returns false, leaving *mss alone, otherwise.
 */
bool tcp_cookie_check(const struct tcp_secret *s, struct mist_ipv4_addr local, uint16_t lport,
                      struct mist_ipv4_addr remote, uint16_t rport, uint32_t peer_isn,
                      uint32_t cookie, uint64_t now, uint16_t *mss);

#endif
