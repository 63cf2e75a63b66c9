/*
 * Host errno values and ICMP errors to MIST_E* codes (errno_map.h). Where
 * the kernel has several names for one situation Mist names once, they are
 * folded: every kind of unreachable (ICMP network, host, or no route) is
 * MIST_EHOSTUNREACH, every resource shortage MIST_ENOMEM.
 */
#include <errno.h>
#include <netinet/ip_icmp.h>

#include "errno_map.h"
#include "mist/mist.h"

int sock_error_from_errno(int errnum)
{
	switch (errnum) {
	case 0:
		return 0;
	case ECONNRESET:
	case ECONNABORTED: /* reset while waiting in the accept queue */
		return MIST_ECONNRESET;
	case ECONNREFUSED:
		return MIST_ECONNREFUSED;
	case ETIMEDOUT:
		return MIST_ETIMEDOUT;
	case EHOSTUNREACH:
	case ENETUNREACH:
	case EHOSTDOWN:
	case ENETDOWN:
		return MIST_EHOSTUNREACH;
	case EPIPE:
		return MIST_EPIPE;
	case EADDRINUSE:
	case EADDRNOTAVAIL: /* connect: no ephemeral port left for the destination */
		return MIST_EADDRINUSE;
	case ENOMEM:
	case ENOBUFS:
	case EMFILE: /* out of descriptors, a resource like any other */
	case ENFILE:
		return MIST_ENOMEM;
	case EAGAIN:
		return MIST_EAGAIN;
	case EMSGSIZE:
		return MIST_EMSGSIZE;
	case ENOTCONN:
		return MIST_ENOTCONN;
	case EINVAL:
		return MIST_EINVAL;
	case ENOPROTOOPT:
	case EOPNOTSUPP:
		return MIST_ENOTSUP;
	default:
		return MIST_EIO;
	}
}

/*
 * RFC 1122 3.2.2.1 and 4.1.3.3: port and protocol unreachable mean nobody
 * listens, fragmentation needed that the datagram was too large; every
 * other unreachable, time exceeded and the rest mean the host was not
 * reached.
 */
int sock_error_from_icmp(unsigned type, unsigned code)
{
	if (type == ICMP_DEST_UNREACH) {
		if (code == ICMP_PORT_UNREACH || code == ICMP_PROT_UNREACH)
			return MIST_ECONNREFUSED;
		if (code == ICMP_FRAG_NEEDED)
			return MIST_EMSGSIZE;
	}
	return MIST_EHOSTUNREACH;
}
