/*
 * Entropy for the random generator's seed and the stack protector's guard:
 * RDSEED when the CPU has it (a conditioned draw from the hardware noise
 * source), else RDRAND (the DRBG it seeds), else the low bits of the TSC
 * sampled around port reads, whose timing in a VM varies with the host.
 * The last is weak, and said so on the console once; QEMU's "max" and
 * "host" CPU models have both instructions.
 */
#include "base/compiler.h"
#include "base/str.h"
#include "core/platform.h"
#include "cpu.h"
#include "io.h"
#include "mist/sha256.h"
#include "pvh_internal.h"

/* Intel's DRNG guide: retry RDRAND 10 times; RDSEED may need more. */
#define RDRAND_RETRIES 10
#define RDSEED_RETRIES 100
/* TSC samples hashed per 64 bits of output when there is no hardware source. */
#define JITTER_SAMPLES 64
#define JITTER_PORT    0x80 /* the POST diagnostic port: harmless to read, and a VM exit */

static bool entropy_hw_random(uint64_t *out)
{
	struct cpuid leaf1 = cpuid(1, 0);
	if (cpuid_max_leaf() >= 7 && (cpuid(7, 0).ebx & CPUID_7_EBX_RDSEED) != 0)
		for (unsigned i = 0; i < RDSEED_RETRIES; i++)
			if (rdseed64(out))
				return true;
	if ((leaf1.ecx & CPUID_1_ECX_RDRAND) != 0)
		for (unsigned i = 0; i < RDRAND_RETRIES; i++)
			if (rdrand64(out))
				return true;
	return false;
}

static uint64_t entropy_jitter(void)
{
	static bool warned;
	struct mist_sha256 ctx;
	uint8_t digest[MIST_SHA256_DIGEST_LEN];
	uint64_t out;

	if (!warned) {
		static const char warning[] = "pvh: warning: no RDSEED or RDRAND; seeding from TSC "
		                              "jitter, which is weak\n";
		mist_plat_console_write(warning, sizeof(warning) - 1);
		warned = true;
	}
	mist_sha256_init(&ctx);
	for (unsigned i = 0; i < JITTER_SAMPLES; i++) {
		uint64_t t = rdtsc();
		(void)inb(JITTER_PORT);
		mist_sha256_update(&ctx, &t, sizeof(t));
	}
	mist_sha256_final(&ctx, digest);
	mist_memcpy(&out, digest, sizeof(out));
	return out;
}

uint64_t pvh_random64(void)
{
	uint64_t r;
	return entropy_hw_random(&r) ? r : entropy_jitter();
}

int mist_plat_entropy(void *buf, size_t len)
{
	uint8_t *p = buf;
	while (len > 0) {
		uint64_t r = pvh_random64();
		size_t n = MIST_MIN(len, sizeof(r));
		mist_memcpy(p, &r, n);
		p += n;
		len -= n;
	}
	return 0;
}
