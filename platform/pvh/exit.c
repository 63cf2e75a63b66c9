/*
 * Ending the program. A virtual machine has no parent to receive a status,
 * so it goes through QEMU's isa-debug-exit device (the runner adds
 * `-device isa-debug-exit,iobase=0xf4,iosize=0x04`): writing v to its port
 * makes QEMU exit with status (v << 1) | 1. We write status + 1, so that
 * QEMU's own failures (it exits 1) cannot pass for a program that ended
 * with status 0: QEMU's status is 2 * status + 3, and scripts/mist-run
 * turns it back. Seven bits get through; statuses above 126 arrive as 126.
 *
 * Where there is no such device (Firecracker, cloud-hypervisor, plain
 * QEMU), the write does nothing and the machine is reset instead: first
 * through the keyboard controller (i8042 command 0xfe, which Firecracker
 * and q35 turn into a shutdown), then by a triple fault (an empty IDT and a
 * breakpoint), which every x86 machine resets on. QEMU run with -no-reboot,
 * as the runner does, exits with status 0 on either reset, so the status is
 * lost there: hence the debug device. QEMU microvm has no ACPI power-off
 * that a guest without ACPI tables could use.
 */
#include "core/platform.h"
#include "io.h"
#include "pvh_internal.h"

#define DEBUG_EXIT_PORT   0xf4
#define EXIT_STATUS_MAX   126 /* the largest status the debug device carries */
#define I8042_COMMAND     0x64
#define I8042_PULSE_RESET 0xfe

_Noreturn static void exit_by_triple_fault(void)
{
	const struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) empty_idt = {0, 0};

	for (;;)
		__asm__ volatile("lidt %0; int3" : : "m"(empty_idt));
}

void mist_plat_exit(int status)
{
	pvh_console_flush();
	uint32_t v = (status < 0 || status > EXIT_STATUS_MAX) ? EXIT_STATUS_MAX : (uint32_t)status;
	outl(DEBUG_EXIT_PORT, v + 1);
	outb(I8042_COMMAND, I8042_PULSE_RESET);
	exit_by_triple_fault();
}
