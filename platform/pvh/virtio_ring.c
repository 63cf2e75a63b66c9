/*
 * Split virtqueues (virtio_ring.h): chains in, chains out, and the two
 * notification suppression schemes. The rings are shared with a device that
 * runs concurrently (another host thread), so every index the other side
 * reads or writes is accessed once, with the ordering §2.7.13 asks for:
 * descriptors and ring entries before the index that exposes them, and a
 * full barrier between publishing an index and reading the other side's
 * suppression field. x86 keeps stores in order and loads in order, so most
 * of these are compiler barriers; the store-then-load cases need a fence.
 */
#include "virtio_ring.h"
#include "base/compiler.h"
#include "core/mem.h"
#include "core/panic.h"
#include "mist/mist.h"
#include "pvh.h"
#include "virtio.h"

/* Alignment of each ring part (§2.7, the table of parts). */
#define VIRTQ_DESC_ALIGN  16u
#define VIRTQ_AVAIL_ALIGN 2u
#define VIRTQ_USED_ALIGN  4u

#define VIRTQ_MAX_SIZE 32768u

/*
 * The notification rule of §2.7.7 and §2.7.10: the other side asked to be
 * notified when the entry at index `event` is written, and this batch wrote
 * the entries old .. new-1, all indices modulo 2^16.
 */
static bool virtq_event_crossed(uint16_t event, uint16_t old, uint16_t new_idx)
{
	return (uint16_t)(event - old) < (uint16_t)(new_idx - old);
}

int virtq_init(struct virtq *vq, uint16_t index, uint16_t size, bool event_idx)
{
	MIST_ASSERT(size != 0 && (size & (size - 1)) == 0 && size <= VIRTQ_MAX_SIZE);

	/*
	 * One page-aligned block: the descriptor table, then the available
	 * ring, then the used ring, each at its alignment. It comes zeroed, so
	 * the used ring's flags start at 0 as §2.7.10 requires.
	 */
	size_t desc_bytes = sizeof(struct virtq_desc) * size;
	size_t avail_bytes = sizeof(struct virtq_avail) + sizeof(uint16_t) * (size + 1u);
	size_t used_off = MIST_ALIGN_UP(desc_bytes + avail_bytes, (size_t)VIRTQ_USED_ALIGN);
	size_t used_bytes = sizeof(struct virtq_used) + sizeof(struct virtq_used_elem) * size +
	                    sizeof(uint16_t);
	_Static_assert(VIRTQ_DESC_ALIGN % VIRTQ_AVAIL_ALIGN == 0,
	               "the avail ring follows the table");

	uint8_t *mem = pvh_dma_alloc(used_off + used_bytes);
	void **cookies = mist_calloc(size, sizeof(*cookies));
	if (mem == NULL || cookies == NULL) {
		mist_free(cookies);
		return MIST_ENOMEM;
	}
	*vq = (struct virtq){
	        .index = index,
	        .size = size,
	        .event_idx = event_idx,
	        .desc = (struct virtq_desc *)(void *)mem,
	        .avail = (struct virtq_avail *)(void *)(mem + desc_bytes),
	        .used = (struct virtq_used *)(void *)(mem + used_off),
	        .cookies = cookies,
	        .num_free = size,
	};
	vq->used_event = &vq->avail->ring[size];
	vq->avail_event = (uint16_t *)(void *)&vq->used->ring[size];
	for (uint16_t i = 0; i + 1u < size; i++)
		vq->desc[i].next = (uint16_t)(i + 1u);
	return 0;
}

void virtq_fini(struct virtq *vq)
{
	MIST_ASSERT(vq->num_free == vq->size);
	mist_free(vq->cookies);
	vq->cookies = NULL;
}

int virtq_add(struct virtq *vq, const struct virtq_seg *segs, unsigned n_readable,
              unsigned n_writable, void *cookie)
{
	unsigned n = n_readable + n_writable;
	MIST_ASSERT(n > 0 && cookie != NULL);
	if (n > vq->num_free)
		return MIST_EAGAIN;

	/* The free list is already linked through `next`: fill it in place (§2.7.13.1). */
	uint16_t head = vq->free_head;
	uint16_t i = head;
	for (unsigned k = 0; k < n; k++) {
		struct virtq_desc *d = &vq->desc[i];
		d->addr = segs[k].addr;
		d->len = segs[k].len;
		d->flags = (uint16_t)((k >= n_readable ? VIRTQ_DESC_F_WRITE : 0u) |
		                      (k + 1 < n ? VIRTQ_DESC_F_NEXT : 0u));
		i = d->next;
	}
	vq->free_head = i;
	vq->num_free = (uint16_t)(vq->num_free - n);
	vq->cookies[head] = cookie;
	vq->avail->ring[vq->avail_idx & (vq->size - 1u)] = head;
	vq->avail_idx++;
	return 0;
}

bool virtq_publish(struct virtq *vq)
{
	uint16_t old = vq->published;
	uint16_t new_idx = vq->avail_idx;
	if (old == new_idx)
		return false;
	/* §2.7.13.3.1: the entries and their descriptors before the index that exposes them. */
	__atomic_store_n(&vq->avail->idx, new_idx, __ATOMIC_RELEASE);
	vq->published = new_idx;
	/*
	 * §2.7.13.4.1: the index must be visible before the device's wish is
	 * read, or the device could go to sleep on the old index while we read
	 * a stale "no notification needed".
	 */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (vq->event_idx)
		return virtq_event_crossed(__atomic_load_n(vq->avail_event, __ATOMIC_RELAXED), old,
		                           new_idx);
	return (__atomic_load_n(&vq->used->flags, __ATOMIC_RELAXED) & VIRTQ_USED_F_NO_NOTIFY) == 0;
}

bool virtq_has_used(const struct virtq *vq)
{
	return __atomic_load_n(&vq->used->idx, __ATOMIC_ACQUIRE) != vq->last_used;
}

/* Puts the chain starting at `head` back on the free list and returns its cookie. */
static void *virtq_release_chain(struct virtq *vq, uint16_t head)
{
	/* A chain's length is bounded by the queue size, whatever the flags say. */
	uint16_t tail = head;
	unsigned n = 1;
	while ((vq->desc[tail].flags & VIRTQ_DESC_F_NEXT) != 0 && n < vq->size) {
		tail = vq->desc[tail].next;
		n++;
	}
	vq->desc[tail].next = vq->free_head;
	vq->free_head = head;
	vq->num_free = (uint16_t)(vq->num_free + n);
	void *cookie = vq->cookies[head];
	vq->cookies[head] = NULL;
	return cookie;
}

void *virtq_get_used(struct virtq *vq, uint32_t *written)
{
	/* Acquire: the entry and the buffer's bytes are read only after the index. */
	if (__atomic_load_n(&vq->used->idx, __ATOMIC_ACQUIRE) == vq->last_used)
		return NULL;
	const struct virtq_used_elem *e = &vq->used->ring[vq->last_used & (vq->size - 1u)];
	uint32_t head = e->id;
	*written = e->len;
	if (head >= vq->size || vq->cookies[head] == NULL)
		mist_panic("virtio: queue %u: the device returned descriptor %u, which it did not "
		           "hold",
		           vq->index, (unsigned)head);
	vq->last_used++;
	return virtq_release_chain(vq, (uint16_t)head);
}

void virtq_disable_interrupts(struct virtq *vq)
{
	if (vq->event_idx) {
		/*
		 * One entry behind those already taken: the device, which
		 * never runs more than `size` entries ahead of last_used,
		 * cannot reach it before the driver moves it again.
		 */
		__atomic_store_n(vq->used_event, (uint16_t)(vq->last_used - 1u), __ATOMIC_RELAXED);
	} else {
		__atomic_store_n(&vq->avail->flags, (uint16_t)VIRTQ_AVAIL_F_NO_INTERRUPT,
		                 __ATOMIC_RELAXED);
	}
}

bool virtq_enable_interrupts(struct virtq *vq)
{
	if (vq->event_idx)
		__atomic_store_n(vq->used_event, vq->last_used, __ATOMIC_RELAXED);
	else
		__atomic_store_n(&vq->avail->flags, (uint16_t)0, __ATOMIC_RELAXED);
	/*
	 * The device may have used a chain after our last look and before it
	 * saw the request (§2.7.14, the note): order the request before a
	 * fresh look at the index.
	 */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return virtq_has_used(vq);
}

void *virtq_detach(struct virtq *vq)
{
	for (uint16_t head = 0; head < vq->size; head++)
		if (vq->cookies[head] != NULL)
			return virtq_release_chain(vq, head);
	return NULL;
}
