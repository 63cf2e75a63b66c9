/*
 * The pvh platform's start: entry.S calls pvh_main() in long mode on the
 * boot stack, with the provisional page tables. It brings the machine up in
 * the order each step needs the one before (the console first, so that any
 * failure can be reported; the memory map copied before the page allocator
 * may reuse the memory it is in), then splits the command line and runs the
 * common start-up path, mist_boot(). Its status ends the machine.
 */
#include "core/boot.h"
#include "base/compiler.h"
#include "base/fmt.h"
#include "base/str.h"
#include "cmdline.h"
#include "core/platform.h"
#include "cpu.h"
#include "pvh.h"
#include "pvh_internal.h"

#define CMDLINE_MAX        4096 /* bytes of command line kept, NUL included */
#define EXIT_BAD_ARGUMENTS 2
#define PROGRAM_NAME       "mist"

static struct pvh_memmap boot_memmap;
static char boot_cmdline_text[CMDLINE_MAX];
static struct pvh_cmdline boot_cmdline;

_Noreturn void pvh_main(uint32_t start_info);

unsigned pvh_virtio_mmio_devices(const struct pvh_virtio_mmio **out)
{
	*out = boot_cmdline.virtio;
	return boot_cmdline.virtio_count;
}

/* Copies the loader's memory map, skipping empty entries. */
static void boot_copy_memmap(const struct hvm_start_info *info)
{
	if (info->version < 1 || info->memmap_paddr == 0 || info->memmap_entries == 0)
		pvh_crash("the loader gave no memory map (hvm_start_info version 1)");
	const struct hvm_memmap_table_entry *e = (const void *)(uintptr_t)info->memmap_paddr;
	for (uint32_t i = 0; i < info->memmap_entries; i++) {
		if (e[i].size == 0)
			continue;
		if (boot_memmap.count == PVH_MEMMAP_MAX)
			break;
		boot_memmap.entries[boot_memmap.count++] = e[i];
	}
}

/* Copies the command line; false if it does not fit. */
static bool boot_copy_cmdline(const struct hvm_start_info *info)
{
	const char *text = (const char *)(uintptr_t)info->cmdline_paddr;
	if (text == NULL)
		return true;
	size_t len = mist_strnlen(text, CMDLINE_MAX);
	if (len == CMDLINE_MAX)
		return false;
	mist_memcpy(boot_cmdline_text, text, len + 1);
	return true;
}

_Noreturn static void boot_fail_arguments(const char *reason)
{
	char line[256];
	int n = mist_snprintf(line, sizeof(line), "pvh: error: %s\n", reason);
	mist_plat_console_write(line, MIST_MIN((size_t)n, sizeof(line) - 1));
	mist_plat_exit(EXIT_BAD_ARGUMENTS);
}

/* The canary changes under this frame: it must not be checked on it. */
__attribute__((no_stack_protector)) void pvh_main(uint32_t start_info)
{
	const struct hvm_start_info *info = (const void *)(uintptr_t)start_info;
	char error[160];

	pvh_stack_guard_init();
	pvh_console_init();
	pvh_idt_init();
	if (info->magic != HVM_START_MAGIC)
		pvh_crash("not started through the PVH entry (bad hvm_start_info magic)");
	boot_copy_memmap(info);
	bool cmdline_fits = boot_copy_cmdline(info);

	pvh_pages_init(&boot_memmap);
	pvh_paging_init(&boot_memmap);
	pvh_clock_init();
	pvh_lapic_init();
	pvh_irq_init();

	if (!cmdline_fits)
		boot_fail_arguments("the command line is longer than 4095 bytes");
	if (pvh_cmdline_parse(boot_cmdline_text, PROGRAM_NAME, &boot_cmdline, error,
	                      sizeof(error)) != 0)
		boot_fail_arguments(error);
	for (unsigned i = 0; i < boot_cmdline.virtio_count; i++)
		if (pvh_map_mmio(boot_cmdline.virtio[i].base, boot_cmdline.virtio[i].size) != 0)
			boot_fail_arguments("a virtio_mmio.device window overlaps RAM");

	pvh_boot_ready_tsc = rdtsc();
	mist_plat_exit(mist_boot(boot_cmdline.argc, boot_cmdline.argv, NULL));
}
