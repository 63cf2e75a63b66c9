/*
 * The final page tables: an identity map (virtual == physical) with W^X.
 *
 *   below 1 MiB           unmapped, page 0 included: NULL and small
 *                         offsets from it fault
 *   image text            read + execute
 *   image rodata          read only, not executable
 *   image data and bss    read-write, not executable
 *   other RAM             read-write, not executable
 *   guard pages           unmapped, marked with a software bit so that a
 *                         fault there reads "stack overflow"
 *   device registers      read-write, uncached, not executable (on request)
 *
 * RAM is mapped with 2 MiB pages where a whole aligned 2 MiB fits, with
 * 4 KiB pages elsewhere (the image, the edges of RAM, pages split to make a
 * guard page). Table pages come from the page allocator. CR0.WP is set in
 * entry.S, so that the kernel, too, faults on writing read-only pages.
 * x86-64 paging is described in the Intel SDM vol. 3A, chapter 4.5.
 */
#include "base/compiler.h"
#include "base/str.h"
#include "cpu.h"
#include "mist/mist.h"
#include "pvh.h"
#include "pvh_internal.h"

#define PTE_PRESENT (1ull << 0)
#define PTE_WRITE   (1ull << 1)
#define PTE_PWT     (1ull << 3) /* write-through */
#define PTE_PCD     (1ull << 4) /* cache disable: with PWT, uncached (UC) under the default PAT */
#define PTE_LARGE   (1ull << 7) /* a 2 MiB page, in a page directory entry */
#define PTE_GUARD   (1ull << 9) /* ignored by the CPU: this page is a guard page */
#define PTE_NX      (1ull << 63)
#define PTE_ADDR    0x000ffffffffff000ull

#define LARGE_PAGE_SIZE (2ull << 20)
#define EARLY_MAP_LIMIT (4ull << 30) /* what entry.S's provisional tables map */
#define LEVEL_ENTRIES   512
#define LOW_LIMIT       0x100000ull

/* The shift of the address bits that index each level: PML4, PDPT, PD, PT. */
static const unsigned level_shift[4] = {39, 30, 21, 12};

static uint64_t *paging_pml4;
static const struct pvh_memmap *paging_map; /* what is RAM, for pvh_map_mmio() */
static uint64_t pte_nx;  /* PTE_NX when the CPU supports it; the bit is reserved otherwise */
static bool paging_live; /* the tables are in CR3: changes need a TLB invalidation */

static unsigned pte_index(uintptr_t addr, unsigned level)
{
	return (addr >> level_shift[level]) & (LEVEL_ENTRIES - 1);
}

static uint64_t *table_alloc(void)
{
	uintptr_t page = pvh_pages_take(1);
	if (page != 0)
		mist_memset((void *)page, 0, PVH_PAGE_SIZE);
	return (uint64_t *)page;
}

/*
 * The table that `*entry` (at `level`, on the way to `addr`) points to,
 * created empty or split from a 2 MiB page, whose mapping it then repeats
 * with 4 KiB pages. NULL when out of memory.
 */
static uint64_t *table_below(uint64_t *entry, unsigned level, uintptr_t addr)
{
	if ((*entry & PTE_PRESENT) != 0 && (*entry & PTE_LARGE) == 0)
		return (uint64_t *)(uintptr_t)(*entry & PTE_ADDR);
	uint64_t *table = table_alloc();
	if (table == NULL)
		return NULL;
	if ((*entry & PTE_LARGE) != 0) {
		uint64_t flags = *entry & ~(PTE_ADDR | PTE_LARGE);
		uint64_t base = *entry & PTE_ADDR;
		uint64_t step = 1ull << level_shift[level + 1];
		for (unsigned i = 0; i < LEVEL_ENTRIES; i++)
			table[i] = (base + i * step) | flags;
	}
	/* Permissions are decided at the leaves; the levels above allow everything. */
	*entry = (uintptr_t)table | PTE_PRESENT | PTE_WRITE;
	/* Drops the TLB entry of a split 2 MiB page, and every paging-structure cache. */
	if (paging_live)
		invlpg(addr);
	return table;
}

/* The entry at `level` (2: PD, 3: PT) for `addr`, creating tables down to it. */
static uint64_t *entry_for(uintptr_t addr, unsigned level)
{
	uint64_t *table = paging_pml4;
	for (unsigned l = 0; l < level; l++) {
		table = table_below(&table[pte_index(addr, l)], l, addr);
		if (table == NULL)
			return NULL;
	}
	return &table[pte_index(addr, level)];
}

static int map_range(uint64_t start, uint64_t end, uint64_t flags)
{
	uint64_t addr = start;
	while (addr < end) {
		uint64_t *entry;
		if (addr % LARGE_PAGE_SIZE == 0 && end - addr >= LARGE_PAGE_SIZE) {
			entry = entry_for(addr, 2);
			if (entry == NULL)
				return MIST_ENOMEM;
			/* A 4 KiB table already there keeps its finer mappings. */
			if ((*entry & PTE_PRESENT) == 0 || (*entry & PTE_LARGE) != 0) {
				*entry = addr | flags | PTE_LARGE;
				if (paging_live)
					invlpg(addr);
				addr += LARGE_PAGE_SIZE;
				continue;
			}
		}
		entry = entry_for(addr, 3);
		if (entry == NULL)
			return MIST_ENOMEM;
		*entry = addr | flags;
		if (paging_live)
			invlpg(addr);
		addr += PVH_PAGE_SIZE;
	}
	return 0;
}

/* The leaf entry that maps `addr`, or NULL when a level above it is absent. */
static uint64_t *leaf_of(uintptr_t addr)
{
	uint64_t *table = paging_pml4;
	for (unsigned l = 0; l < 4; l++) {
		uint64_t *entry = &table[pte_index(addr, l)];
		if (l == 3 || (*entry & PTE_LARGE) != 0)
			return entry;
		if ((*entry & PTE_PRESENT) == 0)
			return NULL;
		table = (uint64_t *)(uintptr_t)(*entry & PTE_ADDR);
	}
	return NULL;
}

/* Maps RAM [start, end) as data, leaving out what lies below 1 MiB and the image. */
static void map_ram(uint64_t start, uint64_t end)
{
	uint64_t image_start = (uintptr_t)__image_start & ~(uint64_t)(PVH_PAGE_SIZE - 1);
	uint64_t image_end = (uintptr_t)__image_end;
	uint64_t data = PTE_PRESENT | PTE_WRITE | pte_nx;
	int err = 0;

	start = MIST_ALIGN_UP(MIST_MAX(start, LOW_LIMIT), (uint64_t)PVH_PAGE_SIZE);
	end &= ~(uint64_t)(PVH_PAGE_SIZE - 1);
	if (start < MIST_MIN(end, image_start))
		err |= map_range(start, MIST_MIN(end, image_start), data);
	if (MIST_MAX(start, image_end) < end)
		err |= map_range(MIST_MAX(start, image_end), end, data);
	if (err != 0)
		pvh_crash("out of memory for the page tables");
}

void pvh_paging_init(const struct pvh_memmap *map)
{
	if ((cpuid(0x80000001, 0).edx & CPUID_EXT_EDX_NX) != 0)
		pte_nx = PTE_NX;
	paging_map = map;
	paging_pml4 = table_alloc();
	if (paging_pml4 == NULL)
		pvh_crash("out of memory for the page tables");
	for (unsigned i = 0; i < map->count; i++)
		if (map->entries[i].type == HVM_MEMMAP_TYPE_RAM)
			map_ram(map->entries[i].addr, map->entries[i].addr + map->entries[i].size);

	uint64_t image_start = (uintptr_t)__image_start & ~(uint64_t)(PVH_PAGE_SIZE - 1);
	if (map_range(image_start, (uintptr_t)__text_end, PTE_PRESENT) != 0 ||
	    map_range((uintptr_t)__text_end, (uintptr_t)__rodata_end, PTE_PRESENT | pte_nx) != 0 ||
	    map_range((uintptr_t)__rodata_end, (uintptr_t)__image_end,
	              PTE_PRESENT | PTE_WRITE | pte_nx) != 0 ||
	    pvh_paging_guard((uintptr_t)pvh_boot_stack_guard) != 0 ||
	    pvh_paging_guard((uintptr_t)pvh_exception_stack_guard) != 0)
		pvh_crash("out of memory for the page tables");
	write_cr3((uintptr_t)paging_pml4);
	paging_live = true;
}

int pvh_paging_guard(uintptr_t addr)
{
	uint64_t *entry = entry_for(addr, 3);
	if (entry == NULL)
		return MIST_ENOMEM;
	*entry = PTE_GUARD;
	if (paging_live)
		invlpg(addr);
	return 0;
}

void pvh_paging_unguard(uintptr_t addr)
{
	uint64_t *entry = leaf_of(addr);
	if (entry == NULL || (*entry & PTE_GUARD) == 0)
		pvh_crash("pvh_paging_unguard: not a guard page");
	*entry = addr | PTE_PRESENT | PTE_WRITE | pte_nx;
	invlpg(addr);
}

bool pvh_paging_mapped(uintptr_t addr)
{
	if (!paging_live)
		return addr < EARLY_MAP_LIMIT;
	const uint64_t *entry = leaf_of(addr);
	return entry != NULL && (*entry & PTE_PRESENT) != 0;
}

bool pvh_paging_is_guard(uintptr_t addr)
{
	if (!paging_live)
		return false;
	const uint64_t *entry = leaf_of(addr);
	return entry != NULL && (*entry & (PTE_PRESENT | PTE_GUARD)) == PTE_GUARD;
}

/* True if [base, end) meets RAM from the memory map or the image. */
static bool overlaps_memory(const struct pvh_memmap *map, uint64_t base, uint64_t end)
{
	if (base < (uintptr_t)__image_end && (uintptr_t)__image_start < end)
		return true;
	for (unsigned i = 0; i < map->count; i++) {
		const struct hvm_memmap_table_entry *e = &map->entries[i];
		if (e->type == HVM_MEMMAP_TYPE_RAM && base < e->addr + e->size && e->addr < end)
			return true;
	}
	return false;
}

int pvh_map_mmio(uint64_t base, uint64_t size)
{
	uint64_t start = base & ~(uint64_t)(PVH_PAGE_SIZE - 1);
	if (size == 0 || base + size < base || overlaps_memory(paging_map, base, base + size))
		return MIST_EINVAL;
	uint64_t end = MIST_ALIGN_UP(base + size, (uint64_t)PVH_PAGE_SIZE);
	/* Device registers take 4 KiB pages: a 2 MiB one could cover RAM as uncached. */
	for (uint64_t addr = start; addr < end; addr += PVH_PAGE_SIZE) {
		uint64_t *entry = entry_for(addr, 3);
		if (entry == NULL)
			return MIST_ENOMEM;
		*entry = addr | PTE_PRESENT | PTE_WRITE | PTE_PCD | PTE_PWT | pte_nx;
		if (paging_live)
			invlpg(addr);
	}
	return 0;
}
