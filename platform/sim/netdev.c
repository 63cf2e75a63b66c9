/*
 * The sim platform has no device of its own at boot: sim tests build their
 * networks from sim links (link.h). Captures go to files, as on posix.
 */
#include "../posix/pcap_file.h"
#include "core/platform.h"
#include "mist/mist.h"

int mist_plat_netdev_open(const struct mist_args *args, struct mist_pool *rx_pool,
                          struct mist_netdev **out)
{
	return MIST_ENOENT;
}

int mist_plat_capture(const char *path, struct mist_netdev *lower, struct mist_netdev **out)
{
	return posix_pcap_capture(path, lower, out);
}
