/*
 * Device initialisation common to every virtio device and transport
 * (virtio.h): reset, the status handshake, feature negotiation and
 * consistent reads of the device configuration, following the order of
 * §3.1.1. Device-specific setup (queues, configuration fields) is the
 * driver's, between virtio_accept_features() and virtio_driver_ok().
 */
#define MIST_LOG_TAG "virtio"

#include "virtio.h"
#include "mist/log.h"
#include "mist/mist.h"

/*
 * Reads of the status after a reset before giving up. QEMU and Firecracker
 * reset synchronously, so the first read normally shows it; the bound only
 * keeps a broken device from hanging the boot.
 */
#define VIRTIO_RESET_POLLS 1000000u

int virtio_reset(struct virtio_dev *dev)
{
	/* §2.4: after writing 0 the driver waits for the status to read back 0. */
	dev->ops->set_status(dev, 0);
	for (unsigned i = 0; i < VIRTIO_RESET_POLLS; i++)
		if (dev->ops->get_status(dev) == 0)
			return 0;
	mist_error("%s: the device does not finish its reset", dev->where);
	return MIST_EIO;
}

int virtio_start(struct virtio_dev *dev, uint64_t *offered)
{
	int err = virtio_reset(dev);
	if (err != 0)
		return err;
	dev->ops->set_status(dev, VIRTIO_STATUS_ACKNOWLEDGE);
	dev->ops->set_status(dev, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	*offered = dev->ops->device_features(dev);
	return 0;
}

int virtio_accept_features(struct virtio_dev *dev, uint64_t features)
{
	/*
	 * §6.1: a driver accepts VIRTIO_F_VERSION_1 whenever it is offered, and
	 * may give up on a device that does not offer it, as this one, which
	 * has no legacy mode, does.
	 */
	if ((features & VIRTIO_F_VERSION_1) == 0) {
		mist_error("%s: a legacy device (no VIRTIO_F_VERSION_1); only virtio 1.x is "
		           "supported",
		           dev->where);
		return MIST_ENOTSUP;
	}
	dev->ops->set_driver_features(dev, features);
	uint8_t status = VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER;
	dev->ops->set_status(dev, status | VIRTIO_STATUS_FEATURES_OK);
	/* §3.1.1 step 6: the device clears FEATURES_OK when it cannot work with the set. */
	if ((dev->ops->get_status(dev) & VIRTIO_STATUS_FEATURES_OK) == 0) {
		mist_error("%s: the device refused features %#llx", dev->where,
		           (unsigned long long)features);
		return MIST_ENOTSUP;
	}
	return 0;
}

void virtio_driver_ok(struct virtio_dev *dev)
{
	dev->ops->set_status(dev, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
	                                  VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);
}

void virtio_fail(struct virtio_dev *dev)
{
	dev->ops->set_status(dev, (uint8_t)(dev->ops->get_status(dev) | VIRTIO_STATUS_FAILED));
}

void virtio_config_read_bytes(struct virtio_dev *dev, unsigned off, uint8_t *dst, unsigned len)
{
	uint32_t before, after;
	do {
		before = dev->ops->config_generation(dev);
		for (unsigned i = 0; i < len; i++)
			dst[i] = dev->ops->config_read8(dev, off + i);
		after = dev->ops->config_generation(dev);
	} while (before != after);
}
