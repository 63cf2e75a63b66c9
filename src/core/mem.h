/*
 * The core heap: small objects from size-class slabs, large ones straight
 * from platform pages, with accounting. Used by every layer below apps/ in
 * place of malloc, so that the same code runs where there is no libc.
 */
#ifndef MIST_CORE_MEM_H
#define MIST_CORE_MEM_H

#include <stddef.h>
#include <stdint.h>

struct mist_mem_stats {
	uint64_t bytes_in_use;   /* bytes handed out (rounded to their size class) */
	uint64_t high_water;     /* largest bytes_in_use seen */
	uint64_t bytes_reserved; /* bytes taken from the platform */
	uint64_t allocs;         /* allocations that succeeded */
	uint64_t frees;
	uint64_t failures; /* allocations that failed */
};

/* Returns `size` bytes aligned to 16, or NULL (counted) when out of memory. */
void *mist_alloc(size_t size);

/* Same, zeroed. Returns NULL if n * size overflows. */
void *mist_calloc(size_t n, size_t size);

/* Releases memory from mist_alloc/mist_calloc. NULL is ignored. */
void mist_free(void *p);

void mist_mem_stats(struct mist_mem_stats *stats);

#endif
