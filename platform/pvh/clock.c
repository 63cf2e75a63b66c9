/*
 * The monotonic clock: the TSC, converted to ns with a multiplier and a
 * shift (time_scale.h), counted from the PVH entry. The TSC frequency comes
 * from, in order:
 *
 *   1. CPUID leaf 0x15, when it gives the crystal clock: exact;
 *   2. the KVM paravirtual clock (kvmclock.c): exact, on KVM;
 *   3. CPUID leaf 0x16, the nominal base frequency in MHz: close, not exact;
 *   4. a measurement against the 8254 PIT (1.193182 MHz) over
 *      PIT_CALIBRATION_MS, repeated if the host disturbed it: what QEMU's
 *      TCG leaves us.
 *
 * The wall clock is the monotonic clock plus an offset taken once, at the
 * first call, from the KVM wall clock or else the CMOS RTC (rtc.c).
 * Assumes an invariant TSC, as every hypervisor in question provides.
 */
#include "core/platform.h"
#include "cpu.h"
#include "io.h"
#include "pvh_internal.h"
#include "time_scale.h"

#define NSEC_PER_SEC 1000000000ull

#define PIT_HZ             1193182ull
#define PIT_CALIBRATION_MS 10
#define PIT_CHANNEL0       0x40
#define PIT_MODE           0x43
#define PIT_MODE_CH0_COUNT 0x30 /* channel 0, low then high byte, mode 0, binary */
#define PIT_LATCH_CH0      0x00 /* counter latch command for channel 0 */
/* Reads of the counter before concluding that there is no PIT (it reads 0xffff). */
#define PIT_POLL_MAX  10000000u
#define PIT_ATTEMPTS  5
#define PIT_TOLERANCE 200 /* a measurement's slack must be under 1/200 of it */

static uint64_t tsc_hz;
static const char *tsc_hz_source;
static struct time_scale tsc_to_ns, ns_to_tsc;
static bool wall_known;
static uint64_t wall_offset; /* wall clock - monotonic clock, in ns */

static uint64_t hz_from_cpuid_15h(void)
{
	if (cpuid_max_leaf() < 0x15)
		return 0;
	struct cpuid r = cpuid(0x15, 0); /* TSC/crystal ratio ebx/eax, crystal Hz in ecx */
	if (r.eax == 0 || r.ebx == 0 || r.ecx == 0)
		return 0;
	return (uint64_t)r.ecx * r.ebx / r.eax;
}

static uint64_t hz_from_cpuid_16h(void)
{
	if (cpuid_max_leaf() < 0x16)
		return 0;
	return (uint64_t)(cpuid(0x16, 0).eax & 0xffff) * 1000000;
}

/* A read of channel 0's count, bracketed by the TSC: it was latched between before and after. */
struct pit_sample {
	uint16_t count;
	uint64_t before, after;
};

static struct pit_sample pit_sample(void)
{
	struct pit_sample s;
	s.before = rdtsc();
	outb(PIT_MODE, PIT_LATCH_CH0);
	uint8_t low = inb(PIT_CHANNEL0);
	s.count = (uint16_t)(low | inb(PIT_CHANNEL0) << 8);
	s.after = rdtsc();
	return s;
}

/*
 * One measurement: TSC ticks while PIT channel 0 counts down
 * PIT_CALIBRATION_MS, from a tick edge to a tick edge. Returns the TSC Hz,
 * with in *slack the TSC ticks of uncertainty (a vCPU descheduled during a
 * read widens its bracket), or 0 when there is no PIT.
 */
static uint64_t pit_measure(uint64_t *slack)
{
	const uint16_t span = (uint16_t)(PIT_HZ * PIT_CALIBRATION_MS / 1000);
	unsigned polls = 0;

	outb(PIT_MODE, PIT_MODE_CH0_COUNT);
	outb(PIT_CHANNEL0, 0xff);
	outb(PIT_CHANNEL0, 0xff);
	struct pit_sample first = pit_sample(), last;
	do {
		last = pit_sample();
		if (++polls == PIT_POLL_MAX)
			return 0;
	} while (last.count == first.count);
	first = last;
	do {
		last = pit_sample();
		if (++polls == PIT_POLL_MAX)
			return 0;
	} while ((uint16_t)(first.count - last.count) < span);

	uint64_t ticks = (last.before + last.after) / 2 - (first.before + first.after) / 2;
	*slack = (last.after - last.before) + (first.after - first.before);
	return ticks * PIT_HZ / (uint16_t)(first.count - last.count);
}

/*
 * The TSC frequency against the PIT (channel 0 rather than the usual
 * channel 2, whose output is read through port 0x61, which QEMU's microvm
 * lacks; its interrupt goes nowhere, the I/O APIC input being masked). A
 * measurement whose reads took long, because the host descheduled the
 * vCPU, is repeated; the tightest of PIT_ATTEMPTS is kept otherwise.
 */
static uint64_t hz_from_pit(void)
{
	uint64_t best_hz = 0, best_slack = UINT64_MAX;
	for (unsigned i = 0; i < PIT_ATTEMPTS; i++) {
		uint64_t slack;
		uint64_t hz = pit_measure(&slack);
		if (hz == 0)
			return 0;
		if (slack < best_slack) {
			best_hz = hz;
			best_slack = slack;
		}
		/* Slack under 0.5% of the window: the midpoints are far closer than that. */
		if (slack * PIT_TOLERANCE < hz / 1000 * PIT_CALIBRATION_MS)
			break;
	}
	return best_hz;
}

void pvh_clock_init(void)
{
	tsc_hz_source = "CPUID 0x15";
	tsc_hz = hz_from_cpuid_15h();
	if (tsc_hz == 0) {
		tsc_hz_source = "kvmclock";
		if (!pvh_kvmclock_tsc_hz(&tsc_hz))
			tsc_hz = 0;
	}
	if (tsc_hz == 0) {
		tsc_hz_source = "CPUID 0x16";
		tsc_hz = hz_from_cpuid_16h();
	}
	if (tsc_hz == 0) {
		tsc_hz_source = "PIT calibration";
		tsc_hz = hz_from_pit();
	}
	if (tsc_hz == 0)
		pvh_crash("cannot tell the TSC frequency: no CPUID leaf, kvmclock or PIT");
	tsc_to_ns = time_scale_make(NSEC_PER_SEC, tsc_hz);
	ns_to_tsc = time_scale_make(tsc_hz, NSEC_PER_SEC);
}

uint64_t pvh_tsc_hz(const char **source)
{
	*source = tsc_hz_source;
	return tsc_hz;
}

uint64_t pvh_tsc_to_ns(uint64_t ticks)
{
	return time_scale_apply(tsc_to_ns, ticks);
}

uint64_t pvh_ns_to_tsc(uint64_t ns)
{
	uint64_t ticks = time_scale_apply(ns_to_tsc, ns);
	return ticks > UINT64_MAX - pvh_entry_tsc ? UINT64_MAX : pvh_entry_tsc + ticks;
}

uint64_t mist_plat_monotonic(void)
{
	return pvh_tsc_to_ns(rdtsc() - pvh_entry_tsc);
}

uint64_t mist_plat_wallclock(void)
{
	if (!wall_known) {
		uint64_t wall, tsc;
		if (pvh_kvmclock_wallclock(&wall, &tsc)) {
			wall_offset = wall - pvh_tsc_to_ns(tsc - pvh_entry_tsc);
		} else {
			uint64_t now = mist_plat_monotonic();
			wall_offset = pvh_rtc_read() * NSEC_PER_SEC - now;
		}
		wall_known = true;
	}
	return mist_plat_monotonic() + wall_offset;
}
