/*
 * Internals of the posix platform shared between its files: the epoll set
 * that mist_plat_yield() sleeps on, to which devices add their descriptors.
 */
#ifndef MIST_PLATFORM_POSIX_H
#define MIST_PLATFORM_POSIX_H

/*
 * Makes mist_plat_yield() return when `fd` becomes readable. Returns 0, or a
 * negative errno value.
 */
int posix_poll_add(int fd);

/* Stops watching `fd`. */
void posix_poll_remove(int fd);

/* Makes SIGTERM and SIGINT end the loop, so the program exits through boot. */
void posix_poll_catch_signals(void);

#endif
