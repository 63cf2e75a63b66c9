/*
 * The side of logging that boot uses: configuring levels and the time origin.
 */
#ifndef MIST_CORE_LOG_INTERNAL_H
#define MIST_CORE_LOG_INTERNAL_H

#include <stddef.h>

#include "mist/log.h"

/* Sets the origin of the timestamps in log lines to now. */
void mist_log_start(void);

/*
 * Applies a --log specification "LEVEL[,TAG=LEVEL...]" (levels: error, warn,
 * info, debug) of `len` bytes. Returns 0, or MIST_EINVAL and changes nothing
 * when it is malformed or names more tags than the table holds.
 */
int mist_log_configure(const char *spec, size_t len);

/* Restores the default: every tag at info. */
void mist_log_reset(void);

#endif
