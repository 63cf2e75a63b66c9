/*
 * The platform interface: what a platform (platform/<name>/) provides to the
 * core. It is deliberately small, in the spirit of Solo5's solo5.h, so that a
 * new substrate (a hypervisor, a kernel module) is a few hundred lines.
 *
 * Exactly one platform is linked into a program; its functions are called
 * directly. The platform also owns the program's entry point: it gathers its
 * boot arguments and calls mist_boot() (core/boot.h).
 *
 * Applications never include this header.
 */
#ifndef MIST_CORE_PLATFORM_H
#define MIST_CORE_PLATFORM_H

#include <stddef.h>
#include <stdint.h>

/* Monotonic clock in ns, from an arbitrary origin; never goes back. */
uint64_t mist_plat_monotonic(void);

/* Wall clock in ns since the Unix epoch. */
uint64_t mist_plat_wallclock(void);

/*
 * Blocks until the monotonic clock reaches `deadline` or until a device may
 * have work, whichever is first; may return early. The loop's only blocking
 * call. UINT64_MAX means no deadline. Returns 0, or MIST_ECANCELED when the
 * program has been asked to shut down (SIGTERM or SIGINT on Linux), after
 * which the loop stops and boot prints its counters and exits.
 */
int mist_plat_yield(uint64_t deadline);

/* Writes `len` bytes to the console. */
void mist_plat_console_write(const char *text, size_t len);

/* Fills `buf` with `len` bytes of seed entropy. Returns 0 or MIST_EIO. */
int mist_plat_entropy(void *buf, size_t len);

/* Size of a page, a power of two. */
#define MIST_PAGE_SIZE 4096u

/*
 * Allocates `size` bytes (a multiple of MIST_PAGE_SIZE) of zeroed,
 * page-aligned, non-executable memory. Returns NULL when out of memory.
 */
void *mist_plat_pages_alloc(size_t size);

/* Returns pages from mist_plat_pages_alloc(); `size` as allocated. */
void mist_plat_pages_free(void *pages, size_t size);

/*
 * Allocates a fiber stack of `size` bytes (a multiple of MIST_PAGE_SIZE)
 * with an inaccessible guard page under it where the platform can. Returns
 * the lowest usable address, or NULL when out of memory.
 */
void *mist_plat_stack_alloc(size_t size);

/* Returns a stack from mist_plat_stack_alloc(); `size` as allocated. */
void mist_plat_stack_free(void *stack, size_t size);

struct mist_args;
struct mist_netdev;
struct mist_pool;

/*
 * Opens the network device the boot arguments name (--tap on posix),
 * receiving into `rx_pool`, and applies --mac. Returns 0; MIST_ENOENT when
 * the arguments name none, so the program runs without a network; or
 * another MIST_E* code after logging why.
 */
int mist_plat_netdev_open(const struct mist_args *args, struct mist_pool *rx_pool,
                          struct mist_netdev **out);

/*
 * Wraps `lower` in a device that captures every frame to --pcap=`path`
 * (dev/pcap.h) and stores it in *out. A platform with nowhere to write a
 * capture returns MIST_ENOTSUP, and so links no capture code. Returns 0 or
 * a MIST_E* code after logging why; on failure `lower` stays the caller's.
 */
int mist_plat_capture(const char *path, struct mist_netdev *lower, struct mist_netdev **out);

/* Ends the program with `status`. */
_Noreturn void mist_plat_exit(int status);

/* Ends the program abnormally after printing `reason`; status 134 or a crash report. */
_Noreturn void mist_plat_abort(const char *reason);

#endif
