/*
 * What the pvh platform offers its device drivers (virtio*.c): memory a
 * device can reach by DMA, mapping of device registers, and the virtio-mmio
 * devices the command line announced. Interrupts are in irq.h, register
 * access in io.h. Memory is identity-mapped: a physical address is the
 * virtual address, and the reverse.
 */
#ifndef MIST_PLATFORM_PVH_H
#define MIST_PLATFORM_PVH_H

#include <stddef.h>
#include <stdint.h>

/*
 * Allocates `bytes` of zeroed, page-aligned memory for a device to read and
 * write (rings, buffers); its address is its physical address. Returns NULL
 * when out of memory. There is no free: drivers allocate once at open.
 */
void *pvh_dma_alloc(size_t bytes);

/*
 * Maps the device registers at physical [base, base + size) uncached,
 * read-write and not executable, at the same virtual address, rounded out
 * to whole pages. Mapping a range again is harmless. Returns 0, MIST_EINVAL for an empty range or one
 * that overlaps RAM or the image, or MIST_ENOMEM.
 */
int pvh_map_mmio(uint64_t base, uint64_t size);

/*
 * A virtio-mmio transport announced on the command line as
 * virtio_mmio.device=<size>@<base>:<irq> (Linux's syntax, which QEMU microvm
 * appends for each device). Its window is mapped before boot.
 */
struct pvh_virtio_mmio {
	uint64_t base, size;
	unsigned irq; /* the IOAPIC input (GSI); QEMU drives it as a level */
};

/* Sets *out to the devices announced, in command-line order; returns how many. */
unsigned pvh_virtio_mmio_devices(const struct pvh_virtio_mmio **out);

#endif
