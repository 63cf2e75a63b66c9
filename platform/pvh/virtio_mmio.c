/*
 * The virtio-mmio transport (§4.2), register layout version 2 (modern
 * devices only), as QEMU's microvm machine and Firecracker provide it: a
 * window of registers at an address the command line names
 * (`virtio_mmio.device=<size>@<base>:<irq>`, taken out of it by the
 * platform), and one level-triggered interrupt line. It does not drive
 * version 1 (legacy) windows, which QEMU makes by default: QEMU needs
 * `-global virtio-mmio.force-legacy=false`. It depends on the platform's
 * register accessors (io.h), the windows it found and mapped (pvh.h) and
 * its interrupt routing (irq.h).
 */
#define MIST_LOG_TAG "virtio"

#include "base/compiler.h"
#include "base/fmt.h"
#include "core/mem.h"
#include "io.h"
#include "irq.h"
#include "mist/log.h"
#include "mist/mist.h"
#include "pvh.h"
#include "virtio.h"
#include "virtio_ring.h"

/* Register offsets (§4.2.2, table "MMIO Device Register Layout"); all 32 bits wide. */
#define MMIO_MAGIC_VALUE         0x000u
#define MMIO_VERSION             0x004u
#define MMIO_DEVICE_ID           0x008u
#define MMIO_DEVICE_FEATURES     0x010u
#define MMIO_DEVICE_FEATURES_SEL 0x014u
#define MMIO_DRIVER_FEATURES     0x020u
#define MMIO_DRIVER_FEATURES_SEL 0x024u
#define MMIO_QUEUE_SEL           0x030u
#define MMIO_QUEUE_NUM_MAX       0x034u
#define MMIO_QUEUE_NUM           0x038u
#define MMIO_QUEUE_READY         0x044u
#define MMIO_QUEUE_NOTIFY        0x050u
#define MMIO_INTERRUPT_STATUS    0x060u
#define MMIO_INTERRUPT_ACK       0x064u
#define MMIO_STATUS              0x070u
#define MMIO_QUEUE_DESC_LOW      0x080u
#define MMIO_QUEUE_DESC_HIGH     0x084u
#define MMIO_QUEUE_DRIVER_LOW    0x090u
#define MMIO_QUEUE_DRIVER_HIGH   0x094u
#define MMIO_QUEUE_DEVICE_LOW    0x0a0u
#define MMIO_QUEUE_DEVICE_HIGH   0x0a4u
#define MMIO_CONFIG_GENERATION   0x0fcu
#define MMIO_CONFIG              0x100u

#define MMIO_MAGIC          0x74726976u /* "virt" in little-endian */
#define MMIO_VERSION_MODERN 2u
#define MMIO_VERSION_LEGACY 1u

/* A window smaller than this cannot hold the registers and a device configuration. */
#define MMIO_MIN_WINDOW 0x200u

struct virtio_mmio {
	struct virtio_dev vdev; /* first, so that ops can cast back */
	uintptr_t base;
	unsigned irq;
};

static struct virtio_mmio *mmio_of(struct virtio_dev *vdev)
{
	return mist_container_of(vdev, struct virtio_mmio, vdev);
}

static uint32_t mmio_reg_read(const struct virtio_mmio *m, unsigned reg)
{
	return mmio_read32(m->base + reg);
}

static void mmio_reg_write(const struct virtio_mmio *m, unsigned reg, uint32_t value)
{
	mmio_write32(m->base + reg, value);
}

/* A 64-bit address into a pair of registers, low half first. */
static void mmio_reg_write64(const struct virtio_mmio *m, unsigned low_reg, uint64_t value)
{
	mmio_reg_write(m, low_reg, (uint32_t)value);
	mmio_reg_write(m, low_reg + 4u, (uint32_t)(value >> 32));
}

static uint8_t mmio_get_status(struct virtio_dev *vdev)
{
	return (uint8_t)mmio_reg_read(mmio_of(vdev), MMIO_STATUS);
}

static void mmio_set_status(struct virtio_dev *vdev, uint8_t status)
{
	mmio_reg_write(mmio_of(vdev), MMIO_STATUS, status);
}

static uint64_t mmio_device_features(struct virtio_dev *vdev)
{
	struct virtio_mmio *m = mmio_of(vdev);
	mmio_reg_write(m, MMIO_DEVICE_FEATURES_SEL, 0);
	uint64_t low = mmio_reg_read(m, MMIO_DEVICE_FEATURES);
	mmio_reg_write(m, MMIO_DEVICE_FEATURES_SEL, 1);
	uint64_t high = mmio_reg_read(m, MMIO_DEVICE_FEATURES);
	return high << 32 | low;
}

static void mmio_set_driver_features(struct virtio_dev *vdev, uint64_t features)
{
	struct virtio_mmio *m = mmio_of(vdev);
	mmio_reg_write(m, MMIO_DRIVER_FEATURES_SEL, 0);
	mmio_reg_write(m, MMIO_DRIVER_FEATURES, (uint32_t)features);
	mmio_reg_write(m, MMIO_DRIVER_FEATURES_SEL, 1);
	mmio_reg_write(m, MMIO_DRIVER_FEATURES, (uint32_t)(features >> 32));
}

static uint32_t mmio_config_generation(struct virtio_dev *vdev)
{
	return mmio_reg_read(mmio_of(vdev), MMIO_CONFIG_GENERATION);
}

/* §4.2.2.2: configuration fields are read at their own width. */
static uint8_t mmio_config_read8(struct virtio_dev *vdev, unsigned off)
{
	return mmio_read8(mmio_of(vdev)->base + MMIO_CONFIG + off);
}

static uint16_t mmio_config_read16(struct virtio_dev *vdev, unsigned off)
{
	return mmio_read16(mmio_of(vdev)->base + MMIO_CONFIG + off);
}

static uint16_t mmio_queue_max_size(struct virtio_dev *vdev, uint16_t index)
{
	struct virtio_mmio *m = mmio_of(vdev);
	mmio_reg_write(m, MMIO_QUEUE_SEL, index);
	uint32_t max = mmio_reg_read(m, MMIO_QUEUE_NUM_MAX);
	return (uint16_t)MIST_MIN(max, (uint32_t)UINT16_MAX);
}

/* §4.2.3.2: select, check it is not live, size, addresses, then ready. */
static int mmio_queue_enable(struct virtio_dev *vdev, struct virtq *vq)
{
	struct virtio_mmio *m = mmio_of(vdev);
	mmio_reg_write(m, MMIO_QUEUE_SEL, vq->index);
	if (mmio_reg_read(m, MMIO_QUEUE_READY) != 0) {
		mist_error("%s: queue %u is already live after a reset", vdev->where, vq->index);
		return MIST_EIO;
	}
	mmio_reg_write(m, MMIO_QUEUE_NUM, vq->size);
	mmio_reg_write64(m, MMIO_QUEUE_DESC_LOW, virtio_phys(vq->desc));
	mmio_reg_write64(m, MMIO_QUEUE_DRIVER_LOW, virtio_phys(vq->avail));
	mmio_reg_write64(m, MMIO_QUEUE_DEVICE_LOW, virtio_phys(vq->used));
	mmio_reg_write(m, MMIO_QUEUE_READY, 1);
	vq->notify_addr = m->base + MMIO_QUEUE_NOTIFY;
	return 0;
}

/* §4.2.3.3: the queue's index, written to QueueNotify. */
static void mmio_queue_notify(struct virtio_dev *vdev, const struct virtq *vq)
{
	mmio_write32((uintptr_t)vq->notify_addr, vq->index);
}

/*
 * §4.2.3.4: the line stays up until the driver acknowledges what
 * InterruptStatus shows (used buffers, configuration change). The argument
 * is the window's address rather than the transport's state, so that the
 * handler, which stays attached, never reads freed memory.
 */
static void mmio_interrupt(void *arg)
{
	uintptr_t base = (uintptr_t)arg;
	mmio_write32(base + MMIO_INTERRUPT_ACK, mmio_read32(base + MMIO_INTERRUPT_STATUS));
}

static int mmio_irq_attach(struct virtio_dev *vdev)
{
	struct virtio_mmio *m = mmio_of(vdev);
	int err = pvh_irq_attach_gsi(m->irq, true, mmio_interrupt, (void *)m->base);
	if (err != 0)
		mist_error("%s: cannot attach interrupt %u: %s", vdev->where, m->irq,
		           mist_strerror(err));
	return err;
}

static void mmio_release(struct virtio_dev *vdev)
{
	mist_free(mmio_of(vdev));
}

static const struct virtio_transport mmio_transport = {
        .get_status = mmio_get_status,
        .set_status = mmio_set_status,
        .device_features = mmio_device_features,
        .set_driver_features = mmio_set_driver_features,
        .config_generation = mmio_config_generation,
        .config_read8 = mmio_config_read8,
        .config_read16 = mmio_config_read16,
        .queue_max_size = mmio_queue_max_size,
        .queue_enable = mmio_queue_enable,
        .queue_notify = mmio_queue_notify,
        .irq_attach = mmio_irq_attach,
        .release = mmio_release,
};

/*
 * Whether the window holds a modern device of type `device_id`. §4.2.3.1.1:
 * magic and version first; a device ID of 0 is an empty slot, whose other
 * registers must not be touched.
 */
static bool mmio_window_matches(const struct pvh_virtio_mmio *w, uint32_t device_id)
{
	if (w->size < MMIO_MIN_WINDOW)
		return false;
	/* The platform mapped the window at boot (pvh.h). */
	uintptr_t base = (uintptr_t)w->base;
	if (mmio_read32(base + MMIO_MAGIC_VALUE) != MMIO_MAGIC)
		return false;
	uint32_t version = mmio_read32(base + MMIO_VERSION);
	uint32_t id = mmio_read32(base + MMIO_DEVICE_ID);
	if (id != device_id)
		return false;
	if (version == MMIO_VERSION_LEGACY) {
		mist_warn("virtio-mmio@%#llx: a legacy (version 1) device, not driven; QEMU makes "
		          "modern ones with -global virtio-mmio.force-legacy=false",
		          (unsigned long long)w->base);
		return false;
	}
	return version == MMIO_VERSION_MODERN;
}

int virtio_mmio_find(uint32_t device_id, struct virtio_dev **out)
{
	const struct pvh_virtio_mmio *windows;
	unsigned count = pvh_virtio_mmio_devices(&windows);

	for (unsigned i = 0; i < count; i++) {
		if (!mmio_window_matches(&windows[i], device_id))
			continue;
		struct virtio_mmio *m = mist_calloc(1, sizeof(*m));
		if (m == NULL)
			return MIST_ENOMEM;
		m->vdev.ops = &mmio_transport;
		m->base = (uintptr_t)windows[i].base;
		m->irq = windows[i].irq;
		mist_snprintf(m->vdev.where, sizeof(m->vdev.where), "virtio-mmio@%#llx",
		              (unsigned long long)windows[i].base);
		*out = &m->vdev;
		return 0;
	}
	return MIST_ENOENT;
}
