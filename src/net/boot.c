/*
 * Starting Mist's own stack at boot: the platform's device (--tap on posix),
 * wrapped for capture when --pcap is given, addressed by --ipv4 and
 * --ipv4-gateway. At the end, the counters are logged and everything is
 * released.
 */
#define MIST_LOG_TAG "net"

#include "core/boot.h"
#include "base/str.h"
#include "core/platform.h"
#include "dev/pcap.h"
#include "net/stack.h"

#define NET_RX_BUFFERS  2048
#define NET_DEFAULT_MTU 1500

int mist__net_start(const struct mist_args *args, struct mist_stack **net)
{
	*net = NULL;
	uint16_t mtu = args->mtu != 0 ? (uint16_t)args->mtu : NET_DEFAULT_MTU;
	struct mist_pool *rx_pool = mist_pool_create("net-rx", NET_RX_BUFFERS,
	                                             mist_stack_rx_buf_size(mtu), NET_RX_HEADROOM);
	if (rx_pool == NULL)
		return MIST_ENOMEM;
	struct mist_netdev *dev;
	int err = mist_plat_netdev_open(args, rx_pool, &dev);
	if (err != 0) {
		mist_pool_destroy(rx_pool);
		return err == MIST_ENOENT ? 0 : err;
	}
	if (!args->has_ipv4) {
		mist_error("a network device needs --ipv4=ADDR/PREFIX");
		err = MIST_EINVAL;
		goto close;
	}
	/* The receive buffers were sized for `mtu`; the device must not promise more. */
	if (args->mtu != 0 || dev->mtu > mtu)
		dev->mtu = mtu;
	if (args->pcap != NULL) {
		struct mist_pcap_sink sink;
		struct mist_netdev *capture;
		err = mist_plat_pcap_open(args->pcap, &sink);
		if (err == 0)
			err = mist_pcap_wrap(dev, &sink, &capture);
		if (err != 0)
			goto close;
		dev = capture;
	}
	struct mist_stack_config config = {
	        .dev = dev,
	        .rx_pool = rx_pool,
	        .prefix = args->ipv4_prefix,
	        .has_gateway = args->has_gateway,
	};
	mist_memcpy(config.ip.b, args->ipv4, sizeof(config.ip.b));
	mist_memcpy(config.gateway.b, args->gateway, sizeof(config.gateway.b));
	err = mist_stack_create(&config, net);
	if (err != 0)
		goto close;
	return 0;
close:
	dev->ops->close(dev);
	mist_pool_destroy(rx_pool);
	return err;
}

void mist__net_stop(struct mist_stack *net)
{
	mist_net_stats_print(net);
	mist_stack_destroy(net);
}
