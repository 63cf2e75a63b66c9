/*
 * Listening (mist/flow.h): a listening host socket per port, and an accept
 * fiber per listener that takes connections as they come and starts the
 * application's handler in a fiber of its own for each. mist_tcp_unlisten()
 * closes the socket at once (the kernel then refuses new connections) and
 * leaves the accept fiber to free the listener when it next runs.
 */
#define MIST_LOG_TAG "sock"

#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/compiler.h"
#include "core/mem.h"
#include "sock.h"

/*
 * Connections accepted in a row before the accept fiber lets the handlers
 * it started run: a burst of connections is served as it comes in.
 */
#define LISTEN_ACCEPT_BATCH 32

/*
 * How long accepting pauses when the process is out of descriptors or
 * memory: the connection waits in the kernel's queue meanwhile.
 */
#define LISTEN_BACKOFF (10 * MIST_MSEC)

struct sock_listener {
	struct posix_watch watch;
	struct sock_listener *next; /* in stack->listeners, while listening */
	struct mist_stack *stack;
	int fd;
	uint16_t port;
	bool closed; /* unlistened: the accept fiber frees it */
	struct mist_waitq acceptor;
	mist_flow_handler handler;
	void *arg;
};

static void listener_ready(struct posix_watch *watch, uint32_t events)
{
	struct sock_listener *l = mist_container_of(watch, struct sock_listener, watch);
	mist_wake_one(&l->acceptor);
}

static void flow_fiber(void *arg)
{
	struct mist_flow *f = arg;
	f->handler(f, f->handler_arg);
	sock_flow_handler_done(f);
}

/* Gives an accepted socket a flow and a fiber running the handler. */
static void listener_start_flow(struct sock_listener *l, int fd, const struct sockaddr_in *peer)
{
	struct mist_stack *s = l->stack;
	struct mist_addr addr = sock_addr_from(peer);
	struct mist_flow *f = sock_flow_create(s, fd, &addr);
	if (f == NULL) {
		s->stats.accept_dropped++;
		close(fd);
		return;
	}
	f->in_handler = true;
	f->handler = l->handler;
	f->handler_arg = l->arg;
	struct mist_fiber *fiber = mist_fiber_spawn("flow", flow_fiber, f, 0);
	if (fiber == NULL) {
		s->stats.accept_dropped++;
		mist_flow_abort(f);
		sock_flow_handler_done(f);
		return;
	}
	mist_fiber_detach(fiber);
	s->stats.accepted++;
}

static void accept_fiber(void *arg)
{
	struct sock_listener *l = arg;
	unsigned batch = 0;

	while (!l->closed) {
		struct sockaddr_in peer;
		socklen_t len = sizeof(peer);
		int fd = accept4(l->fd, (struct sockaddr *)&peer, &len,
		                 SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd >= 0) {
			listener_start_flow(l, fd, &peer);
			if (++batch % LISTEN_ACCEPT_BATCH == 0)
				mist_fiber_yield();
			continue;
		}
		switch (errno) {
		case EAGAIN:
			mist_wait(&l->acceptor, MIST_FOREVER);
			break;
		case EINTR:
			break;
		case EMFILE:
		case ENFILE:
		case ENOBUFS:
		case ENOMEM:
			l->stack->stats.accept_errors++;
			mist_sleep(LISTEN_BACKOFF);
			break;
		default:
			/* A connection that failed while queued (accept(2): ECONNABORTED, EPROTO...). */
			l->stack->stats.accept_errors++;
			break;
		}
	}
	mist_free(l);
}

static struct sock_listener **listener_find(struct mist_stack *s, uint16_t port)
{
	struct sock_listener **p = &s->listeners;
	while (*p != NULL && (*p)->port != port)
		p = &(*p)->next;
	return p;
}

/* A non-blocking listening socket on the stack's address and `port`, or a negative errno. */
static int listen_socket(const struct mist_stack *s, uint16_t port)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/*
	 * Without SO_REUSEADDR a restarted server could not bind while its old
	 * connections are in TIME-WAIT; a port someone listens on still fails
	 * with EADDRINUSE.
	 */
	int one = 1;
	struct sockaddr_in sa = {
	        .sin_family = AF_INET, .sin_port = htons(port), .sin_addr = s->addr};
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(fd, SOMAXCONN) != 0) {
		int err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

int mist_tcp_listen(struct mist_stack *net, uint16_t port, mist_flow_handler handler, void *arg)
{
	if (net == NULL || port == 0 || handler == NULL)
		return MIST_EINVAL;
	if (*listener_find(net, port) != NULL)
		return MIST_EADDRINUSE;
	struct sock_listener *l = mist_calloc(1, sizeof(*l));
	if (l == NULL)
		return MIST_ENOMEM;
	l->fd = listen_socket(net, port);
	if (l->fd < 0) {
		int err = sock_error_from_errno(-l->fd);
		mist_free(l);
		return err;
	}
	l->stack = net;
	l->port = port;
	l->handler = handler;
	l->arg = arg;
	l->watch.ready = listener_ready;
	mist_waitq_init(&l->acceptor);
	int err = posix_poll_watch(l->fd, EPOLLIN | EPOLLET, &l->watch);
	struct mist_fiber *fiber = NULL;
	if (err == 0)
		fiber = mist_fiber_spawn("accept", accept_fiber, l, 0);
	if (fiber == NULL) {
		close(l->fd);
		mist_free(l);
		return err != 0 ? sock_error_from_errno(-err) : MIST_ENOMEM;
	}
	mist_fiber_detach(fiber);
	l->next = net->listeners;
	net->listeners = l;
	return 0;
}

static void listener_close(struct sock_listener *l)
{
	posix_poll_remove(l->fd);
	close(l->fd);
	l->fd = -1;
	l->closed = true;
}

int mist_tcp_unlisten(struct mist_stack *net, uint16_t port)
{
	struct sock_listener **p = listener_find(net, port);
	struct sock_listener *l = *p;
	if (l == NULL)
		return MIST_ENOENT;
	*p = l->next;
	listener_close(l);
	/* The accept fiber sees `closed` when it next runs, and frees the listener. */
	mist_wake_one(&l->acceptor);
	return 0;
}

/* The loop has stopped and accept fibers will not run again: free them here. */
void sock_listeners_destroy(struct mist_stack *s)
{
	while (s->listeners != NULL) {
		struct sock_listener *l = s->listeners;
		s->listeners = l->next;
		listener_close(l);
		mist_free(l);
	}
}
