/*
 * The translations of what the host reports (errno values, and the ICMP
 * errors IP_RECVERR hands over) to MIST_E* codes, so that an application
 * sees on posix-socket the code Mist's own stack returns for the same
 * situation (include/mist/flow.h, include/mist/udp.h).
 */
#ifndef MIST_SOCK_ERRNO_MAP_H
#define MIST_SOCK_ERRNO_MAP_H

/*
 * Returns the MIST_E* code for the errno value `errnum` (0 gives 0). Values
 * with no counterpart map to MIST_EIO.
 */
int sock_error_from_errno(int errnum);

/*
 * Returns the MIST_E* code of an ICMP error of `type` and `code` about a
 * datagram we sent, as Mist's own stack reports it (src/net/icmp.c).
 */
int sock_error_from_icmp(unsigned type, unsigned code);

#endif
