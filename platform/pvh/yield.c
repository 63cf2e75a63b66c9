/*
 * The loop's idle wait: arm the LAPIC timer for the deadline and halt until
 * an interrupt, the timer's or a device's. Interrupts are enabled only for
 * the halt (cpu.h), so handlers never run in the middle of Mist code and
 * need no locking. A halted vCPU costs the host nothing: KVM and TCG both
 * put its thread to sleep. Nothing asks a unikernel to shut down (there are
 * no signals), so yield never returns MIST_ECANCELED: the VM is ended from
 * outside, or by the program.
 *
 * The first idle wait also reports how long boot took, at debug level
 * (--log=info,pvh=debug): from the PVH entry to mist_boot(), when the
 * platform was ready, and to this first wait, by which time mist_main() has
 * run.
 */
#include "core/platform.h"
#include "cpu.h"
#include "mist/mist.h"
#include "pvh_internal.h"

static bool yield_boot_reported;
uint64_t pvh_boot_ready_tsc;

static void yield_report_boot(void)
{
	const char *source;
	uint64_t hz = pvh_tsc_hz(&source);
	uint64_t ready_ns = pvh_tsc_to_ns(pvh_boot_ready_tsc - pvh_entry_tsc);
	uint64_t idle_ns = mist_plat_monotonic();

	mist_log_at(MIST_LOG_DEBUG, "pvh", "TSC %llu kHz (%s), LAPIC timer %s",
	            (unsigned long long)(hz / 1000), source, pvh_lapic_timer_mode());
	mist_log_at(MIST_LOG_DEBUG, "pvh",
	            "boot: PVH entry to mist_boot %llu us, to first idle (mist_main done) %llu us",
	            (unsigned long long)(ready_ns / MIST_USEC),
	            (unsigned long long)(idle_ns / MIST_USEC));
}

int mist_plat_yield(uint64_t deadline)
{
	if (!yield_boot_reported) {
		yield_boot_reported = true;
		yield_report_boot();
	}
	if (deadline <= mist_plat_monotonic())
		return 0;
	pvh_lapic_timer_arm(deadline);
	cpu_halt_until_interrupt();
	/* Woken by a device, the timer would fire later for nothing: disarm it. */
	pvh_lapic_timer_arm(UINT64_MAX);
	return 0;
}
