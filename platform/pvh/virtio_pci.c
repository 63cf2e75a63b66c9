/*
 * The virtio-pci transport, modern interface (§4.1), as on QEMU's q35
 * machine: the device is found by scanning PCI bus 0 through configuration
 * mechanism #1 (ports 0xcf8/0xcfc), its common, notification and device
 * configuration structures through its vendor capabilities, in memory BARs
 * the firmware assigned; interrupts are one MSI-X vector for every queue.
 *
 * It does not drive the legacy interface (I/O BAR 0 of transitional
 * devices), devices behind bridges (other buses), structures in I/O BARs,
 * or INTx interrupts, whose routing on q35 needs the ACPI tables the
 * platform does not read. It depends on the platform's port and register
 * accessors (io.h), mappings (pvh.h) and MSI vectors (irq.h).
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

/* PCI Local Bus 3.0, §3.2.2.3.2: configuration mechanism #1. */
#define PCI_CONFIG_ADDRESS 0xcf8u
#define PCI_CONFIG_DATA    0xcfcu
#define PCI_CONFIG_ENABLE  0x80000000u
#define PCI_SLOTS          32u
#define PCI_FUNCTIONS      8u

/* Configuration header fields (PCI Local Bus 3.0, §6.1). */
#define PCI_VENDOR_ID   0x00u
#define PCI_DEVICE_ID   0x02u
#define PCI_COMMAND     0x04u
#define PCI_STATUS      0x06u
#define PCI_HEADER_TYPE 0x0eu
#define PCI_BAR0        0x10u
#define PCI_CAP_POINTER 0x34u

#define PCI_VENDOR_NONE             0xffffu /* no function answers */
#define PCI_HEADER_MULTIFUNCTION    0x80u
#define PCI_COMMAND_MEMORY          (1u << 1)
#define PCI_COMMAND_BUS_MASTER      (1u << 2) /* lets the device DMA: the rings */
#define PCI_COMMAND_INTX_DISABLE    (1u << 10)
#define PCI_STATUS_CAP_LIST         (1u << 4)
#define PCI_BAR_IO                  0x1u
#define PCI_BAR_TYPE_MASK           0x6u
#define PCI_BAR_TYPE_64             0x4u
#define PCI_BAR_MEMORY_ADDRESS_MASK (~(uint64_t)0xf)
#define PCI_BARS                    6u
/* Capabilities are dword-aligned in 256 bytes: a list longer than this loops. */
#define PCI_CAP_MAX 48u

#define PCI_CAP_ID_VENDOR 0x09u
#define PCI_CAP_ID_MSIX   0x11u

/* MSI-X (PCI Local Bus 3.0, §6.8.2): the capability and one table entry. */
#define MSIX_CONTROL               0x02u
#define MSIX_TABLE                 0x04u
#define MSIX_CONTROL_ENABLE        (1u << 15)
#define MSIX_CONTROL_FUNCTION_MASK (1u << 14)
#define MSIX_TABLE_BIR_MASK        0x7u
#define MSIX_ENTRY_SIZE            16u
#define MSIX_ENTRY_ADDR_LOW        0x0u
#define MSIX_ENTRY_ADDR_HIGH       0x4u
#define MSIX_ENTRY_DATA            0x8u
#define MSIX_ENTRY_VECTOR_CONTROL  0xcu /* bit 0 masks the entry; 0 leaves it open */

/* struct virtio_pci_cap (§4.1.4) and the notification multiplier that follows it. */
#define VIRTIO_CAP_CFG_TYPE    3u
#define VIRTIO_CAP_BAR         4u
#define VIRTIO_CAP_OFFSET      8u
#define VIRTIO_CAP_LENGTH      12u
#define VIRTIO_CAP_NOTIFY_MULT 16u

#define VIRTIO_PCI_CAP_COMMON_CFG 1u
#define VIRTIO_PCI_CAP_NOTIFY_CFG 2u
#define VIRTIO_PCI_CAP_DEVICE_CFG 4u

/* struct virtio_pci_common_cfg (§4.1.4.3). */
#define COMMON_DEVICE_FEATURE_SELECT 0x00u
#define COMMON_DEVICE_FEATURE        0x04u
#define COMMON_DRIVER_FEATURE_SELECT 0x08u
#define COMMON_DRIVER_FEATURE        0x0cu
#define COMMON_CONFIG_MSIX_VECTOR    0x10u
#define COMMON_NUM_QUEUES            0x12u
#define COMMON_DEVICE_STATUS         0x14u
#define COMMON_CONFIG_GENERATION     0x15u
#define COMMON_QUEUE_SELECT          0x16u
#define COMMON_QUEUE_SIZE            0x18u
#define COMMON_QUEUE_MSIX_VECTOR     0x1au
#define COMMON_QUEUE_ENABLE          0x1cu
#define COMMON_QUEUE_NOTIFY_OFF      0x1eu
#define COMMON_QUEUE_DESC            0x20u
#define COMMON_QUEUE_DRIVER          0x28u
#define COMMON_QUEUE_DEVICE          0x30u
#define COMMON_CFG_LEN               0x38u

/* §4.1.5.1.2: "no vector"; the one vector this driver uses is entry 0. */
#define VIRTIO_MSI_NO_VECTOR 0xffffu
#define VIRTIO_MSIX_ENTRY    0u

/* §4.1.4.1: structures never need more than 4 KiB mapped. */
#define VIRTIO_PCI_MAP_MAX 4096u

struct pci_loc {
	uint8_t bus, slot, func;
};

struct virtio_pci {
	struct virtio_dev vdev; /* first, so that ops can cast back */
	struct pci_loc loc;
	uintptr_t common;     /* the common configuration structure */
	uintptr_t device_cfg; /* the device-specific configuration */
	uint64_t notify;      /* the notification structure (mapped per queue) */
	uint32_t notify_len;
	uint32_t notify_mult; /* notify_off_multiplier */
	uint8_t msix_cap;     /* configuration offset of the MSI-X capability, 0 if none */
};

static struct virtio_pci *pci_of(struct virtio_dev *vdev)
{
	return mist_container_of(vdev, struct virtio_pci, vdev);
}

/* --- configuration space --------------------------------------------------- */

static void pci_select(const struct pci_loc *loc, unsigned off)
{
	outl(PCI_CONFIG_ADDRESS, PCI_CONFIG_ENABLE | (uint32_t)loc->bus << 16 |
	                                 (uint32_t)loc->slot << 11 | (uint32_t)loc->func << 8 |
	                                 (off & 0xfcu));
}

static uint32_t pci_read32(const struct pci_loc *loc, unsigned off)
{
	pci_select(loc, off);
	return inl(PCI_CONFIG_DATA);
}

static uint16_t pci_read16(const struct pci_loc *loc, unsigned off)
{
	pci_select(loc, off);
	return inw((uint16_t)(PCI_CONFIG_DATA + (off & 2u)));
}

static uint8_t pci_read8(const struct pci_loc *loc, unsigned off)
{
	pci_select(loc, off);
	return inb((uint16_t)(PCI_CONFIG_DATA + (off & 3u)));
}

/* A 16-bit write, so that the status register next to the command register is left alone. */
static void pci_write16(const struct pci_loc *loc, unsigned off, uint16_t value)
{
	pci_select(loc, off);
	outw((uint16_t)(PCI_CONFIG_DATA + (off & 2u)), value);
}

/*
 * The address memory BAR `bar` decodes, in *addr. Returns MIST_ENOTSUP for
 * an I/O BAR and MIST_EIO for one the firmware left unassigned.
 */
static int pci_bar_address(const struct pci_loc *loc, unsigned bar, uint64_t *addr)
{
	uint32_t low = pci_read32(loc, PCI_BAR0 + 4u * bar);
	if ((low & PCI_BAR_IO) != 0)
		return MIST_ENOTSUP;
	uint64_t value = low;
	if ((low & PCI_BAR_TYPE_MASK) == PCI_BAR_TYPE_64) {
		if (bar + 1 >= PCI_BARS)
			return MIST_EIO;
		value |= (uint64_t)pci_read32(loc, PCI_BAR0 + 4u * (bar + 1)) << 32;
	}
	*addr = value & PCI_BAR_MEMORY_ADDRESS_MASK;
	return *addr != 0 ? 0 : MIST_EIO;
}

/* --- the transport ------------------------------------------------------------ */

static uint8_t pci_get_status(struct virtio_dev *vdev)
{
	return mmio_read8(pci_of(vdev)->common + COMMON_DEVICE_STATUS);
}

static void pci_set_status(struct virtio_dev *vdev, uint8_t status)
{
	mmio_write8(pci_of(vdev)->common + COMMON_DEVICE_STATUS, status);
}

static uint64_t pci_device_features(struct virtio_dev *vdev)
{
	uintptr_t common = pci_of(vdev)->common;
	mmio_write32(common + COMMON_DEVICE_FEATURE_SELECT, 0);
	uint64_t low = mmio_read32(common + COMMON_DEVICE_FEATURE);
	mmio_write32(common + COMMON_DEVICE_FEATURE_SELECT, 1);
	uint64_t high = mmio_read32(common + COMMON_DEVICE_FEATURE);
	return high << 32 | low;
}

static void pci_set_driver_features(struct virtio_dev *vdev, uint64_t features)
{
	uintptr_t common = pci_of(vdev)->common;
	mmio_write32(common + COMMON_DRIVER_FEATURE_SELECT, 0);
	mmio_write32(common + COMMON_DRIVER_FEATURE, (uint32_t)features);
	mmio_write32(common + COMMON_DRIVER_FEATURE_SELECT, 1);
	mmio_write32(common + COMMON_DRIVER_FEATURE, (uint32_t)(features >> 32));
}

static uint32_t pci_config_generation(struct virtio_dev *vdev)
{
	return mmio_read8(pci_of(vdev)->common + COMMON_CONFIG_GENERATION);
}

/* §4.1.3.1: configuration fields are read at their own width. */
static uint8_t pci_config_read8(struct virtio_dev *vdev, unsigned off)
{
	return mmio_read8(pci_of(vdev)->device_cfg + off);
}

static uint16_t pci_config_read16(struct virtio_dev *vdev, unsigned off)
{
	return mmio_read16(pci_of(vdev)->device_cfg + off);
}

static uint16_t pci_queue_max_size(struct virtio_dev *vdev, uint16_t index)
{
	uintptr_t common = pci_of(vdev)->common;
	if (index >= mmio_read16(common + COMMON_NUM_QUEUES))
		return 0;
	mmio_write16(common + COMMON_QUEUE_SELECT, index);
	return mmio_read16(common + COMMON_QUEUE_SIZE);
}

/* 64-bit fields are written as two 32-bit halves, low first (§4.1.3.1). */
static void pci_common_write64(uintptr_t common, unsigned off, uint64_t value)
{
	mmio_write32(common + off, (uint32_t)value);
	mmio_write32(common + off + 4u, (uint32_t)(value >> 32));
}

/* §4.1.5.1.3: select, size, vector, rings, then enable. */
static int pci_queue_enable(struct virtio_dev *vdev, struct virtq *vq)
{
	struct virtio_pci *p = pci_of(vdev);
	uintptr_t common = p->common;
	mmio_write16(common + COMMON_QUEUE_SELECT, vq->index);
	mmio_write16(common + COMMON_QUEUE_SIZE, vq->size);
	/* §4.1.5.1.2.1: a device that cannot use the vector reads back as NO_VECTOR. */
	mmio_write16(common + COMMON_QUEUE_MSIX_VECTOR, VIRTIO_MSIX_ENTRY);
	if (mmio_read16(common + COMMON_QUEUE_MSIX_VECTOR) != VIRTIO_MSIX_ENTRY) {
		mist_error("%s: queue %u refuses MSI-X vector %u", vdev->where, vq->index,
		           VIRTIO_MSIX_ENTRY);
		return MIST_EIO;
	}
	uint64_t notify_off =
	        (uint64_t)mmio_read16(common + COMMON_QUEUE_NOTIFY_OFF) * p->notify_mult;
	if (notify_off + sizeof(uint16_t) > p->notify_len ||
	    pvh_map_mmio(p->notify + notify_off, sizeof(uint16_t)) != 0) {
		mist_error("%s: queue %u notifies outside its structure", vdev->where, vq->index);
		return MIST_EIO;
	}
	vq->notify_addr = p->notify + notify_off;
	pci_common_write64(common, COMMON_QUEUE_DESC, virtio_phys(vq->desc));
	pci_common_write64(common, COMMON_QUEUE_DRIVER, virtio_phys(vq->avail));
	pci_common_write64(common, COMMON_QUEUE_DEVICE, virtio_phys(vq->used));
	mmio_write16(common + COMMON_QUEUE_ENABLE, 1);
	return 0;
}

/* §4.1.5.2: the queue's index, 16 bits, at the queue's notification address. */
static void pci_queue_notify(struct virtio_dev *vdev, const struct virtq *vq)
{
	mmio_write16((uintptr_t)vq->notify_addr, vq->index);
}

/*
 * An MSI-X message needs nothing from the driver: no ISR read (§4.1.4.5
 * advises against it) and the platform sends the EOI. Waking the loop is
 * all the interrupt is for.
 */
static void pci_interrupt(void *arg)
{
	(void)arg;
}

/* Maps `len` bytes of memory BAR `bar` from `off`, storing their address in *addr. */
static int pci_map_bar_range(const struct pci_loc *loc, unsigned bar, uint64_t off, uint64_t len,
                             uint64_t *addr)
{
	uint64_t base;
	int err = pci_bar_address(loc, bar, &base);
	if (err != 0)
		return err;
	if (pvh_map_mmio(base + off, len) != 0)
		return MIST_EIO;
	*addr = base + off;
	return 0;
}

static int pci_irq_attach(struct virtio_dev *vdev)
{
	struct virtio_pci *p = pci_of(vdev);
	const struct pci_loc *loc = &p->loc;
	uint32_t table = pci_read32(loc, p->msix_cap + MSIX_TABLE);
	uint64_t entry, msg_addr;
	uint32_t msg_data;

	int err = pci_map_bar_range(loc, table & MSIX_TABLE_BIR_MASK,
	                            (table & ~MSIX_TABLE_BIR_MASK) +
	                                    VIRTIO_MSIX_ENTRY * MSIX_ENTRY_SIZE,
	                            MSIX_ENTRY_SIZE, &entry);
	if (err == 0)
		err = pvh_irq_attach_msi(pci_interrupt, NULL, &msg_addr, &msg_data);
	if (err != 0) {
		mist_error("%s: cannot set up MSI-X: %s", vdev->where, mist_strerror(err));
		return err;
	}
	mmio_write32((uintptr_t)entry + MSIX_ENTRY_ADDR_LOW, (uint32_t)msg_addr);
	mmio_write32((uintptr_t)entry + MSIX_ENTRY_ADDR_HIGH, (uint32_t)(msg_addr >> 32));
	mmio_write32((uintptr_t)entry + MSIX_ENTRY_DATA, msg_data);
	mmio_write32((uintptr_t)entry + MSIX_ENTRY_VECTOR_CONTROL, 0);
	uint16_t control = pci_read16(loc, p->msix_cap + MSIX_CONTROL);
	pci_write16(loc, p->msix_cap + MSIX_CONTROL,
	            (uint16_t)((control | MSIX_CONTROL_ENABLE) & ~MSIX_CONTROL_FUNCTION_MASK));
	pci_write16(loc, PCI_COMMAND,
	            (uint16_t)(pci_read16(loc, PCI_COMMAND) | PCI_COMMAND_INTX_DISABLE));
	/* Configuration changes (link status, which is not negotiated) need no interrupt. */
	mmio_write16(p->common + COMMON_CONFIG_MSIX_VECTOR, VIRTIO_MSI_NO_VECTOR);
	return 0;
}

static void pci_release(struct virtio_dev *vdev)
{
	mist_free(pci_of(vdev));
}

static const struct virtio_transport pci_transport = {
        .get_status = pci_get_status,
        .set_status = pci_set_status,
        .device_features = pci_device_features,
        .set_driver_features = pci_set_driver_features,
        .config_generation = pci_config_generation,
        .config_read8 = pci_config_read8,
        .config_read16 = pci_config_read16,
        .queue_max_size = pci_queue_max_size,
        .queue_enable = pci_queue_enable,
        .queue_notify = pci_queue_notify,
        .irq_attach = pci_irq_attach,
        .release = pci_release,
};

/* --- discovery ------------------------------------------------------------- */

static bool pci_is_virtio(const struct pci_loc *loc, uint32_t device_id)
{
	if (pci_read16(loc, PCI_VENDOR_ID) != VIRTIO_PCI_VENDOR)
		return false;
	uint16_t id = pci_read16(loc, PCI_DEVICE_ID);
	/* §4.1.2.2: the modern ID, and for the types that have one, the transitional ID. */
	return id == VIRTIO_PCI_MODERN_ID_BASE + device_id ||
	       (device_id == VIRTIO_ID_NET && id == VIRTIO_PCI_TRANSITIONAL_NET_ID);
}

/*
 * Maps the structure a virtio capability at `cap` describes, if it lies in
 * a memory BAR, and stores its address in *addr and its length in *len.
 * `min_len` is what the driver needs of it. Returns false to look further.
 */
static bool pci_map_virtio_cap(const struct pci_loc *loc, unsigned cap, uint32_t min_len,
                               uint64_t *addr, uint32_t *len)
{
	unsigned bar = pci_read8(loc, cap + VIRTIO_CAP_BAR);
	uint32_t off = pci_read32(loc, cap + VIRTIO_CAP_OFFSET);
	*len = pci_read32(loc, cap + VIRTIO_CAP_LENGTH);
	/* §4.1.4.1: capabilities naming a reserved BAR are ignored. */
	if (bar >= PCI_BARS || *len < min_len)
		return false;
	return pci_map_bar_range(loc, bar, off, MIST_MIN(*len, VIRTIO_PCI_MAP_MAX), addr) == 0;
}

/*
 * Walks the capability list for the structures this driver uses, taking the
 * first usable one of each type (§4.1.4.1), and the MSI-X capability.
 * Returns 0 when all were found.
 */
static int pci_parse_caps(struct virtio_pci *p)
{
	const struct pci_loc *loc = &p->loc;
	uint64_t common = 0, device_cfg = 0, notify = 0;
	uint32_t len;

	if ((pci_read16(loc, PCI_STATUS) & PCI_STATUS_CAP_LIST) == 0)
		return MIST_ENOTSUP;
	unsigned cap = pci_read8(loc, PCI_CAP_POINTER) & 0xfcu;
	for (unsigned n = 0; cap != 0 && n < PCI_CAP_MAX; n++) {
		uint8_t id = pci_read8(loc, cap);
		if (id == PCI_CAP_ID_MSIX && p->msix_cap == 0)
			p->msix_cap = (uint8_t)cap;
		if (id == PCI_CAP_ID_VENDOR) {
			switch (pci_read8(loc, cap + VIRTIO_CAP_CFG_TYPE)) {
			case VIRTIO_PCI_CAP_COMMON_CFG:
				if (common == 0 &&
				    pci_map_virtio_cap(loc, cap, COMMON_CFG_LEN, &common, &len))
					p->common = (uintptr_t)common;
				break;
			case VIRTIO_PCI_CAP_NOTIFY_CFG:
				if (notify == 0 &&
				    pci_map_virtio_cap(loc, cap, sizeof(uint16_t), &notify, &len)) {
					/* Mapped per queue in pci_queue_enable(). */
					p->notify = notify;
					p->notify_len = len;
					p->notify_mult =
					        pci_read32(loc, cap + VIRTIO_CAP_NOTIFY_MULT);
				}
				break;
			case VIRTIO_PCI_CAP_DEVICE_CFG:
				if (device_cfg == 0 &&
				    pci_map_virtio_cap(loc, cap, 0, &device_cfg, &len))
					p->device_cfg = (uintptr_t)device_cfg;
				break;
			default:
				break;
			}
		}
		cap = pci_read8(loc, cap + 1u) & 0xfcu;
	}
	return common != 0 && notify != 0 && device_cfg != 0 && p->msix_cap != 0 ? 0 : MIST_ENOTSUP;
}

/* Sets up the function at `loc`, or returns an error after logging why it cannot be driven. */
static int pci_open(const struct pci_loc *loc, struct virtio_dev **out)
{
	struct virtio_pci *p = mist_calloc(1, sizeof(*p));
	if (p == NULL)
		return MIST_ENOMEM;
	p->vdev.ops = &pci_transport;
	p->loc = *loc;
	mist_snprintf(p->vdev.where, sizeof(p->vdev.where), "virtio-pci %02x:%02x.%u", loc->bus,
	              loc->slot, loc->func);
	if (pci_parse_caps(p) != 0) {
		mist_warn("%s: no modern interface with MSI-X in memory BARs; not driven",
		          p->vdev.where);
		mist_free(p);
		return MIST_ENOTSUP;
	}
	pci_write16(loc, PCI_COMMAND,
	            (uint16_t)(pci_read16(loc, PCI_COMMAND) | PCI_COMMAND_MEMORY |
	                       PCI_COMMAND_BUS_MASTER));
	*out = &p->vdev;
	return 0;
}

int virtio_pci_find(uint32_t device_id, struct virtio_dev **out)
{
	for (unsigned slot = 0; slot < PCI_SLOTS; slot++) {
		struct pci_loc loc = {.bus = 0, .slot = (uint8_t)slot, .func = 0};
		if (pci_read16(&loc, PCI_VENDOR_ID) == PCI_VENDOR_NONE)
			continue;
		unsigned functions =
		        (pci_read8(&loc, PCI_HEADER_TYPE) & PCI_HEADER_MULTIFUNCTION) != 0
		                ? PCI_FUNCTIONS
		                : 1;
		for (unsigned func = 0; func < functions; func++) {
			loc.func = (uint8_t)func;
			if (!pci_is_virtio(&loc, device_id))
				continue;
			int err = pci_open(&loc, out);
			if (err == 0 || err == MIST_ENOMEM)
				return err;
		}
	}
	return MIST_ENOENT;
}
