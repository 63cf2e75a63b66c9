/*
 * The core heap. Small requests are served from power-of-two size classes
 * (32 B to 4 KiB, header included) carved out of 64 KiB chunks of platform
 * pages; freed blocks go back on their class's free list and are reused, never
 * returned to the platform. Larger requests get whole pages of their own and
 * give them back on free.
 *
 * Each block starts with a 16-byte header recording its class and a magic
 * number, so free() needs no lookup and can tell a double free or a foreign
 * pointer from a real block. The cost is 16 bytes per allocation, which the
 * objects allocated here (connections, pools, timer heaps) can afford.
 *
 * Not thread-safe: one heap per Mist instance.
 */
#include <stdint.h>

#include "base/compiler.h"
#include "base/str.h"
#include "core/asan.h"
#include "core/mem.h"
#include "core/panic.h"
#include "core/platform.h"

#define MEM_MIN_SHIFT  5  /* the smallest class: 32 bytes */
#define MEM_MAX_SHIFT  12 /* the largest class: 4096 bytes */
#define MEM_CLASSES    (MEM_MAX_SHIFT - MEM_MIN_SHIFT + 1)
#define MEM_CHUNK_SIZE (64u * 1024)
#define MEM_LARGE      0xffu /* class value of a page-backed block */

#define MEM_MAGIC_USED 0x4d495354u /* "MIST" */
#define MEM_MAGIC_FREE 0x46524545u /* "FREE" */

struct mem_header {
	uint32_t magic;
	uint32_t class; /* size class index, or MEM_LARGE */
	uint64_t size;  /* bytes of the block, header included */
};

_Static_assert(sizeof(struct mem_header) == 16, "the header keeps 16-byte alignment");

struct mem_free_block {
	struct mem_header header;
	struct mem_free_block *next;
};

static struct mem_free_block *mem_free_lists[MEM_CLASSES];
static struct mist_mem_stats mem_stats;

static unsigned mem_class_of(size_t total)
{
	unsigned shift = MEM_MIN_SHIFT;
	while (((size_t)1 << shift) < total)
		shift++;
	return shift - MEM_MIN_SHIFT;
}

/* Carves a fresh chunk into blocks of class `c`. Returns false when out of pages. */
static bool mem_refill(unsigned c)
{
	size_t block = (size_t)1 << (c + MEM_MIN_SHIFT);
	uint8_t *chunk = mist_plat_pages_alloc(MEM_CHUNK_SIZE);
	if (chunk == NULL)
		return false;
	mem_stats.bytes_reserved += MEM_CHUNK_SIZE;
	for (size_t off = 0; off + block <= MEM_CHUNK_SIZE; off += block) {
		struct mem_free_block *b = (struct mem_free_block *)(chunk + off);
		b->header.magic = MEM_MAGIC_FREE;
		b->header.class = c;
		b->header.size = block;
		b->next = mem_free_lists[c];
		mem_free_lists[c] = b;
		mist_asan_poison(b, block);
	}
	return true;
}

static void mem_account_alloc(uint64_t size)
{
	mem_stats.allocs++;
	mem_stats.bytes_in_use += size;
	if (mem_stats.bytes_in_use > mem_stats.high_water)
		mem_stats.high_water = mem_stats.bytes_in_use;
}

static void *mem_alloc_large(size_t total)
{
	size_t size = MIST_ALIGN_UP(total, (size_t)MIST_PAGE_SIZE);
	struct mem_header *h = mist_plat_pages_alloc(size);
	if (h == NULL)
		return NULL;
	mem_stats.bytes_reserved += size;
	h->magic = MEM_MAGIC_USED;
	h->class = MEM_LARGE;
	h->size = size;
	mem_account_alloc(size);
	return h + 1;
}

void *mist_alloc(size_t size)
{
	if (size > SIZE_MAX / 2) {
		mem_stats.failures++;
		return NULL;
	}
	size_t total = size + sizeof(struct mem_header);
	void *p;
	if (total > ((size_t)1 << MEM_MAX_SHIFT)) {
		p = mem_alloc_large(total);
	} else {
		unsigned c = mem_class_of(total);
		if (mem_free_lists[c] == NULL && !mem_refill(c)) {
			p = NULL;
		} else {
			struct mem_free_block *b = mem_free_lists[c];
			mist_asan_unpoison(b, sizeof(*b));
			mem_free_lists[c] = b->next;
			b->header.magic = MEM_MAGIC_USED;
			mem_account_alloc(b->header.size);
			p = &b->header + 1;
			mist_asan_unpoison(p, size);
		}
	}
	if (p == NULL)
		mem_stats.failures++;
	return p;
}

void *mist_calloc(size_t n, size_t size)
{
	if (size != 0 && n > SIZE_MAX / size) {
		mem_stats.failures++;
		return NULL;
	}
	void *p = mist_alloc(n * size);
	if (p != NULL)
		mist_memset(p, 0, n * size);
	return p;
}

void mist_free(void *p)
{
	if (p == NULL)
		return;
	struct mem_header *h = (struct mem_header *)p - 1;
	if (h->magic != MEM_MAGIC_USED) {
		MIST_MISUSE("mist_free", h->magic == MEM_MAGIC_FREE
		                                 ? "memory freed twice"
		                                 : "pointer not from mist_alloc");
		return;
	}
	mem_stats.frees++;
	mem_stats.bytes_in_use -= h->size;
	if (h->class == MEM_LARGE) {
		mem_stats.bytes_reserved -= h->size;
		h->magic = MEM_MAGIC_FREE;
		mist_plat_pages_free(h, h->size);
		return;
	}
	struct mem_free_block *b = (struct mem_free_block *)h;
	b->header.magic = MEM_MAGIC_FREE;
	b->next = mem_free_lists[h->class];
	mem_free_lists[h->class] = b;
	/* Keep the header readable so that a double free is recognised, not faulted. */
	mist_asan_poison(&b->next, b->header.size - sizeof(b->header));
}

void mist_mem_stats(struct mist_mem_stats *stats)
{
	*stats = mem_stats;
}
