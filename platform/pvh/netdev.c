/*
 * The pvh platform's network device: the virtio-net driver's
 * (virtio_net.c), opened when the boot arguments give the program an
 * address (--ipv4), so that a machine with a network card still runs
 * programs that do not use it. There is no file system, so no --pcap, and
 * no capture code in the image.
 */
#include "core/platform.h"
#include "mist/mist.h"
#include "virtio_net.h"

int mist_plat_netdev_open(const struct mist_args *args, struct mist_pool *rx_pool,
                          struct mist_netdev **out)
{
	if (!args->has_ipv4)
		return MIST_ENOENT;
	int err = pvh_virtio_net_open(args, rx_pool, out);
	if (err == MIST_ENOENT)
		mist_log_at(MIST_LOG_ERROR, "pvh",
		            "--ipv4 given, but there is no virtio-net device");
	return err;
}

int mist_plat_capture(const char *path, struct mist_netdev *lower, struct mist_netdev **out)
{
	mist_log_at(MIST_LOG_ERROR, "pvh", "--pcap=%s: no file system to write it to", path);
	return MIST_ENOTSUP;
}
