/*
 * Page and fiber stack allocation for hosted Linux targets: anonymous mmap,
 * with an inaccessible guard page under each fiber stack, so that a stack
 * overflow faults instead of overwriting the neighbouring allocation.
 */
#include <sys/mman.h>

#include "core/platform.h"

void *mist_plat_pages_alloc(size_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	return p == MAP_FAILED ? NULL : p;
}

void mist_plat_pages_free(void *pages, size_t size)
{
	munmap(pages, size);
}

void *mist_plat_stack_alloc(size_t size)
{
	char *p = mmap(NULL, size + MIST_PAGE_SIZE, PROT_READ | PROT_WRITE,
	               MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	if (mprotect(p, MIST_PAGE_SIZE, PROT_NONE) != 0) {
		munmap(p, size + MIST_PAGE_SIZE);
		return NULL;
	}
	return p + MIST_PAGE_SIZE;
}

void mist_plat_stack_free(void *stack, size_t size)
{
	munmap((char *)stack - MIST_PAGE_SIZE, size + MIST_PAGE_SIZE);
}
