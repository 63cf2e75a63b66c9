/*
 * Port and memory-mapped I/O for the pvh platform and its drivers.
 *
 * The port accessors are single in/out instructions. The MMIO accessors are
 * volatile accesses of exactly the named width (a device register must not
 * be read twice, merged or split) with a compiler barrier on each side, so
 * that the compiler neither moves ordinary memory accesses across them (a
 * descriptor written before the doorbell must be written before it) nor
 * caches a value across them. On x86 the CPU itself keeps uncached MMIO in
 * program order with other stores, so no fence instruction is needed;
 * memory that a device reads by DMA is ordinary write-back memory, which
 * x86 also keeps in order with respect to later MMIO writes.
 */
#ifndef MIST_PLATFORM_PVH_IO_H
#define MIST_PLATFORM_PVH_IO_H

#include <stdint.h>

#define pvh_compiler_barrier() __asm__ volatile("" ::: "memory")

static inline void outb(uint16_t port, uint8_t value)
{
	__asm__ volatile("outb %0, %1" : : "a"(value), "Nd"(port) : "memory");
}

static inline void outw(uint16_t port, uint16_t value)
{
	__asm__ volatile("outw %0, %1" : : "a"(value), "Nd"(port) : "memory");
}

static inline void outl(uint16_t port, uint32_t value)
{
	__asm__ volatile("outl %0, %1" : : "a"(value), "Nd"(port) : "memory");
}

static inline uint8_t inb(uint16_t port)
{
	uint8_t value;
	__asm__ volatile("inb %1, %0" : "=a"(value) : "Nd"(port) : "memory");
	return value;
}

static inline uint16_t inw(uint16_t port)
{
	uint16_t value;
	__asm__ volatile("inw %1, %0" : "=a"(value) : "Nd"(port) : "memory");
	return value;
}

static inline uint32_t inl(uint16_t port)
{
	uint32_t value;
	__asm__ volatile("inl %1, %0" : "=a"(value) : "Nd"(port) : "memory");
	return value;
}

#define PVH_MMIO_ACCESSORS(bits)                                                  \
	static inline uint##bits##_t mmio_read##bits(uintptr_t addr)              \
	{                                                                         \
		pvh_compiler_barrier();                                           \
		uint##bits##_t value = *(const volatile uint##bits##_t *)addr;    \
		pvh_compiler_barrier();                                           \
		return value;                                                     \
	}                                                                         \
	static inline void mmio_write##bits(uintptr_t addr, uint##bits##_t value) \
	{                                                                         \
		pvh_compiler_barrier();                                           \
		*(volatile uint##bits##_t *)addr = value;                         \
		pvh_compiler_barrier();                                           \
	}

PVH_MMIO_ACCESSORS(8)
PVH_MMIO_ACCESSORS(16)
PVH_MMIO_ACCESSORS(32)
PVH_MMIO_ACCESSORS(64)

#undef PVH_MMIO_ACCESSORS

#endif
