/*
 * crash: a test image that fails on purpose, so that the integration tests
 * (tests/integration/test_pvh_boot.py) can check the pvh platform's crash
 * reports and exit statuses. Built only for pvh, as build/pvh/test-crash.
 *
 *   --crash=null    writes through a NULL pointer: page fault, CR2 0
 *   --crash=stack   recurses in a fiber until its stack's guard page
 *   --crash=smash   overwrites a local array and returns: stack protector
 *   --crash=ud2     executes an invalid instruction
 *   --exit=N        ends with mist_exit(N) instead, N in 0..255
 */
#include <mist/mist.h>

static const char *crash_kind;
static uint64_t exit_status = UINT64_MAX;

const struct mist_option mist_app_options[] = {
        {.name = "crash",
         .kind = MIST_OPT_STRING,
         .value = &crash_kind,
         .help = "--crash=KIND           null, stack, smash or ud2"},
        {.name = "exit",
         .kind = MIST_OPT_U64,
         .value = &exit_status,
         .help = "--exit=N               end with status N",
         .max = 255},
        {.name = NULL},
};

static bool crash_is(const char *name)
{
	const char *a = crash_kind, *b = name;
	while (*a != '\0' && *a == *b)
		a++, b++;
	return *a == *b;
}

/*
 * Not inlined, and both volatile: the compiler must neither see the NULL
 * (it would emit a trap of its own) nor drop the store.
 */
__attribute__((noinline)) static void write_null(void)
{
	volatile int *volatile p = NULL;
	*p = 42;
}

/* Far beyond any stack; volatile, so that the compiler cannot prove the recursion endless. */
static volatile unsigned recursion_limit = 1u << 30;

/* Each frame keeps an array live across the call, so the recursion cannot become a loop. */
static unsigned recurse(unsigned depth)
{
	volatile char frame[1024];
	if (depth == recursion_limit)
		return 0;
	frame[0] = (char)depth;
	return recurse(depth + 1) + (unsigned)frame[0];
}

static volatile unsigned smash_length = 64;

/* Not inlined: the canary is checked when this returns, and crash() never returns. */
__attribute__((noinline)) static void smash(void)
{
	char local[16];
	for (unsigned i = 0; i < smash_length; i++)
		((volatile char *)local)[i] = 'A';
	mist_log("wrote %u bytes into a %u-byte array", smash_length, (unsigned)sizeof(local));
}

static void crash(void *arg)
{
	mist_log("crash: %s", crash_kind);
	if (crash_is("null"))
		write_null();
	else if (crash_is("stack"))
		mist_log("recursed %u", recurse(0));
	else if (crash_is("smash"))
		smash();
	else if (crash_is("ud2"))
		__builtin_trap();
	mist_error("no such fault, or it did not crash: %s", crash_kind);
	mist_exit(1);
}

int mist_main(struct mist_env *env)
{
	if (exit_status != UINT64_MAX) {
		mist_log("exiting with status %u", (unsigned)exit_status);
		mist_exit((int)exit_status);
	}
	if (crash_kind == NULL) {
		mist_error("give --crash=KIND or --exit=N");
		return MIST_EINVAL;
	}
	struct mist_fiber *f = mist_fiber_spawn("crash", crash, NULL, 0);
	if (f == NULL)
		return MIST_ENOMEM;
	mist_fiber_detach(f);
	return 0;
}
