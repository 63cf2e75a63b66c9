/*
 * Internals of the pvh platform shared between its files, grouped by the
 * file that defines them. What drivers may use is in pvh.h, irq.h and io.h.
 */
#ifndef MIST_PLATFORM_PVH_INTERNAL_H
#define MIST_PLATFORM_PVH_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "start_info.h"

/* entry.S */
extern uint64_t pvh_entry_tsc;           /* the TSC at the first instruction */
extern uint64_t pvh_gdt[];               /* the GDT; slots 4 and 5 hold the TSS descriptor */
extern char pvh_boot_stack_guard[];      /* the unmapped page under the boot stack */
extern char pvh_exception_stack_guard[]; /* and under the exception stack */
extern char pvh_exception_stack_top[];

/* pvh.ld: boundaries of the image, each page-aligned except __image_start. */
extern char __image_start[], __text_end[], __rodata_end[], __image_end[];

#define PVH_PAGE_SIZE 4096u

/* console.c */
void pvh_console_init(void);
/* Waits until everything written has left the UART. */
void pvh_console_flush(void);

/* The copy of the loader's memory map that boot.c keeps (the original may be reused). */
#define PVH_MEMMAP_MAX 64
struct pvh_memmap {
	struct hvm_memmap_table_entry entries[PVH_MEMMAP_MAX];
	unsigned count;
};

/* idt.c: the IDT, the TSS and its emergency stack; exceptions go to crash.c. */
void pvh_idt_init(void);

/* What the interrupt stubs of isr.S push, from the lowest address up. */
struct pvh_trap_frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector, error_code;
	uint64_t rip, cs, rflags, rsp, ss; /* pushed by the CPU */
};

/* crash.c: the crash report, then exit with PVH_EXIT_CRASH. */
#define PVH_EXIT_CRASH 70 /* EX_SOFTWARE of BSD's sysexits.h: an internal software error */
_Noreturn void pvh_crash_exception(const struct pvh_trap_frame *frame);
/* A fatal condition found by the platform itself, before or after boot. */
_Noreturn void pvh_crash(const char *reason);
/* The report for __stack_chk_fail(), naming its caller's caller. */
_Noreturn void pvh_crash_stack_smashed(void);

/* stack_protector.c: sets __stack_chk_guard; called first, before any guarded function. */
void pvh_stack_guard_init(void);

/* entropy.c: a random 64-bit value, from RDSEED, RDRAND or the TSC. */
uint64_t pvh_random64(void);

/* page_bitmap.h and pages.c: the page allocator over the memory map. */
void pvh_pages_init(const struct pvh_memmap *map);
/* Allocates `count` contiguous pages, not zeroed. Returns 0 when out of memory. */
uintptr_t pvh_pages_take(size_t count);
/* Returns `count` pages from pvh_pages_take(). */
void pvh_pages_give(uintptr_t addr, size_t count);

/* paging.c: the final page tables, W^X. */
void pvh_paging_init(const struct pvh_memmap *map);
/* Unmaps the page at `addr` and marks it a guard page. Returns 0 or MIST_ENOMEM. */
int pvh_paging_guard(uintptr_t addr);
/* Maps a guard page again as ordinary read-write data. */
void pvh_paging_unguard(uintptr_t addr);
/* True if `addr` is mapped: the backtrace reads only such addresses. */
bool pvh_paging_mapped(uintptr_t addr);
/* True if `addr` lies in a guard page: the crash report then says "stack overflow". */
bool pvh_paging_is_guard(uintptr_t addr);

/* clock.c: the TSC clock, calibrated once. */
void pvh_clock_init(void);
/* The TSC frequency in Hz and where it came from, for the boot log. */
uint64_t pvh_tsc_hz(const char **source);
/* The TSC value at which the monotonic clock reads `ns`; saturates at UINT64_MAX. */
uint64_t pvh_ns_to_tsc(uint64_t ns);
/* Nanoseconds since entry for a TSC difference. */
uint64_t pvh_tsc_to_ns(uint64_t ticks);

/* rtc.c: the CMOS real-time clock, in seconds since the Unix epoch, or 0. */
uint64_t pvh_rtc_read(void);

/* kvmclock.c: the KVM paravirtual clock. The TSC Hz; false when not on KVM. */
bool pvh_kvmclock_tsc_hz(uint64_t *hz);
/* Wall clock in ns since the epoch at the instant the TSC read `*tsc`; false if unknown. */
bool pvh_kvmclock_wallclock(uint64_t *ns, uint64_t *tsc);

/* lapic.c: the local APIC and its timer. */
#define PVH_VECTOR_TIMER    0xf0
#define PVH_VECTOR_SPURIOUS 0xff
void pvh_lapic_init(void);
uint32_t pvh_lapic_id(void);
void pvh_lapic_eoi(void);
/* Makes the timer interrupt at monotonic time `deadline` (ns); UINT64_MAX: never. */
void pvh_lapic_timer_arm(uint64_t deadline);
/* "TSC-deadline" or "one-shot", for the boot log. */
const char *pvh_lapic_timer_mode(void);

/* yield.c: the TSC when boot.c called mist_boot(), for the boot-time report. */
extern uint64_t pvh_boot_ready_tsc;

/* irq.c: the IOAPIC and the device vectors. */
#define PVH_VECTOR_DEVICE_FIRST 0x20
#define PVH_VECTOR_DEVICE_COUNT 32
void pvh_irq_init(void);
/* Runs the handler of device vector `vector` and sends the EOI. */
void pvh_irq_dispatch(unsigned vector);

#endif
