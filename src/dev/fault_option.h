/*
 * The --fault boot option: its text parsed into the parameters of the
 * fault-injecting device (dev/fault.h), and the report of what that device
 * did. Boot (src/net/boot.c) uses both; the parser has no state and
 * allocates nothing, so it is unit-tested on its own.
 *
 * The text is a comma-separated list of items, each [rx:|tx:]NAME=VALUE:
 *   loss=RATE     a frame is dropped
 *   dup=RATE      a frame is followed by a duplicate
 *   reorder=RATE  a frame is held back behind the next one
 *   corrupt=RATE  one bit of a frame is flipped
 *   seed=N        seeds the generators (decimal, or hex with 0x)
 * RATE is a percentage with at most four decimals ("1%", "0.5%",
 * "0.0001%") or a count of parts per million ("250ppm"), at most 100%:
 * integers only, since nothing below apps/ uses floating point. An item
 * without a prefix applies to both directions, rx: only to frames received
 * from the device, tx: only to frames sent to it. seed=N without a prefix
 * seeds the receive direction with N and the transmit direction with N + 1,
 * so that the two draw different sequences. A later item overrides an
 * earlier one for the same field.
 *
 * Example: --fault=loss=1%,reorder=2%,dup=0.5%,corrupt=0.1%,seed=7
 */
#ifndef MIST_DEV_FAULT_OPTION_H
#define MIST_DEV_FAULT_OPTION_H

#include <stddef.h>

#include "dev/fault.h"

/* The accepted form, for error messages and usage. */
#define MIST_FAULT_OPTION_FORM                                                              \
	"ITEM[,ITEM...], ITEM [rx:|tx:]NAME=RATE with NAME loss, dup, reorder or corrupt, " \
	"or [rx:|tx:]seed=N; RATE P% with at most four decimals, or Nppm; at most 100%"

/*
 * Parses `len` bytes of `text` and stores each item in the fields of *rx
 * and *tx it names; fields no item names are left as they were, so the
 * caller sets the defaults (no faults, its choice of seeds) first. Returns
 * 0; or MIST_EINVAL, after writing the offending item and what is wrong
 * with it ("'loss=2' is not a rate of at most 100%") into `error` of
 * `error_len` bytes.
 * *rx and *tx may then hold some of the items.
 */
int mist_fault_option_parse(const char *text, size_t len, struct mist_fault_params *rx,
                            struct mist_fault_params *tx, char *error, size_t error_len);

/*
 * Logs the counters of `dev`, a device from mist_fault_wrap(), at info level
 * under the tag "stats", one "fault.<direction>_<counter>=<value>" line
 * each, as the stack logs its own counters.
 */
void mist_fault_option_report(const struct mist_netdev *dev);

#endif
