/*
 * Fibers, sleeping, wait queues and timers.
 *
 * A fiber is a cooperative thread with its own stack. It runs until it
 * blocks (sleep, wait, join, I/O) or yields; nothing preempts it. All fibers
 * of an instance share one scheduler loop, so code between two blocking calls
 * runs atomically with respect to every other fiber and to protocol code.
 *
 * Timers are for event-driven code (the network stack): their callbacks run
 * in the loop's timer phase, outside any fiber, and must not block.
 *
 * Every function here acts on the scheduler of the calling instance.
 */
#ifndef MIST_FIBER_H
#define MIST_FIBER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct mist_fiber;

typedef void (*mist_fiber_fn)(void *arg);

/* Stack size used when mist_fiber_spawn() is given 0. */
#define MIST_FIBER_STACK_DEFAULT (16 * 1024)

/*
 * Creates a fiber named `name` (copied, truncated to 15 bytes) that will run
 * fn(arg) on a stack of `stack_size` bytes (0 for the default; rounded up to
 * whole pages; a guard page lies under it where the platform has them). The
 * fiber is made ready; the caller keeps running. The fiber is joinable until
 * joined or detached. Returns NULL when out of memory.
 */
struct mist_fiber *mist_fiber_spawn(const char *name, mist_fiber_fn fn, void *arg,
                                    size_t stack_size);

/* Lets every other ready fiber run once, then returns. */
void mist_fiber_yield(void);

/* Ends the calling fiber, as if its function had returned. */
_Noreturn void mist_fiber_exit(void);

/*
 * Blocks until `fiber` has ended, then frees it. At most one fiber may join a
 * given fiber, and not a detached one. Returns 0, or MIST_EINVAL when a fiber
 * joins itself or the fiber was already joined or detached.
 */
int mist_fiber_join(struct mist_fiber *fiber);

/* Lets `fiber` be freed as soon as it ends; it can no longer be joined. */
void mist_fiber_detach(struct mist_fiber *fiber);

/* The calling fiber, or NULL outside a fiber (in protocol or timer code). */
struct mist_fiber *mist_fiber_self(void);

/* The fiber's name. */
const char *mist_fiber_name(const struct mist_fiber *fiber);

/* Blocks the calling fiber until `deadline` (monotonic ns) has passed. */
void mist_sleep_until(uint64_t deadline);

/* Blocks the calling fiber for `ns` nanoseconds. */
void mist_sleep(uint64_t ns);

/*
 * A wait queue: fibers wait on it, event code wakes them. Initialise with
 * mist_waitq_init(); it needs no teardown once no fiber waits on it.
 */
struct mist_waitq {
	struct mist_fiber *head; /* FIFO of waiting fibers */
	struct mist_fiber *tail;
};

void mist_waitq_init(struct mist_waitq *q);

/*
 * Blocks the calling fiber on `q` until woken or until `deadline`
 * (MIST_FOREVER for none). Returns 0 when woken, MIST_ETIMEDOUT when the
 * deadline passed first. Must be called from a fiber.
 */
int mist_wait(struct mist_waitq *q, uint64_t deadline);

/* Makes the longest-waiting fiber on `q` ready. Returns false if none waited. */
bool mist_wake_one(struct mist_waitq *q);

/* Makes every fiber waiting on `q` ready. Returns how many there were. */
unsigned mist_wake_all(struct mist_waitq *q);

/* True if no fiber waits on `q`. */
bool mist_waitq_empty(const struct mist_waitq *q);

/*
 * A one-shot timer. Initialise with mist_timer_init(); arm and cancel as
 * often as needed; cancel it before freeing its memory.
 */
struct mist_timer {
	uint64_t deadline;
	uint32_t heap_index; /* position in the scheduler's heap; 0 when not armed */
	void (*fn)(struct mist_timer *timer);
};

void mist_timer_init(struct mist_timer *timer, void (*fn)(struct mist_timer *timer));

/*
 * Arms (or re-arms) `timer` to call its function once, in the timer phase of
 * the first loop turn at or after `deadline`. O(log n) in armed timers.
 * Returns MIST_ENOMEM if the timer heap cannot grow; the timer is then not
 * armed.
 */
int mist_timer_arm(struct mist_timer *timer, uint64_t deadline);

/* Disarms `timer` if armed. O(log n). */
void mist_timer_cancel(struct mist_timer *timer);

/* True while `timer` is armed. */
bool mist_timer_armed(const struct mist_timer *timer);

#endif
