/*
 * Memory for the core and the drivers: whole pages from the RAM that the
 * loader's memory map lists above 1 MiB, less the image, tracked by a page
 * bitmap (page_bitmap.h) placed right after the image. Fiber stacks get an
 * unmapped guard page under them (paging.c), so that an overflow faults
 * with a crash report instead of overwriting the neighbouring allocation.
 *
 * Memory below 1 MiB is left alone: it holds the loader's tables and the
 * firmware, and is not even mapped, so that a wild pointer there faults.
 */
#include "base/compiler.h"
#include "base/str.h"
#include "core/platform.h"
#include "page_bitmap.h"
#include "pvh.h"
#include "pvh_internal.h"

#define PAGES_LOW_LIMIT 0x100000ull /* below this, the firmware's */
/* RAM above this is not used: the bitmap for it would cost 2 MiB. */
#define PAGES_RAM_LIMIT (64ull << 30)

static struct page_bitmap pages_bm;

static size_t pages_of(size_t bytes)
{
	return (bytes + PVH_PAGE_SIZE - 1) / PVH_PAGE_SIZE;
}

void pvh_pages_init(const struct pvh_memmap *map)
{
	uint64_t top = 0;
	for (unsigned i = 0; i < map->count; i++) {
		const struct hvm_memmap_table_entry *e = &map->entries[i];
		if (e->type == HVM_MEMMAP_TYPE_RAM && e->addr + e->size > top)
			top = e->addr + e->size;
	}
	top = MIST_MIN(top, PAGES_RAM_LIMIT) & ~(uint64_t)(PVH_PAGE_SIZE - 1);
	size_t pages = (size_t)(top / PVH_PAGE_SIZE);
	uintptr_t bitmap = MIST_ALIGN_UP((uintptr_t)__image_end, (uintptr_t)PVH_PAGE_SIZE);
	uintptr_t bitmap_end =
	        MIST_ALIGN_UP(bitmap + PAGE_BITMAP_BYTES(pages), (uintptr_t)PVH_PAGE_SIZE);

	page_bitmap_init(&pages_bm, (uint64_t *)bitmap, pages);
	for (unsigned i = 0; i < map->count; i++) {
		const struct hvm_memmap_table_entry *e = &map->entries[i];
		if (e->type != HVM_MEMMAP_TYPE_RAM || e->addr + e->size <= PAGES_LOW_LIMIT)
			continue;
		uint64_t start = MIST_MAX(e->addr, PAGES_LOW_LIMIT);
		uint64_t first = (start + PVH_PAGE_SIZE - 1) / PVH_PAGE_SIZE;
		uint64_t end = (e->addr + e->size) / PVH_PAGE_SIZE;
		if (end > first)
			page_bitmap_set_free(&pages_bm, (size_t)first, (size_t)(end - first));
	}
	/* The bitmap was written before it was known to lie in RAM: check now. */
	size_t image_first = (uintptr_t)__image_start / PVH_PAGE_SIZE;
	size_t image_pages = (bitmap_end / PVH_PAGE_SIZE) - image_first;
	size_t free_before = pages_bm.free;
	page_bitmap_set_used(&pages_bm, image_first, image_pages);
	if (free_before - pages_bm.free != image_pages)
		pvh_crash("the memory map does not list the image and the page bitmap as RAM");
}

uintptr_t pvh_pages_take(size_t count)
{
	size_t first = page_bitmap_alloc(&pages_bm, count);
	return first == SIZE_MAX ? 0 : (uintptr_t)first * PVH_PAGE_SIZE;
}

void pvh_pages_give(uintptr_t addr, size_t count)
{
	page_bitmap_set_free(&pages_bm, addr / PVH_PAGE_SIZE, count);
}

void *mist_plat_pages_alloc(size_t size)
{
	size_t count = pages_of(size);
	uintptr_t addr = pvh_pages_take(count);
	if (addr == 0)
		return NULL;
	mist_memset((void *)addr, 0, count * PVH_PAGE_SIZE);
	return (void *)addr;
}

void mist_plat_pages_free(void *pages, size_t size)
{
	pvh_pages_give((uintptr_t)pages, pages_of(size));
}

void *mist_plat_stack_alloc(size_t size)
{
	size_t count = pages_of(size) + 1;
	uintptr_t guard = pvh_pages_take(count);
	if (guard == 0)
		return NULL;
	if (pvh_paging_guard(guard) != 0) {
		pvh_pages_give(guard, count);
		return NULL;
	}
	return (void *)(guard + PVH_PAGE_SIZE);
}

void mist_plat_stack_free(void *stack, size_t size)
{
	uintptr_t guard = (uintptr_t)stack - PVH_PAGE_SIZE;
	pvh_paging_unguard(guard);
	pvh_pages_give(guard, pages_of(size) + 1);
}

void *pvh_dma_alloc(size_t bytes)
{
	return mist_plat_pages_alloc(bytes);
}
