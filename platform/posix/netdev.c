/*
 * The posix platform's network device: the TAP interface named by --tap,
 * with --mac applied and offloads as --tap-offload says, and pcap capture
 * to a file.
 */
#include <stdbool.h>
#include <string.h>

#include "core/platform.h"
#include "mist/args.h"
#include "mist/mist.h"
#include "pcap_file.h"
#include "posix.h"
#include "tap.h"

/* --tap-offload=on|off, "on" unless given. */
static const char *tap_offload = "on";

const struct mist_option posix_netdev_options[] = {
        {.name = "tap-offload",
         .kind = MIST_OPT_STRING,
         .value = &tap_offload,
         .help = "--tap-offload=on|off   checksum and segmentation offloads on the TAP "
                 "(default on)"},
        {.name = NULL},
};

int mist_plat_netdev_open(const struct mist_args *args, struct mist_pool *rx_pool,
                          struct mist_netdev **out)
{
	bool offloads = strcmp(tap_offload, "on") == 0;
	if (!offloads && strcmp(tap_offload, "off") != 0) {
		mist_log_at(MIST_LOG_ERROR, "args", "--tap-offload=%s: expected on or off",
		            tap_offload);
		return MIST_EINVAL;
	}
	if (args->tap == NULL)
		return MIST_ENOENT;
	int err = posix_tap_open(args->tap, offloads, rx_pool, out);
	if (err != 0) {
		mist_log_at(MIST_LOG_ERROR, "tap", "cannot open TAP %s: %s", args->tap,
		            mist_strerror(err));
		return err;
	}
	if (args->has_mac)
		posix_tap_set_mac(*out, args->mac);
	return 0;
}

int mist_plat_capture(const char *path, struct mist_netdev *lower, struct mist_netdev **out)
{
	int err = posix_pcap_capture(path, lower, out);
	if (err != 0)
		mist_log_at(MIST_LOG_ERROR, "pcap", "cannot write %s: %s", path,
		            mist_strerror(err));
	return err;
}
