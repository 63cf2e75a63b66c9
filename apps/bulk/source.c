/*
 * bulk, source mode: sends --bytes of the pattern (bulk.h) over one
 * connection it makes to --peer, then exits; or, without --peer, over every
 * connection accepted on the port, answering an HTTP GET with a minimal
 * HTTP/1.0 response around the bytes so that curl can download them too.
 *
 * Either way, after its last byte the source shuts its side down (FIN) and
 * reads until the peer closes too: a peer that reads to the end of the
 * stream before closing (nc, curl) thereby confirms that every byte
 * arrived, which is when the time is taken.
 */
#define MIST_LOG_TAG "bulk"

#include "bulk.h"

/* Bytes made per write. Lives on the handler fiber's stack (16 KiB by default). */
#define SOURCE_CHUNK 4096

#define CONNECT_TIMEOUT (10 * MIST_SEC)
/* How long an accepted connection may take to send a request: nc sends none. */
#define REQUEST_WAIT (200 * MIST_MSEC)
/* How long the peer may take to close once it has everything. */
#define CLOSE_WAIT (30 * MIST_SEC)
/* Time for the stack to acknowledge the peer's FIN before the program ends. */
#define EXIT_GRACE (100 * MIST_MSEC)

#define HTTP_GET     "GET "
#define HTTP_GET_LEN 4

static const char http_head[] = "HTTP/1.0 200 OK\r\n"
                                "Content-Type: application/octet-stream\r\n"
                                "Content-Length: ";
static const char http_tail[] = "\r\nConnection: close\r\n\r\n";

/* Sends the pattern from t->bytes up to --bytes, counting and hashing it. */
static int send_pattern(struct mist_flow *flow, struct bulk_transfer *t)
{
	uint8_t chunk[SOURCE_CHUNK];

	while (t->bytes < bulk_options.bytes) {
		uint64_t left = bulk_options.bytes - t->bytes;
		size_t n = left < sizeof(chunk) ? (size_t)left : sizeof(chunk);
		bulk_pattern_fill(chunk, t->bytes, n);
		int err = mist_flow_write(flow, chunk, n);
		if (err != 0)
			return err;
		bulk_transfer_add(t, chunk, n);
	}
	return 0;
}

/*
 * Sends FIN, then reads and drops whatever the peer still sends (the rest
 * of a request) until it closes its side, or CLOSE_WAIT passes. Reading it
 * all also means nothing is left unread at close, which would make the
 * stack reset the connection (RFC 1122 4.2.2.13).
 */
static int finish(struct mist_flow *flow)
{
	mist_time_t deadline = mist_now() + CLOSE_WAIT;
	struct mist_buf *b;

	int err = mist_flow_shutdown(flow, MIST_SHUT_WR);
	while (err == 0) {
		err = mist_flow_read_deadline(flow, deadline, &b);
		if (err == 0 && b == NULL)
			return 0;
		mist_buf_free_chain(b);
	}
	return err;
}

/*
 * Waits up to REQUEST_WAIT for the first bytes from the peer and tells
 * whether they start an HTTP GET (RFC 1945 5.1: Method SP Request-URI SP
 * HTTP-Version). The rest of the request is read and dropped by finish().
 */
static bool request_is_http_get(struct mist_flow *flow)
{
	mist_time_t deadline = mist_now() + REQUEST_WAIT;
	char start[HTTP_GET_LEN];
	size_t len = 0;
	struct mist_buf *b;

	while (len < sizeof(start) && mist_flow_read_deadline(flow, deadline, &b) == 0 &&
	       b != NULL) {
		for (struct mist_buf *v = b; v != NULL && len < sizeof(start); v = v->next)
			for (uint32_t i = 0; i < v->len && len < sizeof(start); i++)
				start[len++] = (char)v->data[i];
		mist_buf_free_chain(b);
	}
	return len == sizeof(start) && __builtin_memcmp(start, HTTP_GET, HTTP_GET_LEN) == 0;
}

/*
 * The smallest HTTP/1.0 answer curl accepts for a download (RFC 1945 6, 7,
 * 10.4): a status line, the length of the body, and "Connection: close" so
 * that the client closes once it has the body.
 */
static int send_http_head(struct mist_flow *flow, uint64_t body_len)
{
	char digits[21];
	size_t ndigits = bulk_format_u64(digits, sizeof(digits), body_len);
	const struct mist_iovec iov[] = {
	        {http_head, sizeof(http_head) - 1},
	        {digits, ndigits},
	        {http_tail, sizeof(http_tail) - 1},
	};
	return mist_flow_writev(flow, iov, sizeof(iov) / sizeof(iov[0]));
}

static void bulk_serve(struct mist_flow *flow, void *arg)
{
	struct bulk_transfer t;
	int err = 0;

	if (request_is_http_get(flow))
		err = send_http_head(flow, bulk_options.bytes);
	/* The time starts after the wait for a request, which says nothing about the stack. */
	bulk_transfer_start(&t, BULK_SOURCE, mist_flow_peer(flow));
	if (err == 0)
		err = send_pattern(flow, &t);
	if (err == 0)
		err = finish(flow);
	bulk_transfer_log(&t, err);
}

/* Connects to --peer and sends the stream once. Returns 0 or the error. */
static int connect_and_send(struct mist_stack *net)
{
	const struct mist_addr *to = &bulk_options.to;
	struct mist_flow *flow;
	struct bulk_transfer t;

	int err = mist_tcp_connect(net, to, mist_now() + CONNECT_TIMEOUT, &flow);
	if (err != 0) {
		mist_error("source: connect to %pI4:%u: %s", to->ip.b, to->port,
		           mist_strerror(err));
		return err;
	}
	bulk_transfer_start(&t, BULK_SOURCE, *to);
	err = send_pattern(flow, &t);
	if (err == 0)
		err = finish(flow);
	bulk_transfer_log(&t, err);
	mist_flow_close(flow);
	return err;
}

int bulk_source_main(struct mist_env *env, uint16_t port)
{
	if (bulk_options.peer == NULL) {
		int err = mist_tcp_listen(env->net, port, bulk_serve, NULL);
		if (err != 0)
			return err;
		mist_log("source: serving %llu bytes per connection on TCP port %u",
		         (unsigned long long)bulk_options.bytes, port);
		return 0;
	}
	int err = connect_and_send(env->net);
	if (err != 0)
		return err;
	/*
	 * Done. The stack keeps timers (ARP, TIME_WAIT) that would keep the
	 * loop running, so the program ends here, once the last ACK is out.
	 */
	mist_sleep(EXIT_GRACE);
	mist_net_stats_print(env->net);
	mist_exit(0);
}
