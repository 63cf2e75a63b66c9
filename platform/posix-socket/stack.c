/*
 * The socket stack's life (sock.h): boot arguments, the buffer pool, the
 * loop's poller, counters and teardown; and the stack-level calls of
 * mist/net.h. The network is the host's: there is no device, and the
 * arguments that configure one are refused here rather than ignored, so
 * that a command line written for posix-tap fails loudly.
 */
#define MIST_LOG_TAG "sock"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/compiler.h"
#include "core/boot.h"
#include "core/mem.h"
#include "sock.h"

/* A reader that found the pool empty retries after this long. */
#define SOCK_NO_BUFFER_WAIT MIST_MSEC

/* The flag, if any, that only means something to Mist's own stack. */
static const char *native_only_flag(const struct mist_args *args)
{
	if (args->tap != NULL)
		return "--tap";
	if (args->has_mac)
		return "--mac";
	if (args->mtu != 0)
		return "--mtu";
	if (args->pcap != NULL)
		return "--pcap";
	if (args->has_gateway)
		return "--ipv4-gateway";
	if (args->fault != NULL)
		return "--fault";
	return NULL;
}

/*
 * bind() tells whether a host interface has the address: EADDRNOTAVAIL
 * otherwise. Checked once at start, so that a wrong --ipv4 is an argument
 * error rather than a failure of the application's first listen.
 */
static int check_local_address(struct in_addr addr)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr = addr};
	int err = bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 ? 0 : -errno;
	close(fd);
	return err;
}

/*
 * Every connection is a descriptor here, and the usual soft limit of 1,024
 * would stop a server long before Mist's own stack would; the hard limit is
 * what the administrator allows, so the soft one is raised to it.
 */
static void raise_descriptor_limit(void)
{
	struct rlimit lim;
	if (getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < lim.rlim_max) {
		lim.rlim_cur = lim.rlim_max;
		setrlimit(RLIMIT_NOFILE, &lim);
	}
}

static unsigned stack_poll(struct mist_poller *poller, unsigned budget)
{
	return posix_poll_dispatch(budget);
}

/*
 * Checks the boot arguments and sets *addr to the address to use, logging
 * it. Returns 0, or MIST_EINVAL after logging what was wrong.
 */
static int stack_address(const struct mist_args *args, struct in_addr *addr)
{
	const char *flag = native_only_flag(args);
	if (flag != NULL) {
		mist_error("%s is not accepted on the posix-socket target: it runs over the host's "
		           "TCP/UDP sockets and has no device; --ipv4=ADDR/PREFIX chooses the "
		           "address to listen on",
		           flag);
		return MIST_EINVAL;
	}
	if (!args->has_ipv4) {
		addr->s_addr = htonl(INADDR_ANY);
		mist_log("host sockets on every address of the host");
		return 0;
	}
	memcpy(&addr->s_addr, args->ipv4, sizeof(addr->s_addr));
	int err = check_local_address(*addr);
	if (err != 0) {
		mist_error("--ipv4=%pI4/%u: no interface of this host has that address (%s)",
		           args->ipv4, args->ipv4_prefix, strerror(-err));
		return MIST_EINVAL;
	}
	mist_log("host sockets on %pI4 (the prefix /%u is ignored: the host's routes apply)",
	         args->ipv4, args->ipv4_prefix);
	return 0;
}

int mist__net_start(const struct mist_args *args, struct mist_stack **net)
{
	struct in_addr addr;
	*net = NULL;
	int err = stack_address(args, &addr);
	if (err != 0)
		return err;
	struct mist_stack *s = mist_calloc(1, sizeof(*s));
	if (s == NULL)
		return MIST_ENOMEM;
	s->addr = addr;
	s->pool = mist_pool_create("sock", SOCK_BUFFERS, SOCK_BUF_SIZE, 0);
	s->udp_scratch = mist_alloc(SOCK_UDP_PAYLOAD_MAX);
	if (s->pool == NULL || s->udp_scratch == NULL) {
		if (s->pool != NULL)
			mist_pool_destroy(s->pool);
		mist_free(s->udp_scratch);
		mist_free(s);
		return MIST_ENOMEM;
	}
	raise_descriptor_limit();
	s->poller.poll = stack_poll;
	mist_sched_add_poller(mist_sched_current(), &s->poller);
	*net = s;
	return 0;
}

/*
 * The loop has stopped: fibers still blocked on a socket will not run
 * again, so everything they held can go. Closing a flow's socket lets the
 * kernel finish its connection as mist_flow_close() would.
 */
void mist__net_stop(struct mist_stack *s)
{
	mist_net_stats_print(s);
	mist_sched_remove_poller(mist_sched_current(), &s->poller);
	sock_listeners_destroy(s);
	sock_flows_destroy(s);
	sock_udp_destroy(s);
	if (mist_pool_destroy(s->pool) != 0)
		mist_warn("buffers still in use at teardown; pool kept");
	mist_free(s->udp_scratch);
	mist_free(s);
}

struct mist_buf *sock_read_buf(struct mist_stack *s, uint64_t deadline)
{
	for (;;) {
		struct mist_buf *b = mist_buf_alloc(s->pool, SOCK_BUF_SIZE);
		if (b != NULL)
			return b;
		/*
		 * The pool has no hook for a freed buffer, so a reader short of
		 * one polls for it; the data waits in the kernel meanwhile and
		 * its window holds the peer back.
		 */
		s->stats.no_buffer++;
		uint64_t now = mist_now();
		if (now >= deadline)
			return NULL;
		mist_sleep_until(MIST_MIN(deadline, now + SOCK_NO_BUFFER_WAIT));
	}
}

struct sockaddr_in sock_addr_in(struct mist_ipv4_addr ip, uint16_t port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
	memcpy(&sa.sin_addr.s_addr, ip.b, sizeof(ip.b));
	return sa;
}

struct mist_addr sock_addr_from(const struct sockaddr_in *sa)
{
	struct mist_addr a = {.port = ntohs(sa->sin_port)};
	memcpy(a.ip.b, &sa->sin_addr.s_addr, sizeof(a.ip.b));
	return a;
}

struct mist_ipv4_addr mist_net_ipv4(const struct mist_stack *net)
{
	struct mist_ipv4_addr ip;
	memcpy(ip.b, &net->addr.s_addr, sizeof(ip.b));
	return ip;
}

struct mist_buf *mist_net_buf_alloc(struct mist_stack *net, uint32_t len)
{
	return mist_buf_alloc(net->pool, len);
}

void mist_net_stats_print(const struct mist_stack *net)
{
	struct mist_pool_stats pool;
#define SOCK_STAT_LOG(name, what)                                  \
	mist_log_at(MIST_LOG_INFO, "stats", "sock.%s=%llu", #name, \
	            (unsigned long long)net->stats.name);
	SOCK_STATS(SOCK_STAT_LOG)
#undef SOCK_STAT_LOG
	mist_pool_stats(net->pool, &pool);
	mist_log_at(MIST_LOG_INFO, "stats", "sock.buffers_high_water=%u", pool.high_water);
}
