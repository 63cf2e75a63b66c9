/*
 * The page bitmap (page_bitmap.h). Freestanding and pure.
 */
#include <stdbool.h>

#include "page_bitmap.h"

#define WORD_BITS 64u

static bool page_used(const struct page_bitmap *bm, size_t page)
{
	return (bm->words[page / WORD_BITS] >> (page % WORD_BITS)) & 1u;
}

void page_bitmap_init(struct page_bitmap *bm, uint64_t *words, size_t pages)
{
	bm->words = words;
	bm->pages = pages;
	bm->hint = pages;
	bm->free = 0;
	for (size_t i = 0; i < (pages + WORD_BITS - 1) / WORD_BITS; i++)
		words[i] = ~(uint64_t)0;
}

void page_bitmap_set_free(struct page_bitmap *bm, size_t first, size_t count)
{
	for (size_t p = first; p < bm->pages && p - first < count; p++) {
		if (!page_used(bm, p))
			continue;
		bm->words[p / WORD_BITS] &= ~((uint64_t)1 << (p % WORD_BITS));
		bm->free++;
		if (p < bm->hint)
			bm->hint = p;
	}
}

void page_bitmap_set_used(struct page_bitmap *bm, size_t first, size_t count)
{
	for (size_t p = first; p < bm->pages && p - first < count; p++) {
		if (page_used(bm, p))
			continue;
		bm->words[p / WORD_BITS] |= (uint64_t)1 << (p % WORD_BITS);
		bm->free--;
	}
	/* The hint only has to be a lower bound; moving it up is an optimisation. */
	while (bm->hint < bm->pages && page_used(bm, bm->hint))
		bm->hint++;
}

size_t page_bitmap_alloc(struct page_bitmap *bm, size_t count)
{
	if (count == 0 || count > bm->free)
		return SIZE_MAX;
	size_t run = 0;
	for (size_t p = bm->hint; p < bm->pages; p++) {
		/* A full word cannot hold any part of a run: skip it whole. */
		if (p % WORD_BITS == 0 && bm->words[p / WORD_BITS] == ~(uint64_t)0) {
			run = 0;
			p += WORD_BITS - 1;
			continue;
		}
		if (page_used(bm, p)) {
			run = 0;
			continue;
		}
		if (++run == count) {
			size_t first = p + 1 - count;
			page_bitmap_set_used(bm, first, count);
			return first;
		}
	}
	return SIZE_MAX;
}
