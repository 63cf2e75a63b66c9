/*
 * What a PVH loader hands the kernel in %ebx: the hvm_start_info structure
 * and the tables it points to, laid out as in Xen's public header
 * xen/include/public/arch-x86/hvm/start_info.h. All addresses are physical,
 * below 4 GiB in practice; every field is little-endian.
 */
#ifndef MIST_PLATFORM_PVH_START_INFO_H
#define MIST_PLATFORM_PVH_START_INFO_H

#include <stdint.h>

#define HVM_START_MAGIC 0x336ec578u

struct hvm_start_info {
	uint32_t magic;          /* HVM_START_MAGIC */
	uint32_t version;        /* 0, or 1 and later with the memory map fields */
	uint32_t flags;          /* SIF_* */
	uint32_t nr_modules;     /* entries at modlist_paddr */
	uint64_t modlist_paddr;  /* struct hvm_modlist_entry[nr_modules] */
	uint64_t cmdline_paddr;  /* NUL-terminated command line, or 0 */
	uint64_t rsdp_paddr;     /* ACPI RSDP, or 0 */
	uint64_t memmap_paddr;   /* struct hvm_memmap_table_entry[memmap_entries] (version 1) */
	uint32_t memmap_entries; /* (version 1) */
	uint32_t reserved;
};

_Static_assert(sizeof(struct hvm_start_info) == 56, "layout of start_info.h");

struct hvm_memmap_table_entry {
	uint64_t addr; /* first byte of the range */
	uint64_t size; /* bytes */
	uint32_t type; /* HVM_MEMMAP_TYPE_* */
	uint32_t reserved;
};

_Static_assert(sizeof(struct hvm_memmap_table_entry) == 24, "layout of start_info.h");

/* The E820 types, which the memory map reuses. */
#define HVM_MEMMAP_TYPE_RAM      1
#define HVM_MEMMAP_TYPE_RESERVED 2
#define HVM_MEMMAP_TYPE_ACPI     3
#define HVM_MEMMAP_TYPE_NVS      4
#define HVM_MEMMAP_TYPE_UNUSABLE 5
#define HVM_MEMMAP_TYPE_DISABLED 6
#define HVM_MEMMAP_TYPE_PMEM     7

#endif
