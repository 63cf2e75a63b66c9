/*
 * Unit tests for the socket stack's error translations
 * (platform/posix-socket/errno_map.c): each host error a socket call can
 * return, and each ICMP error IP_RECVERR hands over, gives the MIST_E* code
 * Mist's own stack returns for the same situation (include/mist/flow.h,
 * include/mist/udp.h, src/net/icmp.c).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "../../platform/posix-socket/errno_map.h"
#include "mist/mist.h"

static void no_error_is_zero(void **state)
{
	assert_int_equal(sock_error_from_errno(0), 0);
}

static void connection_endings_keep_their_names(void **state)
{
	assert_int_equal(sock_error_from_errno(ECONNRESET), MIST_ECONNRESET);
	assert_int_equal(sock_error_from_errno(ECONNREFUSED), MIST_ECONNREFUSED);
	assert_int_equal(sock_error_from_errno(ETIMEDOUT), MIST_ETIMEDOUT);
	assert_int_equal(sock_error_from_errno(EPIPE), MIST_EPIPE);
	/* accept(2): the connection was reset while it waited in the queue. */
	assert_int_equal(sock_error_from_errno(ECONNABORTED), MIST_ECONNRESET);
}

static void every_unreachable_is_ehostunreach(void **state)
{
	assert_int_equal(sock_error_from_errno(EHOSTUNREACH), MIST_EHOSTUNREACH);
	assert_int_equal(sock_error_from_errno(ENETUNREACH), MIST_EHOSTUNREACH);
	assert_int_equal(sock_error_from_errno(EHOSTDOWN), MIST_EHOSTUNREACH);
	assert_int_equal(sock_error_from_errno(ENETDOWN), MIST_EHOSTUNREACH);
}

static void ports_taken_or_exhausted_are_eaddrinuse(void **state)
{
	assert_int_equal(sock_error_from_errno(EADDRINUSE), MIST_EADDRINUSE);
	/* connect(2): no ephemeral port left towards that destination. */
	assert_int_equal(sock_error_from_errno(EADDRNOTAVAIL), MIST_EADDRINUSE);
}

static void every_shortage_is_enomem(void **state)
{
	assert_int_equal(sock_error_from_errno(ENOMEM), MIST_ENOMEM);
	assert_int_equal(sock_error_from_errno(ENOBUFS), MIST_ENOMEM);
	assert_int_equal(sock_error_from_errno(EMFILE), MIST_ENOMEM);
	assert_int_equal(sock_error_from_errno(ENFILE), MIST_ENOMEM);
}

static void the_rest_of_the_api_codes(void **state)
{
	assert_int_equal(sock_error_from_errno(EAGAIN), MIST_EAGAIN);
	assert_int_equal(sock_error_from_errno(EWOULDBLOCK), MIST_EAGAIN);
	assert_int_equal(sock_error_from_errno(EMSGSIZE), MIST_EMSGSIZE);
	assert_int_equal(sock_error_from_errno(ENOTCONN), MIST_ENOTCONN);
	assert_int_equal(sock_error_from_errno(EINVAL), MIST_EINVAL);
	assert_int_equal(sock_error_from_errno(ENOPROTOOPT), MIST_ENOTSUP);
	assert_int_equal(sock_error_from_errno(EOPNOTSUPP), MIST_ENOTSUP);
}

static void anything_else_is_eio(void **state)
{
	assert_int_equal(sock_error_from_errno(EBADF), MIST_EIO);
	assert_int_equal(sock_error_from_errno(EFAULT), MIST_EIO);
	assert_int_equal(sock_error_from_errno(EPROTO), MIST_EIO);
}

/* RFC 792 type 3 (destination unreachable) codes, and type 11 (time exceeded). */
static void icmp_errors_as_mist_names_them(void **state)
{
	assert_int_equal(sock_error_from_icmp(3, 3), MIST_ECONNREFUSED);  /* port */
	assert_int_equal(sock_error_from_icmp(3, 2), MIST_ECONNREFUSED);  /* protocol */
	assert_int_equal(sock_error_from_icmp(3, 4), MIST_EMSGSIZE);      /* fragmentation needed */
	assert_int_equal(sock_error_from_icmp(3, 0), MIST_EHOSTUNREACH);  /* net */
	assert_int_equal(sock_error_from_icmp(3, 1), MIST_EHOSTUNREACH);  /* host */
	assert_int_equal(sock_error_from_icmp(3, 13), MIST_EHOSTUNREACH); /* administratively */
	assert_int_equal(sock_error_from_icmp(11, 0), MIST_EHOSTUNREACH); /* TTL exceeded */
	assert_int_equal(sock_error_from_icmp(12, 0), MIST_EHOSTUNREACH); /* parameter problem */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(no_error_is_zero),
	        cmocka_unit_test(connection_endings_keep_their_names),
	        cmocka_unit_test(every_unreachable_is_ehostunreach),
	        cmocka_unit_test(ports_taken_or_exhausted_are_eaddrinuse),
	        cmocka_unit_test(every_shortage_is_enomem),
	        cmocka_unit_test(the_rest_of_the_api_codes),
	        cmocka_unit_test(anything_else_is_eio),
	        cmocka_unit_test(icmp_errors_as_mist_names_them),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
