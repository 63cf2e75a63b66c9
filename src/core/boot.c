/*
 * Start-up and shutdown common to every target: seed the random generator,
 * parse the boot arguments, run the application's mist_main() in the first
 * fiber, and run the loop until nothing is left to do.
 */
#define MIST_LOG_TAG "boot"

#include "core/boot.h"
#include "core/args_internal.h"
#include "core/log_internal.h"
#include "core/platform.h"
#include "core/rng_seed.h"
#include "core/sched.h"
#include "mist/mist.h"

#define BOOT_SEED_LEN 32

struct boot_main {
	struct mist_env env;
	int result;
};

static void boot_main_fiber(void *arg)
{
	struct boot_main *m = arg;
	m->result = mist_main(&m->env);
	if (m->result < 0) {
		mist_error("mist_main failed: %s", mist_strerror(m->result));
		mist_sched_stop(mist_sched_current());
	}
}

int mist_boot(int argc, char *const *argv, const struct mist_option *platform_options)
{
	uint8_t seed[BOOT_SEED_LEN];
	struct mist_args args;
	char error[192];

	mist_log_start();
	if (mist_plat_entropy(seed, sizeof(seed)) != 0)
		mist_plat_abort("boot: the platform gave no entropy to seed the random generator");
	mist_rng_seed(seed, sizeof(seed));

	const char *program = argc > 0 ? argv[0] : "mist";
	switch (mist_args_parse(argc - 1, argv + 1, &args, platform_options, mist_app_options,
	                        error, sizeof(error))) {
	case MIST_ARGS_OK:
		break;
	case MIST_ARGS_HELP:
		mist_args_usage(program, platform_options, mist_app_options);
		return 0;
	case MIST_ARGS_ERROR:
		mist_log_at(MIST_LOG_ERROR, "args", "%s", error);
		mist_args_usage(program, platform_options, mist_app_options);
		return 2;
	}

	struct mist_sched *sched = mist_sched_create();
	if (sched == NULL)
		mist_plat_abort("boot: out of memory creating the scheduler");
	struct boot_main m = {.env = {.args = &args, .net = NULL}, .result = 0};
	int err = mist__net_start(&args, &m.env.net);
	if (err != 0)
		return err == MIST_EINVAL ? 2 : 1;
	struct mist_fiber *f = mist_fiber_spawn("main", boot_main_fiber, &m, 0);
	if (f == NULL)
		mist_plat_abort("boot: out of memory creating the main fiber");
	mist_fiber_detach(f);
	mist_sched_run(sched);
	if (m.env.net != NULL)
		mist__net_stop(m.env.net);
	return m.result < 0 ? 1 : 0;
}
