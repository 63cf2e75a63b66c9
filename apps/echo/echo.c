/*
 * echo: the seed's example. Listens on TCP port --port (default 8081), logs
 * each connection's peer, sends every byte back without copying (the buffer
 * received is the buffer sent) and logs the end of the connection.
 *
 *   build/posix-tap/echo --tap=NAME --ipv4=ADDR/PREFIX [--port=N]
 */
#include <mist/mist.h>

#define ECHO_PORT 8081

static void echo(struct mist_flow *flow, void *arg)
{
	struct mist_addr peer = mist_flow_peer(flow);
	struct mist_buf *b;

	mist_log("From %pI4:%u", peer.ip.b, peer.port);
	while ((b = mist_flow_read(flow)) != NULL)
		if (mist_flow_write_buf(flow, b) < 0)
			break;
	if (mist_flow_error(flow) != 0)
		mist_log("Connection closed: %s", mist_strerror(mist_flow_error(flow)));
	else
		mist_log("Connection closed");
}

int mist_main(struct mist_env *env)
{
	uint16_t port = env->args->has_port ? env->args->port : ECHO_PORT;

	if (env->net == NULL) {
		mist_error("echo needs a network: --tap=NAME --ipv4=ADDR/PREFIX");
		return MIST_EINVAL;
	}
	int err = mist_tcp_listen(env->net, port, echo, NULL);
	if (err != 0)
		return err;
	mist_log("echoing TCP on port %u", port);
	return 0;
}
