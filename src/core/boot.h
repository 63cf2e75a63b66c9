/*
 * The common start-up path, called by each platform's entry point once the
 * platform is up and its boot arguments are gathered.
 */
#ifndef MIST_CORE_BOOT_H
#define MIST_CORE_BOOT_H

#include "mist/args.h"

/*
 * Seeds the random generator, parses `argv[1..argc)` (argv[0] names the
 * program), runs mist_main() in the first fiber and the loop until the program
 * is done. Returns the exit status: 0; 1 when mist_main() failed; 2 for bad
 * arguments (after printing why and the usage). `platform_options` lists the
 * platform's own flags (NULL-terminated), or is NULL.
 */
int mist_boot(int argc, char *const *argv, const struct mist_option *platform_options);

struct mist_stack;

/*
 * Provided by the network stack the target links (e.g. src/net/boot.c):
 * starts it on the platform's device when the boot arguments name one.
 * Returns 0 with *net set, or with *net NULL when there is no device; or
 * MIST_EINVAL for arguments that do not fit together, or another MIST_E*
 * code, after logging why.
 */
int mist__net_start(const struct mist_args *args, struct mist_stack **net);

/* Logs the stack's counters at info level and tears it down. */
void mist__net_stop(struct mist_stack *net);

#endif
