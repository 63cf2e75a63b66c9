/*
 * Unit tests for packet buffers and pools (include/mist/buf.h): views that
 * share storage without copying, chains, headroom and tailroom, reference
 * counting, wrapped storage, pool accounting and exhaustion, bounds-checked
 * accessors, and the misuse checks of a debug build. Misuse stops the
 * program, so those tests run the offending call in a forked child and check
 * that it died with SIGABRT and a message naming the call. Every test leaves
 * its pool empty and destroys it.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "misuse.h"

#include <mist/buf.h>
#include <mist/mist.h>

#define BLOCKS     4
#define BLOCK_SIZE 128
#define HEADROOM   32

static struct mist_pool *pool_new(void)
{
	struct mist_pool *pool = mist_pool_create("test", BLOCKS, BLOCK_SIZE, HEADROOM);
	assert_non_null(pool);
	return pool;
}

static struct mist_pool_stats pool_stats(const struct mist_pool *pool)
{
	struct mist_pool_stats stats;
	mist_pool_stats(pool, &stats);
	return stats;
}

/* Every test ends here: nothing leaked, and the pool goes away. */
static void pool_end(struct mist_pool *pool)
{
	struct mist_pool_stats stats = pool_stats(pool);
	assert_int_equal(stats.in_use, 0);
	assert_int_equal(stats.views_in_use, 0);
	assert_int_equal(mist_pool_destroy(pool), MIST_OK);
}

static void fill(struct mist_buf *buf, uint8_t first)
{
	for (uint32_t i = 0; i < buf->len; i++)
		buf->data[i] = (uint8_t)(first + i);
}

static void slice_shares_storage_and_never_copies(void **state)
{
	struct mist_pool *pool = pool_new();
	struct mist_buf *buf = mist_buf_alloc(pool, 64);
	assert_non_null(buf);
	fill(buf, 0);

	struct mist_buf *slice = mist_buf_slice(buf, 10, 20);
	assert_non_null(slice);
	assert_ptr_equal(slice->storage, buf->storage);
	assert_ptr_equal(slice->data, buf->data + 10);
	assert_int_equal(slice->len, 20);
	assert_null(slice->next);

	slice->data[0] = 0xaa;
	assert_int_equal(buf->data[10], 0xaa);
	buf->data[29] = 0xbb;
	assert_int_equal(slice->data[19], 0xbb);
	assert_int_equal(pool_stats(pool).in_use, 1);
	assert_int_equal(pool_stats(pool).views_in_use, 2);

	struct mist_buf *clone = mist_buf_clone(slice);
	assert_non_null(clone);
	assert_ptr_equal(clone->data, slice->data);
	assert_int_equal(clone->len, slice->len);

	mist_buf_free(clone);
	mist_buf_free(slice);
	mist_buf_free(buf);
	pool_end(pool);
}

static void slice_rejects_range_outside_the_view(void **state)
{
	struct mist_pool *pool = pool_new();
	struct mist_buf *buf = mist_buf_alloc(pool, 16);
	assert_non_null(buf);

	struct mist_buf *empty_at_end = mist_buf_slice(buf, 16, 0);
	assert_non_null(empty_at_end);
	assert_int_equal(empty_at_end->len, 0);
	assert_null(mist_buf_slice(buf, 17, 0));
	assert_null(mist_buf_slice(buf, 0, 17));
	assert_null(mist_buf_slice(buf, 8, 9));
	assert_null(mist_buf_slice(buf, UINT32_MAX, 2));
	assert_null(mist_buf_slice(buf, 1, UINT32_MAX));
	assert_int_equal(pool_stats(pool).alloc_failures, 0);

	mist_buf_free(empty_at_end);
	mist_buf_free(buf);
	pool_end(pool);
}

static void chain_len_and_copyout_span_every_view(void **state)
{
	struct mist_pool *pool = pool_new();
	struct mist_buf *a = mist_buf_alloc(pool, 3);
	struct mist_buf *b = mist_buf_alloc(pool, 0);
	struct mist_buf *c = mist_buf_alloc(pool, 5);
	assert_non_null(a);
	assert_non_null(b);
	assert_non_null(c);
	fill(a, 0);
	fill(c, 3);
	mist_buf_chain(a, b);
	mist_buf_chain(a, c);
	assert_ptr_equal(a->next, b);
	assert_ptr_equal(b->next, c);
	assert_int_equal(mist_buf_chain_len(a), 8);
	assert_int_equal(mist_buf_chain_len(NULL), 0);

	uint8_t out[8];
	assert_int_equal(mist_buf_copyout(a, 0, out, 8), MIST_OK);
	for (int i = 0; i < 8; i++)
		assert_int_equal(out[i], i);
	memset(out, 0, sizeof(out));
	assert_int_equal(mist_buf_copyout(a, 2, out, 3), MIST_OK);
	assert_int_equal(out[0], 2);
	assert_int_equal(out[1], 3);
	assert_int_equal(out[2], 4);
	assert_int_equal(mist_buf_copyout(a, 8, out, 0), MIST_OK);

	memset(out, 0xee, sizeof(out));
	assert_int_equal(mist_buf_copyout(a, 0, out, 9), MIST_ERANGE);
	assert_int_equal(mist_buf_copyout(a, 6, out, 3), MIST_ERANGE);
	assert_int_equal(mist_buf_copyout(a, 9, out, 0), MIST_ERANGE);
	assert_int_equal(mist_buf_copyout(a, SIZE_MAX, out, 2), MIST_ERANGE);
	assert_int_equal(mist_buf_copyout(a, 1, out, SIZE_MAX), MIST_ERANGE);
	for (int i = 0; i < 8; i++)
		assert_int_equal(out[i], 0xee);

	mist_buf_free_chain(a);
	pool_end(pool);
}

static void free_releases_one_view_and_free_chain_releases_all(void **state)
{
	struct mist_pool *pool = pool_new();
	struct mist_buf *a = mist_buf_alloc(pool, 1);
	struct mist_buf *b = mist_buf_alloc(pool, 1);
	struct mist_buf *c = mist_buf_alloc(pool, 1);
	mist_buf_chain(b, c);
	mist_buf_chain(a, b);

	mist_buf_free(a);
	assert_int_equal(pool_stats(pool).in_use, 2);
	assert_int_equal(pool_stats(pool).views_in_use, 2);
	mist_buf_free_chain(b);
	mist_buf_free_chain(NULL);
	mist_buf_free(NULL);
	pool_end(pool);
}

static void push_prepends_up_to_exactly_the_headroom(void **state)
{
	struct mist_pool *pool = pool_new();
	struct mist_buf *buf = mist_buf_alloc(pool, 10);
	assert_non_null(buf);
	assert_int_equal(mist_buf_headroom(buf), HEADROOM);
	uint8_t *start = buf->data;

	uint8_t *p = mist_buf_push(buf, 14);
	assert_ptr_equal(p, start - 14);
	assert_ptr_equal(buf->data, p);
	assert_int_equal(buf->len, 24);
	assert_int_equal(mist_buf_headroom(buf), HEADROOM - 14);

	assert_null(mist_buf_push(buf, HEADROOM - 14 + 1));
	assert_ptr_equal(buf->data, p);
	assert_int_equal(buf->len, 24);

	assert_non_null(mist_buf_push(buf, HEADROOM - 14));
	assert_int_equal(mist_buf_headroom(buf), 0);
	assert_int_equal(buf->len, HEADROOM + 10);
	assert_null(mist_buf_push(buf, 1));
	assert_ptr_equal(mist_buf_push(buf, 0), buf->data);

	mist_buf_free(buf);
	pool_end(pool);
}

static void push_and_put_refused_while_storage_is_shared(void **state)
{
	struct mist_pool *pool = pool_new();
	struct mist_buf *buf = mist_buf_alloc(pool, 10);
	struct mist_buf *slice = mist_buf_slice(buf, 2, 4);
	assert_non_null(slice);

	assert_null(mist_buf_push(buf, 1));
	assert_null(mist_buf_put(buf, 1));
	assert_null(mist_buf_push(slice, 1));
	assert_null(mist_buf_put(slice, 1));
	assert_int_equal(buf->len, 10);
	assert_int_equal(slice->len, 4);

	mist_buf_free(slice);
	assert_non_null(mist_buf_push(buf, 1));
	assert_non_null(mist_buf_put(buf, 1));
	assert_int_equal(buf->len, 12);

	mist_buf_free(buf);
	pool_end(pool);
}

static void put_extends_into_tailroom_and_refuses_past_it(void **state)
{
	struct mist_pool *pool = pool_new();
	struct mist_buf *buf = mist_buf_alloc(pool, 10);
	uint32_t tailroom = BLOCK_SIZE - HEADROOM - 10;
	assert_int_equal(mist_buf_tailroom(buf), tailroom);

	uint8_t *p = mist_buf_put(buf, 6);
	assert_ptr_equal(p, buf->data + 10);
	assert_int_equal(buf->len, 16);
	assert_int_equal(mist_buf_tailroom(buf), tailroom - 6);

	assert_null(mist_buf_put(buf, tailroom - 6 + 1));
	assert_int_equal(buf->len, 16);
	assert_non_null(mist_buf_put(buf, tailroom - 6));
	assert_int_equal(mist_buf_tailroom(buf), 0);
	assert_int_equal(buf->len, BLOCK_SIZE - HEADROOM);
	assert_null(mist_buf_put(buf, 1));
	assert_null(mist_buf_put(buf, UINT32_MAX));

	mist_buf_free(buf);
	pool_end(pool);
}

static void pull_and_trim_reject_lengths_past_the_view(void **state)
{
	struct mist_pool *pool = pool_new();
	struct mist_buf *buf = mist_buf_alloc(pool, 10);
	fill(buf, 0);

	assert_int_equal(mist_buf_pull(buf, 11), MIST_ERANGE);
	assert_int_equal(buf->len, 10);
	assert_int_equal(mist_buf_pull(buf, 3), MIST_OK);
	assert_int_equal(buf->len, 7);
	assert_int_equal(buf->data[0], 3);
	assert_int_equal(mist_buf_headroom(buf), HEADROOM + 3);

	assert_int_equal(mist_buf_trim(buf, 8), MIST_ERANGE);
	assert_int_equal(buf->len, 7);
	assert_int_equal(mist_buf_trim(buf, 7), MIST_OK);
	assert_int_equal(mist_buf_trim(buf, 2), MIST_OK);
	assert_int_equal(buf->len, 2);
	assert_int_equal(mist_buf_pull(buf, 2), MIST_OK);
	assert_int_equal(buf->len, 0);
	assert_int_equal(mist_buf_pull(buf, 1), MIST_ERANGE);

	mist_buf_free(buf);
	pool_end(pool);
}

static void storage_returns_to_pool_only_with_its_last_view(void **state)
{
	struct mist_pool *pool = pool_new();
	struct mist_buf *buf = mist_buf_alloc(pool, 20);
	struct mist_buf *s1 = mist_buf_slice(buf, 0, 5);
	struct mist_buf *s2 = mist_buf_clone(buf);
	assert_int_equal(pool_stats(pool).in_use, 1);
	assert_int_equal(pool_stats(pool).views_in_use, 3);

	mist_buf_free(buf);
	assert_int_equal(pool_stats(pool).in_use, 1);
	assert_int_equal(pool_stats(pool).views_in_use, 2);
	mist_buf_free(s2);
	assert_int_equal(pool_stats(pool).in_use, 1);
	mist_buf_free(s1);
	assert_int_equal(pool_stats(pool).in_use, 0);
	assert_int_equal(pool_stats(pool).allocs, 1);
	pool_end(pool);
}

struct release_log {
	int calls;
	void *data;
	void *arg;
};

static void release_record(void *data, void *arg)
{
	struct release_log *log = arg;
	log->calls++;
	log->data = data;
	log->arg = arg;
}

static void wrap_calls_release_once_when_last_view_goes(void **state)
{
	struct mist_pool *pool = pool_new();
	uint8_t frame[40];
	for (size_t i = 0; i < sizeof(frame); i++)
		frame[i] = (uint8_t)i;
	struct release_log log = {0};

	struct mist_buf *buf = mist_buf_wrap(pool, frame, sizeof(frame), release_record, &log);
	assert_non_null(buf);
	assert_ptr_equal(buf->data, frame);
	assert_int_equal(buf->len, sizeof(frame));
	assert_int_equal(mist_buf_headroom(buf), 0);
	assert_int_equal(mist_buf_tailroom(buf), 0);
	assert_null(mist_buf_push(buf, 1));
	assert_null(mist_buf_put(buf, 1));
	assert_int_equal(pool_stats(pool).in_use, 0);
	assert_int_equal(pool_stats(pool).views_in_use, 1);

	struct mist_buf *slice = mist_buf_slice(buf, 4, 8);
	assert_non_null(slice);
	assert_int_equal(slice->data[0], 4);
	mist_buf_free(buf);
	assert_int_equal(log.calls, 0);
	mist_buf_free(slice);
	assert_int_equal(log.calls, 1);
	assert_ptr_equal(log.data, frame);
	assert_ptr_equal(log.arg, &log);
	pool_end(pool);
	assert_int_equal(log.calls, 1);
}

struct refill {
	struct mist_pool *pool;
	struct mist_buf *buf;
};

/* Allocates from the pool inside the callback, as a driver refilling its ring would. */
static void release_refill(void *data, void *arg)
{
	struct refill *r = arg;
	r->buf = mist_buf_alloc(r->pool, 1);
}

static void wrap_release_may_allocate_from_the_pool(void **state)
{
	struct mist_pool *pool = mist_pool_create("one", 1, BLOCK_SIZE, HEADROOM);
	assert_non_null(pool);
	uint8_t frame[8];
	struct refill r = {.pool = pool};
	struct mist_buf *a = mist_buf_wrap(pool, frame, sizeof(frame), release_refill, &r);
	struct mist_buf *b = mist_buf_wrap(pool, frame, sizeof(frame), NULL, NULL);
	assert_non_null(a);
	assert_non_null(b);
	assert_null(mist_buf_wrap(pool, frame, sizeof(frame), NULL, NULL));

	mist_buf_free(a);
	assert_non_null(r.buf);
	mist_buf_free(r.buf);
	mist_buf_free(b);
	pool_end(pool);
}

static void wrap_without_a_view_fails_and_keeps_the_data(void **state)
{
	struct mist_pool *pool = mist_pool_create("one", 1, BLOCK_SIZE, HEADROOM);
	assert_non_null(pool);
	struct mist_buf *a = mist_buf_alloc(pool, 1);
	struct mist_buf *b = mist_buf_clone(a);
	assert_non_null(b);
	uint8_t frame[8];
	struct release_log log = {0};

	assert_null(mist_buf_wrap(pool, frame, sizeof(frame), release_record, &log));
	assert_int_equal(log.calls, 0);
	assert_int_equal(pool_stats(pool).alloc_failures, 1);

	mist_buf_free(b);
	mist_buf_free(a);
	pool_end(pool);
}

static void pool_exhaustion_returns_null_and_is_counted(void **state)
{
	struct mist_pool *pool = pool_new();
	struct mist_buf *bufs[BLOCKS];
	for (int i = 0; i < BLOCKS; i++) {
		bufs[i] = mist_buf_alloc(pool, 1);
		assert_non_null(bufs[i]);
	}
	assert_null(mist_buf_alloc(pool, 1));
	assert_null(mist_buf_alloc(pool, 1));

	struct mist_pool_stats stats = pool_stats(pool);
	assert_int_equal(stats.capacity, BLOCKS);
	assert_int_equal(stats.in_use, BLOCKS);
	assert_int_equal(stats.high_water, BLOCKS);
	assert_int_equal(stats.allocs, BLOCKS);
	assert_int_equal(stats.alloc_failures, 2);

	mist_buf_free(bufs[0]);
	bufs[0] = mist_buf_alloc(pool, 1);
	assert_non_null(bufs[0]);
	for (int i = 0; i < BLOCKS; i++)
		mist_buf_free(bufs[i]);

	stats = pool_stats(pool);
	assert_int_equal(stats.high_water, BLOCKS);
	assert_int_equal(stats.allocs, BLOCKS + 1);
	pool_end(pool);
}

static void view_exhaustion_returns_null_and_is_counted(void **state)
{
	struct mist_pool *pool = pool_new();
	struct mist_buf *buf = mist_buf_alloc(pool, 8);
	struct mist_buf *views[2 * BLOCKS - 1];
	for (int i = 0; i < 2 * BLOCKS - 1; i++) {
		views[i] = mist_buf_slice(buf, 0, 1);
		assert_non_null(views[i]);
	}
	assert_int_equal(pool_stats(pool).views_in_use, 2 * BLOCKS);
	assert_null(mist_buf_slice(buf, 0, 1));
	assert_null(mist_buf_clone(buf));
	/* A block is free but no view is: allocation fails without taking the block. */
	assert_null(mist_buf_alloc(pool, 1));

	struct mist_pool_stats stats = pool_stats(pool);
	assert_int_equal(stats.in_use, 1);
	assert_int_equal(stats.alloc_failures, 3);

	for (int i = 0; i < 2 * BLOCKS - 1; i++)
		mist_buf_free(views[i]);
	mist_buf_free(buf);
	pool_end(pool);
}

static void alloc_rejects_a_length_past_the_block(void **state)
{
	struct mist_pool *pool = pool_new();
	struct mist_buf *buf = mist_buf_alloc(pool, BLOCK_SIZE - HEADROOM);
	assert_non_null(buf);
	assert_int_equal(mist_buf_tailroom(buf), 0);
	assert_int_equal(buf->flags, 0);
	assert_null(mist_buf_alloc(pool, BLOCK_SIZE - HEADROOM + 1));
	assert_null(mist_buf_alloc(pool, UINT32_MAX));
	assert_int_equal(pool_stats(pool).alloc_failures, 0);

	mist_buf_free(buf);
	pool_end(pool);
}

static void accessors_read_and_write_big_endian(void **state)
{
	struct mist_pool *pool = pool_new();
	struct mist_buf *buf = mist_buf_alloc(pool, 7);

	assert_int_equal(mist_buf_set_u8(buf, 0, 0x01), MIST_OK);
	assert_int_equal(mist_buf_set_be16(buf, 1, 0x0203), MIST_OK);
	assert_int_equal(mist_buf_set_be32(buf, 3, 0x04050607), MIST_OK);
	for (int i = 0; i < 7; i++)
		assert_int_equal(buf->data[i], i + 1);

	uint8_t v8;
	uint16_t v16;
	uint32_t v32;
	assert_int_equal(mist_buf_get_u8(buf, 6, &v8), MIST_OK);
	assert_int_equal(v8, 0x07);
	assert_int_equal(mist_buf_get_be16(buf, 0, &v16), MIST_OK);
	assert_int_equal(v16, 0x0102);
	assert_int_equal(mist_buf_get_be32(buf, 2, &v32), MIST_OK);
	assert_int_equal(v32, 0x03040506);

	mist_buf_free(buf);
	pool_end(pool);
}

/*
 * For every field width, the last offset that fits is accepted and every
 * offset past it, up to UINT32_MAX (where off + width wraps), is refused
 * without touching *out or the bytes after the view.
 */
static void accessors_reject_out_of_bounds_at_every_boundary(void **state)
{
	struct mist_pool *pool = pool_new();
	struct mist_buf *buf = mist_buf_alloc(pool, 12);
	fill(buf, 0x10);
	/* The view ends before the block does: bytes past it must stay untouched. */
	assert_int_equal(mist_buf_trim(buf, 8), MIST_OK);
	const uint32_t len = 8;
	const uint32_t bad[] = {len - 3, len - 2,        len - 1,        len,
	                        len + 1, UINT32_MAX - 3, UINT32_MAX - 1, UINT32_MAX};

	uint8_t v8 = 0xee;
	uint16_t v16 = 0xeeee;
	uint32_t v32 = 0xeeeeeeee;
	assert_int_equal(mist_buf_get_u8(buf, len - 1, &v8), MIST_OK);
	assert_int_equal(mist_buf_get_be16(buf, len - 2, &v16), MIST_OK);
	assert_int_equal(mist_buf_get_be32(buf, len - 4, &v32), MIST_OK);
	assert_int_equal(mist_buf_set_u8(buf, len - 1, 0x17), MIST_OK);
	assert_int_equal(mist_buf_set_be16(buf, len - 2, 0x1617), MIST_OK);
	assert_int_equal(mist_buf_set_be32(buf, len - 4, 0x14151617), MIST_OK);

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint32_t off = bad[i];
		v8 = 0xee;
		v16 = 0xeeee;
		v32 = 0xeeeeeeee;
		if (off >= len) {
			assert_int_equal(mist_buf_get_u8(buf, off, &v8), MIST_ERANGE);
			assert_int_equal(mist_buf_set_u8(buf, off, 0), MIST_ERANGE);
		}
		if (off >= len - 1) {
			assert_int_equal(mist_buf_get_be16(buf, off, &v16), MIST_ERANGE);
			assert_int_equal(mist_buf_set_be16(buf, off, 0), MIST_ERANGE);
		}
		assert_int_equal(mist_buf_get_be32(buf, off, &v32), MIST_ERANGE);
		assert_int_equal(mist_buf_set_be32(buf, off, 0), MIST_ERANGE);
		assert_int_equal(v8, 0xee);
		assert_int_equal(v16, 0xeeee);
		assert_int_equal(v32, 0xeeeeeeee);
	}
	for (uint32_t i = len; i < 12; i++)
		assert_int_equal(buf->data[i], 0x10 + i);

	mist_buf_free(buf);
	pool_end(pool);
}

static void destroy_with_buffers_out_returns_ebusy(void **state)
{
	struct mist_pool *pool = pool_new();
	uint8_t frame[4];
	struct mist_buf *buf = mist_buf_alloc(pool, 1);
	assert_int_equal(mist_pool_destroy(pool), MIST_EBUSY);
	mist_buf_free(buf);

	/* A wrapped buffer holds no block, but its view is still out. */
	buf = mist_buf_wrap(pool, frame, sizeof(frame), NULL, NULL);
	assert_int_equal(mist_pool_destroy(pool), MIST_EBUSY);
	mist_buf_free(buf);
	pool_end(pool);
}

static void pool_keeps_a_copy_of_its_name(void **state)
{
	char name[] = "rx-ring";
	struct mist_pool *pool = mist_pool_create(name, 1, BLOCK_SIZE, 0);
	assert_non_null(pool);
	name[0] = 'X';
	assert_string_equal(mist_pool_name(pool), "rx-ring");
	pool_end(pool);
}

static void pool_too_large_for_its_counters_is_refused(void **state)
{
	assert_null(mist_pool_create("huge", UINT32_MAX, 64, 0));
}

static void free_view_twice(void)
{
	struct mist_pool *pool = pool_new();
	struct mist_buf *buf = mist_buf_alloc(pool, 1);
	mist_buf_free(buf);
	mist_buf_free(buf);
}

static void free_twice_stops_naming_mist_buf_free(void **state)
{
	assert_misuse_aborts(free_view_twice, "mist_buf_free: buffer released twice");
}

static void create_with_zero_count(void)
{
	mist_pool_create("bad", 0, BLOCK_SIZE, 0);
}

static void create_with_headroom_filling_the_block(void)
{
	mist_pool_create("bad", 1, BLOCK_SIZE, BLOCK_SIZE);
}

static void create_with_invalid_arguments_stops(void **state)
{
	assert_misuse_aborts(create_with_zero_count, "mist_pool_create");
	assert_misuse_aborts(create_with_headroom_filling_the_block, "mist_pool_create");
}

static void chain_onto_itself(void)
{
	struct mist_pool *pool = pool_new();
	struct mist_buf *a = mist_buf_alloc(pool, 1);
	struct mist_buf *b = mist_buf_alloc(pool, 1);
	mist_buf_chain(a, b);
	mist_buf_chain(a, b);
}

static void chain_making_a_cycle_stops(void **state)
{
	assert_misuse_aborts(chain_onto_itself, "mist_buf_chain");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(slice_shares_storage_and_never_copies),
	        cmocka_unit_test(slice_rejects_range_outside_the_view),
	        cmocka_unit_test(chain_len_and_copyout_span_every_view),
	        cmocka_unit_test(free_releases_one_view_and_free_chain_releases_all),
	        cmocka_unit_test(push_prepends_up_to_exactly_the_headroom),
	        cmocka_unit_test(push_and_put_refused_while_storage_is_shared),
	        cmocka_unit_test(put_extends_into_tailroom_and_refuses_past_it),
	        cmocka_unit_test(pull_and_trim_reject_lengths_past_the_view),
	        cmocka_unit_test(storage_returns_to_pool_only_with_its_last_view),
	        cmocka_unit_test(wrap_calls_release_once_when_last_view_goes),
	        cmocka_unit_test(wrap_release_may_allocate_from_the_pool),
	        cmocka_unit_test(wrap_without_a_view_fails_and_keeps_the_data),
	        cmocka_unit_test(pool_exhaustion_returns_null_and_is_counted),
	        cmocka_unit_test(view_exhaustion_returns_null_and_is_counted),
	        cmocka_unit_test(alloc_rejects_a_length_past_the_block),
	        cmocka_unit_test(accessors_read_and_write_big_endian),
	        cmocka_unit_test(accessors_reject_out_of_bounds_at_every_boundary),
	        cmocka_unit_test(destroy_with_buffers_out_returns_ebusy),
	        cmocka_unit_test(pool_keeps_a_copy_of_its_name),
	        cmocka_unit_test(pool_too_large_for_its_counters_is_refused),
	        cmocka_unit_test(free_twice_stops_naming_mist_buf_free),
	        cmocka_unit_test(create_with_invalid_arguments_stops),
	        cmocka_unit_test(chain_making_a_cycle_stops),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
