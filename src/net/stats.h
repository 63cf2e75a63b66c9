/*
 * The stack's counters, one list per layer. Each entry names a counter and
 * says what it counts; the lists generate both the structs and the printer
 * (mist_net_stats_print), so a counter cannot be added without being shown.
 * Every drop path in src/net increments exactly one drop_* counter.
 */
#ifndef MIST_NET_STATS_H
#define MIST_NET_STATS_H

#include <stdint.h>

#define NET_ETHER_STATS(X)                                                \
	X(rx, "frames received from the device")                          \
	X(tx, "frames handed to the device")                              \
	X(drop_short, "shorter than an Ethernet header")                  \
	X(drop_not_for_us, "destination neither our MAC nor broadcast")   \
	X(drop_vlan, "802.1Q/802.1ad tagged: VLANs are not supported")    \
	X(drop_unknown_type, "EtherType neither ARP nor IPv4")            \
	X(drop_tx_device, "refused by the device (queue full, too long)") \
	X(drop_no_buffer, "outgoing: no buffer for the Ethernet header")

#define NET_ARP_STATS(X)                                                                  \
	X(rx, "ARP packets received")                                                     \
	X(tx_request, "requests sent (including retries and refreshes)")                  \
	X(tx_reply, "replies sent")                                                       \
	X(drop_malformed, "failed the ARP check (length, hardware or protocol type, op)") \
	X(drop_bad_sender, "sender hardware address multicast, or sender protocol "       \
	                   "address broadcast or multicast")                              \
	X(drop_not_for_us, "neither for our address nor about a cached one")              \
	X(conflict, "another host claimed our IPv4 address")                              \
	X(resolved, "addresses resolved")                                                 \
	X(failed, "resolutions given up after every retry")                               \
	X(evicted, "cache entries evicted to make room")                                  \
	X(drop_queue_full, "packets dropped: pending queue of an address full")           \
	X(drop_unresolved, "packets dropped: their address never resolved")               \
	X(drop_no_buffer, "ARP packets not sent: no buffer")

#define NET_IPV4_STATS(X)                                                           \
	X(rx, "datagrams received")                                                 \
	X(tx, "datagrams sent (before fragmentation)")                              \
	X(delivered, "datagrams delivered to ICMP or UDP")                          \
	X(drop_truncated, "header or total length past the end of the frame")       \
	X(drop_bad_version, "version not 4")                                        \
	X(drop_bad_header, "header length, total length or options malformed")      \
	X(drop_bad_checksum, "header checksum wrong")                               \
	X(drop_bad_source, "source broadcast, multicast, loopback or zero network " \
	                   "(RFC 1122 3.2.1.3)")                                    \
	X(drop_not_for_us, "destination neither ours nor broadcast")                \
	X(drop_ttl_zero, "time to live 0 (RFC 791: must be destroyed)")             \
	X(drop_unknown_protocol, "protocol neither ICMP nor UDP")                   \
	X(drop_no_route, "outgoing: no route to the destination")                   \
	X(drop_too_big_df, "outgoing: larger than the MTU with DF set")             \
	X(drop_no_buffer, "outgoing: no buffer for a header or fragment")           \
	X(frag_rx, "fragments received")                                            \
	X(frag_tx, "fragments sent")                                                \
	X(reassembled, "datagrams reassembled")                                     \
	X(reass_drop_overlap, "datagrams discarded: overlapping fragments")         \
	X(reass_drop_timeout, "datagrams discarded: not complete in time")          \
	X(reass_drop_limit, "fragments dropped: a memory or count limit was hit")   \
	X(reass_drop_invalid, "fragments dropped: inconsistent length or offset")

#define NET_ICMP_STATS(X)                                                               \
	X(rx, "messages received")                                                      \
	X(tx_echo_reply, "echo replies sent")                                           \
	X(tx_error, "error messages sent")                                              \
	X(rx_error, "error messages received and passed to the transport")              \
	X(drop_malformed, "too short, or quoting a malformed datagram or one not ours") \
	X(drop_bad_checksum, "checksum wrong")                                          \
	X(drop_broadcast_echo, "echo requests to a broadcast address, ignored "         \
	                       "(RFC 1122 3.2.2.6)")                                    \
	X(drop_unhandled, "types neither echo request nor a known error")               \
	X(error_rate_limited, "errors not sent because of the rate limit")              \
	X(error_suppressed, "errors not sent by RFC 1122 3.2.2 (about an error, a "     \
	                    "broadcast, a non-first fragment)")                         \
	X(drop_no_buffer, "errors not sent: no buffer")

#define NET_UDP_STATS(X)                                                 \
	X(rx, "datagrams received")                                      \
	X(tx, "datagrams sent")                                          \
	X(delivered, "datagrams queued to an endpoint")                  \
	X(drop_malformed, "shorter than the header or its length field") \
	X(drop_bad_checksum, "checksum wrong")                           \
	X(drop_no_port, "no endpoint on the destination port")           \
	X(drop_queue_full, "endpoint's receive queue full")              \
	X(drop_no_buffer, "outgoing: no buffer for the header")

#define NET_TCP_STATS(X)                                                                  \
	X(rx, "segments received")                                                        \
	X(tx, "segments sent")                                                            \
	X(rx_bytes, "payload bytes received in order")                                    \
	X(tx_bytes, "payload bytes sent, retransmissions included")                       \
	X(accepted, "connections accepted by a listener")                                 \
	X(connected, "connections established by mist_tcp_connect")                       \
	X(closed, "connections ended normally")                                           \
	X(reset_rx, "connections reset by the peer")                                      \
	X(reset_tx, "RSTs sent")                                                          \
	X(aborted, "connections aborted by the application")                              \
	X(timed_out, "connections ended by retransmission, keepalive or user timeout")    \
	X(retransmits, "segments retransmitted")                                          \
	X(rto, "retransmission timeouts")                                                 \
	X(fast_retransmits, "fast retransmits (entries into loss recovery)")              \
	X(sack_recovery, "recoveries driven by the peer's SACK blocks (RFC 6675)")        \
	X(dup_acks, "duplicate ACKs received")                                            \
	X(ooo_segments, "segments received out of order and held")                        \
	X(delayed_acks, "ACKs sent by the delayed-ACK timer")                             \
	X(persist_probes, "zero-window probes sent")                                      \
	X(keepalive_probes, "keepalive probes sent")                                      \
	X(syn_cookies_sent, "SYN-ACKs answered with a SYN cookie (backlog full)")         \
	X(syn_cookies_ok, "connections established from a valid SYN cookie")              \
	X(challenge_acks, "challenge ACKs sent (RFC 5961)")                               \
	X(challenge_limited, "challenge ACKs not sent: rate limit")                       \
	X(drop_malformed, "shorter than the header or options malformed")                 \
	X(drop_bad_checksum, "checksum wrong")                                            \
	X(drop_no_conn, "no connection or listener: answered with RST when allowed")      \
	X(drop_bad_cookie, "ACK to a listener with an invalid SYN cookie")                \
	X(drop_out_of_window, "not acceptable (RFC 9293 3.10.7.4): answered with an ACK") \
	X(drop_paws, "failed the timestamp check (RFC 7323 5.3)")                         \
	X(drop_bad_ack, "acknowledging data never sent")                                  \
	X(drop_ooo_limit, "out-of-order segments dropped: memory limit")                  \
	X(drop_rcv_shut, "data arriving after the read side was shut down")               \
	X(drop_listen_overflow, "SYNs dropped: no memory for a connection")               \
	X(drop_no_buffer, "segments not sent: no buffer")                                 \
	X(icmp_errors, "ICMP errors delivered to connections")

#define NET_STAT_FIELD(name, what) uint64_t name;

struct net_ether_stats {
	NET_ETHER_STATS(NET_STAT_FIELD)
};
struct net_arp_stats {
	NET_ARP_STATS(NET_STAT_FIELD)
};
struct net_ipv4_stats {
	NET_IPV4_STATS(NET_STAT_FIELD)
};
struct net_icmp_stats {
	NET_ICMP_STATS(NET_STAT_FIELD)
};
struct net_udp_stats {
	NET_UDP_STATS(NET_STAT_FIELD)
};
struct net_tcp_stats {
	NET_TCP_STATS(NET_STAT_FIELD)
};

struct net_stats {
	struct net_ether_stats ether;
	struct net_arp_stats arp;
	struct net_ipv4_stats ipv4;
	struct net_icmp_stats icmp;
	struct net_udp_stats udp;
	struct net_tcp_stats tcp;
};

#endif
