/*
 * The entry point of a program built for the sim target: the application
 * runs in virtual time, so its sleeps take no real time, and everything
 * random comes from --seed (default 1), so a run replays exactly.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/boot.h"
#include "core/platform.h"
#include "sim.h"

static uint64_t sim_seed = 1;

static const struct mist_option sim_options[] = {
        {.name = "seed",
         .kind = MIST_OPT_U64,
         .value = &sim_seed,
         .help = "--seed=N               seed of the simulation's randomness (default 1)"},
        {.name = NULL},
};

int main(int argc, char **argv)
{
	/*
	 * The seed must be known before boot draws its entropy, so it is read
	 * here first; the parser then checks the word like any other.
	 */
	for (int i = 1; i < argc; i++)
		if (strncmp(argv[i], "--seed=", 7) == 0)
			sim_seed = strtoull(argv[i] + 7, NULL, 0);
	sim_reset(sim_seed);
	mist_plat_exit(mist_boot(argc, argv, sim_options));
}
