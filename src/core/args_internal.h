/*
 * The boot argument parser, as boot and the tests use it.
 */
#ifndef MIST_CORE_ARGS_INTERNAL_H
#define MIST_CORE_ARGS_INTERNAL_H

#include <stddef.h>

#include "mist/args.h"

enum mist_args_result {
	MIST_ARGS_OK = 0,
	MIST_ARGS_HELP = 1,   /* --help was given */
	MIST_ARGS_ERROR = -2, /* a word was wrong: `error` says which and why */
};

/*
 * Parses `argv[0..argc)` (words only, no program name) into *args and the
 * storage of `platform_options` and `app_options` (either may be NULL; each
 * table ends with a NULL name). On error, writes a one-line reason into
 * `error` of `error_len` bytes. --log is applied when parsing succeeds.
 */
enum mist_args_result mist_args_parse(int argc, char *const *argv, struct mist_args *args,
                                      const struct mist_option *platform_options,
                                      const struct mist_option *app_options, char *error,
                                      size_t error_len);

/* Prints the accepted form of every flag to the console. */
void mist_args_usage(const char *program, const struct mist_option *platform_options,
                     const struct mist_option *app_options);

#endif
