/*
 * udp-echo: sends every datagram received on --port (default 8081) back to
 * its sender, without copying: the buffer received is the buffer sent.
 *
 *   build/posix-tap/udp-echo --tap=NAME --ipv4=ADDR/PREFIX [--ipv4-gateway=ADDR]
 */
#include <mist/mist.h>

#define UDP_ECHO_PORT 8081

static void udp_echo(void *arg)
{
	struct mist_udp *udp = arg;
	struct mist_buf *payload;
	struct mist_addr from;

	while (mist_udp_recv(udp, &payload, &from, MIST_FOREVER) == 0) {
		int err = mist_udp_send(udp, &from, payload);
		if (err != 0)
			mist_warn("echo to %pI4:%u failed: %s", from.ip.b, from.port,
			          mist_strerror(err));
	}
}

int mist_main(struct mist_env *env)
{
	uint16_t port = env->args->has_port ? env->args->port : UDP_ECHO_PORT;
	struct mist_udp *udp;

	if (env->net == NULL) {
		mist_error("udp-echo needs a network: --tap=NAME --ipv4=ADDR/PREFIX");
		return MIST_EINVAL;
	}
	int err = mist_udp_open(env->net, port, &udp);
	if (err != 0)
		return err;
	mist_log("echoing UDP on port %u", port);
	struct mist_fiber *f = mist_fiber_spawn("udp-echo", udp_echo, udp, 0);
	if (f == NULL)
		return MIST_ENOMEM;
	mist_fiber_detach(f);
	return 0;
}
