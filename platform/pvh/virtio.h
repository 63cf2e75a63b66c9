/*
 * The virtio device core of the pvh platform: what a virtio 1.x device
 * driver (virtio_net.c) asks of a transport (virtio_mmio.c, virtio_pci.c),
 * the device initialisation steps common to every device type (virtio.c),
 * and the constants of the specification ("Virtual I/O Device (VIRTIO)
 * Version 1.2", cited as §N) that more than one of these files needs.
 *
 * Only modern (non-legacy) devices are driven: VIRTIO_F_VERSION_1 is
 * required, so every field a device shares with the driver is little-endian
 * like the CPU. Internal to platform/pvh; the stack never sees it.
 */
#ifndef MIST_PLATFORM_PVH_VIRTIO_H
#define MIST_PLATFORM_PVH_VIRTIO_H

#include <stdbool.h>
#include <stdint.h>

/* Device status bits (§2.1). */
#define VIRTIO_STATUS_ACKNOWLEDGE 0x01u /* the guest has noticed the device */
#define VIRTIO_STATUS_DRIVER      0x02u /* the guest knows how to drive it */
#define VIRTIO_STATUS_DRIVER_OK   0x04u /* the driver is ready */
#define VIRTIO_STATUS_FEATURES_OK 0x08u /* feature negotiation is complete */
#define VIRTIO_STATUS_FAILED      0x80u /* the driver gave up on the device */

/* Device-independent feature bits (§6). */
#define VIRTIO_F_EVENT_IDX (1ull << 29) /* used_event / avail_event (§2.7.7, §2.7.10) */
#define VIRTIO_F_VERSION_1 (1ull << 32) /* compliance with virtio 1.x */

/* Device IDs (§5). */
#define VIRTIO_ID_NET 1u

/* The PCI vendor of every virtio device, and the transitional ID of the network device (§4.1.2). */
#define VIRTIO_PCI_VENDOR              0x1af4u
#define VIRTIO_PCI_MODERN_ID_BASE      0x1040u /* + the device ID */
#define VIRTIO_PCI_TRANSITIONAL_NET_ID 0x1000u

/*
 * x86_64 is little-endian, as are the fields of modern devices (§2.7 and
 * §4.1.3), so they are read and written without conversion.
 */
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "virtio fields are little-endian");

/*
 * The guest-physical address of `p`, which is what a device is given. The
 * pvh platform maps all memory at physical == virtual, so it is the pointer.
 */
static inline uint64_t virtio_phys(const void *p)
{
	return (uint64_t)(uintptr_t)p;
}

struct virtq;
struct virtio_dev;

/*
 * What a transport does for a driver. Register access and notification
 * differ between transports; the device and its virtqueues do not.
 */
struct virtio_transport {
	uint8_t (*get_status)(struct virtio_dev *dev);
	/* Writes the status; 0 resets the device. */
	void (*set_status)(struct virtio_dev *dev, uint8_t status);
	uint64_t (*device_features)(struct virtio_dev *dev);
	void (*set_driver_features)(struct virtio_dev *dev, uint64_t features);
	/* The configuration generation (§2.5.1): changes when the configuration does. */
	uint32_t (*config_generation)(struct virtio_dev *dev);
	/* Reads the device-specific configuration at byte `off`, at the field's own width. */
	uint8_t (*config_read8)(struct virtio_dev *dev, unsigned off);
	uint16_t (*config_read16)(struct virtio_dev *dev, unsigned off);
	/* The largest size of queue `index`, 0 when the device has no such queue. */
	uint16_t (*queue_max_size)(struct virtio_dev *dev, uint16_t index);
	/*
	 * Gives the device `vq`'s rings and size, routes its used buffer
	 * notifications to the interrupt of irq_attach(), and enables it.
	 * Returns 0 or MIST_EIO after logging why.
	 */
	int (*queue_enable)(struct virtio_dev *dev, struct virtq *vq);
	/* Sends `vq`'s available buffer notification. */
	void (*queue_notify)(struct virtio_dev *dev, const struct virtq *vq);
	/*
	 * Routes the device's interrupt to a handler that acknowledges it and
	 * returns: the platform's yield wakes on any interrupt and the loop
	 * polls the queues. Called before queue_enable(). Returns 0 or a
	 * MIST_E* code after logging why.
	 */
	int (*irq_attach)(struct virtio_dev *dev);
	/* Frees the transport's state; the device has been reset. */
	void (*release)(struct virtio_dev *dev);
};

struct virtio_dev {
	const struct virtio_transport *ops;
	char where[32]; /* the device's address, for log lines */
};

/*
 * Finds the first device of type `device_id` on one transport and stores it
 * in *out, its registers mapped. Returns 0, MIST_ENOENT when there is none,
 * or another MIST_E* code after logging why.
 *
 * virtio_mmio_find() looks at the windows the command line named
 * (virtio_mmio.device=), which the platform has mapped; virtio_pci_find()
 * scans PCI bus 0 through the configuration ports and maps the structures
 * it finds in the device's BARs.
 */
int virtio_mmio_find(uint32_t device_id, struct virtio_dev **out);
int virtio_pci_find(uint32_t device_id, struct virtio_dev **out);

/*
 * Resets the device and waits until it reads back as reset. Returns 0, or
 * MIST_EIO after logging that it never did.
 */
int virtio_reset(struct virtio_dev *dev);

/*
 * The first steps of device initialisation (§3.1.1, 1 to 3): reset, then
 * ACKNOWLEDGE and DRIVER. Returns the features the device offers in
 * *offered, or MIST_EIO after logging why.
 */
int virtio_start(struct virtio_dev *dev, uint64_t *offered);

/*
 * Feature negotiation (§3.1.1, 4 to 6): writes `features`, which must be a
 * subset of those offered, sets FEATURES_OK and checks that the device kept
 * it. Returns 0, or MIST_ENOTSUP after logging why (VIRTIO_F_VERSION_1
 * missing: a legacy-only device; or the device refused the set).
 */
int virtio_accept_features(struct virtio_dev *dev, uint64_t features);

/* Sets DRIVER_OK (§3.1.1, 8): the device is live. */
void virtio_driver_ok(struct virtio_dev *dev);

/* Sets FAILED (§3.1.1): the driver gives up on the device. */
void virtio_fail(struct virtio_dev *dev);

/*
 * Reads `len` bytes of device-specific configuration at byte `off` one by
 * one, again until the configuration generation is the same before and after
 * (§2.5.1), so that the bytes belong together.
 */
void virtio_config_read_bytes(struct virtio_dev *dev, unsigned off, uint8_t *dst, unsigned len);

#endif
