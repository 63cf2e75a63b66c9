/*
 * The scheduler: one loop per Mist instance, which runs fibers, polls
 * devices, fires timers and flushes transmit queues (see sched.c for the
 * order). The public side (fibers, sleep, wait queues, timers) is in
 * include/mist/fiber.h; this header is for the code that owns the loop: boot,
 * the network stack, tests.
 */
#ifndef MIST_CORE_SCHED_H
#define MIST_CORE_SCHED_H

#include <stdbool.h>
#include <stdint.h>

struct mist_sched;

/*
 * Something the loop polls each turn, such as a network device feeding the
 * stack. poll() handles at most `budget` units of work and returns how many it
 * handled; flush() pushes out what the turn queued. Either may be NULL.
 */
struct mist_poller {
	struct mist_poller *next;
	unsigned (*poll)(struct mist_poller *poller, unsigned budget);
	void (*flush)(struct mist_poller *poller);
};

struct mist_sched_stats {
	uint32_t fibers;   /* fibers alive, including zombies not yet joined */
	uint32_t ready;    /* fibers on the run queue */
	uint32_t timers;   /* timers armed */
	uint64_t switches; /* context switches into fibers */
	uint64_t turns;    /* loop turns */
};

/*
 * Creates a scheduler and makes it the current one of this instance. Only one
 * exists at a time. Returns NULL when out of memory.
 */
struct mist_sched *mist_sched_create(void);

/*
 * Destroys the scheduler and frees the fibers that ended without being
 * joined. Returns MIST_EBUSY, destroying nothing, while a fiber has not ended
 * or a timer is armed.
 */
int mist_sched_destroy(struct mist_sched *sched);

/*
 * Runs the loop until no fiber and no armed timer is left, or until
 * mist_sched_stop() is called. Must not be called from a fiber.
 */
void mist_sched_run(struct mist_sched *sched);

/* Makes mist_sched_run() return after the current turn. */
void mist_sched_stop(struct mist_sched *sched);

/*
 * Keeps the loop running without a fiber or a timer, for something that
 * input may bring work to (a listener), until the matching release.
 */
void mist_sched_hold(struct mist_sched *sched);
void mist_sched_release(struct mist_sched *sched);

/* Adds or removes a poller; the scheduler does not own it. */
void mist_sched_add_poller(struct mist_sched *sched, struct mist_poller *poller);
void mist_sched_remove_poller(struct mist_sched *sched, struct mist_poller *poller);

void mist_sched_stats(const struct mist_sched *sched, struct mist_sched_stats *stats);

/* The current scheduler, or NULL. */
struct mist_sched *mist_sched_current(void);

#endif
