/*
 * Flows over connected host TCP sockets (mist/flow.h): reading into pool
 * buffers, writing, shutting down, closing and aborting. Every call tries
 * the socket first and waits on the flow's wait queue only when the kernel
 * says EAGAIN; the socket is watched edge-triggered, so each new readiness
 * after that EAGAIN wakes the queue. The loop is single-threaded, so no
 * readiness can slip in between the EAGAIN and the wait.
 *
 * Reading also takes a short read as an EAGAIN: Linux's tcp_recvmsg()
 * returns less than asked only once the receive queue is empty, so the
 * next data will come with an edge of its own, and asking again would only
 * cost a system call per message (a third more in a request/response
 * exchange). That holds while only data comes. A short read may also stop
 * at urgent data (RFC 9293 3.8.5) with data behind it, or leave the peer's
 * FIN or a reset to report with no edge to come; so once the socket has
 * signalled anything but data (EPOLLPRI, EPOLLRDHUP, EPOLLHUP, EPOLLERR),
 * the flow always asks again.
 *
 * A connection error is sticky: the first one is kept in flow->error, and
 * every later call returns it without asking the kernel again (which would
 * answer EPIPE once it has reported the reset).
 */
#define MIST_LOG_TAG "sock"

#include <errno.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "base/compiler.h"
#include "core/mem.h"
#include "core/panic.h"
#include "sock.h"

/* Readiness that lets a blocked reader, or a blocked writer, go on. */
#define FLOW_READ_EVENTS  (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)
#define FLOW_WRITE_EVENTS (EPOLLOUT | EPOLLHUP | EPOLLERR)

static void flow_ready(struct posix_watch *watch, uint32_t events)
{
	struct mist_flow *f = mist_container_of(watch, struct mist_flow, watch);
	if (events & (EPOLLPRI | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
		f->short_read_drains = false;
	if (events & FLOW_READ_EVENTS) {
		f->readable = true;
		mist_wake_all(&f->readers);
	}
	if (events & FLOW_WRITE_EVENTS)
		mist_wake_all(&f->writers);
}

struct mist_flow *sock_flow_create(struct mist_stack *s, int fd, const struct mist_addr *peer)
{
	struct mist_flow *f = mist_calloc(1, sizeof(*f));
	if (f == NULL)
		return NULL;
	f->stack = s;
	f->fd = fd;
	f->peer = *peer;
	f->watch.ready = flow_ready;
	f->readable = true;
	f->short_read_drains = true;
	mist_waitq_init(&f->readers);
	mist_waitq_init(&f->writers);
	if (posix_poll_watch(fd, FLOW_READ_EVENTS | FLOW_WRITE_EVENTS | EPOLLPRI | EPOLLET,
	                     &f->watch) != 0) {
		mist_free(f);
		return NULL;
	}
	f->next = s->flows;
	if (s->flows != NULL)
		s->flows->prev = f;
	s->flows = f;
	return f;
}

/*
 * Records the connection's first error and returns the one it has. Fibers
 * blocked in the other direction are woken to see it.
 */
static int flow_fail(struct mist_flow *f, int errnum)
{
	if (f->error == 0) {
		f->error = sock_error_from_errno(errnum);
		f->stack->stats.conn_errors++;
		mist_wake_all(&f->readers);
		mist_wake_all(&f->writers);
	}
	return f->error;
}

/*
 * Reads what the socket has into one buffer. Returns 0 with the buffer in
 * *out, or with *out NULL at the end of the stream; the connection's error;
 * or MIST_ETIMEDOUT when `deadline` passed first.
 */
static int flow_recv(struct mist_flow *f, uint64_t deadline, struct mist_buf **out)
{
	*out = NULL;
	for (;;) {
		if (f->error != 0)
			return f->error;
		if (f->read_done)
			return 0;
		if (!f->readable) {
			int err = mist_wait(&f->readers, deadline);
			if (err != 0)
				return err;
			continue;
		}
		struct mist_buf *b = sock_read_buf(f->stack, deadline);
		if (b == NULL)
			return MIST_ETIMEDOUT;
		ssize_t n = recv(f->fd, b->data, b->len, 0);
		if (n > 0) {
			if ((uint32_t)n < b->len && f->short_read_drains)
				f->readable = false;
			mist_buf_trim(b, (uint32_t)n);
			f->stack->stats.rx_bytes += (uint64_t)n;
			*out = b;
			return 0;
		}
		int errnum = errno;
		mist_buf_free(b);
		if (n == 0)
			f->read_done = true;
		else if (errnum == EAGAIN)
			f->readable = false;
		else if (errnum != EINTR)
			return flow_fail(f, errnum);
	}
}

struct mist_buf *mist_flow_read(struct mist_flow *f)
{
	struct mist_buf *b;
	flow_recv(f, MIST_FOREVER, &b);
	return b;
}

int mist_flow_read_deadline(struct mist_flow *f, uint64_t deadline, struct mist_buf **out)
{
	return flow_recv(f, deadline, out);
}

/*
 * Sends the `count` pieces of `iov` whole, waiting while the send buffer is
 * full. Advances `iov` as it goes. Returns 0 or the connection's error.
 */
static int flow_send(struct mist_flow *f, struct iovec *iov, unsigned count)
{
	while (count > 0 && iov->iov_len == 0) {
		iov++;
		count--;
	}
	while (count > 0) {
		if (f->error != 0)
			return f->error;
		struct msghdr msg = {.msg_iov = iov, .msg_iovlen = count};
		ssize_t n = sendmsg(f->fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EAGAIN)
				mist_wait(&f->writers, MIST_FOREVER);
			else if (errno != EINTR)
				return flow_fail(f, errno);
			continue;
		}
		f->stack->stats.tx_bytes += (uint64_t)n;
		size_t left = (size_t)n;
		while (count > 0 && left >= iov->iov_len) {
			left -= iov->iov_len;
			iov++;
			count--;
		}
		if (count > 0) {
			iov->iov_base = (uint8_t *)iov->iov_base + left;
			iov->iov_len -= left;
		}
	}
	return 0;
}

/* What a write returns before it reaches the socket, or 0 to go on. */
static int flow_write_check(const struct mist_flow *f)
{
	if (f->error != 0)
		return f->error;
	return f->write_shut ? MIST_EPIPE : 0;
}

int mist_flow_write(struct mist_flow *f, const void *data, size_t len)
{
	int err = flow_write_check(f);
	if (err != 0)
		return err;
	struct iovec iov = {.iov_base = (void *)(uintptr_t)data, .iov_len = len};
	return flow_send(f, &iov, 1);
}

int mist_flow_write_buf(struct mist_flow *f, struct mist_buf *buf)
{
	struct iovec iov[SOCK_IOV_MAX];
	int err = flow_write_check(f);
	/* The kernel copies: the chain goes back to its pool once it is sent. */
	for (const struct mist_buf *b = buf; b != NULL && err == 0;) {
		unsigned n = 0;
		for (; b != NULL && n < SOCK_IOV_MAX; b = b->next)
			iov[n++] = (struct iovec){.iov_base = b->data, .iov_len = b->len};
		err = flow_send(f, iov, n);
	}
	mist_buf_free_chain(buf);
	return err;
}

int mist_flow_writev(struct mist_flow *f, const struct mist_iovec *v, unsigned count)
{
	struct iovec iov[SOCK_IOV_MAX];
	int err = flow_write_check(f);
	for (unsigned i = 0; i < count && err == 0;) {
		unsigned n = 0;
		for (; i < count && n < SOCK_IOV_MAX; i++)
			iov[n++] = (struct iovec){.iov_base = (void *)(uintptr_t)v[i].base,
			                          .iov_len = v[i].len};
		err = flow_send(f, iov, n);
	}
	return err;
}

int mist_flow_shutdown(struct mist_flow *f, enum mist_shutdown how)
{
	static const int host_how[] = {
	        [MIST_SHUT_RD] = SHUT_RD, [MIST_SHUT_WR] = SHUT_WR, [MIST_SHUT_RDWR] = SHUT_RDWR};
	if (how < MIST_SHUT_RD || how > MIST_SHUT_RDWR)
		return MIST_EINVAL;
	if (shutdown(f->fd, host_how[how]) != 0)
		return sock_error_from_errno(errno);
	if (how & MIST_SHUT_RD)
		f->read_done = true;
	if (how & MIST_SHUT_WR)
		f->write_shut = true;
	/* A fiber blocked on the other side of the flow sees the change. */
	mist_wake_all(&f->readers);
	mist_wake_all(&f->writers);
	return 0;
}

/* Unwatches and closes the socket; the flow stays allocated. */
static void flow_close_socket(struct mist_flow *f)
{
	posix_poll_remove(f->fd);
	close(f->fd);
	f->fd = -1;
}

static void flow_free(struct mist_flow *f)
{
	struct mist_stack *s = f->stack;
	if (f->prev != NULL)
		f->prev->next = f->next;
	else
		s->flows = f->next;
	if (f->next != NULL)
		f->next->prev = f->prev;
	mist_free(f);
}

/* Closes the socket; frees the flow unless its handler fiber will. */
static void flow_release(struct mist_flow *f, const char *call)
{
	if (!mist_waitq_empty(&f->readers) || !mist_waitq_empty(&f->writers))
		MIST_MISUSE(call, "a fiber is still blocked on the flow");
	flow_close_socket(f);
	if (f->in_handler)
		f->closed = true;
	else
		flow_free(f);
}

/*
 * close() leaves the rest to the kernel: it sends what is queued, then FIN,
 * and finishes the handshake without us. As RFC 1122 4.2.2.13 recommends,
 * it resets instead when received data was left unread.
 */
void mist_flow_close(struct mist_flow *f)
{
	flow_release(f, "mist_flow_close");
}

/* A zero linger time makes close() send a reset and drop what is queued. */
void mist_flow_abort(struct mist_flow *f)
{
	struct linger reset = {.l_onoff = 1, .l_linger = 0};
	setsockopt(f->fd, SOL_SOCKET, SO_LINGER, &reset, sizeof(reset));
	f->stack->stats.resets_sent++;
	flow_release(f, "mist_flow_abort");
}

/* The end of an accepted connection's fiber: closes the flow if the handler did not. */
void sock_flow_handler_done(struct mist_flow *f)
{
	if (!f->closed)
		flow_close_socket(f);
	flow_free(f);
}

void sock_flows_destroy(struct mist_stack *s)
{
	while (s->flows != NULL) {
		struct mist_flow *f = s->flows;
		if (f->fd >= 0)
			flow_close_socket(f);
		flow_free(f);
	}
}

int mist_flow_error(const struct mist_flow *f)
{
	return f->error;
}

struct mist_addr mist_flow_peer(const struct mist_flow *f)
{
	return f->peer;
}

struct mist_addr mist_flow_local(const struct mist_flow *f)
{
	struct sockaddr_in sa = {0};
	socklen_t len = sizeof(sa);
	getsockname(f->fd, (struct sockaddr *)&sa, &len);
	return sock_addr_from(&sa);
}
