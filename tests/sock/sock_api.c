/*
 * The flow and UDP API on the posix-socket target, driven as an application
 * drives it: a Mist program whose main fiber connects to listeners of its
 * own over the host's sockets and checks what each call returns. Scenarios:
 * listen argument checks and a port taken twice; connect, then write,
 * writev and write_buf echoed back intact, with both addresses right; a
 * write shutdown giving the peer the end of the stream while the other
 * direction goes on, and MIST_EPIPE after it; an abort reaching the peer's
 * handler as MIST_ECONNRESET; a read deadline passing without harming the
 * connection; connect refused, unreachable and past its deadline; unlisten
 * refusing new connections; each option reaching the socket, and refused
 * out of range; UDP ephemeral ports, echo of datagrams up to the largest,
 * the ICMP port unreachable reported once by mist_udp_take_error(), and the
 * receive deadline.
 *
 * Run by tests/integration/test_sock_api.py in a namespace where the
 * program is 10.77.0.2 (--ipv4), 10.77.0.99 is on-link but absent and
 * 10.99.0.0/16 has no route. One line per scenario, "ok NAME" or "FAIL NAME:
 * why"; when all are done the program closes everything, so the loop ends
 * and the stack's teardown runs (which must find every buffer back); the
 * exit status is 1 if any failed.
 */
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "mist/mist.h"
/* White box for the options: the socket behind a flow. */
#include "../../platform/posix-socket/sock.h"
#include "../check.h"

#define PORT        9000
#define PORT_CLOSED 9001
#define UDP_PORT    9002
#define ABSENT_HOST MIST_IPV4(10, 77, 0, 99)
#define NO_ROUTE    MIST_IPV4(10, 99, 0, 1)
#define BULK_LEN    (300u * 1024)

static struct mist_stack *net;
static struct mist_ipv4_addr self;
static bool any_failed;


#define CHECK_ERR(call, expected)                                                            \
	do {                                                                                 \
		int got_ = (call);                                                           \
		CHECK(got_ == (expected), "%s: %s, expected %s", #call, mist_strerror(got_), \
		      mist_strerror(expected));                                              \
	} while (0)

static void run(const char *name, void (*scenario)(void))
{
	failed = false;
	scenario();
	if (failed) {
		any_failed = true;
		printf("FAIL %s: %s\n", name, failure);
	} else {
		printf("ok %s\n", name);
	}
	fflush(stdout);
}

/* --- the server side: what the handler saw, for the client side to check -------- */

enum server_mode {
	SERVE_ECHO,         /* echo until the end of the stream, then return */
	SERVE_EOF_THEN_BYE, /* read to the end, then write "bye" and close */
	SERVE_REPORT,       /* read until the end or an error; record which */
	SERVE_LATE_HELLO,   /* sleep, then write "hello" and wait for the end */
};

static struct {
	enum server_mode mode;
	bool done;
	int error;    /* mist_flow_error() when the reading ended */
	size_t bytes; /* bytes read */
	struct mist_addr peer, local;
	struct mist_waitq waiters;
} server;

static void server_finish(struct mist_flow *f)
{
	server.error = mist_flow_error(f);
	server.done = true;
	mist_wake_all(&server.waiters);
}

static void serve(struct mist_flow *f, void *arg)
{
	struct mist_buf *b;
	server.peer = mist_flow_peer(f);
	server.local = mist_flow_local(f);
	if (server.mode == SERVE_LATE_HELLO) {
		mist_sleep(200 * MIST_MSEC);
		mist_flow_write(f, "hello", 5);
	}
	while ((b = mist_flow_read(f)) != NULL) {
		server.bytes += mist_buf_chain_len(b);
		if (server.mode == SERVE_ECHO)
			mist_flow_write_buf(f, b);
		else
			mist_buf_free_chain(b);
	}
	if (server.mode == SERVE_EOF_THEN_BYE) {
		mist_flow_write(f, "bye", 3);
		mist_flow_close(f);
	}
	server_finish(f);
}

static void server_reset(enum server_mode mode)
{
	server.mode = mode;
	server.done = false;
	server.error = 0;
	server.bytes = 0;
}

static void server_wait(void)
{
	uint64_t deadline = mist_now() + 5 * MIST_SEC;
	while (!server.done && mist_wait(&server.waiters, deadline) == 0)
		;
	CHECK(server.done, "the handler did not finish within 5 s");
}

static struct mist_flow *connect_self(void)
{
	struct mist_addr to = {.ip = self, .port = PORT};
	struct mist_flow *f = NULL;
	CHECK_ERR(mist_tcp_connect(net, &to, mist_now() + 5 * MIST_SEC, &f), 0);
	return f;
}

/* Reads exactly `len` bytes into `dst`; returns how many came before the end. */
static size_t read_exactly(struct mist_flow *f, uint8_t *dst, size_t len)
{
	size_t got = 0;
	while (got < len) {
		struct mist_buf *b = mist_flow_read(f);
		if (b == NULL)
			break;
		size_t n = mist_buf_chain_len(b);
		if (got + n <= len)
			mist_buf_copyout(b, 0, dst + got, n);
		got += n;
		mist_buf_free_chain(b);
	}
	return got;
}

/* --- scenarios ---------------------------------------------------------------------- */

static void listen_checks_its_arguments(void)
{
	CHECK_ERR(mist_tcp_listen(NULL, PORT, serve, NULL), MIST_EINVAL);
	CHECK_ERR(mist_tcp_listen(net, 0, serve, NULL), MIST_EINVAL);
	CHECK_ERR(mist_tcp_listen(net, PORT, serve, NULL), 0);
	CHECK_ERR(mist_tcp_listen(net, PORT, serve, NULL), MIST_EADDRINUSE);
}

static uint8_t sent[BULK_LEN], received[BULK_LEN];

static void write_writev_write_buf_echo_intact(void)
{
	server_reset(SERVE_ECHO);
	struct mist_flow *f = connect_self();
	if (f == NULL)
		return;
	for (size_t i = 0; i < BULK_LEN; i++)
		sent[i] = (uint8_t)(i * 7 + i / 251);
	struct mist_addr local = mist_flow_local(f), peer = mist_flow_peer(f);
	CHECK(memcmp(local.ip.b, self.b, 4) == 0, "local address %u.%u.%u.%u", local.ip.b[0],
	      local.ip.b[1], local.ip.b[2], local.ip.b[3]);
	CHECK(memcmp(peer.ip.b, self.b, 4) == 0 && peer.port == PORT, "peer port %u", peer.port);

	/* The first third with write, the second with writev in 3 pieces, the rest with write_buf. */
	size_t third = BULK_LEN / 3;
	CHECK_ERR(mist_flow_write(f, sent, third), 0);
	struct mist_iovec iov[3] = {
	        {sent + third, 10}, {sent + third + 10, 0}, {sent + third + 10, third - 10}};
	CHECK_ERR(mist_flow_writev(f, iov, 3), 0);
	struct mist_buf *chain = NULL;
	for (size_t off = 2 * third; off < BULK_LEN;) {
		uint32_t n = (uint32_t)(BULK_LEN - off < 1000 ? BULK_LEN - off : 1000);
		struct mist_buf *b = mist_net_buf_alloc(net, n);
		CHECK(b != NULL, "mist_net_buf_alloc(%u) failed", n);
		if (b == NULL)
			break;
		memcpy(b->data, sent + off, n);
		if (chain == NULL)
			chain = b;
		else
			mist_buf_chain(chain, b);
		off += n;
	}
	CHECK_ERR(mist_flow_write_buf(f, chain), 0);
	size_t got = read_exactly(f, received, BULK_LEN);
	CHECK(got == BULK_LEN, "%zu bytes echoed of %u", got, BULK_LEN);
	CHECK(memcmp(sent, received, BULK_LEN) == 0, "the echo differs");
	CHECK(server.peer.port == local.port, "the server saw port %u, we are %u", server.peer.port,
	      local.port);
	CHECK(server.local.port == PORT, "the server's local port %u", server.local.port);
	mist_flow_close(f);
	server_wait();
	CHECK(server.error == 0, "the server's flow ended with %s", mist_strerror(server.error));
}

static void shutdown_write_gives_eof_and_reading_goes_on(void)
{
	server_reset(SERVE_EOF_THEN_BYE);
	struct mist_flow *f = connect_self();
	if (f == NULL)
		return;
	CHECK_ERR(mist_flow_write(f, "data", 4), 0);
	CHECK_ERR(mist_flow_shutdown(f, MIST_SHUT_WR), 0);
	CHECK_ERR(mist_flow_write(f, "more", 4), MIST_EPIPE);
	CHECK_ERR(mist_flow_write_buf(f, mist_net_buf_alloc(net, 4)), MIST_EPIPE);
	uint8_t bye[3];
	CHECK(read_exactly(f, bye, 3) == 3 && memcmp(bye, "bye", 3) == 0, "no bye after our FIN");
	CHECK(mist_flow_read(f) == NULL, "data after the peer's close");
	CHECK_ERR(mist_flow_error(f), 0);
	CHECK_ERR(mist_flow_shutdown(f, (enum mist_shutdown)0), MIST_EINVAL);
	mist_flow_close(f);
	server_wait();
	CHECK(server.bytes == 4, "the server read %zu bytes", server.bytes);
	CHECK_ERR(server.error, 0);
}

static void abort_reaches_peer_as_reset(void)
{
	server_reset(SERVE_REPORT);
	struct mist_flow *f = connect_self();
	if (f == NULL)
		return;
	CHECK_ERR(mist_flow_write(f, "x", 1), 0);
	mist_sleep(50 * MIST_MSEC); /* the byte is read before the reset comes */
	mist_flow_abort(f);
	server_wait();
	CHECK(server.bytes == 1, "the server read %zu bytes", server.bytes);
	CHECK_ERR(server.error, MIST_ECONNRESET);
}

static void read_deadline_passes_and_the_flow_goes_on(void)
{
	server_reset(SERVE_LATE_HELLO);
	struct mist_flow *f = connect_self();
	if (f == NULL)
		return;
	struct mist_buf *b = NULL;
	uint64_t start = mist_now();
	CHECK_ERR(mist_flow_read_deadline(f, start + 50 * MIST_MSEC, &b), MIST_ETIMEDOUT);
	CHECK(mist_now() - start >= 50 * MIST_MSEC, "returned after %llu ns",
	      (unsigned long long)(mist_now() - start));
	CHECK_ERR(mist_flow_read_deadline(f, mist_now() + 5 * MIST_SEC, &b), 0);
	CHECK(b != NULL && b->len == 5 && memcmp(b->data, "hello", 5) == 0, "no hello");
	mist_buf_free_chain(b);
	CHECK_ERR(mist_flow_error(f), 0);
	mist_flow_close(f);
	server_wait();
}

static void connect_refused_unreachable_and_late(void)
{
	struct mist_flow *f = NULL;
	struct mist_addr closed = {.ip = self, .port = PORT_CLOSED};
	struct mist_addr absent = {.ip = ABSENT_HOST, .port = PORT};
	struct mist_addr no_route = {.ip = NO_ROUTE, .port = PORT};
	CHECK_ERR(mist_tcp_connect(net, &closed, MIST_FOREVER, &f), MIST_ECONNREFUSED);
	CHECK_ERR(mist_tcp_connect(net, &no_route, MIST_FOREVER, &f), MIST_EHOSTUNREACH);
	uint64_t start = mist_now();
	CHECK_ERR(mist_tcp_connect(net, &absent, start + 100 * MIST_MSEC, &f), MIST_ETIMEDOUT);
	uint64_t took = mist_now() - start;
	CHECK(took >= 100 * MIST_MSEC && took < MIST_SEC, "the deadline passed after %llu ms",
	      (unsigned long long)(took / MIST_MSEC));
}

static void unlisten_refuses_new_connections(void)
{
	struct mist_flow *f = NULL;
	struct mist_addr to = {.ip = self, .port = PORT};
	CHECK_ERR(mist_tcp_unlisten(net, PORT), 0);
	CHECK_ERR(mist_tcp_unlisten(net, PORT), MIST_ENOENT);
	CHECK_ERR(mist_tcp_connect(net, &to, MIST_FOREVER, &f), MIST_ECONNREFUSED);
	/* The port is free again for a new listener. */
	CHECK_ERR(mist_tcp_listen(net, PORT, serve, NULL), 0);
}

static int sockopt(const struct mist_flow *f, int level, int name)
{
	int v = -1;
	socklen_t len = sizeof(v);
	getsockopt(f->fd, level, name, &v, &len);
	return v;
}

static void options_reach_the_socket(void)
{
	server_reset(SERVE_REPORT);
	struct mist_flow *f = connect_self();
	if (f == NULL)
		return;
	CHECK_ERR(mist_flow_set_nodelay(f, true), 0);
	CHECK(sockopt(f, IPPROTO_TCP, TCP_NODELAY) == 1, "TCP_NODELAY not set");
	/* Rounded up to whole seconds. */
	CHECK_ERR(mist_flow_set_keepalive(f, 1500 * MIST_MSEC, 2 * MIST_SEC, 4), 0);
	CHECK(sockopt(f, SOL_SOCKET, SO_KEEPALIVE) == 1, "SO_KEEPALIVE not set");
	CHECK(sockopt(f, IPPROTO_TCP, TCP_KEEPIDLE) == 2, "TCP_KEEPIDLE %d",
	      sockopt(f, IPPROTO_TCP, TCP_KEEPIDLE));
	CHECK(sockopt(f, IPPROTO_TCP, TCP_KEEPINTVL) == 2, "TCP_KEEPINTVL %d",
	      sockopt(f, IPPROTO_TCP, TCP_KEEPINTVL));
	CHECK(sockopt(f, IPPROTO_TCP, TCP_KEEPCNT) == 4, "TCP_KEEPCNT %d",
	      sockopt(f, IPPROTO_TCP, TCP_KEEPCNT));
	CHECK_ERR(mist_flow_set_keepalive(f, 40000 * MIST_SEC, MIST_SEC, 4), MIST_EINVAL);
	CHECK_ERR(mist_flow_set_keepalive(f, MIST_SEC, MIST_SEC, 0), MIST_EINVAL);
	CHECK(sockopt(f, IPPROTO_TCP, TCP_KEEPIDLE) == 2, "a refused value changed TCP_KEEPIDLE");
	CHECK_ERR(mist_flow_set_keepalive(f, 0, 0, 0), 0);
	CHECK(sockopt(f, SOL_SOCKET, SO_KEEPALIVE) == 0, "SO_KEEPALIVE still set");
	/* Linux doubles what it is given (socket(7)). */
	CHECK_ERR(mist_flow_set_buffers(f, 65536, 0), 0);
	CHECK(sockopt(f, SOL_SOCKET, SO_SNDBUF) == 2 * 65536, "SO_SNDBUF %d",
	      sockopt(f, SOL_SOCKET, SO_SNDBUF));
	CHECK_ERR(mist_flow_set_buffers(f, UINT32_MAX, 0), MIST_EINVAL);
	CHECK_ERR(mist_flow_set_user_timeout(f, 5 * MIST_SEC + 1), 0);
	CHECK(sockopt(f, IPPROTO_TCP, TCP_USER_TIMEOUT) == 5001, "TCP_USER_TIMEOUT %d",
	      sockopt(f, IPPROTO_TCP, TCP_USER_TIMEOUT));
	CHECK_ERR(mist_flow_set_user_timeout(f, UINT64_MAX), MIST_EINVAL);
	CHECK_ERR(mist_flow_set_user_timeout(f, 0), 0);
	CHECK(sockopt(f, IPPROTO_TCP, TCP_USER_TIMEOUT) == 0, "TCP_USER_TIMEOUT not reset");
	mist_flow_close(f);
	server_wait();
}

static uint8_t datagram[SOCK_UDP_PAYLOAD_MAX];

static void udp_ports_echo_errors_and_deadline(void)
{
	struct mist_udp *a = NULL, *b = NULL, *c = NULL;
	CHECK_ERR(mist_udp_open(net, UDP_PORT, &a), 0);
	CHECK_ERR(mist_udp_open(net, UDP_PORT, &c), MIST_EADDRINUSE);
	CHECK_ERR(mist_udp_open(net, 0, &b), 0);
	if (a == NULL || b == NULL)
		return;
	struct mist_addr la = mist_udp_local(a), lb = mist_udp_local(b);
	CHECK(la.port == UDP_PORT && memcmp(la.ip.b, self.b, 4) == 0, "a is on port %u", la.port);
	CHECK(lb.port >= 49152, "ephemeral port %u below 49152 (RFC 6056)", lb.port);

	/* From b to a: a small one by copy, then the largest as a chain of pool buffers. */
	CHECK_ERR(mist_udp_send_copy(b, &la, "ping", 4), 0);
	struct mist_buf *p = NULL;
	struct mist_addr from;
	CHECK_ERR(mist_udp_recv(a, &p, &from, mist_now() + MIST_SEC), 0);
	CHECK(p != NULL && p->len == 4 && memcmp(p->data, "ping", 4) == 0, "ping garbled");
	CHECK(from.port == lb.port, "from port %u, expected %u", from.port, lb.port);
	mist_buf_free_chain(p);

	for (size_t i = 0; i < sizeof(datagram); i++)
		datagram[i] = (uint8_t)(i % 253);
	struct mist_buf *chain = NULL;
	for (size_t off = 0; off < sizeof(datagram);) {
		uint32_t n =
		        (uint32_t)(sizeof(datagram) - off < SOCK_BUF_SIZE ? sizeof(datagram) - off
		                                                          : SOCK_BUF_SIZE);
		struct mist_buf *piece = mist_net_buf_alloc(net, n);
		if (piece == NULL)
			break;
		memcpy(piece->data, datagram + off, n);
		if (chain == NULL)
			chain = piece;
		else
			mist_buf_chain(chain, piece);
		off += n;
	}
	CHECK_ERR(mist_udp_send(b, &la, chain), 0);
	p = NULL;
	CHECK_ERR(mist_udp_recv(a, &p, &from, mist_now() + MIST_SEC), 0);
	size_t len = mist_buf_chain_len(p);
	CHECK(len == sizeof(datagram), "%zu bytes received of %zu", len, sizeof(datagram));
	if (len == sizeof(datagram)) {
		static uint8_t copy[SOCK_UDP_PAYLOAD_MAX];
		mist_buf_copyout(p, 0, copy, len);
		CHECK(memcmp(copy, datagram, len) == 0, "the largest datagram garbled");
	}
	mist_buf_free_chain(p);
	CHECK_ERR(mist_udp_send_copy(b, &la, datagram, sizeof(datagram) + 1), MIST_EMSGSIZE);

	/* RFC 1122 4.1.3.3: the port unreachable comes back as MIST_ECONNREFUSED, once. */
	struct mist_addr closed = {.ip = self, .port = PORT_CLOSED};
	CHECK_ERR(mist_udp_send_copy(b, &closed, "anyone?", 7), 0);
	mist_sleep(100 * MIST_MSEC);
	CHECK_ERR(mist_udp_take_error(b), MIST_ECONNREFUSED);
	CHECK_ERR(mist_udp_take_error(b), 0);
	/* Sending goes on after it. */
	CHECK_ERR(mist_udp_send_copy(b, &la, "again", 5), 0);
	CHECK_ERR(mist_udp_recv(a, &p, &from, mist_now() + MIST_SEC), 0);
	mist_buf_free_chain(p);

	uint64_t start = mist_now();
	CHECK_ERR(mist_udp_recv(a, &p, &from, start + 50 * MIST_MSEC), MIST_ETIMEDOUT);
	CHECK(mist_now() - start >= 50 * MIST_MSEC, "the receive deadline came early");
	mist_udp_close(a);
	mist_udp_close(b);
}

int mist_main(struct mist_env *env)
{
	net = env->net;
	self = mist_net_ipv4(net);
	mist_waitq_init(&server.waiters);
	run("listen_checks_its_arguments", listen_checks_its_arguments);
	run("write_writev_write_buf_echo_intact", write_writev_write_buf_echo_intact);
	run("shutdown_write_gives_eof_and_reading_goes_on",
	    shutdown_write_gives_eof_and_reading_goes_on);
	run("abort_reaches_peer_as_reset", abort_reaches_peer_as_reset);
	run("read_deadline_passes_and_the_flow_goes_on", read_deadline_passes_and_the_flow_goes_on);
	run("connect_refused_unreachable_and_late", connect_refused_unreachable_and_late);
	run("unlisten_refuses_new_connections", unlisten_refuses_new_connections);
	run("options_reach_the_socket", options_reach_the_socket);
	run("udp_ports_echo_errors_and_deadline", udp_ports_echo_errors_and_deadline);
	/* Nothing left open: the loop ends, and the stack's teardown checks the buffers. */
	mist_tcp_unlisten(net, PORT);
	return any_failed ? MIST_EIO : 0;
}
