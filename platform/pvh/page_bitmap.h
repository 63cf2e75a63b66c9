/*
 * A bitmap of physical pages, one bit per 4 KiB page (set = in use or not
 * RAM), with first-fit allocation of contiguous runs: the core of the pvh
 * page allocator (pages.c), kept apart so that unit tests run it on the
 * host. Allocation scans from the lowest page that may be free, skipping
 * full 64-page words, so it costs O(pages / 64) in the worst case and
 * little when memory is mostly free: fine for the few hundred allocations a
 * unikernel makes (heap chunks, pools, fiber stacks). It keeps low
 * addresses busy first, which keeps page-table pages below 4 GiB.
 */
#ifndef MIST_PLATFORM_PVH_PAGE_BITMAP_H
#define MIST_PLATFORM_PVH_PAGE_BITMAP_H

#include <stddef.h>
#include <stdint.h>

struct page_bitmap {
	uint64_t *words; /* bit i of words[i / 64]: page i */
	size_t pages;    /* pages covered */
	size_t hint;     /* no page below this one is free */
	size_t free;     /* pages free */
};

/* The bytes of bitmap storage that `pages` pages need. */
#define PAGE_BITMAP_BYTES(pages) ((((pages) + 63) / 64) * sizeof(uint64_t))

/* Covers `pages` pages with `words` (PAGE_BITMAP_BYTES(pages)), all in use. */
void page_bitmap_init(struct page_bitmap *bm, uint64_t *words, size_t pages);

/* Marks pages [first, first + count) free or in use; clipped to the bitmap. */
void page_bitmap_set_free(struct page_bitmap *bm, size_t first, size_t count);
void page_bitmap_set_used(struct page_bitmap *bm, size_t first, size_t count);

/*
 * Finds the lowest run of `count` free pages (count >= 1), marks it in use
 * and returns its first page, or SIZE_MAX when there is none.
 */
size_t page_bitmap_alloc(struct page_bitmap *bm, size_t count);

#endif
