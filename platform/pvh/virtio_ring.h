/*
 * Split virtqueues (§2.7): the descriptor table, the available ring the
 * driver fills and the used ring the device fills, in memory both share.
 * A driver adds descriptor chains with a cookie of its own (the buffer the
 * chain describes), publishes them in batches, and gets the cookie back when
 * the device has used the chain.
 *
 * Notification suppression works both ways: with VIRTIO_F_EVENT_IDX through
 * used_event and avail_event (§2.7.7, §2.7.10), otherwise through the
 * rings' flags. It is transport-independent: the transport is only asked to
 * send a notification when virtq_publish() says the device wants one.
 *
 * Not thread-safe and not interrupt-safe: only the loop touches a queue.
 */
#ifndef MIST_PLATFORM_PVH_VIRTIO_RING_H
#define MIST_PLATFORM_PVH_VIRTIO_RING_H

#include <stdbool.h>
#include <stdint.h>

/* One descriptor (§2.7.5). */
struct virtq_desc {
	uint64_t addr; /* guest-physical */
	uint32_t len;
	uint16_t flags; /* VIRTQ_DESC_F_* */
	uint16_t next;  /* the next descriptor of the chain, with VIRTQ_DESC_F_NEXT */
};

#define VIRTQ_DESC_F_NEXT  1u /* the chain continues at `next` */
#define VIRTQ_DESC_F_WRITE 2u /* the device writes this buffer (else it reads it) */

/* The available ring (§2.7.6), followed by used_event. */
struct virtq_avail {
	uint16_t flags; /* VIRTQ_AVAIL_F_NO_INTERRUPT, without VIRTIO_F_EVENT_IDX */
	uint16_t idx;   /* where the driver puts the next entry; free-running */
	uint16_t ring[];
};

#define VIRTQ_AVAIL_F_NO_INTERRUPT 1u

struct virtq_used_elem {
	uint32_t id;  /* the head of the chain the device used */
	uint32_t len; /* bytes it wrote into the chain */
};

/* The used ring (§2.7.8), followed by avail_event. */
struct virtq_used {
	uint16_t flags; /* VIRTQ_USED_F_NO_NOTIFY, without VIRTIO_F_EVENT_IDX */
	uint16_t idx;   /* where the device puts the next entry; free-running */
	struct virtq_used_elem ring[];
};

#define VIRTQ_USED_F_NO_NOTIFY 1u

/* One piece of a buffer: guest-physical address and length. */
struct virtq_seg {
	uint64_t addr;
	uint32_t len;
};

struct virtq {
	uint16_t index;            /* the queue's number on its device */
	uint16_t size;             /* entries, a power of two */
	bool event_idx;            /* VIRTIO_F_EVENT_IDX was negotiated */
	struct virtq_desc *desc;   /* the Descriptor Area */
	struct virtq_avail *avail; /* the Driver Area */
	struct virtq_used *used;   /* the Device Area */
	uint16_t *used_event;      /* after avail->ring[size] */
	uint16_t *avail_event;     /* after used->ring[size] */
	void **cookies;            /* per chain head: the driver's cookie, NULL when free */
	uint16_t free_head;        /* first descriptor of the free list, linked by `next` */
	uint16_t num_free;         /* descriptors on the free list */
	uint16_t avail_idx;        /* the next available entry, published or not */
	uint16_t published;        /* avail->idx as last written */
	uint16_t last_used;        /* the next used entry to take */
	uint64_t notify_addr;      /* where the transport sends notifications */
};

/*
 * Sets up queue `index` with `size` entries (a power of two, at most 32768):
 * the rings in zeroed DMA memory, every descriptor free. `event_idx` says
 * whether VIRTIO_F_EVENT_IDX was negotiated. Returns 0 or MIST_ENOMEM. The
 * ring memory is never returned: the platform's DMA memory cannot be freed.
 */
int virtq_init(struct virtq *vq, uint16_t index, uint16_t size, bool event_idx);

/* Frees what virtq_init() took from the heap. Every chain must be back. */
void virtq_fini(struct virtq *vq);

/* Descriptors free for new chains. */
static inline unsigned virtq_free_descs(const struct virtq *vq)
{
	return vq->num_free;
}

/*
 * The descriptor the next virtq_add() makes the head of its chain, by which
 * a driver can keep per-chain data of its own beside the ring. Valid until
 * the next virtq_add() or virtq_get_used().
 */
static inline uint16_t virtq_next_head(const struct virtq *vq)
{
	return vq->free_head;
}

/*
 * Adds a chain of `n_readable` device-readable segments followed by
 * `n_writable` device-writable ones (§2.7.4: writable ones come last),
 * carrying `cookie` (not NULL), to the available ring. The device sees it at
 * the next virtq_publish(). Returns 0, or MIST_EAGAIN when fewer descriptors
 * than segments are free.
 */
int virtq_add(struct virtq *vq, const struct virtq_seg *segs, unsigned n_readable,
              unsigned n_writable, void *cookie);

/*
 * Makes the chains added since the last call visible to the device
 * (§2.7.13). Returns true when the device asked to be notified of them: the
 * caller then sends the transport's notification.
 */
bool virtq_publish(struct virtq *vq);

/* True when the device has used chains that virtq_get_used() has not taken. */
bool virtq_has_used(const struct virtq *vq);

/*
 * Takes the next chain the device used, frees its descriptors and returns
 * its cookie, with the bytes the device wrote into it in *written. Returns
 * NULL when there is none. A device that returns a chain it does not hold
 * is broken beyond recovery: the program stops with a report.
 */
void *virtq_get_used(struct virtq *vq, uint32_t *written);

/*
 * Asks the device not to send used buffer notifications (interrupts) for
 * this queue, while the loop polls it anyway. A hint: one may still come.
 */
void virtq_disable_interrupts(struct virtq *vq);

/*
 * Asks the device for an interrupt when it next uses a chain, then looks
 * again: returns true when chains were used meanwhile, which would bring no
 * interrupt, so that the caller takes them before it sleeps.
 */
bool virtq_enable_interrupts(struct virtq *vq);

/*
 * After the device has been reset: frees one chain the device still held,
 * used or not, and returns its cookie; NULL when none is left.
 */
void *virtq_detach(struct virtq *vq);

#endif
