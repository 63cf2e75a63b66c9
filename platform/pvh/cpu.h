/*
 * The x86-64 instructions the pvh platform needs that C has no words for:
 * CPUID, MSRs, the TSC, control registers, RDRAND/RDSEED, and the
 * interrupt flag. Each is one inline asm statement.
 */
#ifndef MIST_PLATFORM_PVH_CPU_H
#define MIST_PLATFORM_PVH_CPU_H

#include <stdbool.h>
#include <stdint.h>

struct cpuid {
	uint32_t eax, ebx, ecx, edx;
};

static inline struct cpuid cpuid(uint32_t leaf, uint32_t subleaf)
{
	struct cpuid r;
	__asm__ volatile("cpuid"
	                 : "=a"(r.eax), "=b"(r.ebx), "=c"(r.ecx), "=d"(r.edx)
	                 : "a"(leaf), "c"(subleaf));
	return r;
}

/* CPUID.01H:ECX feature bits (Intel SDM vol. 2A, table 3-10). */
#define CPUID_1_ECX_X2APIC       (1u << 21)
#define CPUID_1_ECX_TSC_DEADLINE (1u << 24)
#define CPUID_1_ECX_RDRAND       (1u << 30)
#define CPUID_1_ECX_HYPERVISOR   (1u << 31)
/* CPUID.(EAX=07H,ECX=0):EBX. */
#define CPUID_7_EBX_RDSEED (1u << 18)
/* CPUID.80000001H:EDX. */
#define CPUID_EXT_EDX_NX (1u << 20)

/* The highest basic leaf, so that a leaf is read only when it exists. */
static inline uint32_t cpuid_max_leaf(void)
{
	return cpuid(0, 0).eax;
}

static inline uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;
	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return (uint64_t)hi << 32 | lo;
}

static inline void wrmsr(uint32_t msr, uint64_t value)
{
	__asm__ volatile("wrmsr"
	                 :
	                 : "c"(msr), "a"((uint32_t)value), "d"((uint32_t)(value >> 32))
	                 : "memory");
}

/*
 * The time-stamp counter. Not serialising: a read may move a few
 * instructions earlier, which no user of it here can tell apart.
 */
static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return (uint64_t)hi << 32 | lo;
}

static inline uint64_t read_cr2(void)
{
	uint64_t v;
	__asm__ volatile("mov %%cr2, %0" : "=r"(v));
	return v;
}

static inline uint64_t read_cr3(void)
{
	uint64_t v;
	__asm__ volatile("mov %%cr3, %0" : "=r"(v));
	return v;
}

static inline void write_cr3(uint64_t v)
{
	__asm__ volatile("mov %0, %%cr3" : : "r"(v) : "memory");
}

static inline void invlpg(uintptr_t addr)
{
	__asm__ volatile("invlpg (%0)" : : "r"(addr) : "memory");
}

/* RDRAND and RDSEED: true with a value in *out, false when the CPU had none ready. */
static inline bool rdrand64(uint64_t *out)
{
	bool ok;
	__asm__ volatile("rdrand %0" : "=r"(*out), "=@ccc"(ok));
	return ok;
}

static inline bool rdseed64(uint64_t *out)
{
	bool ok;
	__asm__ volatile("rdseed %0" : "=r"(*out), "=@ccc"(ok));
	return ok;
}

/* Interrupts stay off except inside mist_plat_yield()'s halt (see yield.c). */
static inline void cpu_halt_until_interrupt(void)
{
	/* STI takes effect after the next instruction: no wake-up is lost before HLT. */
	__asm__ volatile("sti; hlt; cli" ::: "memory");
}

static inline void cpu_pause(void)
{
	__asm__ volatile("pause");
}

#endif
