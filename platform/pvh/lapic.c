/*
 * The local APIC (xAPIC, memory-mapped; Intel SDM vol. 3A, chapter 10):
 * the end-of-interrupt register for every handler, and the timer that
 * wakes mist_plat_yield() at the next deadline. The timer uses TSC-deadline
 * mode when CPUID.01H:ECX[24] offers it (the deadline is written as a TSC
 * value: no conversion drift, no range limit); otherwise one-shot mode,
 * counting the APIC bus clock, whose rate is measured against the TSC at
 * boot.
 */
#include "core/platform.h"
#include "cpu.h"
#include "io.h"
#include "pvh.h"
#include "pvh_internal.h"
#include "time_scale.h"

#define MSR_APIC_BASE     0x1b
#define APIC_BASE_ENABLE  (1ull << 11)
#define APIC_BASE_ADDRESS 0xfffff000ull
#define MSR_TSC_DEADLINE  0x6e0

#define LAPIC_ID          0x020
#define LAPIC_TPR         0x080
#define LAPIC_EOI         0x0b0
#define LAPIC_SVR         0x0f0
#define LAPIC_LVT_TIMER   0x320
#define LAPIC_LVT_ERROR   0x370
#define LAPIC_TIMER_INIT  0x380
#define LAPIC_TIMER_COUNT 0x390
#define LAPIC_TIMER_DIV   0x3e0

#define LAPIC_SVR_ENABLE         0x100
#define LAPIC_LVT_MASKED         (1u << 16)
#define LAPIC_TIMER_TSC_DEADLINE (2u << 17)
#define LAPIC_TIMER_DIV_BY_16    0x3
#define LAPIC_WINDOW_SIZE        0x1000

#define CALIBRATION_NS        1000000ull /* 1 ms of TSC */
#define CALIBRATION_ATTEMPTS  5
#define CALIBRATION_TOLERANCE 100 /* the slack must be under 1/100 of the window */

static uintptr_t lapic_base;
static bool tsc_deadline;
static struct time_scale ns_to_lapic_ticks;

static uint32_t lapic_read(unsigned reg)
{
	return mmio_read32(lapic_base + reg);
}

static void lapic_write(unsigned reg, uint32_t value)
{
	mmio_write32(lapic_base + reg, value);
}

/*
 * Measures the APIC timer's rate (divided by 16) over CALIBRATION_NS of
 * TSC time. The TSC is read on both sides of the start and of the read of
 * the count, and a measurement whose brackets are wide (the host
 * descheduled the vCPU there) is repeated: an error here would make every
 * sleep longer or shorter by the same factor.
 */
static void lapic_calibrate(void)
{
	uint64_t best_ticks = 0, best_tsc = 1, best_slack = UINT64_MAX;
	uint64_t window = pvh_ns_to_tsc(CALIBRATION_NS) - pvh_entry_tsc;

	lapic_write(LAPIC_TIMER_DIV, LAPIC_TIMER_DIV_BY_16);
	lapic_write(LAPIC_LVT_TIMER, LAPIC_LVT_MASKED | PVH_VECTOR_TIMER);
	for (unsigned i = 0; i < CALIBRATION_ATTEMPTS; i++) {
		uint64_t t0 = rdtsc();
		lapic_write(LAPIC_TIMER_INIT, UINT32_MAX);
		uint64_t t1 = rdtsc();
		while (rdtsc() - t1 < window)
			cpu_pause();
		uint64_t t2 = rdtsc();
		uint32_t ticks = UINT32_MAX - lapic_read(LAPIC_TIMER_COUNT);
		uint64_t t3 = rdtsc();
		lapic_write(LAPIC_TIMER_INIT, 0);
		uint64_t slack = (t1 - t0) + (t3 - t2);
		if (slack < best_slack) {
			best_ticks = ticks;
			best_tsc = (t2 + t3) / 2 - (t0 + t1) / 2;
			best_slack = slack;
		}
		if (slack * CALIBRATION_TOLERANCE < window)
			break;
	}
	if (best_ticks == 0)
		pvh_crash("the LAPIC timer does not count");
	ns_to_lapic_ticks = time_scale_make(best_ticks, pvh_tsc_to_ns(best_tsc));
}

void pvh_lapic_init(void)
{
	uint64_t msr = rdmsr(MSR_APIC_BASE);
	lapic_base = (uintptr_t)(msr & APIC_BASE_ADDRESS);
	if (pvh_map_mmio(lapic_base, LAPIC_WINDOW_SIZE) != 0)
		pvh_crash("cannot map the local APIC");
	wrmsr(MSR_APIC_BASE, msr | APIC_BASE_ENABLE);
	lapic_write(LAPIC_SVR, LAPIC_SVR_ENABLE | PVH_VECTOR_SPURIOUS);
	lapic_write(LAPIC_TPR, 0);
	lapic_write(LAPIC_LVT_ERROR, LAPIC_LVT_MASKED);

	tsc_deadline = (cpuid(1, 0).ecx & CPUID_1_ECX_TSC_DEADLINE) != 0;
	if (tsc_deadline) {
		lapic_write(LAPIC_LVT_TIMER, LAPIC_TIMER_TSC_DEADLINE | PVH_VECTOR_TIMER);
		/* SDM 10.5.4.1: the mode write must be ordered before the first MSR write. */
		__asm__ volatile("mfence" ::: "memory");
	} else {
		lapic_calibrate();
		lapic_write(LAPIC_LVT_TIMER, PVH_VECTOR_TIMER);
	}
}

uint32_t pvh_lapic_id(void)
{
	return lapic_read(LAPIC_ID) >> 24;
}

void pvh_lapic_eoi(void)
{
	lapic_write(LAPIC_EOI, 0);
}

void pvh_lapic_timer_arm(uint64_t deadline)
{
	if (tsc_deadline) {
		/* 0 would disarm the timer: a deadline at TSC 0 has passed anyway. */
		uint64_t tsc = deadline == UINT64_MAX ? 0 : pvh_ns_to_tsc(deadline);
		wrmsr(MSR_TSC_DEADLINE, deadline != UINT64_MAX && tsc == 0 ? 1 : tsc);
		return;
	}
	if (deadline == UINT64_MAX) {
		lapic_write(LAPIC_TIMER_INIT, 0);
		return;
	}
	uint64_t now = mist_plat_monotonic();
	uint64_t ticks = deadline > now ? time_scale_apply(ns_to_lapic_ticks, deadline - now) : 1;
	/* A deadline beyond the counter's range wakes early; yield then sleeps again. */
	lapic_write(LAPIC_TIMER_INIT, (uint32_t)(ticks == 0           ? 1
	                                         : ticks > UINT32_MAX ? UINT32_MAX
	                                                              : ticks));
}

const char *pvh_lapic_timer_mode(void)
{
	return tsc_deadline ? "TSC-deadline" : "one-shot";
}
