/*
 * Crash reports. Whatever stops the program abnormally ends here: a CPU
 * exception (a NULL dereference, a stack overflow into a guard page, an
 * invalid opcode), mist_plat_abort() (a failed assertion or misuse, through
 * mist_panic()), a smashed stack canary (stack_protector.c), or a fatal
 * condition found by the platform at boot. The report goes to the console,
 * then the program exits with PVH_EXIT_CRASH.
 *
 * The backtrace follows the frame-pointer chain (the target is built with
 * -fno-omit-frame-pointer): at each frame, [rbp] is the caller's rbp and
 * [rbp + 8] the return address. Only mapped, aligned, upward-moving frames
 * are followed, so a corrupted chain ends the walk instead of faulting.
 * Addresses are printed raw: `addr2line -e build/pvh/<app>.debug ADDR`
 * names them.
 */
#include <stdarg.h>

#include "base/compiler.h"
#include "base/fmt.h"
#include "core/platform.h"
#include "cpu.h"
#include "pvh_internal.h"

#define CRASH_LINE_MAX      160
#define CRASH_BACKTRACE_MAX 16
#define VECTOR_PAGE_FAULT   14

/* The names of the exceptions (Intel SDM vol. 3A, table 6-1). */
static const char *const exception_names[32] = {
        "divide error",
        "debug",
        "NMI",
        "breakpoint",
        "overflow",
        "BOUND range exceeded",
        "invalid opcode",
        "device not available",
        "double fault",
        "coprocessor segment overrun",
        "invalid TSS",
        "segment not present",
        "stack-segment fault",
        "general protection",
        "page fault",
        "reserved",
        "x87 floating-point error",
        "alignment check",
        "machine check",
        "SIMD floating-point",
        "virtualization",
        "control protection",
};

/* Set once a report has started: a fault while reporting must not loop. */
static bool crash_in_progress;

__attribute__((format(printf, 1, 2))) static void crash_print(const char *fmt, ...)
{
	char line[CRASH_LINE_MAX];
	va_list ap;

	va_start(ap, fmt);
	int n = mist_vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	size_t len = n < 0 ? 0 : MIST_MIN((size_t)n, sizeof(line) - 2);
	line[len++] = '\n';
	mist_plat_console_write(line, len);
}

/* Stops a second report: the first one's own fault goes straight to exit. */
static void crash_begin(void)
{
	if (crash_in_progress)
		mist_plat_exit(PVH_EXIT_CRASH);
	crash_in_progress = true;
}

/* Prints `rip`, then the return address of each frame from `rbp` up. */
static void crash_backtrace(uintptr_t rip, uintptr_t rbp)
{
	char line[CRASH_LINE_MAX];
	size_t len = (size_t)mist_snprintf(line, sizeof(line), "pvh:   backtrace: 0x%lx",
	                                   (unsigned long)rip);

	for (unsigned depth = 0; depth < CRASH_BACKTRACE_MAX; depth++) {
		if (rbp == 0 || rbp % 8 != 0 || !pvh_paging_mapped(rbp) ||
		    !pvh_paging_mapped(rbp + 8))
			break;
		const uint64_t *frame = (const uint64_t *)rbp;
		if (frame[1] == 0 || len + 20 >= sizeof(line))
			break;
		len += (size_t)mist_snprintf(line + len, sizeof(line) - len, " 0x%lx",
		                             (unsigned long)frame[1]);
		if (frame[0] <= rbp)
			break;
		rbp = frame[0];
	}
	crash_print("%s", line);
}

/* The backtrace of the function that calls the one this is written in. */
#define crash_backtrace_here()                                  \
	crash_backtrace((uintptr_t)__builtin_return_address(0), \
	                *(const uintptr_t *)__builtin_frame_address(0))

void pvh_crash_exception(const struct pvh_trap_frame *f)
{
	crash_begin();
	uint64_t cr2 = read_cr2();
	crash_print("pvh: crash: vector %lu (%s), error code 0x%lx", (unsigned long)f->vector,
	            exception_names[f->vector] != NULL ? exception_names[f->vector] : "reserved",
	            (unsigned long)f->error_code);
	crash_print("pvh:   rip 0x%016lx  rsp 0x%016lx  rbp 0x%016lx  cr2 0x%016lx",
	            (unsigned long)f->rip, (unsigned long)f->rsp, (unsigned long)f->rbp,
	            (unsigned long)cr2);
	crash_print("pvh:   rax 0x%lx rbx 0x%lx rcx 0x%lx rdx 0x%lx rsi 0x%lx rdi 0x%lx",
	            (unsigned long)f->rax, (unsigned long)f->rbx, (unsigned long)f->rcx,
	            (unsigned long)f->rdx, (unsigned long)f->rsi, (unsigned long)f->rdi);
	if (f->vector == VECTOR_PAGE_FAULT) {
		if (pvh_paging_is_guard(cr2))
			crash_print(
			        "pvh:   stack overflow: 0x%lx is in the guard page under a stack",
			        (unsigned long)cr2);
		else if (cr2 < PVH_PAGE_SIZE)
			crash_print("pvh:   NULL pointer dereference");
	}
	crash_backtrace(f->rip, f->rbp);
	mist_plat_exit(PVH_EXIT_CRASH);
}

void pvh_crash(const char *reason)
{
	crash_begin();
	crash_print("pvh: crash: %s", reason);
	crash_backtrace_here();
	mist_plat_exit(PVH_EXIT_CRASH);
}

void pvh_crash_stack_smashed(void)
{
	crash_begin();
	crash_print("pvh: crash: stack smashing detected (a stack canary was overwritten)");
	crash_backtrace_here();
	mist_plat_exit(PVH_EXIT_CRASH);
}

void mist_plat_abort(const char *reason)
{
	crash_begin();
	crash_print("pvh: abort: %s", reason);
	crash_backtrace_here();
	mist_plat_exit(PVH_EXIT_CRASH);
}
