/*
 * Device interrupts (irq.h): the I/O APIC (Intel 82093AA data sheet) routes
 * a device's line (a GSI) to a vector; an MSI goes straight to one. Vectors
 * 0x20-0x3f are handed out in order, one per attachment, and each calls its
 * handler then acknowledges the local APIC. The legacy 8259 PICs are masked
 * for good: everything goes through the APICs.
 *
 * The I/O APIC is assumed at its usual address, 0xfec00000, as on QEMU's
 * microvm and q35, Firecracker and cloud-hypervisor (reading its address
 * from the ACPI MADT would need an ACPI table parser, which Mist lacks).
 */
#include "irq.h"
#include "core/platform.h"
#include "io.h"
#include "mist/mist.h"
#include "pvh.h"
#include "pvh_internal.h"

#define IOAPIC_BASE        0xfec00000u
#define IOAPIC_WINDOW_SIZE 0x1000
#define IOAPIC_REGSEL      0x00
#define IOAPIC_WINDOW      0x10
#define IOAPIC_REG_VERSION 0x01
#define IOAPIC_REG_REDIR   0x10 /* two registers per input */

#define REDIR_LEVEL  (1u << 15)
#define REDIR_MASKED (1u << 16)

#define PIC1_DATA 0x21
#define PIC2_DATA 0xa1

#define MSI_ADDRESS_BASE 0xfee00000u
#define MSI_DEST_SHIFT   12

#define GSI_WORDS 8 /* a bit per GSI, up to 256 */

struct irq_handler {
	void (*fn)(void *arg);
	void *arg;
};

static struct irq_handler irq_handlers[PVH_VECTOR_DEVICE_COUNT];
static unsigned irq_vectors_used;
static unsigned ioapic_inputs;
static uint32_t gsi_attached[GSI_WORDS];

static uint32_t ioapic_read(unsigned reg)
{
	mmio_write32(IOAPIC_BASE + IOAPIC_REGSEL, reg);
	return mmio_read32(IOAPIC_BASE + IOAPIC_WINDOW);
}

static void ioapic_write(unsigned reg, uint32_t value)
{
	mmio_write32(IOAPIC_BASE + IOAPIC_REGSEL, reg);
	mmio_write32(IOAPIC_BASE + IOAPIC_WINDOW, value);
}

void pvh_irq_init(void)
{
	outb(PIC1_DATA, 0xff);
	outb(PIC2_DATA, 0xff);
	if (pvh_map_mmio(IOAPIC_BASE, IOAPIC_WINDOW_SIZE) != 0)
		pvh_crash("cannot map the I/O APIC");
	ioapic_inputs = ((ioapic_read(IOAPIC_REG_VERSION) >> 16) & 0xff) + 1;
	for (unsigned i = 0; i < ioapic_inputs; i++)
		ioapic_write(IOAPIC_REG_REDIR + 2 * i, REDIR_MASKED);
}

/* The next free vector for fn(arg), or 0 when none is left. */
static unsigned vector_alloc(void (*fn)(void *arg), void *arg)
{
	if (irq_vectors_used == PVH_VECTOR_DEVICE_COUNT)
		return 0;
	irq_handlers[irq_vectors_used] = (struct irq_handler){.fn = fn, .arg = arg};
	return PVH_VECTOR_DEVICE_FIRST + irq_vectors_used++;
}

int pvh_irq_attach_gsi(unsigned gsi, bool level, void (*fn)(void *arg), void *arg)
{
	if (fn == NULL || gsi >= ioapic_inputs ||
	    (gsi_attached[gsi / 32] & (1u << (gsi % 32))) != 0)
		return MIST_EINVAL;
	unsigned vector = vector_alloc(fn, arg);
	if (vector == 0)
		return MIST_ENOMEM;
	gsi_attached[gsi / 32] |= 1u << (gsi % 32);
	/* Fixed delivery, physical destination: this CPU; active high. */
	ioapic_write(IOAPIC_REG_REDIR + 2 * gsi + 1, pvh_lapic_id() << 24);
	ioapic_write(IOAPIC_REG_REDIR + 2 * gsi, vector | (level ? REDIR_LEVEL : 0));
	return 0;
}

int pvh_irq_attach_msi(void (*fn)(void *arg), void *arg, uint64_t *addr, uint32_t *data)
{
	if (fn == NULL)
		return MIST_EINVAL;
	unsigned vector = vector_alloc(fn, arg);
	if (vector == 0)
		return MIST_ENOMEM;
	/* SDM vol. 3A 10.11: edge-triggered, fixed delivery, to this CPU's APIC ID. */
	*addr = MSI_ADDRESS_BASE | pvh_lapic_id() << MSI_DEST_SHIFT;
	*data = vector;
	return 0;
}

void pvh_irq_dispatch(unsigned vector)
{
	unsigned i = vector - PVH_VECTOR_DEVICE_FIRST;
	if (i < irq_vectors_used)
		irq_handlers[i].fn(irq_handlers[i].arg);
	pvh_lapic_eoi();
}
