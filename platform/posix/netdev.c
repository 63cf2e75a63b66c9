/*
 * The posix platform's network device: the TAP interface named by --tap,
 * with --mac applied, and pcap capture to a file.
 */
#include "core/platform.h"
#include "mist/mist.h"
#include "pcap_file.h"
#include "tap.h"

int mist_plat_netdev_open(const struct mist_args *args, struct mist_pool *rx_pool,
                          struct mist_netdev **out)
{
	if (args->tap == NULL)
		return MIST_ENOENT;
	int err = posix_tap_open(args->tap, rx_pool, out);
	if (err != 0) {
		mist_log_at(MIST_LOG_ERROR, "tap", "cannot open TAP %s: %s", args->tap,
		            mist_strerror(err));
		return err;
	}
	if (args->has_mac)
		posix_tap_set_mac(*out, args->mac);
	return 0;
}

int mist_plat_pcap_open(const char *path, struct mist_pcap_sink *sink)
{
	int err = posix_pcap_file_sink(path, sink);
	if (err != 0)
		mist_log_at(MIST_LOG_ERROR, "pcap", "cannot write %s: %s", path,
		            mist_strerror(err));
	return err;
}
