/*
 * Packet buffers and their pools (include/mist/buf.h). A pool is carved once,
 * at creation, from the core heap: `count` storage blocks, one storage
 * descriptor per block, 2 * `count` view descriptors (struct mist_buf) and as
 * many descriptors for wrapped storage. Everything sits on free lists, so
 * allocating and releasing a buffer is O(1) and never touches the heap; the
 * price is that a pool's memory is reserved for its whole life. Under ASan
 * the blocks not handed out are poisoned, so a write through a released
 * buffer is reported where it happens. Depends only on src/base and the core
 * heap; no libc.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mist/buf.h>
#include <mist/mist.h>

#include "base/compiler.h"
#include "base/endian.h"
#include "base/str.h"
#include "core/asan.h"
#include "core/mem.h"
#include "core/panic.h"

/*
 * Blocks are laid out at a stride of the block size rounded up to this, so
 * that every block starts as aligned as the heap's memory does and no ASan
 * shadow granule (8 bytes) straddles two blocks.
 */
#define BUF_BLOCK_ALIGN 16u

/* The storage behind one or more views. */
struct mist_buf_storage {
	struct mist_pool *pool;
	struct mist_buf_storage *next_free;     /* link on the pool's free list */
	uint8_t *base;                          /* first byte, headroom included */
	uint32_t capacity;                      /* bytes from base */
	uint32_t refs;                          /* views onto this storage */
	bool wrapped;                           /* memory the pool does not own */
	void (*release)(void *data, void *arg); /* for wrapped storage; may be NULL */
	void *release_arg;
};

struct mist_pool {
	struct mist_buf *free_views; /* linked through `next` */
	struct mist_buf_storage *free_blocks;
	struct mist_buf_storage *free_wraps;
	struct mist_buf *views;               /* 2 * count */
	struct mist_buf_storage *descriptors; /* count blocks, then 2 * count wraps */
	uint8_t *blocks;
	size_t blocks_size; /* bytes at `blocks` */
	uint32_t size;
	uint32_t headroom;
	struct mist_pool_stats stats;
	char name[]; /* a copy, so the caller's string need not outlive the pool */
};

struct mist_pool *mist_pool_create(const char *name, uint32_t count, uint32_t size,
                                   uint32_t headroom)
{
	if (count == 0 || headroom >= size) {
		MIST_MISUSE("mist_pool_create", "needs count >= 1 and headroom < size");
		return NULL;
	}
	/*
	 * There are 2 * count views, and stats.views_in_use must hold them;
	 * a larger pool would not fit in memory anyway.
	 */
	if (count > UINT32_MAX / 2)
		return NULL;
	size_t stride = MIST_ALIGN_UP((size_t)size, (size_t)BUF_BLOCK_ALIGN);
	size_t blocks_size;
	if (__builtin_mul_overflow(stride, (size_t)count, &blocks_size))
		return NULL;

	size_t name_len = mist_strlen(name);
	struct mist_pool *pool = mist_calloc(1, sizeof(*pool) + name_len + 1);
	if (pool == NULL)
		return NULL;
	mist_memcpy(pool->name, name, name_len + 1);
	pool->views = mist_calloc((size_t)count * 2, sizeof(struct mist_buf));
	pool->descriptors = mist_calloc((size_t)count * 3, sizeof(struct mist_buf_storage));
	pool->blocks = mist_alloc(blocks_size);
	if (pool->views == NULL || pool->descriptors == NULL || pool->blocks == NULL) {
		mist_free(pool->views);
		mist_free(pool->descriptors);
		mist_free(pool->blocks);
		mist_free(pool);
		return NULL;
	}
	pool->blocks_size = blocks_size;
	pool->size = size;
	pool->headroom = headroom;
	pool->stats.capacity = count;
	mist_asan_poison(pool->blocks, blocks_size);

	/* Free lists are filled back to front so that allocation starts at index 0. */
	for (size_t i = (size_t)count * 2; i-- > 0;) {
		pool->views[i].next = pool->free_views;
		pool->free_views = &pool->views[i];
	}
	for (size_t i = count; i-- > 0;) {
		struct mist_buf_storage *s = &pool->descriptors[i];
		s->pool = pool;
		s->base = pool->blocks + i * stride;
		s->capacity = size;
		s->next_free = pool->free_blocks;
		pool->free_blocks = s;
	}
	for (size_t i = (size_t)count * 3; i-- > count;) {
		struct mist_buf_storage *s = &pool->descriptors[i];
		s->pool = pool;
		s->wrapped = true;
		s->next_free = pool->free_wraps;
		pool->free_wraps = s;
	}
	return pool;
}

int mist_pool_destroy(struct mist_pool *pool)
{
	if (pool->stats.in_use != 0 || pool->stats.views_in_use != 0)
		return MIST_EBUSY;
	/* The heap may give these pages back to the platform: leave no poison behind. */
	mist_asan_unpoison(pool->blocks, pool->blocks_size);
	mist_free(pool->blocks);
	mist_free(pool->descriptors);
	mist_free(pool->views);
	mist_free(pool);
	return MIST_OK;
}

void mist_pool_stats(const struct mist_pool *pool, struct mist_pool_stats *stats)
{
	*stats = pool->stats;
}

const char *mist_pool_name(const struct mist_pool *pool)
{
	return pool->name;
}

struct mist_pool *mist_buf_pool(const struct mist_buf *buf)
{
	return buf->storage->pool;
}

/*
 * Takes a view from the pool's free list, unchained and without flags; the
 * caller points it at storage. Returns NULL, counted as a failed allocation,
 * when no view is left.
 */
static struct mist_buf *buf_view_get(struct mist_pool *pool)
{
	struct mist_buf *buf = pool->free_views;
	if (buf == NULL) {
		pool->stats.alloc_failures++;
		return NULL;
	}
	pool->free_views = buf->next;
	pool->stats.views_in_use++;
	buf->next = NULL;
	buf->flags = 0;
	return buf;
}

struct mist_buf *mist_buf_alloc(struct mist_pool *pool, uint32_t len)
{
	if (len > pool->size - pool->headroom)
		return NULL;
	/* Both a block and a view are needed; check both before taking either. */
	if (pool->free_blocks == NULL || pool->free_views == NULL) {
		pool->stats.alloc_failures++;
		return NULL;
	}
	struct mist_buf_storage *s = pool->free_blocks;
	pool->free_blocks = s->next_free;
	s->refs = 1;
	mist_asan_unpoison(s->base, s->capacity);
	pool->stats.allocs++;
	if (++pool->stats.in_use > pool->stats.high_water)
		pool->stats.high_water = pool->stats.in_use;

	struct mist_buf *buf = buf_view_get(pool);
	buf->storage = s;
	buf->data = s->base + pool->headroom;
	buf->len = len;
	return buf;
}

struct mist_buf *mist_buf_wrap(struct mist_pool *pool, void *data, uint32_t len,
                               void (*release)(void *data, void *arg), void *arg)
{
	/*
	 * Every live storage has at least one view, so there are never more
	 * wrapped storages than views: when a view is free, so is a wrap
	 * descriptor. Wrapped memory is not one of the pool's blocks: it
	 * counts in views_in_use, not in in_use or allocs.
	 */
	struct mist_buf *buf = buf_view_get(pool);
	if (buf == NULL)
		return NULL;
	struct mist_buf_storage *s = pool->free_wraps;
	MIST_ASSERT(s != NULL);
	pool->free_wraps = s->next_free;
	s->base = data;
	s->capacity = len;
	s->refs = 1;
	s->release = release;
	s->release_arg = arg;
	buf->storage = s;
	buf->data = data;
	buf->len = len;
	return buf;
}

/* Hands storage whose last view is gone back to its owner. */
static void buf_storage_release(struct mist_buf_storage *s)
{
	struct mist_pool *pool = s->pool;
	if (!s->wrapped) {
		mist_asan_poison(s->base, s->capacity);
		s->next_free = pool->free_blocks;
		pool->free_blocks = s;
		pool->stats.in_use--;
		return;
	}
	/*
	 * The descriptor goes back first: the callback may allocate from this
	 * pool again (a driver refilling its receive ring, say).
	 */
	void (*release)(void *, void *) = s->release;
	void *data = s->base;
	void *arg = s->release_arg;
	s->release = NULL;
	s->release_arg = NULL;
	s->base = NULL;
	s->next_free = pool->free_wraps;
	pool->free_wraps = s;
	if (release != NULL)
		release(data, arg);
}

void mist_buf_free(struct mist_buf *buf)
{
	if (buf == NULL)
		return;
	/* A released view has no storage: that is how a second release is caught. */
	struct mist_buf_storage *s = buf->storage;
	if (s == NULL) {
		MIST_MISUSE("mist_buf_free", "buffer released twice");
		return;
	}
	struct mist_pool *pool = s->pool;
	buf->storage = NULL;
	buf->data = NULL;
	buf->len = 0;
	buf->next = pool->free_views;
	pool->free_views = buf;
	pool->stats.views_in_use--;
	if (--s->refs == 0)
		buf_storage_release(s);
}

void mist_buf_free_chain(struct mist_buf *buf)
{
	while (buf != NULL) {
		struct mist_buf *next = buf->next;
		mist_buf_free(buf);
		buf = next;
	}
}

struct mist_buf *mist_buf_slice(struct mist_buf *buf, uint32_t off, uint32_t len)
{
	if (off > buf->len || len > buf->len - off)
		return NULL;
	struct mist_buf_storage *s = buf->storage;
	struct mist_buf *view = buf_view_get(s->pool);
	if (view == NULL)
		return NULL;
	s->refs++;
	view->storage = s;
	view->data = buf->data + off;
	view->len = len;
	return view;
}

struct mist_buf *mist_buf_clone(struct mist_buf *buf)
{
	return mist_buf_slice(buf, 0, buf->len);
}

uint32_t mist_buf_headroom(const struct mist_buf *buf)
{
	return (uint32_t)(buf->data - buf->storage->base);
}

uint32_t mist_buf_tailroom(const struct mist_buf *buf)
{
	return buf->storage->capacity - mist_buf_headroom(buf) - buf->len;
}

uint8_t *mist_buf_push(struct mist_buf *buf, uint32_t n)
{
	if (buf->storage->refs > 1 || n > mist_buf_headroom(buf))
		return NULL;
	buf->data -= n;
	buf->len += n;
	return buf->data;
}

int mist_buf_pull(struct mist_buf *buf, uint32_t n)
{
	if (n > buf->len)
		return MIST_ERANGE;
	buf->data += n;
	buf->len -= n;
	return MIST_OK;
}

int mist_buf_trim(struct mist_buf *buf, uint32_t len)
{
	if (len > buf->len)
		return MIST_ERANGE;
	buf->len = len;
	return MIST_OK;
}

uint8_t *mist_buf_put(struct mist_buf *buf, uint32_t n)
{
	if (buf->storage->refs > 1 || n > mist_buf_tailroom(buf))
		return NULL;
	uint8_t *p = buf->data + buf->len;
	buf->len += n;
	return p;
}

void mist_buf_chain(struct mist_buf *head, struct mist_buf *tail)
{
	/*
	 * O(views in head): the walk that finds the end also catches a tail
	 * that is already in the chain, which would make a cycle.
	 */
	for (;; head = head->next) {
		if (head == tail) {
			MIST_MISUSE("mist_buf_chain", "the tail is already in the chain");
			return;
		}
		if (head->next == NULL)
			break;
	}
	head->next = tail;
}

size_t mist_buf_chain_len(const struct mist_buf *buf)
{
	size_t len = 0;
	for (; buf != NULL; buf = buf->next)
		len += buf->len;
	return len;
}

int mist_buf_copyout(const struct mist_buf *buf, size_t off, void *dst, size_t len)
{
	/* Checked up front so that a short chain copies nothing. */
	size_t total = mist_buf_chain_len(buf);
	if (off > total || len > total - off)
		return MIST_ERANGE;
	uint8_t *out = dst;
	for (; len > 0; buf = buf->next) {
		if (off >= buf->len) {
			off -= buf->len;
			continue;
		}
		size_t n = MIST_MIN(len, buf->len - off);
		mist_memcpy(out, buf->data + off, n);
		out += n;
		len -= n;
		off = 0;
	}
	return MIST_OK;
}

/* True when `width` bytes at `off` lie inside the view; safe from overflow. */
static bool buf_fits(const struct mist_buf *buf, uint32_t off, uint32_t width)
{
	return off <= buf->len && width <= buf->len - off;
}

int mist_buf_get_u8(const struct mist_buf *buf, uint32_t off, uint8_t *out)
{
	if (!buf_fits(buf, off, 1))
		return MIST_ERANGE;
	*out = buf->data[off];
	return MIST_OK;
}

int mist_buf_get_be16(const struct mist_buf *buf, uint32_t off, uint16_t *out)
{
	if (!buf_fits(buf, off, 2))
		return MIST_ERANGE;
	*out = mist_load_be16(buf->data + off);
	return MIST_OK;
}

int mist_buf_get_be32(const struct mist_buf *buf, uint32_t off, uint32_t *out)
{
	if (!buf_fits(buf, off, 4))
		return MIST_ERANGE;
	*out = mist_load_be32(buf->data + off);
	return MIST_OK;
}

int mist_buf_set_u8(struct mist_buf *buf, uint32_t off, uint8_t val)
{
	if (!buf_fits(buf, off, 1))
		return MIST_ERANGE;
	buf->data[off] = val;
	return MIST_OK;
}

int mist_buf_set_be16(struct mist_buf *buf, uint32_t off, uint16_t val)
{
	if (!buf_fits(buf, off, 2))
		return MIST_ERANGE;
	mist_store_be16(buf->data + off, val);
	return MIST_OK;
}

int mist_buf_set_be32(struct mist_buf *buf, uint32_t off, uint32_t val)
{
	if (!buf_fits(buf, off, 4))
		return MIST_ERANGE;
	mist_store_be32(buf->data + off, val);
	return MIST_OK;
}
