/*
 * Starting Mist's own stack at boot: the platform's device (--tap on posix),
 * wrapped for fault injection when --fault is given and for capture when
 * --pcap is, addressed by --ipv4 and --ipv4-gateway. At the end, the
 * counters and the heap's accounting are logged and everything is released.
 */
#define MIST_LOG_TAG "net"

#include "core/boot.h"
#include "base/compiler.h"
#include "base/str.h"
#include "core/mem.h"
#include "core/platform.h"
#include "dev/fault_option.h"
#include "net/stack.h"

#define NET_RX_BUFFERS  2048
#define NET_DEFAULT_MTU 1500

/*
 * The device of --fault, kept to report its counters at the end: the
 * capture device may lie on top of it, out of the stack's sight. One per
 * process, as boot is.
 */
static struct mist_netdev *net_fault_dev;

/*
 * Parses --fault into *rx and *tx. The seeds are random unless given, and
 * logged when the device is made, so that a run's faults can be replayed.
 */
static int net_fault_parse(const char *text, struct mist_fault_params *rx,
                           struct mist_fault_params *tx)
{
	char error[128];

	*rx = (struct mist_fault_params){.seed = mist_random_u64()};
	*tx = (struct mist_fault_params){.seed = mist_random_u64()};
	if (mist_fault_option_parse(text, mist_strlen(text), rx, tx, error, sizeof(error)) != 0) {
		mist_log_at(MIST_LOG_ERROR, "args", "--fault=%s: %s; expected %s", text, error,
		            MIST_FAULT_OPTION_FORM);
		return MIST_EINVAL;
	}
	return 0;
}

/*
 * Puts the fault device on top of *dev, under the capture, so that a
 * capture shows the frames as the stack received and sent them. Its copies
 * (corruption, received duplicates) come from the receive pool, whose
 * blocks hold headroom and a whole frame, as dev/fault.h asks.
 */
static int net_fault_wrap(struct mist_netdev **dev, struct mist_pool *rx_pool,
                          const struct mist_fault_params *rx, const struct mist_fault_params *tx)
{
	struct mist_netdev *faulty;
	int err = mist_fault_wrap(*dev, rx, tx, rx_pool, &faulty);
	if (err != 0)
		return err;
	const struct {
		const char *dir;
		const struct mist_fault_params *p;
	} dirs[] = {{"rx", rx}, {"tx", tx}};
	for (size_t i = 0; i < MIST_ARRAY_SIZE(dirs); i++)
		mist_log("fault injection %s: loss %u ppm, dup %u ppm, reorder %u ppm, "
		         "corrupt %u ppm, seed %llu",
		         dirs[i].dir, dirs[i].p->drop_ppm, dirs[i].p->dup_ppm,
		         dirs[i].p->reorder_ppm, dirs[i].p->corrupt_ppm,
		         (unsigned long long)dirs[i].p->seed);
	net_fault_dev = faulty;
	*dev = faulty;
	return 0;
}

int mist__net_start(const struct mist_args *args, struct mist_stack **net)
{
	struct mist_fault_params fault_rx, fault_tx;

	*net = NULL;
	/* Before the device: a bad --fault is an error whether or not there is one. */
	if (args->fault != NULL && net_fault_parse(args->fault, &fault_rx, &fault_tx) != 0)
		return MIST_EINVAL;
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
	if (args->fault != NULL) {
		err = net_fault_wrap(&dev, rx_pool, &fault_rx, &fault_tx);
		if (err != 0)
			goto close;
	}
	if (args->pcap != NULL) {
		struct mist_netdev *capture;
		err = mist_plat_capture(args->pcap, dev, &capture);
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
	net_fault_dev = NULL;
	mist_pool_destroy(rx_pool);
	return err;
}

/*
 * The heap's accounting, logged as the counters are: at the end, while the
 * stack still holds its connections, so that a benchmark can work out what
 * an idle connection costs (bench/tcp_bench.sh).
 */
static void net_heap_report(void)
{
	struct mist_mem_stats m;

	mist_mem_stats(&m);
	mist_log_at(MIST_LOG_INFO, "stats", "heap.bytes_in_use=%llu",
	            (unsigned long long)m.bytes_in_use);
	mist_log_at(MIST_LOG_INFO, "stats", "heap.high_water=%llu",
	            (unsigned long long)m.high_water);
	mist_log_at(MIST_LOG_INFO, "stats", "heap.bytes_reserved=%llu",
	            (unsigned long long)m.bytes_reserved);
}

void mist__net_stop(struct mist_stack *net)
{
	mist_net_stats_print(net);
	if (net_fault_dev != NULL)
		mist_fault_option_report(net_fault_dev);
	net_heap_report();
	net_fault_dev = NULL;
	mist_stack_destroy(net);
}
