/*
 * Packet buffers.
 *
 * A struct mist_buf is a view (offset, length) onto reference-counted storage.
 * Several views may share one storage block: slicing and cloning never copy
 * bytes. Views are chained through `next` for scatter-gather; a chain is one
 * packet or one stream of bytes. Storage has headroom in front of the initial
 * view so that lower layers can prepend headers in place.
 *
 * Buffers come from pools with fixed capacity and accounting. Storage may also
 * be memory the pool does not own (a device's DMA buffer, an application's
 * array): it is wrapped and handed back through a release callback when the
 * last view goes away.
 *
 * Ownership: a function that takes a struct mist_buf * and does not say
 * otherwise borrows it. Functions documented as "takes ownership" release it
 * (the whole chain) on every path, success or failure.
 *
 * Not thread-safe: buffers belong to one Mist instance.
 */
#ifndef MIST_BUF_H
#define MIST_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct mist_pool;
struct mist_buf_storage;

struct mist_buf {
	struct mist_buf *next;            /* next view of the chain, or NULL */
	struct mist_buf_storage *storage; /* shared, reference-counted */
	uint8_t *data;                    /* first byte of this view */
	uint32_t len;                     /* bytes in this view */
	uint32_t flags;                   /* MIST_BUF_F_*, for the layer that owns the buf */
};

/* Pool accounting. Counts are of views (bufs) and of storage blocks. */
struct mist_pool_stats {
	uint32_t capacity;       /* storage blocks in the pool */
	uint32_t in_use;         /* storage blocks handed out and not yet released */
	uint32_t high_water;     /* largest in_use seen */
	uint32_t views_in_use;   /* views handed out and not yet released */
	uint64_t allocs;         /* successful allocations of storage */
	uint64_t alloc_failures; /* allocations that found the pool empty */
};

/*
 * Creates a pool of `count` storage blocks of `size` bytes each, of which the
 * first `headroom` bytes are kept in front of a fresh buffer's view. Views are
 * allocated from the same pool, up to 2 * `count` of them.
 * Requires count >= 1 and headroom < size. Returns NULL when out of memory or
 * on an invalid argument (a debug build stops on the latter).
 */
struct mist_pool *mist_pool_create(const char *name, uint32_t count, uint32_t size,
                                   uint32_t headroom);

/*
 * Destroys a pool. Returns MIST_EBUSY, and destroys nothing, while any of its
 * buffers are still in use.
 */
int mist_pool_destroy(struct mist_pool *pool);

/* Copies the pool's accounting into *stats. */
void mist_pool_stats(const struct mist_pool *pool, struct mist_pool_stats *stats);

/* Returns the pool's name, as given at creation. */
const char *mist_pool_name(const struct mist_pool *pool);

/* The pool whose storage `buf` views. */
struct mist_pool *mist_buf_pool(const struct mist_buf *buf);

/*
 * Allocates a buffer whose view is `len` bytes long and starts after the
 * pool's headroom. Requires headroom + len <= the pool's block size.
 * Returns NULL when the pool is exhausted (counted) or len does not fit.
 */
struct mist_buf *mist_buf_alloc(struct mist_pool *pool, uint32_t len);

/*
 * Wraps `len` bytes at `data` that the pool does not own. When the last view
 * of the storage is released, release(data, arg) is called. No headroom:
 * prepending into a wrapped buffer fails. Returns NULL when the pool has no
 * view left; release is then not called and `data` stays the caller's.
 */
struct mist_buf *mist_buf_wrap(struct mist_pool *pool, void *data, uint32_t len,
                               void (*release)(void *data, void *arg), void *arg);

/*
 * Releases one view, and the storage when it was the last view onto it.
 * Only this view is released, not the rest of its chain. NULL is ignored.
 */
void mist_buf_free(struct mist_buf *buf);

/* Releases every view of the chain starting at `buf`. NULL is ignored. */
void mist_buf_free_chain(struct mist_buf *buf);

/*
 * Returns a new view of `len` bytes starting `off` bytes into `buf`'s view,
 * sharing its storage. Requires off + len <= buf->len (else NULL). Returns
 * NULL when the pool has no view left. The new view is not chained.
 */
struct mist_buf *mist_buf_slice(struct mist_buf *buf, uint32_t off, uint32_t len);

/* Same as mist_buf_slice(buf, 0, buf->len). */
struct mist_buf *mist_buf_clone(struct mist_buf *buf);

/*
 * Moves the start of the view `n` bytes back into the headroom, and returns
 * the new start. Returns NULL, changing nothing, when fewer than `n` bytes of
 * headroom are left or when the storage is shared with another view (bytes in
 * front of this view may belong to it).
 */
uint8_t *mist_buf_push(struct mist_buf *buf, uint32_t n);

/* Drops `n` bytes from the front of the view. Returns MIST_ERANGE if n > len. */
int mist_buf_pull(struct mist_buf *buf, uint32_t n);

/* Shortens the view to `len` bytes. Returns MIST_ERANGE if len > buf->len. */
int mist_buf_trim(struct mist_buf *buf, uint32_t len);

/*
 * Extends the view by `n` bytes at its end and returns a pointer to them.
 * Returns NULL when the storage has fewer than `n` bytes after the view, or
 * when the storage is shared.
 */
uint8_t *mist_buf_put(struct mist_buf *buf, uint32_t n);

/* Bytes left in front of the view, and after it. */
uint32_t mist_buf_headroom(const struct mist_buf *buf);
uint32_t mist_buf_tailroom(const struct mist_buf *buf);

/* Appends chain `tail` at the end of chain `head`. */
void mist_buf_chain(struct mist_buf *head, struct mist_buf *tail);

/* Total bytes in a chain. */
size_t mist_buf_chain_len(const struct mist_buf *buf);

/*
 * Copies `len` bytes starting `off` bytes into the chain to `dst`.
 * Returns MIST_ERANGE, copying nothing, if the chain is too short.
 */
int mist_buf_copyout(const struct mist_buf *buf, size_t off, void *dst, size_t len);

/*
 * Bounds-checked big-endian reads at `off` bytes into one view. They return
 * MIST_ERANGE, leaving *out unchanged, when the field does not fit the view.
 */
int mist_buf_get_u8(const struct mist_buf *buf, uint32_t off, uint8_t *out);
int mist_buf_get_be16(const struct mist_buf *buf, uint32_t off, uint16_t *out);
int mist_buf_get_be32(const struct mist_buf *buf, uint32_t off, uint32_t *out);

/* Bounds-checked big-endian writes; MIST_ERANGE when the field does not fit. */
int mist_buf_set_u8(struct mist_buf *buf, uint32_t off, uint8_t val);
int mist_buf_set_be16(struct mist_buf *buf, uint32_t off, uint16_t val);
int mist_buf_set_be32(struct mist_buf *buf, uint32_t off, uint32_t val);

#endif
