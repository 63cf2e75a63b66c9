/*
 * The core heap: alignment, reuse of freed blocks, page-backed large blocks,
 * accounting, overflow-safe calloc, and the misuse checks on free.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "misuse.h"

#include "core/mem.h"

static uint64_t in_use(void)
{
	struct mist_mem_stats s;
	mist_mem_stats(&s);
	return s.bytes_in_use;
}

static void mem_blocks_are_aligned_and_writable(void **state)
{
	uint64_t before = in_use();
	void *p[64];
	for (size_t i = 0; i < 64; i++) {
		size_t size = i * 97 + 1; /* from 1 byte to past the largest class */
		p[i] = mist_alloc(size);
		assert_non_null(p[i]);
		assert_int_equal((uintptr_t)p[i] % 16, 0);
		memset(p[i], (int)i, size);
	}
	for (size_t i = 0; i < 64; i++) {
		uint8_t *b = p[i];
		assert_int_equal(b[0], (uint8_t)i);
		assert_int_equal(b[i * 97], (uint8_t)i);
		mist_free(p[i]);
	}
	assert_int_equal(in_use(), before);
}

static void mem_freed_block_is_reused(void **state)
{
	void *a = mist_alloc(100);
	mist_free(a);
	void *b = mist_alloc(100);
	assert_ptr_equal(a, b);
	mist_free(b);
}

static void mem_large_blocks_come_from_pages(void **state)
{
	struct mist_mem_stats before, during, after;
	mist_mem_stats(&before);
	uint8_t *p = mist_alloc(1 << 20);
	assert_non_null(p);
	memset(p, 0xab, 1 << 20);
	mist_mem_stats(&during);
	assert_true(during.bytes_reserved >= before.bytes_reserved + (1 << 20));
	assert_true(during.high_water >= during.bytes_in_use);
	mist_free(p);
	mist_mem_stats(&after);
	assert_int_equal(after.bytes_reserved, before.bytes_reserved);
	assert_int_equal(after.bytes_in_use, before.bytes_in_use);
	assert_int_equal(after.frees, before.frees + 1);
}

static void mem_calloc_zeroes_and_checks_overflow(void **state)
{
	uint8_t *p = mist_calloc(10, 30);
	assert_non_null(p);
	for (int i = 0; i < 300; i++)
		assert_int_equal(p[i], 0);
	mist_free(p);

	struct mist_mem_stats before, after;
	mist_mem_stats(&before);
	assert_null(mist_calloc(SIZE_MAX / 2, 4));
	assert_null(mist_alloc(SIZE_MAX - 8));
	mist_mem_stats(&after);
	assert_int_equal(after.failures, before.failures + 2);
}

static void mem_free_null_is_ignored(void **state)
{
	uint64_t before = in_use();
	mist_free(NULL);
	assert_int_equal(in_use(), before);
}

static void free_twice(void)
{
	void *p = mist_alloc(40);
	mist_free(p);
	mist_free(p);
}

static void mem_double_free_stops_with_message(void **state)
{
	assert_misuse_aborts(free_twice, "mist_free: memory freed twice");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(mem_blocks_are_aligned_and_writable),
	        cmocka_unit_test(mem_freed_block_is_reused),
	        cmocka_unit_test(mem_large_blocks_come_from_pages),
	        cmocka_unit_test(mem_calloc_zeroes_and_checks_overflow),
	        cmocka_unit_test(mem_free_null_is_ignored),
	        cmocka_unit_test(mem_double_free_stops_with_message),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
