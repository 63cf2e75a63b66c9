/*
 * The posix platform's idle wait: one epoll set holding every device and
 * socket descriptor, slept on by mist_plat_yield() until the next deadline.
 * The set is created on first use, so a program without devices pays nothing
 * for it. A device's descriptor only wakes the wait (the loop polls the device
 * afterwards); a watched descriptor (posix_poll_watch) also has its events
 * handed to its watch, from the wait or from posix_poll_dispatch(). SIGTERM
 * and SIGINT interrupt the wait and make it report a shutdown request.
 */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "core/platform.h"
#include "mist/mist.h"
#include "posix.h"

/* Events taken per epoll call; more stay queued in the kernel for the next call. */
#define POLL_EVENTS_MAX 64

static int poll_fd = -1;

/* mist_plat_yield() dispatched events since posix_poll_dispatch() last ran. */
static bool poll_yield_dispatched;

/* Set by SIGTERM and SIGINT: the loop should stop and the program end cleanly. */
static volatile sig_atomic_t poll_stop_requested;

static int poll_open(void)
{
	if (poll_fd < 0)
		poll_fd = epoll_create1(EPOLL_CLOEXEC);
	return poll_fd < 0 ? -errno : 0;
}

int posix_poll_add(int fd)
{
	int err = poll_open();
	if (err != 0)
		return err;
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
	return epoll_ctl(poll_fd, EPOLL_CTL_ADD, fd, &ev) == 0 ? 0 : -errno;
}

int posix_poll_watch(int fd, uint32_t events, struct posix_watch *watch)
{
	int err = poll_open();
	if (err != 0)
		return err;
	struct epoll_event ev = {.events = events, .data.ptr = watch};
	return epoll_ctl(poll_fd, EPOLL_CTL_ADD, fd, &ev) == 0 ? 0 : -errno;
}

void posix_poll_remove(int fd)
{
	if (poll_fd >= 0)
		epoll_ctl(poll_fd, EPOLL_CTL_DEL, fd, NULL);
}

/*
 * Hands the events to their watches. A watch never frees itself nor another
 * (posix.h), so every pointer in `events` stays valid through the batch.
 */
static void poll_dispatch_events(const struct epoll_event *events, int n)
{
	for (int i = 0; i < n; i++) {
		struct posix_watch *w = events[i].data.ptr;
		if (w != NULL)
			w->ready(w, events[i].events);
	}
}

unsigned posix_poll_dispatch(unsigned max)
{
	struct epoll_event events[POLL_EVENTS_MAX];
	if (poll_fd < 0)
		return 0;
	if (poll_yield_dispatched) {
		poll_yield_dispatched = false;
		return 0;
	}
	int n = epoll_wait(poll_fd, events, max < POLL_EVENTS_MAX ? (int)max : POLL_EVENTS_MAX, 0);
	if (n <= 0)
		return 0;
	poll_dispatch_events(events, n);
	return (unsigned)n;
}

/* Sleeps until `deadline`, rounding the timeout up so we never wake early and spin. */
static void poll_sleep(uint64_t deadline)
{
	struct timespec ts = {.tv_sec = (time_t)(deadline / 1000000000u),
	                      .tv_nsec = (long)(deadline % 1000000000u)};
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR &&
	       !poll_stop_requested)
		;
}

static void poll_on_signal(int sig)
{
	poll_stop_requested = 1;
}

void posix_poll_catch_signals(void)
{
	struct sigaction sa = {.sa_handler = poll_on_signal};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
}

int mist_plat_yield(uint64_t deadline)
{
	if (poll_stop_requested)
		return MIST_ECANCELED;
	uint64_t now = mist_plat_monotonic();
	if (deadline <= now)
		return 0;
	if (poll_fd < 0) {
		if (deadline != UINT64_MAX)
			poll_sleep(deadline);
		else
			pause();
		return poll_stop_requested ? MIST_ECANCELED : 0;
	}
	struct timespec timeout = {.tv_sec = (time_t)((deadline - now) / 1000000000u),
	                           .tv_nsec = (long)((deadline - now) % 1000000000u)};
	struct epoll_event events[POLL_EVENTS_MAX];
	/*
	 * Devices are polled by the loop afterwards; watches get their events
	 * now. epoll_pwait2 takes the timeout in ns, so timers are not rounded
	 * to ms.
	 */
	int n = epoll_pwait2(poll_fd, events, POLL_EVENTS_MAX,
	                     deadline == UINT64_MAX ? NULL : &timeout, NULL);
	if (n > 0) {
		poll_dispatch_events(events, n);
		poll_yield_dispatched = true;
	}
	return poll_stop_requested ? MIST_ECANCELED : 0;
}
