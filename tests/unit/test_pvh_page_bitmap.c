/*
 * Unit tests for the pvh page allocator's bitmap
 * (platform/pvh/page_bitmap.c), run on the host: a new bitmap has nothing
 * free; freed ranges are allocated lowest first, as contiguous runs that
 * skip holes too small for them and cross 64-page words; freed pages are
 * reused; a request larger than any run fails without changing anything;
 * ranges are clipped to the bitmap; the free count follows every change.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "../../platform/pvh/page_bitmap.c"

#define PAGES 1000

static uint64_t words[PAGE_BITMAP_BYTES(PAGES) / sizeof(uint64_t)];
static struct page_bitmap bm;

static int setup(void **state)
{
	page_bitmap_init(&bm, words, PAGES);
	return 0;
}

static void a_new_bitmap_has_nothing_free(void **state)
{
	assert_int_equal(bm.free, 0);
	assert_int_equal(page_bitmap_alloc(&bm, 1), SIZE_MAX);
	assert_int_equal(sizeof(words), 16 * sizeof(uint64_t));
}

static void allocation_is_lowest_first_and_contiguous(void **state)
{
	page_bitmap_set_free(&bm, 10, 100);
	assert_int_equal(bm.free, 100);
	assert_int_equal(page_bitmap_alloc(&bm, 1), 10);
	assert_int_equal(page_bitmap_alloc(&bm, 3), 11);
	assert_int_equal(bm.free, 96);
	/* 14..19 is a hole of 6 once 20 is taken: a run of 10 must start after it. */
	page_bitmap_set_used(&bm, 20, 1);
	assert_int_equal(page_bitmap_alloc(&bm, 10), 21);
	assert_int_equal(page_bitmap_alloc(&bm, 6), 14);
	assert_int_equal(bm.free, 79);
}

static void freed_pages_are_reused(void **state)
{
	page_bitmap_set_free(&bm, 100, 50);
	assert_int_equal(page_bitmap_alloc(&bm, 50), 100);
	page_bitmap_set_free(&bm, 120, 5);
	assert_int_equal(page_bitmap_alloc(&bm, 2), 120);
	assert_int_equal(page_bitmap_alloc(&bm, 3), 122);
	assert_int_equal(page_bitmap_alloc(&bm, 1), SIZE_MAX);
}

static void runs_cross_word_boundaries(void **state)
{
	page_bitmap_set_free(&bm, 60, 11);
	assert_int_equal(page_bitmap_alloc(&bm, 11), 60);
	assert_int_equal(bm.free, 0);
}

static void full_words_are_skipped(void **state)
{
	page_bitmap_set_free(&bm, 900, 100);
	assert_int_equal(page_bitmap_alloc(&bm, 50), 900);
	assert_int_equal(page_bitmap_alloc(&bm, 50), 950);
	assert_int_equal(page_bitmap_alloc(&bm, 1), SIZE_MAX);
}

static void a_request_larger_than_any_run_changes_nothing(void **state)
{
	page_bitmap_set_free(&bm, 0, 30);
	page_bitmap_set_free(&bm, 40, 30);
	assert_int_equal(page_bitmap_alloc(&bm, 31), SIZE_MAX);
	assert_int_equal(bm.free, 60);
	assert_int_equal(page_bitmap_alloc(&bm, 0), SIZE_MAX);
	assert_int_equal(page_bitmap_alloc(&bm, 30), 0);
	assert_int_equal(page_bitmap_alloc(&bm, 30), 40);
}

static void ranges_are_clipped_to_the_bitmap(void **state)
{
	page_bitmap_set_free(&bm, 990, 100);
	assert_int_equal(bm.free, 10);
	page_bitmap_set_free(&bm, 990, 100);
	assert_int_equal(bm.free, 10);
	page_bitmap_set_used(&bm, 995, 100);
	assert_int_equal(bm.free, 5);
	assert_int_equal(page_bitmap_alloc(&bm, 5), 990);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup(a_new_bitmap_has_nothing_free, setup),
	        cmocka_unit_test_setup(allocation_is_lowest_first_and_contiguous, setup),
	        cmocka_unit_test_setup(freed_pages_are_reused, setup),
	        cmocka_unit_test_setup(runs_cross_word_boundaries, setup),
	        cmocka_unit_test_setup(full_words_are_skipped, setup),
	        cmocka_unit_test_setup(a_request_larger_than_any_run_changes_nothing, setup),
	        cmocka_unit_test_setup(ranges_are_clipped_to_the_bitmap, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
