/*
 * The Mist application interface.
 *
 * An application includes this one header and defines mist_main(). Everything
 * it may call is declared in the headers included at the end; nothing in them
 * depends on the platform or on which network stack the build links.
 *
 * Error policy: every function that can fail returns a negative MIST_E* code
 * (or NULL where it returns a pointer, with the reason stated in its contract).
 * A function that fails never calls the callback it was given. Misuse that can
 * only be a programming error (freeing a buffer twice, a fiber joining itself)
 * stops a debug build with a message naming the call; a release build returns
 * MIST_EINVAL where the function returns an int.
 */
#ifndef MIST_MIST_H
#define MIST_MIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum mist_error {
	MIST_OK = 0,
	MIST_ENOMEM = -1,        /* out of memory, or a pool is exhausted */
	MIST_EINVAL = -2,        /* an argument is invalid */
	MIST_ETIMEDOUT = -3,     /* the deadline passed first */
	MIST_EAGAIN = -4,        /* nothing available now; try again later */
	MIST_ERANGE = -5,        /* offset or length outside a buffer */
	MIST_EBUSY = -6,         /* the object is still in use */
	MIST_ENOENT = -7,        /* no such object */
	MIST_ECANCELED = -8,     /* the operation was cancelled */
	MIST_EADDRINUSE = -9,    /* the address or port is taken */
	MIST_ECONNREFUSED = -10, /* the peer refused the connection */
	MIST_ECONNRESET = -11,   /* the peer reset the connection */
	MIST_ENOTCONN = -12,     /* the connection is not established */
	MIST_EPIPE = -13,        /* writing after shutdown or close */
	MIST_EHOSTUNREACH = -14, /* no route to the host, or it did not answer */
	MIST_EMSGSIZE = -15,     /* the message is too large */
	MIST_EIO = -16,          /* a device failed */
	MIST_ENOTSUP = -17,      /* not supported by this target */
};

/* Returns a short English description of a MIST_E* code; never NULL. */
const char *mist_strerror(int err);

/* Time is unsigned nanoseconds on the monotonic clock. */
typedef uint64_t mist_time_t;
#define MIST_USEC    ((mist_time_t)1000)
#define MIST_MSEC    ((mist_time_t)1000000)
#define MIST_SEC     ((mist_time_t)1000000000)
#define MIST_FOREVER UINT64_MAX /* a deadline that never passes */

/* Returns the monotonic time in ns (virtual time under the sim target). */
mist_time_t mist_now(void);

/* Returns the wall clock in ns since the Unix epoch. */
uint64_t mist_wallclock(void);

/* Ends the program with `status` (0..255) after flushing the log. */
_Noreturn void mist_exit(int status);

struct mist_args;
struct mist_stack;

/* What an application is given. */
struct mist_env {
	const struct mist_args *args; /* the parsed boot arguments */
	struct mist_stack *net;       /* the network, or NULL on a target without one */
};

/*
 * Defined by the application. It runs in the first fiber and may block. It
 * returns 0, after which the program runs until no fiber and no timer is
 * left; or a negative MIST_E* code, which is logged and ends the program
 * with status 1.
 */
int mist_main(struct mist_env *env);

#include <mist/args.h>
#include <mist/buf.h>
#include <mist/fiber.h>
#include <mist/flow.h>
#include <mist/log.h>
#include <mist/net.h>
#include <mist/rng.h>
#include <mist/sha256.h>
#include <mist/udp.h>

#endif
