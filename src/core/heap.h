/*
 * An intrusive binary min-heap of timers keyed by deadline, header-only. The
 * heap holds pointers to struct mist_timer and stores each timer's position
 * in its heap_index field, 1-based, so that 0 can mean "not in the heap" and
 * a timer is removed from the middle in O(log n) without a search. It is not
 * a timer service: it never reads the clock or calls a timer's function
 * (core/timer.c does). Its array is grown with mist_alloc (core/mem.h).
 *
 * Timers with equal deadlines come out in an unspecified (but deterministic)
 * order: a stable order would need a sequence number in every timer.
 */
#ifndef MIST_CORE_HEAP_H
#define MIST_CORE_HEAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/str.h"
#include "core/mem.h"
#include "mist/fiber.h"
#include "mist/mist.h"

/* Smallest array allocated, in timers: growth below it is not worth a copy. */
#define MIST_HEAP_MIN_CAP 64u

/* Largest capacity; keeps 2 * index (the first child) within uint32_t. */
#define MIST_HEAP_MAX_CAP (UINT32_MAX / 2u)

struct mist__timer_heap {
	struct mist_timer **slot; /* slot[1..len]; slot[0] is unused */
	uint32_t len;             /* timers in the heap */
	uint32_t cap;             /* usable slots (the array has cap + 1) */
};

static inline void mist__heap_place(struct mist__timer_heap *h, uint32_t i, struct mist_timer *t)
{
	h->slot[i] = t;
	t->heap_index = i;
}

/* Moves `t` from the hole at `i` towards the root until its parent is earlier. */
static inline void mist__heap_sift_up(struct mist__timer_heap *h, uint32_t i, struct mist_timer *t)
{
	while (i > 1) {
		struct mist_timer *parent = h->slot[i / 2];
		if (parent->deadline <= t->deadline)
			break;
		mist__heap_place(h, i, parent);
		i /= 2;
	}
	mist__heap_place(h, i, t);
}

/* Moves `t` from the hole at `i` towards the leaves until no child is earlier. */
static inline void mist__heap_sift_down(struct mist__timer_heap *h, uint32_t i,
                                        struct mist_timer *t)
{
	for (;;) {
		uint32_t child = 2 * i;
		if (child > h->len)
			break;
		if (child < h->len && h->slot[child + 1]->deadline < h->slot[child]->deadline)
			child++;
		if (t->deadline <= h->slot[child]->deadline)
			break;
		mist__heap_place(h, i, h->slot[child]);
		i = child;
	}
	mist__heap_place(h, i, t);
}

/* Restores the order around position `i` after its timer's deadline changed. */
static inline void mist__heap_fix(struct mist__timer_heap *h, uint32_t i, struct mist_timer *t)
{
	if (i > 1 && t->deadline < h->slot[i / 2]->deadline)
		mist__heap_sift_up(h, i, t);
	else
		mist__heap_sift_down(h, i, t);
}

/*
 * Makes room for `need` timers. Returns 0, or MIST_ENOMEM (nothing changed).
 * The array doubles, so that growth costs amortised O(1) per insertion; it
 * never shrinks: its size is the high-water mark of timers armed, which the
 * application bounds.
 */
static inline int mist__heap_reserve(struct mist__timer_heap *h, uint64_t need)
{
	if (need <= h->cap)
		return 0;
	if (need > MIST_HEAP_MAX_CAP)
		return MIST_ENOMEM;
	uint64_t cap = h->cap < MIST_HEAP_MIN_CAP ? MIST_HEAP_MIN_CAP : 2 * (uint64_t)h->cap;
	if (cap < need)
		cap = need;
	if (cap > MIST_HEAP_MAX_CAP)
		cap = MIST_HEAP_MAX_CAP;
	struct mist_timer **slot = mist_alloc(((size_t)cap + 1) * sizeof(*slot));
	if (slot == NULL)
		return MIST_ENOMEM;
	if (h->len > 0)
		mist_memcpy(slot + 1, h->slot + 1, (size_t)h->len * sizeof(*slot));
	mist_free(h->slot);
	h->slot = slot;
	h->cap = (uint32_t)cap;
	return 0;
}

/* Releases the array; the heap must be empty. */
static inline void mist__heap_free(struct mist__timer_heap *h)
{
	mist_free(h->slot);
	h->slot = NULL;
	h->cap = 0;
}

/* Adds `t` (not in the heap, with its deadline set). Needs len < cap. */
static inline void mist__heap_insert(struct mist__timer_heap *h, struct mist_timer *t)
{
	mist__heap_sift_up(h, ++h->len, t);
}

/* Removes `t`, which is in the heap: the last timer fills its hole. */
static inline void mist__heap_remove(struct mist__timer_heap *h, struct mist_timer *t)
{
	uint32_t i = t->heap_index;
	struct mist_timer *last = h->slot[h->len--];
	t->heap_index = 0;
	if (last != t)
		mist__heap_fix(h, i, last);
}

/* The earliest timer, or NULL when the heap is empty. */
static inline struct mist_timer *mist__heap_top(const struct mist__timer_heap *h)
{
	return h->len > 0 ? h->slot[1] : NULL;
}

#endif
