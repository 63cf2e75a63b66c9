/*
 * bulk, sink mode: every connection accepted on the port is read to its
 * end; its bytes are counted and hashed as they come, without copying, and
 * freed. The log line is written when the peer closes (see bulk.h).
 */
#define MIST_LOG_TAG "bulk"

#include "bulk.h"

static void bulk_sink(struct mist_flow *flow, void *arg)
{
	struct bulk_transfer t;
	struct mist_buf *b;

	bulk_transfer_start(&t, BULK_SINK, mist_flow_peer(flow));
	while ((b = mist_flow_read(flow)) != NULL) {
		bulk_transfer_add_chain(&t, b);
		mist_buf_free_chain(b);
	}
	bulk_transfer_log(&t, mist_flow_error(flow));
}

int bulk_sink_main(struct mist_env *env, uint16_t port)
{
	int err = mist_tcp_listen(env->net, port, bulk_sink, NULL);
	if (err != 0)
		return err;
	mist_log("sink: listening on TCP port %u", port);
	return 0;
}
