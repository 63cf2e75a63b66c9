/*
 * Descriptions of the MIST_E* codes, for logs and error messages.
 */
#include "mist/mist.h"

const char *mist_strerror(int err)
{
	switch (err) {
	case MIST_OK:
		return "success";
	case MIST_ENOMEM:
		return "out of memory";
	case MIST_EINVAL:
		return "invalid argument";
	case MIST_ETIMEDOUT:
		return "timed out";
	case MIST_EAGAIN:
		return "try again";
	case MIST_ERANGE:
		return "out of range";
	case MIST_EBUSY:
		return "busy";
	case MIST_ENOENT:
		return "no such object";
	case MIST_ECANCELED:
		return "cancelled";
	case MIST_EADDRINUSE:
		return "address in use";
	case MIST_ECONNREFUSED:
		return "connection refused";
	case MIST_ECONNRESET:
		return "connection reset";
	case MIST_ENOTCONN:
		return "not connected";
	case MIST_EPIPE:
		return "broken pipe";
	case MIST_EHOSTUNREACH:
		return "host unreachable";
	case MIST_EMSGSIZE:
		return "message too long";
	case MIST_EIO:
		return "input/output error";
	case MIST_ENOTSUP:
		return "not supported";
	}
	return "unknown error";
}
