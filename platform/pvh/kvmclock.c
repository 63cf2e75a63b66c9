/*
 * The KVM paravirtual clock (Linux's Documentation/virt/kvm/x86/msr.rst):
 * on KVM, the TSC frequency, as the multiplier and shift KVM publishes for
 * converting TSC ticks to ns, and the wall clock. Both are read once: the
 * monotonic clock is then the TSC alone (clock.c).
 *
 * The guest gives KVM the physical address of a structure through an MSR
 * and KVM fills it in; a version field, odd while KVM writes, tells a
 * consistent read from a torn one.
 */
#include "cpu.h"
#include "pvh_internal.h"
#include "time_scale.h"

#define KVM_CPUID_SIGNATURE      0x40000000
#define KVM_CPUID_FEATURES       0x40000001
#define KVM_FEATURE_CLOCKSOURCE2 (1u << 3)
/* "KVMKVMKVM\0\0\0" in ebx, ecx, edx. */
#define KVM_SIGNATURE_EBX 0x4b4d564bu
#define KVM_SIGNATURE_ECX 0x564b4d56u
#define KVM_SIGNATURE_EDX 0x0000004du

#define MSR_KVM_WALL_CLOCK_NEW  0x4b564d00
#define MSR_KVM_SYSTEM_TIME_NEW 0x4b564d01
#define KVM_SYSTEM_TIME_ENABLE  1

#define NSEC_PER_SEC 1000000000ull

struct pvclock_vcpu_time_info {
	uint32_t version;
	uint32_t pad0;
	uint64_t tsc_timestamp;
	uint64_t system_time; /* ns at tsc_timestamp */
	uint32_t tsc_to_system_mul;
	int8_t tsc_shift;
	uint8_t flags;
	uint8_t pad[2];
} __attribute__((packed));

struct pvclock_wall_clock {
	uint32_t version;
	uint32_t sec; /* the wall clock when system_time was 0 */
	uint32_t nsec;
} __attribute__((packed));

/* KVM requires the structure not to cross a page; 32-byte alignment ensures it. */
static volatile struct pvclock_vcpu_time_info kvm_time __attribute__((aligned(32)));
static volatile struct pvclock_wall_clock kvm_wall __attribute__((aligned(16)));

static bool kvm_has_clocksource2(void)
{
	if ((cpuid(1, 0).ecx & CPUID_1_ECX_HYPERVISOR) == 0)
		return false;
	struct cpuid sig = cpuid(KVM_CPUID_SIGNATURE, 0);
	if (sig.ebx != KVM_SIGNATURE_EBX || sig.ecx != KVM_SIGNATURE_ECX ||
	    sig.edx != KVM_SIGNATURE_EDX || sig.eax < KVM_CPUID_FEATURES)
		return false;
	return (cpuid(KVM_CPUID_FEATURES, 0).eax & KVM_FEATURE_CLOCKSOURCE2) != 0;
}

/* A consistent copy of the vCPU time structure, which KVM updates while enabled. */
static struct pvclock_vcpu_time_info kvm_time_snapshot(void)
{
	struct pvclock_vcpu_time_info t = {0};
	uint32_t version;
	do {
		version = kvm_time.version;
		__asm__ volatile("" ::: "memory");
		t.tsc_timestamp = kvm_time.tsc_timestamp;
		t.system_time = kvm_time.system_time;
		t.tsc_to_system_mul = kvm_time.tsc_to_system_mul;
		t.tsc_shift = kvm_time.tsc_shift;
		__asm__ volatile("" ::: "memory");
	} while ((version & 1) != 0 || version != kvm_time.version);
	return t;
}

bool pvh_kvmclock_tsc_hz(uint64_t *hz)
{
	if (!kvm_has_clocksource2())
		return false;
	wrmsr(MSR_KVM_SYSTEM_TIME_NEW, (uintptr_t)&kvm_time | KVM_SYSTEM_TIME_ENABLE);
	struct pvclock_vcpu_time_info t = kvm_time_snapshot();
	wrmsr(MSR_KVM_SYSTEM_TIME_NEW, 0);
	if (t.tsc_to_system_mul == 0)
		return false;
	/* ns = ((ticks << shift) * mul) >> 32, so Hz = 10^9 * 2^32 / mul / 2^shift. */
	uint64_t f = (NSEC_PER_SEC << 32) / t.tsc_to_system_mul;
	*hz = t.tsc_shift >= 0 ? f >> t.tsc_shift : f << -t.tsc_shift;
	return *hz != 0;
}

bool pvh_kvmclock_wallclock(uint64_t *ns, uint64_t *tsc)
{
	if (!kvm_has_clocksource2())
		return false;
	wrmsr(MSR_KVM_WALL_CLOCK_NEW, (uintptr_t)&kvm_wall);
	wrmsr(MSR_KVM_SYSTEM_TIME_NEW, (uintptr_t)&kvm_time | KVM_SYSTEM_TIME_ENABLE);
	struct pvclock_vcpu_time_info t = kvm_time_snapshot();
	wrmsr(MSR_KVM_SYSTEM_TIME_NEW, 0);
	uint32_t version;
	uint64_t boot;
	do {
		version = kvm_wall.version;
		__asm__ volatile("" ::: "memory");
		boot = kvm_wall.sec * NSEC_PER_SEC + kvm_wall.nsec;
		__asm__ volatile("" ::: "memory");
	} while ((version & 1) != 0 || version != kvm_wall.version);

	*tsc = rdtsc();
	struct time_scale s = {.mul = t.tsc_to_system_mul, .shift = t.tsc_shift};
	*ns = boot + t.system_time + time_scale_apply(s, *tsc - t.tsc_timestamp);
	return true;
}
