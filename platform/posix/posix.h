/*
 * Internals of the posix platform shared between its files and the stacks
 * built on it: the epoll set that mist_plat_yield() sleeps on, to which
 * devices and sockets add their descriptors.
 */
#ifndef MIST_PLATFORM_POSIX_H
#define MIST_PLATFORM_POSIX_H

#include <stdint.h>

#include "mist/args.h"

/*
 * The network device's boot flags (netdev.c). The posix-socket target shares
 * the entry point but links no device: the reference is weak, NULL there.
 */
extern const struct mist_option posix_netdev_options[] __attribute__((weak));

/*
 * Makes mist_plat_yield() return when `fd` becomes readable; the owner polls
 * it afterwards (a device, through the loop's poller). Returns 0, or a
 * negative errno value.
 */
int posix_poll_add(int fd);

/*
 * A descriptor whose readiness is dispatched: ready() is called with the
 * epoll events (EPOLLIN, EPOLLOUT, EPOLLERR, ...) from the loop, outside any
 * fiber. It must not block nor free the watch; waking fibers is its job.
 */
struct posix_watch {
	void (*ready)(struct posix_watch *watch, uint32_t events);
};

/*
 * Watches `fd` for `events` (epoll flags, EPOLLET included if wanted),
 * calling watch->ready() each time they are reported. The watch must stay
 * valid until posix_poll_remove(fd). Returns 0, or a negative errno value.
 */
int posix_poll_watch(int fd, uint32_t events, struct posix_watch *watch);

/* Stops watching `fd`. */
void posix_poll_remove(int fd);

/*
 * Dispatches the readiness of watched descriptors without blocking, at most
 * `max` events: for the loop's poll phase, so that sockets are served in
 * turns that never sleep. Skips the check when mist_plat_yield() dispatched
 * since the last call: events newer than that are left for the next yield,
 * which follows at once if nothing is ready, so a woken fiber costs one
 * epoll call rather than two. Returns the number of events dispatched.
 */
unsigned posix_poll_dispatch(unsigned max);

/* Makes SIGTERM and SIGINT end the loop, so the program exits through boot. */
void posix_poll_catch_signals(void);

#endif
